//! The ABCI 2.0 application: CometBFT's requests answered by the registry, with the node's
//! limits and its durable block log.
//!
//! One [`NodeApp`] owns the registry; the server feeds it every request in order (consensus
//! first, then mempool, snapshot and info, as tower-abci's split prioritises them). State
//! version `h` is *committed* once block `h` is in the log: `Info` and `Query` answer from the
//! committed version only, even between `FinalizeBlock` and `Commit`.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use registry::{PublicKey, QueryResult, Registry, RegistryConfig, Tx, TxResult};
use tendermint::abci::types::ExecTxResult;
use tendermint::abci::{request, response, Code, Event};
use tendermint::merkle::proof::{ProofOp, ProofOps};
use tendermint::validator;
use tendermint::{block, AppHash, Hash, Time};

use crate::blocklog::{BlockRecord, DataDir, StoreError};
use crate::genesis::{AppState, AppStateError, ChainLimits};

/// The application version reported by `Info` (the registry protocol's version).
pub const APP_VERSION: u64 = 1;
/// The codespace of the registry's result codes.
pub const REGISTRY_CODESPACE: &str = "registry";
/// The codespace of the node's own limits.
pub const NODE_CODESPACE: &str = "node";

/// The default of [`NodeConfig::max_pending_per_signer`].
pub const DEFAULT_MAX_PENDING_PER_SIGNER: usize = 1000;

/// The node's settings: local to this node (the chain's own limits are in its genesis,
/// [`ChainLimits`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// Most transactions of one signer admitted to the mempool between two commits.
    pub max_pending_per_signer: usize,
    /// The registry's settings (how many state versions stay queryable).
    pub registry: RegistryConfig,
    /// Blocks CometBFT keeps: `Commit` answers `retain_height = height - retain_blocks + 1`;
    /// 0 keeps every block.
    pub retain_blocks: u64,
}

impl Default for NodeConfig {
    /// [`DEFAULT_MAX_PENDING_PER_SIGNER`], the registry's defaults, every block kept.
    fn default() -> Self {
        Self {
            max_pending_per_signer: DEFAULT_MAX_PENDING_PER_SIGNER,
            registry: RegistryConfig::default(),
            retain_blocks: 0,
        }
    }
}

/// Result codes of the node's own checks (codespace [`NODE_CODESPACE`]); the registry's codes
/// (codespace [`REGISTRY_CODESPACE`]) are in docs/protocol.md.
pub mod codes {
    /// The transaction is larger than the chain's [`super::ChainLimits::max_tx_bytes`].
    pub const TX_TOO_LARGE: u32 = 40;
    /// A transaction of this signer with this sequence is already in the mempool.
    pub const SEQUENCE_PENDING: u32 = 41;
    /// The signer has [`super::NodeConfig::max_pending_per_signer`] transactions in the
    /// mempool.
    pub const TOO_MANY_PENDING: u32 = 42;
    /// `InitChain` has not run yet.
    pub const NOT_INITIALIZED: u32 = 43;
}

