//! The application the chain runs, behind a small trait: the registry in production use
//! ([`crate::RegistryApp`]), a tiny key-value store for the network's own tests ([`KvApp`]).

mod kv;

pub use kv::KvApp;

use crate::timestamp::Timestamp;

/// An ABCI event attribute list, as `block_results` and `tx` show them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    /// The event type.
    pub kind: String,
    /// Key/value attributes.
    pub attributes: Vec<(String, String)>,
}

/// The outcome of checking or executing one transaction (ABCI `CheckTx` / `ExecTxResult`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TxResult {
    /// 0 is success; anything else is the application's rejection code.
    pub code: u32,
    /// Result data.
    pub data: Vec<u8>,
    /// Human-readable log (the reason on rejection).
    pub log: String,
    /// Extra information.
    pub info: String,
    /// Gas requested.
    pub gas_wanted: i64,
    /// Gas used.
    pub gas_used: i64,
    /// Events emitted.
    pub events: Vec<Event>,
    /// Namespace of `code`.
    pub codespace: String,
}

/// What executing a block produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutcome {
    /// One result per transaction, in block order.
    pub tx_results: Vec<TxResult>,
    /// The root of the application state after the block (state version = block height); it
    /// goes into the *next* header's `app_hash`.
    pub app_hash: Vec<u8>,
}

/// An ICS-23 / Merkle proof operation, as `abci_query` returns in `proofOps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOp {
    /// Operation type, e.g. `ics23:jmt`.
    pub kind: String,
    /// The key the operation proves.
    pub key: Vec<u8>,
    /// The encoded proof.
    pub data: Vec<u8>,
}

/// An `abci_query` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Query path (application-defined).
    pub path: String,
    /// Query data (usually a key).
    pub data: Vec<u8>,
    /// State version to answer from; 0 = the latest.
    pub height: u64,
    /// Whether to include a proof.
    pub prove: bool,
}

/// An `abci_query` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryResponse {
    /// 0 is success.
    pub code: u32,
    /// Human-readable log.
    pub log: String,
    /// Extra information.
    pub info: String,
    /// Index of the key in the tree (unused by most apps).
    pub index: i64,
    /// The key answered.
    pub key: Vec<u8>,
    /// The value (empty when absent).
    pub value: Vec<u8>,
    /// The proof, when requested and available.
    pub proof_ops: Option<Vec<ProofOp>>,
    /// The state version answered from.
    pub height: u64,
    /// Namespace of `code`.
    pub codespace: String,
}

/// Errors an application reports while executing a block (never for an invalid transaction:
/// that is a non-zero [`TxResult::code`]).
#[derive(Debug, thiserror::Error)]
#[error("application failed at height {height}: {reason}")]
pub struct AppError {
    /// The block height being executed.
    pub height: u64,
    /// What went wrong.
    pub reason: String,
}

/// A replicated application, driven by the block producer.
///
/// Contract:
/// - Execution is deterministic: the same blocks from the same genesis give the same results
///   and app hashes (a restarted network replays stored blocks and compares).
/// - `finalize_block(h, ..)` is called for h = 1, 2, ... in order, and creates state version h.
/// - `check_tx` validates against the latest committed state plus the transactions it accepted
///   since the last block (so sequence numbers of queued transactions chain); `finalize_block`
///   resets that check state.
/// - Queries never change state.
pub trait Application: Send {
    /// The app hash of the genesis state (version 0); it goes into header 1.
    fn genesis_app_hash(&self) -> Vec<u8>;

    /// Checks a transaction for the mempool.
    fn check_tx(&mut self, tx: &[u8]) -> TxResult;

    /// Executes block `height` with `txs`, commits state version `height`.
    fn finalize_block(
        &mut self,
        height: u64,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<BlockOutcome, AppError>;

    /// Answers a query from a committed state version.
    fn query(&self, query: &Query) -> QueryResponse;

    /// The application version reported in headers (`version.app`).
    fn app_version(&self) -> u64 {
        1
    }

    /// The application's genesis state as JSON (the genesis document's `app_state`); `None`
    /// when it has none.
    fn app_state(&self) -> Option<serde_json::Value> {
        None
    }
}
