//! Query answers and their proofs (CometBFT `ResponseQuery` and `ProofOp`): what the chain
//! side answers and what the client side checks with [`crate::proof`].

use serde::{Deserialize, Serialize};

/// The proof of a query answer (CometBFT `ProofOp`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofOp {
    /// Always [`PROOF_OP_TYPE`].
    pub kind: String,
    /// The state key.
    pub key: Vec<u8>,
    /// Protobuf encoding of an `ics23::CommitmentProof` (existence or non-existence).
    pub data: Vec<u8>,
}

/// The `ProofOp.type` of registry proofs.
pub const PROOF_OP_TYPE: &str = "ics23:jmt";

/// A query answer (CometBFT `ResponseQuery`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryResult {
    /// 0 on success (found or not), else a query error code (101 and up).
    pub code: u32,
    /// Empty on success, else the reason.
    pub log: String,
    /// The state key asked for.
    pub key: Vec<u8>,
    /// The value, `None` when the key is absent.
    pub value: Option<Vec<u8>>,
    /// The proof, when asked for.
    pub proof: Option<ProofOp>,
    /// The state version answered from; its root is in header `height + 1`'s `app_hash`.
    pub height: u64,
}

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The path is not `/key`, `/store/<key>`, `/log/issuer` or `/log/revocation`. Code 101.
    #[error("unknown query path {0:?}")]
    UnknownPath(String),
    /// The key is empty. Code 102.
    #[error("empty key")]
    EmptyKey,
    /// The version is in the future or pruned. Code 103.
    #[error("height {height} is not available (available {oldest}..={latest})")]
    HeightNotAvailable {
        /// The height asked for.
        height: u64,
        /// The oldest available version.
        oldest: u64,
        /// The latest version.
        latest: u64,
    },
    /// A page request's data is not a [`crate::log::PageRequest`], or asks for no entry or
    /// more than [`crate::log::MAX_PAGE_ENTRIES`]. Code 104.
    #[error("bad page request: {0}")]
    BadPageRequest(String),
    /// A page request starts at or ends past the end of the log. Code 105.
    #[error("entries {from}..{end} are past the end of the log ({len} entries)")]
    PageOutOfRange {
        /// The first entry asked for.
        from: u64,
        /// One past the last entry asked for.
        end: u64,
        /// The log's length at the height asked.
        len: u64,
    },
    /// The tree failed (a bug). Code 199.
    #[error("state tree error: {0}")]
    Tree(String),
}

impl QueryError {
    /// The stable numeric code.
    pub fn code(&self) -> u32 {
        match self {
            Self::UnknownPath(_) => 101,
            Self::EmptyKey => 102,
            Self::HeightNotAvailable { .. } => 103,
            Self::BadPageRequest(_) => 104,
            Self::PageOutOfRange { .. } => 105,
            Self::Tree(_) => 199,
        }
    }
}
