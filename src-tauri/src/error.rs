//! The one place the wallet's errors become the UI's `ApiError` (a stable code and a message).

use tradeseal_api::{ApiError, ErrorCode};
use tradeseal_wallet::WalletError;

/// Maps a wallet error to what the UI matches on.
pub fn to_api(e: WalletError) -> ApiError {
    let code = match &e {
        WalletError::InvalidRequest(_) | WalletError::NotConfigured => ErrorCode::InvalidRequest,
        WalletError::Storage(_) => ErrorCode::Storage,
        WalletError::ConfirmationRequired(_) => ErrorCode::ConfirmationRequired,
        WalletError::Sync(_) | WalletError::Query(_) => ErrorCode::Network,
    };
    ApiError::new(code, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_error_kind() {
        assert_eq!(
            to_api(WalletError::ConfirmationRequired("x".into())).code,
            ErrorCode::ConfirmationRequired
        );
        assert_eq!(
            to_api(WalletError::Storage("disk".into())).code,
            ErrorCode::Storage
        );
        assert_eq!(
            to_api(WalletError::NotConfigured).code,
            ErrorCode::InvalidRequest
        );
    }
}
