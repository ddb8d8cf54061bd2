//! The application the chain runs, driven as CometBFT drives one: ABCI 2.0 requests and
//! answers, tendermint-rs's types (the version `tradeseal-node` speaks), in CometBFT's order.
//! The registry is `tradeseal_node::NodeApp` itself ([`crate::RegistryApp`]), so every devnet
//! block goes through the production path; a tiny key-value store ([`KvApp`]) tests the
//! network layer alone.

mod kv;

pub use kv::KvApp;

pub use tradeseal_node::tendermint::abci::types::ExecTxResult;
pub use tradeseal_node::tendermint::abci::{request, response, Code, Event, EventAttribute};
/// A validator update (`FinalizeBlock`'s `validator_updates`, `InitChain`'s validators).
pub use tradeseal_node::tendermint::validator::Update as ValidatorUpdate;

/// The genesis an application is set up for: what the chain's `InitChain` carries and the
/// `genesis` endpoint shows.
#[derive(Debug, Clone, PartialEq)]
pub struct AppGenesis {
    /// The genesis time, seconds since the epoch (`InitChain.time`; block 1 is made after it).
    pub time_secs: i64,
    /// The genesis document's `app_state` (`None`: the application has none).
    pub app_state: Option<serde_json::Value>,
}

/// Why the application cannot go on: the chain stops, as CometBFT does when its ABCI
/// connection fails (never for an invalid transaction: that is a non-zero result code).
#[derive(Debug, thiserror::Error)]
#[error("application failed at height {height}: {reason}")]
pub struct AppError {
    /// The block height being executed.
    pub height: u64,
    /// What went wrong.
    pub reason: String,
}

/// A replicated application behind CometBFT's ABCI 2.0 connection, driven in CometBFT's
/// order: `Info`, then `InitChain` when it reports height 0 and the blocks it lacks replayed
/// (`FinalizeBlock` + `Commit` each); then per height `PrepareProposal`, `ProcessProposal`,
/// `FinalizeBlock`, `Commit`, with `CheckTx` (new, then rechecks after each commit) and
/// `Query` in between.
///
/// Contract: execution is deterministic (the same blocks from the same genesis give the same
/// results and app hashes; a restarted network replays its stored blocks and compares);
/// `Query` answers from committed state and changes nothing.
pub trait Application: Send {
    /// The genesis this application is set up for (not an ABCI call: the genesis document).
    fn genesis(&self) -> AppGenesis;

    /// `Info`: the last committed height and app hash.
    fn info(&self, req: &request::Info) -> response::Info;

    /// `InitChain`: the genesis state; its answer's app hash goes into header 1.
    fn init_chain(&mut self, req: request::InitChain) -> Result<response::InitChain, AppError>;

    /// `CheckTx`, new or recheck.
    fn check_tx(&mut self, req: request::CheckTx) -> response::CheckTx;

    /// `PrepareProposal`: the transactions the proposer puts in the block.
    fn prepare_proposal(
        &mut self,
        req: request::PrepareProposal,
    ) -> Result<response::PrepareProposal, AppError>;

    /// `ProcessProposal`: accept or reject the proposed block.
    fn process_proposal(&mut self, req: request::ProcessProposal) -> response::ProcessProposal;

    /// `FinalizeBlock`: executes the decided block.
    fn finalize_block(
        &mut self,
        req: request::FinalizeBlock,
    ) -> Result<response::FinalizeBlock, AppError>;

    /// `Commit`: makes the finalized block's state durable and visible to queries.
    fn commit(&mut self, height: u64) -> Result<response::Commit, AppError>;

    /// `Query`.
    fn query(&self, req: &request::Query) -> response::Query;
}