/// Why the node cannot answer: CometBFT must stop (the connection is closed).
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The data directory failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The genesis cannot start the chain.
    #[error(transparent)]
    AppState(#[from] AppStateError),
    /// The stored genesis cannot be read back, or the registry refuses it.
    #[error("stored genesis: {0}")]
    StoredGenesis(#[source] AppStateError),
    /// The genesis cannot be written as JSON (a bug).
    #[error("writing the genesis: {0}")]
    WriteGenesis(#[source] serde_json::Error),
    /// The registry refused a block.
    #[error("block {height}: {reason}")]
    Block {
        /// The height.
        height: u64,
        /// Why.
        reason: String,
    },
    /// Replaying the log gave another app hash than it recorded (non-determinism or damage).
    #[error("replaying block {height} gave app hash {got}, the log recorded {recorded}")]
    ReplayMismatch {
        /// The height.
        height: u64,
        /// What the log says.
        recorded: String,
        /// What replaying gave.
        got: String,
    },
    /// A request that needs the chain came before `InitChain`.
    #[error("{0} before InitChain")]
    NotInitialized(&'static str),
    /// `InitChain` after blocks were committed.
    #[error("InitChain at committed height {0}: the data directory holds another chain")]
    AlreadyInitialized(u64),
    /// Only `initial_height` 1 is supported.
    #[error("initial_height {0} is not supported (the registry starts at height 1)")]
    InitialHeight(u64),
    /// `Commit` without a finalized block.
    #[error("Commit without FinalizeBlock")]
    NothingToCommit,
    /// A block time before 1970.
    #[error("block time {0} is before 1970")]
    Time(i64),
    /// A genesis validator's key is not ed25519 (the only kind the registry records and
    /// governance changes).
    #[error("InitChain validator {0} has a key that is not ed25519: only ed25519 validators are supported")]
    ValidatorKeyType(usize),
}

/// The chain once `InitChain` ran (or the log was replayed).
#[derive(Debug)]
struct Chain {
    registry: Registry,
    /// The chain's limits, from its genesis.
    limits: ChainLimits,
    /// The last height whose block is durable in the log.
    committed: u64,
}

/// A proposal executed by `ProcessProposal`, reused by `FinalizeBlock` for the same block.
#[derive(Debug)]
struct Processed {
    hash: Hash,
    time: u64,
    txs: Vec<Bytes>,
    block: registry::PendingBlock,
}

/// What the mempool holds since the last commit, per signer: the sequences admitted.
#[derive(Debug, Default)]
struct Pending {
    by_signer: BTreeMap<PublicKey, BTreeSet<u64>>,
}

/// The application.
#[derive(Debug)]
pub struct NodeApp {
    config: NodeConfig,
    data: DataDir,
    chain: Option<Chain>,
    pending: Pending,
    processed: Option<Processed>,
    /// The block finalized and not yet committed, with the answer `FinalizeBlock` gave.
    finalized: Option<(BlockRecord, response::FinalizeBlock)>,
    /// Bytes dropped from the log's end when it was opened (a torn write).
    dropped_bytes: u64,
}

impl NodeApp {
    /// Opens the data directory and rebuilds the registry from its genesis and block log.
    pub fn open(dir: &std::path::Path, config: NodeConfig) -> Result<Self, NodeError> {
        let (data, contents) = DataDir::open(dir)?;
        let mut app = Self {
            config,
            data,
            chain: None,
            pending: Pending::default(),
            processed: None,
            finalized: None,
            dropped_bytes: contents.dropped_bytes,
        };
        if let Some(text) = app.data.read_genesis()? {
            let (genesis, limits) = AppState::parse(text.as_bytes())
                .and_then(AppState::into_stored)
                .map_err(NodeError::StoredGenesis)?;
            let mut registry = Registry::with_config(&genesis, app.config.registry)
                .map_err(|e| NodeError::StoredGenesis(AppStateError::Invalid(e)))?;
            for rec in &contents.blocks {
                let out = registry
                    .execute_block(rec.height, rec.time, &rec.txs)
                    .map_err(|e| NodeError::Block {
                        height: rec.height,
                        reason: e.to_string(),
                    })?;
                if out.app_hash != rec.app_hash {
                    return Err(NodeError::ReplayMismatch {
                        height: rec.height,
                        recorded: hex::encode(rec.app_hash),
                        got: hex::encode(out.app_hash),
                    });
                }
            }
            let committed = registry.last_height();
            app.chain = Some(Chain {
                registry,
                limits,
                committed,
            });
        }
        Ok(app)
    }

    /// An application that keeps nothing on disk: it starts at height 0 (so `Info` asks for
    /// `InitChain`, and the driver replays every block it has). The development network runs
    /// the registry this way, with its own block store.
    pub fn in_memory(config: NodeConfig) -> Self {
        Self {
            config,
            data: DataDir::in_memory(),
            chain: None,
            pending: Pending::default(),
            processed: None,
            finalized: None,
            dropped_bytes: 0,
        }
    }

    /// The last committed height (0 before the first block or before `InitChain`).
    pub fn committed_height(&self) -> u64 {
        self.chain.as_ref().map_or(0, |c| c.committed)
    }

    /// The app hash of the committed state (`None` before `InitChain`).
    pub fn committed_app_hash(&self) -> Option<[u8; 32]> {
        let c = self.chain.as_ref()?;
        c.registry.app_hash_at(c.committed)
    }

    /// Bytes cut from the end of the log when it was opened (0 if it ended cleanly).
    pub fn dropped_log_bytes(&self) -> u64 {
        self.dropped_bytes
    }

    /// The registry (for inspection).
    pub fn registry(&self) -> Option<&Registry> {
        self.chain.as_ref().map(|c| &c.registry)
    }

    /// `Info`: the committed height and its app hash, so CometBFT replays what is missing.
    pub fn info(&self, _req: &request::Info) -> response::Info {
        let height = self.committed_height();
        let app_hash = if height == 0 {
            // Height 0 makes CometBFT send InitChain (again), which rebuilds the genesis.
            AppHash::default()
        } else {
            app_hash(self.committed_app_hash().unwrap_or_default())
        };
        response::Info {
            data: "tradeseal-node".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            app_version: APP_VERSION,
            last_block_height: block_height(height),
            last_block_app_hash: app_hash,
        }
    }

    /// `InitChain`: the registry genesis from `app_state` and CometBFT's validators (ed25519
    /// only), written to the data directory. The answer's validator list is empty (CometBFT
    /// keeps its own) unless CometBFT gave none and the `app_state` lists them.
    pub fn init_chain(
        &mut self,
        req: &request::InitChain,
    ) -> Result<response::InitChain, NodeError> {
        if let Some(c) = &self.chain {
            if c.committed > 0 {
                return Err(NodeError::AlreadyInitialized(c.committed));
            }
        }
        let initial = req.initial_height.value();
        if initial != 1 {
            return Err(NodeError::InitialHeight(initial));
        }
        let cometbft = req
            .validators
            .iter()
            .enumerate()
            .map(|(i, v)| registry_validator(i, v))
            .collect::<Result<Vec<_>, _>>()?;
        let (genesis, limits) = AppState::parse(&req.app_state_bytes)?.into_genesis(
            &req.chain_id,
            req.time.unix_timestamp(),
            &cometbft,
        )?;
        let registry = Registry::with_config(&genesis, self.config.registry)
            .map_err(AppStateError::Invalid)?;
        let text = serde_json::to_string_pretty(&AppState::from_genesis(&genesis, limits))
            .map_err(NodeError::WriteGenesis)?;
        self.data.write_genesis(&text)?;
        tracing::info!(
            chain_id = %req.chain_id,
            validators = req.validators.len(),
            issuers = genesis.issuers.len(),
            "InitChain"
        );
        let hash = registry.app_hash();
        self.chain = Some(Chain {
            registry,
            limits,
            committed: 0,
        });
        self.pending = Pending::default();
        self.processed = None;
        self.finalized = None;
        let validators = if cometbft.is_empty() {
            genesis.validators.iter().map(validator_update).collect()
        } else {
            Vec::new()
        };
        Ok(response::InitChain {
            consensus_params: None,
            validators,
            app_hash: app_hash(hash),
        })
    }

    /// `CheckTx`: the node's size limit; a signer that is neither a governance nor an
    /// issuer key refused before its signature is checked (code 5, as the registry would
    /// refuse it after); every registry rule against the committed state; then the
    /// mempool's per-signer bounds. A recheck after a commit is the same check against the
    /// new state.
    pub fn check_tx(&mut self, req: &request::CheckTx) -> response::CheckTx {
        let Some(chain) = &self.chain else {
            return check_response(node_error(
                codes::NOT_INITIALIZED,
                "CheckTx before InitChain",
            ));
        };
        let tx = &req.tx;
        if tx.len() > chain.limits.max_tx_bytes {
            return check_response(node_error(
                codes::TX_TOO_LARGE,
                &format!(
                    "transaction of {} bytes is over the chain's limit of {}",
                    tx.len(),
                    chain.limits.max_tx_bytes
                ),
            ));
        }
        let decoded = Tx::decode(tx).ok();
        if let Some(signer) = decoded.as_ref().map(|d| d.body.signer) {
            // A key the chain does not know is refused before its signature is checked: two
            // state reads instead of an ed25519 verification (docs/benchmarks.md).
            if !is_known_signer(&chain.registry, &signer) {
                let e = registry::TxError::Unauthorized {
                    signer,
                    reason: "neither a governance key nor an issuer's key",
                };
                return check_response(Checked {
                    code: e.code(),
                    log: e.to_string(),
                    codespace: REGISTRY_CODESPACE.to_owned(),
                });
            }
        }
        let result = chain.registry.check_tx(tx);
        if !result.is_ok() {
            return check_response(registry_result(&result));
        }
        // The registry accepted it, so it decoded.
        let Some(decoded) = decoded else {
            return check_response(registry_result(&result));
        };
        let seqs = self
            .pending
            .by_signer
            .entry(decoded.body.signer)
            .or_default();
        if seqs.contains(&decoded.body.sequence) {
            return check_response(node_error(
                codes::SEQUENCE_PENDING,
                &format!(
                    "a transaction of this signer with sequence {} is already pending",
                    decoded.body.sequence
                ),
            ));
        }
        if seqs.len() >= self.config.max_pending_per_signer {
            return check_response(node_error(
                codes::TOO_MANY_PENDING,
                &format!(
                    "the signer has {} transactions pending, the most this node admits",
                    seqs.len()
                ),
            ));
        }
        seqs.insert(decoded.body.sequence);
        check_response(registry_result(&result))
    }

    /// `PrepareProposal`: the mempool's transactions in order, without those over a limit or
    /// failing against the state the block starts from (executed in a scratch block).
    pub fn prepare_proposal(
        &self,
        req: &request::PrepareProposal,
    ) -> Result<response::PrepareProposal, NodeError> {
        let chain = self
            .chain
            .as_ref()
            .ok_or(NodeError::NotInitialized("PrepareProposal"))?;
        let limits = &chain.limits;
        // CometBFT always sends its limit; a negative one (never seen) leaves the node's.
        let cap = u64::try_from(req.max_tx_bytes)
            .unwrap_or(u64::MAX)
            .min(limits.max_block_bytes);
        let height = req.height.value();
        let time = unix_secs(req.time)?;
        let mut block = chain
            .registry
            .begin_block(height, time)
            .map_err(|e| NodeError::Block {
                height,
                reason: e.to_string(),
            })?;
        let mut txs = Vec::new();
        let mut bytes = 0u64;
        for tx in &req.txs {
            if txs.len() >= limits.max_block_txs {
                break;
            }
            if tx.len() > limits.max_tx_bytes {
                continue;
            }
            let size = proto_size(tx.len());
            if bytes + size > cap {
                continue;
            }
            if chain.registry.deliver_tx(&mut block, tx).is_ok() {
                bytes += size;
                txs.push(tx.clone());
            }
        }
        Ok(response::PrepareProposal { txs })
    }

    /// `ProcessProposal`: rejects a block over a limit or with a transaction that fails; an
    /// accepted block's execution is kept for `FinalizeBlock`.
    pub fn process_proposal(
        &mut self,
        req: &request::ProcessProposal,
    ) -> response::ProcessProposal {
        match self.check_proposal(req) {
            Ok(processed) => {
                self.processed = Some(processed);
                response::ProcessProposal::Accept
            }
            Err(reason) => {
                tracing::warn!(height = %req.height, %reason, "proposal rejected");
                response::ProcessProposal::Reject
            }
        }
    }

    fn check_proposal(&self, req: &request::ProcessProposal) -> Result<Processed, String> {
        let chain = self
            .chain
            .as_ref()
            .ok_or("ProcessProposal before InitChain")?;
        let limits = &chain.limits;
        if req.txs.len() > limits.max_block_txs {
            return Err(format!(
                "{} transactions, over {}",
                req.txs.len(),
                limits.max_block_txs
            ));
        }
        let bytes: u64 = req.txs.iter().map(|t| proto_size(t.len())).sum();
        if bytes > limits.max_block_bytes {
            return Err(format!(
                "{bytes} transaction bytes, over {}",
                limits.max_block_bytes
            ));
        }
        if let Some(i) = req.txs.iter().position(|t| t.len() > limits.max_tx_bytes) {
            return Err(format!(
                "transaction {i} is over {} bytes",
                limits.max_tx_bytes
            ));
        }
        let height = req.height.value();
        let time = unix_secs(req.time).map_err(|e| e.to_string())?;
        let mut block = chain
            .registry
            .begin_block(height, time)
            .map_err(|e| e.to_string())?;
        for (i, tx) in req.txs.iter().enumerate() {
            let r = chain.registry.deliver_tx(&mut block, tx);
            if !r.is_ok() {
                return Err(format!("transaction {i} fails: code {}: {}", r.code, r.log));
            }
        }
        Ok(Processed {
            hash: req.hash,
            time,
            txs: req.txs.clone(),
            block,
        })
    }

    /// `FinalizeBlock`: executes the decided block (or takes the execution `ProcessProposal`
    /// made of it), with the registry's codes and events, the new app hash, and the
    /// validator updates of the governance `SetValidator` actions the block executed
    /// (CometBFT applies them from height + 2).
    ///
    /// The block finalized last and not yet committed is answered again, unchanged, when it
    /// comes again: CometBFT restarted between `FinalizeBlock` and `Commit` while this node
    /// kept running, and its handshake replays that block.
    pub fn finalize_block(
        &mut self,
        req: &request::FinalizeBlock,
    ) -> Result<response::FinalizeBlock, NodeError> {
        let height = req.height.value();
        let time = unix_secs(req.time)?;
        if let Some((rec, answer)) = &self.finalized {
            if rec.height == height
                && rec.time == time
                && rec.txs.len() == req.txs.len()
                && rec.txs.iter().zip(&req.txs).all(|(a, b)| a[..] == b[..])
            {
                tracing::info!(height, "FinalizeBlock again before Commit: same answer");
                return Ok(answer.clone());
            }
            return Err(NodeError::Block {
                height,
                reason: format!(
                    "block {} is finalized and not committed; another block cannot follow",
                    rec.height
                ),
            });
        }
        let processed = self.processed.take();
        let chain = self
            .chain
            .as_mut()
            .ok_or(NodeError::NotInitialized("FinalizeBlock"))?;
        let block_err = |e: registry::BlockError| NodeError::Block {
            height,
            reason: e.to_string(),
        };
        let block = match processed {
            Some(p)
                if p.hash == req.hash
                    && p.time == time
                    && p.txs == req.txs
                    && p.block.height() == height =>
            {
                p.block
            }
            _ => {
                let mut block = chain
                    .registry
                    .begin_block(height, time)
                    .map_err(block_err)?;
                for tx in &req.txs {
                    chain.registry.deliver_tx(&mut block, tx);
                }
                block
            }
        };
        let outcome = chain.registry.commit_block(block).map_err(block_err)?;
        let answer = response::FinalizeBlock {
            events: Vec::new(),
            tx_results: outcome.tx_results.iter().map(exec_result).collect(),
            validator_updates: outcome
                .validator_updates
                .iter()
                .map(validator_update)
                .collect(),
            consensus_param_updates: None,
            app_hash: app_hash(outcome.app_hash),
        };
        let rec = BlockRecord {
            height,
            time,
            app_hash: outcome.app_hash,
            txs: req.txs.iter().map(|t| t.to_vec()).collect(),
        };
        self.finalized = Some((rec, answer.clone()));
        Ok(answer)
    }

    /// `Commit`: the finalized block is appended to the log and fsynced before the answer;
    /// `retain_height` lets CometBFT prune blocks older than the retain window.
    /// A failed append (a full disk) keeps the block finalized: a `Commit` after CometBFT's
    /// restart tries again.
    pub fn commit(&mut self) -> Result<response::Commit, NodeError> {
        let (rec, _) = self.finalized.as_ref().ok_or(NodeError::NothingToCommit)?;
        self.data.append(rec)?;
        let Some((rec, _)) = self.finalized.take() else {
            return Err(NodeError::NothingToCommit);
        };
        if let Some(c) = self.chain.as_mut() {
            c.committed = rec.height;
        }
        self.pending = Pending::default();
        self.processed = None;
        let keep = self.config.retain_blocks;
        let retain = if keep > 0 && rec.height >= keep {
            rec.height - keep + 1
        } else {
            0
        };
        Ok(response::Commit {
            data: Bytes::new(),
            retain_height: block_height(retain),
        })
    }

    /// `Query`: `/key` (the key in `data`) or `/store/<key>`, at the committed version or an
    /// older one still kept, with the registry's ICS-23 proof as one CometBFT `ProofOp`; or
    /// `/log/issuer` / `/log/revocation`, a page of log entries at that version with no proof
    /// (`registry::Registry::log_page`; the client checks it against the log's proven head).
    pub fn query(&self, req: &request::Query) -> response::Query {
        let Some(chain) = &self.chain else {
            return query_response(QueryResult {
                code: codes::NOT_INITIALIZED,
                log: "Query before InitChain".into(),
                key: Vec::new(),
                value: None,
                proof: None,
                height: 0,
            });
        };
        query_response(chain.registry.query_upto(
            &req.path,
            &req.data,
            Some(req.height.value()),
            req.prove,
            chain.committed,
        ))
    }
}

/// Whether `key` is a governance member's or an issuer's in the committed state (the only
/// keys whose transactions the registry can accept).
fn is_known_signer(registry: &Registry, key: &PublicKey) -> bool {
    use registry::Canonical as _;
    if registry.get(&registry::keys::issuer_key(key)).is_some() {
        return true;
    }
    registry
        .get(registry::keys::GOVERNANCE)
        .and_then(|b| registry::state::Governance::from_bytes(&b).ok())
        .is_some_and(|g| g.is_member(key))
}

/// A transaction's size inside a block's protobuf `Data` (field tag, length, bytes), as
/// CometBFT counts it against `max_tx_bytes`.
pub fn proto_size(len: usize) -> u64 {
    let mut varint = 1;
    let mut n = len >> 7;
    while n > 0 {
        varint += 1;
        n >>= 7;
    }
    1 + varint + len as u64
}

/// A validator of `InitChain` as the registry records it (ed25519 only).
fn registry_validator(
    i: usize,
    v: &validator::Update,
) -> Result<registry::state::Validator, NodeError> {
    let key = v.pub_key.ed25519().ok_or(NodeError::ValidatorKeyType(i))?;
    let pub_key = PublicKey(
        key.as_bytes()
            .try_into()
            .map_err(|_| NodeError::ValidatorKeyType(i))?,
    );
    Ok(registry::state::Validator {
        pub_key,
        power: v.power.value(),
    })
}

/// A registry validator as CometBFT's update. Powers are at most 2^40 (the registry's bound),
/// so within CometBFT's.
fn validator_update(v: &registry::state::Validator) -> validator::Update {
    validator::Update {
        pub_key: tendermint::PublicKey::from_raw_ed25519(v.pub_key.as_bytes())
            .expect("32 bytes are an ed25519 key"),
        power: tendermint::vote::Power::try_from(v.power).expect("a power of at most 2^40"),
    }
}

fn unix_secs(t: Time) -> Result<u64, NodeError> {
    let s = t.unix_timestamp();
    u64::try_from(s).map_err(|_| NodeError::Time(s))
}

fn block_height(h: u64) -> block::Height {
    block::Height::try_from(h).expect("heights stay below i64::MAX")
}

fn app_hash(h: [u8; 32]) -> AppHash {
    AppHash::try_from(h.to_vec()).expect("any bytes are an app hash")
}

fn events(r: &TxResult) -> Vec<Event> {
    r.events
        .iter()
        .map(|e| {
            Event::new(
                e.kind.clone(),
                e.attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone(), true)),
            )
        })
        .collect()
}

fn codespace(code: u32, space: &str) -> String {
    if code == 0 {
        String::new()
    } else {
        space.to_owned()
    }
}

/// What a `CheckTx` answer carries.
struct Checked {
    code: u32,
    log: String,
    codespace: String,
}

fn registry_result(r: &TxResult) -> Checked {
    Checked {
        code: r.code,
        log: r.log.clone(),
        codespace: codespace(r.code, REGISTRY_CODESPACE),
    }
}

fn node_error(code: u32, log: &str) -> Checked {
    Checked {
        code,
        log: log.to_owned(),
        codespace: NODE_CODESPACE.to_owned(),
    }
}

fn check_response(c: Checked) -> response::CheckTx {
    response::CheckTx {
        code: Code::from(c.code),
        log: c.log,
        codespace: c.codespace,
        ..Default::default()
    }
}

fn exec_result(r: &TxResult) -> ExecTxResult {
    ExecTxResult {
        code: Code::from(r.code),
        log: r.log.clone(),
        events: events(r),
        codespace: codespace(r.code, REGISTRY_CODESPACE),
        ..Default::default()
    }
}

fn query_response(r: QueryResult) -> response::Query {
    let log = if r.code == 0 {
        if r.value.is_some() {
            "exists"
        } else {
            "does not exist"
        }
        .to_owned()
    } else {
        r.log
    };
    response::Query {
        code: Code::from(r.code),
        log,
        key: r.key.into(),
        value: r.value.unwrap_or_default().into(),
        proof: r.proof.map(|p| ProofOps {
            ops: vec![ProofOp {
                field_type: p.kind,
                key: p.key,
                data: p.data,
            }],
        }),
        height: block_height(r.height),
        codespace: codespace(r.code, REGISTRY_CODESPACE),
        ..Default::default()
    }
}
