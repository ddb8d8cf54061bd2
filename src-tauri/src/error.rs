//! The one place the wallet's errors become the UI's `ApiError` (a stable code and a message).

use tradeseal_api::{ApiError, ErrorCode};
use tradeseal_wallet::signing::SignError;
use tradeseal_wallet::WalletError;

/// Maps a wallet error to what the UI matches on.
pub fn to_api(e: WalletError) -> ApiError {
    let code = match &e {
        WalletError::InvalidRequest(_) | WalletError::NotConfigured => ErrorCode::InvalidRequest,
        WalletError::Storage(_) => ErrorCode::Storage,
        WalletError::ConfirmationRequired(_) => ErrorCode::ConfirmationRequired,
        WalletError::Sync(_) | WalletError::Query(_) => ErrorCode::Network,
        WalletError::Internal(_) => ErrorCode::Internal,
    };
    ApiError::new(code, e.to_string())
}

/// Maps a signing or keystore error to what the UI matches on.
pub fn sign_to_api(e: SignError) -> ApiError {
    use tradeseal_wallet::keystore::KeystoreError as K;
    let e = match e {
        SignError::Wallet(w) => return to_api(w),
        e => e,
    };
    let code = match &e {
        SignError::Form(_) | SignError::Review(_) => ErrorCode::InvalidRequest,
        SignError::WouldBeRejected(_) => ErrorCode::WouldBeRejected,
        SignError::NotConfirmed(_) => ErrorCode::ConfirmationRequired,
        SignError::BadSignature => ErrorCode::KeyStore,
        SignError::Keystore(k) => match k {
            K::InvalidRequest(_) | K::NotFound(_) | K::Exists(_) | K::Unsupported(_) => {
                ErrorCode::InvalidRequest
            }
            K::ConfirmationRequired(_) => ErrorCode::ConfirmationRequired,
            K::PinRequired => ErrorCode::PinRequired,
            #[cfg(not(any(target_os = "android", target_os = "ios")))]
            K::WrongPin { .. } => ErrorCode::WrongPin,
            K::PinLocked => ErrorCode::PinLocked,
            K::Store(_) | K::TokenNotFound(_) | K::Token(_) => ErrorCode::KeyStore,
            K::Database(_) => ErrorCode::Storage,
        },
        SignError::Wallet(_) => ErrorCode::Internal,
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
        assert_eq!(
            sign_to_api(SignError::Keystore(
                tradeseal_wallet::keystore::KeystoreError::PinLocked
            ))
            .code,
            ErrorCode::PinLocked
        );
        assert_eq!(
            sign_to_api(SignError::NotConfirmed("x".into())).code,
            ErrorCode::ConfirmationRequired
        );
    }
}
