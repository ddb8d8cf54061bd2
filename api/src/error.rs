//! The one error every command returns: a stable machine code and a human message.

use serde::{Deserialize, Serialize};

/// Stable error codes. The UI and integrators match on these, never on the message.
/// Renaming or removing a variant is a breaking change (the JSON is pinned by tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request was malformed or a value was out of range.
    InvalidRequest,
    /// Reading or writing local storage failed; nothing was changed.
    Storage,
    /// The backend could not be reached (e.g. the UI runs outside the app).
    Unavailable,
    /// A bug: the message says what happened.
    Internal,
    /// The action replaces something in use; ask the user and repeat it confirmed.
    ConfirmationRequired,
    /// No full node gave a usable answer; the message says which and why.
    Network,
    /// The key's token needs its PIN.
    PinRequired,
    /// The PIN was wrong; the message says what the token reports of the tries left.
    WrongPin,
    /// The token's PIN is locked.
    PinLocked,
    /// The credential store or token failed, is missing or is locked.
    KeyStore,
    /// The proven chain state says the registry would refuse the transaction; the message
    /// carries the registry's code and reason.
    WouldBeRejected,
}

/// An error as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} ({code:?})")]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_pinned() {
        let err = ApiError::new(ErrorCode::Storage, "disk full");
        assert_eq!(
            serde_json::to_string(&err).unwrap(),
            r#"{"code":"storage","message":"disk full"}"#
        );
        for (code, text) in [
            (ErrorCode::InvalidRequest, "\"invalid_request\""),
            (ErrorCode::Storage, "\"storage\""),
            (ErrorCode::Unavailable, "\"unavailable\""),
            (ErrorCode::Internal, "\"internal\""),
            (ErrorCode::ConfirmationRequired, "\"confirmation_required\""),
            (ErrorCode::Network, "\"network\""),
            (ErrorCode::PinRequired, "\"pin_required\""),
            (ErrorCode::WrongPin, "\"wrong_pin\""),
            (ErrorCode::PinLocked, "\"pin_locked\""),
            (ErrorCode::KeyStore, "\"key_store\""),
            (ErrorCode::WouldBeRejected, "\"would_be_rejected\""),
        ] {
            assert_eq!(serde_json::to_string(&code).unwrap(), text);
        }
    }

    #[test]
    fn unknown_code_is_rejected() {
        assert!(serde_json::from_str::<ApiError>(r#"{"code":"nope","message":""}"#).is_err());
    }
}
