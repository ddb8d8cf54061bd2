//! The wallet's one error type; the app maps it to `ApiError` in one place, the CLI to an
//! exit code and a JSON error.

use light_node::{QueryError, SyncError};

/// What went wrong in a wallet service.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The request is malformed or a value is out of range.
    #[error("{0}")]
    InvalidRequest(String),
    /// Reading or writing local storage failed; nothing was changed.
    #[error("{0}")]
    Storage(String),
    /// The action replaces something in use and was not confirmed.
    #[error("{0}")]
    ConfirmationRequired(String),
    /// No chain config is in use.
    #[error("no network is configured: import a chain config first")]
    NotConfigured,
    /// The light node could not sync or prove.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// A query could not be proven.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// A bug (a task that panicked); nothing was changed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<light_node::StoreError> for WalletError {
    fn from(e: light_node::StoreError) -> Self {
        WalletError::Storage(e.to_string())
    }
}
