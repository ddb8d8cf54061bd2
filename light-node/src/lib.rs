//! The wallet's light node: the I/O around `light-client`'s pure verification.
//!
//! - [`RpcProvider`] asks CometBFT full nodes over JSON-RPC (timeouts, retries, size limits);
//!   [`Provider`] is what the node needs of one, so tests can stage any attack in memory.
//! - [`SqliteStore`] keeps the trusted light blocks (WAL, migrations, pruning, moved aside
//!   when corrupt or foreign).
//! - [`LightNode`] syncs from the checkpoint with skipping verification, cross-checks every
//!   new head with the witnesses, detects forks and keeps the evidence, and proves state
//!   ([`LightNode::query`]) and transactions ([`LightNode::prove_tx`]).
//! - [`NewBlockSubscription`] listens to a node's `/websocket` for new block headers: it
//!   only wakes [`LightNode::follow`], which then syncs and verifies as usual.
//! - [`Clock`] is the only source of the current time.
//!
//! It knows no application: state proofs are checked by a [`StateVerifier`] the caller gives.

mod clock;
mod evidence;
mod node;
mod plan;
mod provider;
mod query;
mod rpc;
mod status;
mod store;
mod subscribe;
#[cfg(any(test, feature = "test-utils"))]
pub mod testing;

pub use clock::{Clock, ManualClock, SystemClock};
pub use evidence::AttackEvidence;
pub use node::{LightNode, NodeOptions, SyncError};
pub use provider::{
    complete_light_block, BoxFuture, BroadcastAnswer, NodeInfo, ProofOp, Provider, ProviderError,
    QueryAnswer, TxAnswer, TxProof,
};
pub use query::{Proven, ProvenTx, QueryError, QueryRequest, StateVerifier, Unverified};
pub use rpc::{RpcConfig, RpcProvider, Traffic};
pub use status::{AttackKind, ForkReport, Head, Health, NodeView, Status, SyncState};
pub use store::{Opened, PruneWindow, SqliteStore, StoreError, StoreIdentity, StoredEvidence};
pub use subscribe::{
    websocket_url, NewBlockSubscription, SubscribeConfig, SubscribeError, NEW_BLOCK_HEADER_QUERY,
};
