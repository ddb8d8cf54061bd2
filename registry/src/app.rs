//! The registry application: genesis, transaction checking and execution, commit, queries.
//!
//! Driven like an ABCI application by the node (or the local network): [`Registry::new`] for
//! `InitChain`, [`Registry::check_tx`] for `CheckTx`, [`Registry::execute_block`] for
//! `FinalizeBlock` + `Commit`, [`Registry::query`] for `Query`. It reads no clock: block time
//! is an input.

use std::collections::BTreeMap;

use jmt::{KeyHash, Sha256Jmt};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::certificate::SignedCertificate;
use crate::codec::Canonical;
use crate::error::{BlockError, GenesisError, TxError};
use crate::genesis::Genesis;
use crate::keys;
use crate::state::{
    decode_u64, encode_u64, BlockMeta, CertRecord, GovAction, Governance, InspectionRecord,
    IssuerChange, IssuerLogEntry, IssuerRecord, IssuerStatus, Proposal, ProposalStatus, Revocation,
    RevocationEntry, RevocationReason, Revoker,
};
use crate::store::{MemoryStore, StoreStats};
use crate::tx::{Message, RecordInspection, Tx, MAX_SEQUENCE_GAP};
use crate::types::{CertId, IssuerId, PublicKey};

/// How far in the future (seconds past block time) an issue or inspection time may be, to
/// absorb clock differences between a clerk's machine and the chain.
pub const MAX_FUTURE_SKEW_SECS: u64 = 300;

/// Settings of the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryConfig {
    /// How many recent state versions stay queryable (with proofs); older ones are pruned.
    /// `None` keeps every version (an archive node; memory grows with every block).
    pub retain_versions: Option<u64>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            retain_versions: Some(1000),
        }
    }
}

/// An event emitted by a successful transaction (CometBFT `Event { type, attributes }`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Event type, e.g. `certificate_issued`.
    pub kind: String,
    /// Key / value attributes.
    pub attributes: Vec<(String, String)>,
}

impl Event {
    fn new(kind: &str, attributes: &[(&str, String)]) -> Self {
        Self {
            kind: kind.to_owned(),
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        }
    }
}

/// The result of checking or executing one transaction (CometBFT `ExecTxResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxResult {
    /// 0 on success, else [`TxError::code`].
    pub code: u32,
    /// Empty on success, else the reason.
    pub log: String,
    /// Events of a successful transaction.
    pub events: Vec<Event>,
    /// SHA-256 of the transaction bytes.
    pub tx_hash: [u8; 32],
}

impl TxResult {
    /// Whether the transaction was accepted.
    pub fn is_ok(&self) -> bool {
        self.code == 0
    }

    fn from_outcome(tx: &[u8], outcome: Result<Vec<Event>, TxError>) -> Self {
        let tx_hash = Tx::hash(tx);
        match outcome {
            Ok(events) => Self {
                code: 0,
                log: String::new(),
                events,
                tx_hash,
            },
            Err(e) => Self {
                code: e.code(),
                log: e.to_string(),
                events: Vec::new(),
                tx_hash,
            },
        }
    }
}

/// A block being executed: its writes so far and the results of its transactions.
#[derive(Debug)]
pub struct PendingBlock {
    height: u64,
    time: u64,
    writes: BTreeMap<Vec<u8>, Vec<u8>>,
    tx_results: Vec<TxResult>,
}

impl PendingBlock {
    /// The block height.
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Results of the transactions delivered so far.
    pub fn tx_results(&self) -> &[TxResult] {
        &self.tx_results
    }
}

/// The result of executing and committing a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockOutcome {
    /// The block height, which is also the new state version.
    pub height: u64,
    /// One result per transaction, in block order.
    pub tx_results: Vec<TxResult>,
    /// The root of state version `height`: goes into header `height + 1` as `app_hash`.
    pub app_hash: [u8; 32],
}

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
    /// The path is not `/key` or `/store/<key>`. Code 101.
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
            Self::Tree(_) => 199,
        }
    }
}

/// The registry application and its authenticated state.
#[derive(Debug)]
pub struct Registry {
    chain_id: String,
    config: RegistryConfig,
    store: MemoryStore,
    /// The latest committed version (= last executed height; 0 is the genesis state).
    version: u64,
    /// Root of every version, by version.
    roots: Vec<[u8; 32]>,
    /// The oldest version still queryable.
    oldest: u64,
    last_time: u64,
}

impl Registry {
    /// Builds the genesis state (version 0) with the default configuration. Its root,
    /// [`Registry::app_hash`], is the `InitChain` app hash that goes into header 1.
    pub fn new(genesis: &Genesis) -> Result<Self, GenesisError> {
        Self::with_config(genesis, RegistryConfig::default())
    }

    /// Builds the genesis state with a configuration.
    pub fn with_config(genesis: &Genesis, config: RegistryConfig) -> Result<Self, GenesisError> {
        genesis.validate()?;
        let mut w: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        w.insert(keys::SENTINEL.to_vec(), keys::SENTINEL_VALUE.to_vec());
        w.insert(
            keys::CHAIN_ID.to_vec(),
            genesis.chain_id.as_bytes().to_vec(),
        );
        w.insert(
            keys::BLOCK.to_vec(),
            BlockMeta {
                height: 0,
                time: genesis.genesis_time,
            }
            .to_bytes(),
        );
        w.insert(keys::GOVERNANCE.to_vec(), genesis.governance.to_bytes());
        w.insert(keys::PROPOSAL_LEN.to_vec(), encode_u64(0));
        w.insert(keys::REVOCATION_LOG_LEN.to_vec(), encode_u64(0));
        for (n, spec) in genesis.issuers.iter().enumerate() {
            let rec = IssuerRecord {
                spec: spec.clone(),
                status: IssuerStatus::Active,
                status_since: genesis.genesis_time,
                status_reason: String::new(),
                registered_height: 0,
            };
            w.insert(keys::issuer(&spec.id), rec.to_bytes());
            for k in &spec.keys {
                w.insert(keys::issuer_key(k), spec.id.as_str().as_bytes().to_vec());
            }
            let entry = IssuerLogEntry {
                issuer: spec.id.clone(),
                change: IssuerChange::Registered,
                height: 0,
                time: genesis.genesis_time,
                proposal: None,
            };
            w.insert(keys::issuer_log(n as u64), entry.to_bytes());
        }
        w.insert(
            keys::ISSUER_LOG_LEN.to_vec(),
            encode_u64(genesis.issuers.len() as u64),
        );
        let mut reg = Self {
            chain_id: genesis.chain_id.clone(),
            config,
            store: MemoryStore::default(),
            version: 0,
            roots: Vec::new(),
            oldest: 0,
            last_time: genesis.genesis_time,
        };
        reg.commit(w, 0).map_err(GenesisError::Tree)?;
        Ok(reg)
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The last executed height (0 before the first block).
    pub fn last_height(&self) -> u64 {
        self.version
    }

    /// The last block time (the genesis time before the first block).
    pub fn last_block_time(&self) -> u64 {
        self.last_time
    }

    /// The root of the latest state version: the app hash of the next header.
    pub fn app_hash(&self) -> [u8; 32] {
        self.roots.last().copied().unwrap_or_default()
    }

    /// The root of state version `version` (the state after executing block `version`),
    /// which is the `app_hash` of header `version + 1`. Kept for every version, even pruned.
    pub fn app_hash_at(&self, version: u64) -> Option<[u8; 32]> {
        usize::try_from(version)
            .ok()
            .and_then(|v| self.roots.get(v))
            .copied()
    }

    /// The oldest version that can still be queried.
    pub fn oldest_queryable_version(&self) -> u64 {
        self.oldest
    }

    /// Store sizes.
    pub fn store_stats(&self) -> StoreStats {
        self.store.stats()
    }

    /// Checks a transaction against the latest committed state, as `CheckTx` does: every rule
    /// of execution applies, with the next height and the last block time. Changes nothing.
    pub fn check_tx(&self, tx: &[u8]) -> TxResult {
        let empty = BTreeMap::new();
        let mut exec = Exec::new(self, &empty, self.version + 1, self.last_time);
        TxResult::from_outcome(tx, exec.apply(tx).map(|()| exec.events))
    }

    /// Executes block `height` at block time `time` (unix seconds) and commits it: state
    /// version `height`, whose root is returned as the app hash for header `height + 1`.
    /// Rejected transactions change nothing. `height` must be the last height + 1.
    ///
    /// Same as [`Registry::begin_block`], [`Registry::deliver_tx`] for each transaction, then
    /// [`Registry::commit_block`].
    pub fn execute_block(
        &mut self,
        height: u64,
        time: u64,
        txs: &[Vec<u8>],
    ) -> Result<BlockOutcome, BlockError> {
        let mut block = self.begin_block(height, time)?;
        for tx in txs {
            self.deliver_tx(&mut block, tx);
        }
        self.commit_block(block)
    }

    /// Starts block `height` at block time `time`; fails unless `height` is the last height
    /// + 1 and `time` is not before the last block time.
    pub fn begin_block(&self, height: u64, time: u64) -> Result<PendingBlock, BlockError> {
        if height != self.version + 1 {
            return Err(BlockError::WrongHeight {
                expected: self.version + 1,
                got: height,
            });
        }
        if time < self.last_time {
            return Err(BlockError::TimeWentBackwards {
                previous: self.last_time,
                got: time,
            });
        }
        Ok(PendingBlock {
            height,
            time,
            writes: BTreeMap::new(),
            tx_results: Vec::new(),
        })
    }

    /// Executes one transaction of a pending block; its result is also kept in the block.
    /// Nothing is visible to queries before [`Registry::commit_block`].
    pub fn deliver_tx(&self, block: &mut PendingBlock, tx: &[u8]) -> TxResult {
        let mut exec = Exec::new(self, &block.writes, block.height, block.time);
        let result = match exec.apply(tx) {
            Ok(()) => {
                let Exec { writes, events, .. } = exec;
                block.writes.extend(writes);
                TxResult::from_outcome(tx, Ok(events))
            }
            Err(e) => TxResult::from_outcome(tx, Err(e)),
        };
        block.tx_results.push(result.clone());
        result
    }

    /// Commits a pending block: writes `meta/block`, computes the new root (state version
    /// `height`), prunes versions beyond the retention window.
    pub fn commit_block(&mut self, block: PendingBlock) -> Result<BlockOutcome, BlockError> {
        let PendingBlock {
            height,
            time,
            mut writes,
            tx_results,
        } = block;
        if height != self.version + 1 {
            return Err(BlockError::WrongHeight {
                expected: self.version + 1,
                got: height,
            });
        }
        writes.insert(keys::BLOCK.to_vec(), BlockMeta { height, time }.to_bytes());
        let app_hash = self.commit(writes, height).map_err(BlockError::Tree)?;
        self.last_time = time;
        Ok(BlockOutcome {
            height,
            tx_results,
            app_hash,
        })
    }

    fn commit(
        &mut self,
        writes: BTreeMap<Vec<u8>, Vec<u8>>,
        version: u64,
    ) -> Result<[u8; 32], String> {
        let mut set = Vec::with_capacity(writes.len());
        for (k, v) in writes {
            let h = KeyHash::with::<Sha256>(&k);
            self.store.put_preimage(h, &k);
            set.push((h, Some(v)));
        }
        let (root, batch) = Sha256Jmt::new(&self.store)
            .put_value_set(set, version)
            .map_err(|e| e.to_string())?;
        self.store.apply(batch);
        self.roots.push(root.0);
        self.version = version;
        if let Some(keep) = self.config.retain_versions {
            let keep = keep.max(1);
            if version + 1 > keep {
                let least = version + 1 - keep;
                if least > self.oldest {
                    self.store.prune(least);
                    self.oldest = least;
                }
            }
        }
        Ok(root.0)
    }

    /// Reads a value of the latest committed state (no proof).
    pub fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.store
            .value_at(self.version, KeyHash::with::<Sha256>(key))
            .map(<[u8]>::to_vec)
    }

    /// Answers `abci_query`. Paths: `/key` with `data` = the raw state key, or
    /// `/store/<key>` with the key written in the path (e.g. `/store/cert/KE-KEPHIS/PH-1`).
    /// `height` `None` or `Some(0)` means the latest version. With `prove`, the answer carries
    /// an ICS-23 existence or non-existence proof against the root of that version.
    pub fn query(&self, path: &str, data: &[u8], height: Option<u64>, prove: bool) -> QueryResult {
        let key = if path == "/key" {
            data.to_vec()
        } else if let Some(rest) = path.strip_prefix("/store/") {
            rest.as_bytes().to_vec()
        } else {
            return self.query_error(Vec::new(), 0, &QueryError::UnknownPath(path.to_owned()));
        };
        let version = match height {
            None | Some(0) => self.version,
            Some(h) => h,
        };
        match self.query_key(&key, version, prove) {
            Ok((value, proof)) => QueryResult {
                code: 0,
                log: String::new(),
                key,
                value,
                proof,
                height: version,
            },
            Err(e) => self.query_error(key, version, &e),
        }
    }

    fn query_error(&self, key: Vec<u8>, height: u64, e: &QueryError) -> QueryResult {
        QueryResult {
            code: e.code(),
            log: e.to_string(),
            key,
            value: None,
            proof: None,
            height,
        }
    }

    /// Reads `key` at `version`, with its proof when `prove`.
    pub fn query_key(
        &self,
        key: &[u8],
        version: u64,
        prove: bool,
    ) -> Result<(Option<Vec<u8>>, Option<ProofOp>), QueryError> {
        if key.is_empty() {
            return Err(QueryError::EmptyKey);
        }
        if version > self.version || version < self.oldest {
            return Err(QueryError::HeightNotAvailable {
                height: version,
                oldest: self.oldest,
                latest: self.version,
            });
        }
        if !prove {
            let v = self.store.value_at(version, KeyHash::with::<Sha256>(key));
            return Ok((v.map(<[u8]>::to_vec), None));
        }
        let (value, proof) = Sha256Jmt::new(&self.store)
            .get_with_ics23_proof(key.to_vec(), version)
            .map_err(|e| QueryError::Tree(e.to_string()))?;
        let data = prost::Message::encode_to_vec(&proof);
        Ok((
            value,
            Some(ProofOp {
                kind: PROOF_OP_TYPE.to_owned(),
                key: key.to_vec(),
                data,
            }),
        ))
    }
}

/// Who a signer is.
enum Role {
    Governance(Governance),
    Issuer(IssuerRecord),
    Unknown,
}

/// One transaction's execution: reads see the committed state, then the block's earlier
/// writes, then this transaction's own; writes are kept apart until it succeeds.
struct Exec<'a> {
    reg: &'a Registry,
    block: &'a BTreeMap<Vec<u8>, Vec<u8>>,
    writes: BTreeMap<Vec<u8>, Vec<u8>>,
    events: Vec<Event>,
    height: u64,
    time: u64,
}

impl<'a> Exec<'a> {
    fn new(
        reg: &'a Registry,
        block: &'a BTreeMap<Vec<u8>, Vec<u8>>,
        height: u64,
        time: u64,
    ) -> Self {
        Self {
            reg,
            block,
            writes: BTreeMap::new(),
            events: Vec::new(),
            height,
            time,
        }
    }

    fn get(&self, key: &[u8]) -> Option<&[u8]> {
        if let Some(v) = self.writes.get(key) {
            return Some(v);
        }
        if let Some(v) = self.block.get(key) {
            return Some(v);
        }
        self.reg
            .store
            .value_at(self.reg.version, KeyHash::with::<Sha256>(key))
    }

    fn read<T: Canonical>(&self, key: &[u8]) -> Result<Option<T>, TxError> {
        match self.get(key) {
            None => Ok(None),
            Some(b) => T::from_bytes(b).map(Some).map_err(|e| {
                TxError::Internal(format!(
                    "stored value at {:?}: {e}",
                    String::from_utf8_lossy(key)
                ))
            }),
        }
    }

    fn counter(&self, key: &[u8]) -> Result<u64, TxError> {
        match self.get(key) {
            None => Ok(0),
            Some(b) => decode_u64(b).map_err(|e| TxError::Internal(format!("counter: {e}"))),
        }
    }

    fn put<T: Canonical>(&mut self, key: Vec<u8>, value: &T) {
        self.writes.insert(key, value.to_bytes());
    }

    /// Appends to a log with a `len` counter; returns the new entry's index.
    fn append<T: Canonical>(
        &mut self,
        len_key: &[u8],
        entry_key: impl Fn(u64) -> Vec<u8>,
        entry: &T,
    ) -> Result<u64, TxError> {
        let n = self.counter(len_key)?;
        self.put(entry_key(n), entry);
        self.writes.insert(len_key.to_vec(), encode_u64(n + 1));
        Ok(n)
    }

    fn event(&mut self, kind: &str, attributes: &[(&str, String)]) {
        self.events.push(Event::new(kind, attributes));
    }

    fn apply(&mut self, bytes: &[u8]) -> Result<(), TxError> {
        let tx = Tx::decode(bytes)?;
        let body = &tx.body;
        if body.chain_id != self.reg.chain_id {
            return Err(TxError::WrongChainId {
                expected: self.reg.chain_id.clone(),
                got: body.chain_id.clone(),
            });
        }
        if !tx.verify_signature() {
            return Err(TxError::BadSignature);
        }
        let last = self.counter(&keys::account(&body.signer))?;
        if body.sequence <= last {
            return Err(TxError::BadSequence {
                last,
                got: body.sequence,
            });
        }
        if body.sequence - last > MAX_SEQUENCE_GAP {
            return Err(TxError::SequenceTooFar {
                last,
                got: body.sequence,
                max_gap: MAX_SEQUENCE_GAP,
            });
        }
        let signer = body.signer;
        let role = self.role(&signer)?;
        match &body.message {
            Message::Propose { action, expires_at } => {
                self.propose(signer, role, action, *expires_at)?
            }
            Message::Approve { proposal } => self.approve(signer, role, *proposal)?,
            Message::IssueCertificate(m) => self.issue(signer, role, m)?,
            Message::RevokeCertificate { cert, reason, note } => {
                self.revoke_by_issuer(signer, role, cert, *reason, note)?
            }
            Message::RecordInspection(m) => self.inspect(signer, role, m)?,
        }
        self.writes
            .insert(keys::account(&signer), encode_u64(body.sequence));
        Ok(())
    }

    fn governance(&self) -> Result<Governance, TxError> {
        self.read(keys::GOVERNANCE)?
            .ok_or_else(|| TxError::Internal("governance missing".into()))
    }

    fn issuer(&self, id: &IssuerId) -> Result<IssuerRecord, TxError> {
        self.read(&keys::issuer(id))?
            .ok_or_else(|| TxError::IssuerNotFound { id: id.clone() })
    }

    fn role(&self, signer: &PublicKey) -> Result<Role, TxError> {
        let gov = self.governance()?;
        if gov.is_member(signer) {
            return Ok(Role::Governance(gov));
        }
        match self.get(&keys::issuer_key(signer)) {
            None => Ok(Role::Unknown),
            Some(id) => {
                let id = std::str::from_utf8(id)
                    .ok()
                    .and_then(|s| IssuerId::new(s).ok())
                    .ok_or_else(|| TxError::Internal("issuer key index".into()))?;
                Ok(Role::Issuer(self.issuer(&id)?))
            }
        }
    }

    fn propose(
        &mut self,
        signer: PublicKey,
        role: Role,
        action: &GovAction,
        expires_at: u64,
    ) -> Result<(), TxError> {
        let Role::Governance(gov) = role else {
            return Err(TxError::Unauthorized {
                signer,
                reason: "only governance keys propose",
            });
        };
        if expires_at <= self.time {
            return Err(TxError::InvalidField {
                field: "expires_at",
                reason: "must be after the block time",
            });
        }
        let id = self.counter(keys::PROPOSAL_LEN)?;
        let executes = gov.threshold <= 1;
        // Run the action now: it executes if one approval is enough, and otherwise a proposal
        // that could not execute in the current state is refused early.
        let mut trial = Exec::new(self.reg, self.block, self.height, self.time);
        trial.writes = self.writes.clone();
        trial.run_action(action, id)?;
        if executes {
            self.writes = trial.writes;
            self.events.append(&mut trial.events);
        }
        let proposal = Proposal {
            id,
            action: action.clone(),
            expires_at,
            approvals: vec![signer],
            status: if executes {
                ProposalStatus::Executed
            } else {
                ProposalStatus::Open
            },
            created_height: self.height,
            executed_height: if executes { self.height } else { 0 },
        };
        self.put(keys::proposal(id), &proposal);
        self.writes
            .insert(keys::PROPOSAL_LEN.to_vec(), encode_u64(id + 1));
        self.event(
            "proposal_created",
            &[
                ("id", id.to_string()),
                ("proposer", signer.to_hex()),
                ("executed", executes.to_string()),
            ],
        );
        Ok(())
    }

    fn approve(&mut self, signer: PublicKey, role: Role, id: u64) -> Result<(), TxError> {
        let Role::Governance(gov) = role else {
            return Err(TxError::Unauthorized {
                signer,
                reason: "only governance keys approve",
            });
        };
        let mut p: Proposal = self
            .read(&keys::proposal(id))?
            .ok_or(TxError::ProposalNotFound { id })?;
        if p.status != ProposalStatus::Open {
            return Err(TxError::ProposalClosed { id });
        }
        if self.time >= p.expires_at {
            return Err(TxError::ProposalExpired {
                id,
                expires_at: p.expires_at,
                time: self.time,
            });
        }
        if p.approvals.contains(&signer) {
            return Err(TxError::AlreadyApproved { id });
        }
        p.approvals.push(signer);
        // Only approvals by current members count.
        let count = p.approvals.iter().filter(|k| gov.is_member(k)).count();
        let executes = count >= usize::from(gov.threshold);
        if executes {
            let action = p.action.clone();
            self.run_action(&action, id)?;
            p.status = ProposalStatus::Executed;
            p.executed_height = self.height;
        }
        self.put(keys::proposal(id), &p);
        self.event(
            "proposal_approved",
            &[
                ("id", id.to_string()),
                ("approver", signer.to_hex()),
                ("executed", executes.to_string()),
            ],
        );
        Ok(())
    }

    fn run_action(&mut self, action: &GovAction, proposal: u64) -> Result<(), TxError> {
        match action {
            GovAction::RegisterIssuer(spec) => {
                if self.get(&keys::issuer(&spec.id)).is_some() {
                    return Err(TxError::IssuerExists {
                        id: spec.id.clone(),
                    });
                }
                if let Some(k) = spec.keys.iter().find(|k| !k.is_valid_ed25519()) {
                    return Err(TxError::InvalidKey { key: *k });
                }
                let gov = self.governance()?;
                for k in &spec.keys {
                    if gov.is_member(k) || self.get(&keys::issuer_key(k)).is_some() {
                        return Err(TxError::KeyInUse { key: *k });
                    }
                }
                let rec = IssuerRecord {
                    spec: spec.clone(),
                    status: IssuerStatus::Active,
                    status_since: self.time,
                    status_reason: String::new(),
                    registered_height: self.height,
                };
                self.put(keys::issuer(&spec.id), &rec);
                for k in &spec.keys {
                    self.writes
                        .insert(keys::issuer_key(k), spec.id.as_str().as_bytes().to_vec());
                }
                self.log_issuer(&spec.id, IssuerChange::Registered, proposal)?;
            }
            GovAction::SuspendIssuer { id, reason } => {
                self.set_status(id, reason, IssuerStatus::Suspended, proposal)?
            }
            GovAction::ReinstateIssuer { id, reason } => {
                self.set_status(id, reason, IssuerStatus::Active, proposal)?
            }
            GovAction::RemoveIssuer { id, reason } => {
                self.set_status(id, reason, IssuerStatus::Removed, proposal)?
            }
            GovAction::RevokeCertificate { cert, reason, note } => {
                self.revoke(cert, *reason, note, Revoker::Governance)?
            }
        }
        Ok(())
    }

    fn set_status(
        &mut self,
        id: &IssuerId,
        reason: &str,
        to: IssuerStatus,
        proposal: u64,
    ) -> Result<(), TxError> {
        let mut rec = self.issuer(id)?;
        let change = match (rec.status, to) {
            (IssuerStatus::Active, IssuerStatus::Suspended) => IssuerChange::Suspended,
            (IssuerStatus::Suspended, IssuerStatus::Active) => IssuerChange::Reinstated,
            (IssuerStatus::Active | IssuerStatus::Suspended, IssuerStatus::Removed) => {
                IssuerChange::Removed
            }
            (from, _) => {
                return Err(TxError::InvalidTransition {
                    id: id.clone(),
                    from,
                })
            }
        };
        rec.status = to;
        rec.status_since = self.time;
        rec.status_reason = reason.to_owned();
        self.put(keys::issuer(id), &rec);
        self.log_issuer(id, change, proposal)
    }

    fn log_issuer(
        &mut self,
        id: &IssuerId,
        change: IssuerChange,
        proposal: u64,
    ) -> Result<(), TxError> {
        let entry = IssuerLogEntry {
            issuer: id.clone(),
            change,
            height: self.height,
            time: self.time,
            proposal: Some(proposal),
        };
        let n = self.append(keys::ISSUER_LOG_LEN, keys::issuer_log, &entry)?;
        self.event(
            "issuer_changed",
            &[
                ("issuer", id.to_string()),
                ("change", format!("{change:?}")),
                ("log_index", n.to_string()),
            ],
        );
        Ok(())
    }

    /// The signer's active issuer, checked against the issuer the message names.
    fn signer_issuer(
        signer: PublicKey,
        role: Role,
        named: &IssuerId,
        what: &'static str,
    ) -> Result<IssuerRecord, TxError> {
        let Role::Issuer(rec) = role else {
            return Err(TxError::Unauthorized {
                signer,
                reason: what,
            });
        };
        if &rec.spec.id != named {
            return Err(TxError::WrongIssuer {
                signer_issuer: rec.spec.id,
                named: named.clone(),
            });
        }
        Ok(rec)
    }

    fn require_active(rec: &IssuerRecord) -> Result<(), TxError> {
        if rec.status == IssuerStatus::Active {
            Ok(())
        } else {
            Err(TxError::IssuerNotActive {
                id: rec.spec.id.clone(),
                status: rec.status,
            })
        }
    }

    fn issue(
        &mut self,
        signer: PublicKey,
        role: Role,
        signed: &SignedCertificate,
    ) -> Result<(), TxError> {
        let c = &signed.certificate;
        let rec = Self::signer_issuer(signer, role, &c.id.issuer, "only issuer keys issue")?;
        Self::require_active(&rec)?;
        let spec = &rec.spec;
        // The record is taken from the signed text, so the signature must be the issuer's:
        // one of its keys, over this chain's certificate sign bytes.
        if !spec
            .keys
            .iter()
            .any(|k| signed.is_signed_by(&self.reg.chain_id, k))
        {
            return Err(TxError::BadCertificateSignature { id: c.id.clone() });
        }
        if !spec.kinds.contains(c.kind) {
            return Err(TxError::KindNotAllowed {
                issuer: spec.id.clone(),
                kind: c.kind,
            });
        }
        for t in [self.time, c.issued_at] {
            if !spec.is_within_validity(t) {
                return Err(TxError::OutsideValidity {
                    issuer: spec.id.clone(),
                    time: t,
                    valid_from: spec.valid_from,
                    valid_until: spec.valid_until,
                });
            }
        }
        if c.issued_at > self.time.saturating_add(MAX_FUTURE_SKEW_SECS) {
            return Err(TxError::InvalidField {
                field: "issued_at",
                reason: "is more than 5 minutes after the block time",
            });
        }
        let key = keys::cert(&c.id);
        if self.get(&key).is_some() {
            return Err(TxError::CertificateExists { id: c.id.clone() });
        }
        let content_hash = c.content_hash();
        let record = CertRecord {
            id: c.id.clone(),
            kind: c.kind,
            content_hash,
            document_hash: c.document_hash,
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            registered_height: self.height,
            registered_time: self.time,
            revocation: None,
        };
        self.put(key, &record);
        self.event(
            "certificate_issued",
            &[
                ("id", c.id.to_string()),
                ("issuer", c.id.issuer.to_string()),
                ("kind", c.kind.code().to_string()),
                ("content_hash", hex::encode(content_hash)),
            ],
        );
        Ok(())
    }

    fn revoke_by_issuer(
        &mut self,
        signer: PublicKey,
        role: Role,
        cert: &CertId,
        reason: RevocationReason,
        note: &str,
    ) -> Result<(), TxError> {
        let rec = Self::signer_issuer(
            signer,
            role,
            &cert.issuer,
            "only the issuer or governance revokes",
        )?;
        if rec.status == IssuerStatus::Removed {
            return Err(TxError::IssuerNotActive {
                id: rec.spec.id,
                status: rec.status,
            });
        }
        self.revoke(cert, reason, note, Revoker::Issuer)
    }

    fn revoke(
        &mut self,
        cert: &CertId,
        reason: RevocationReason,
        note: &str,
        by: Revoker,
    ) -> Result<(), TxError> {
        let key = keys::cert(cert);
        let mut record: CertRecord = self
            .read(&key)?
            .ok_or_else(|| TxError::CertificateNotFound { id: cert.clone() })?;
        if record.revocation.is_some() {
            return Err(TxError::AlreadyRevoked { id: cert.clone() });
        }
        let entry = RevocationEntry {
            cert: cert.clone(),
            reason,
            height: self.height,
            time: self.time,
        };
        let log_index = self.append(keys::REVOCATION_LOG_LEN, keys::revocation_log, &entry)?;
        record.revocation = Some(Revocation {
            reason,
            note: note.to_owned(),
            height: self.height,
            time: self.time,
            by,
            log_index,
        });
        self.put(key, &record);
        self.event(
            "certificate_revoked",
            &[
                ("id", cert.to_string()),
                ("log_index", log_index.to_string()),
            ],
        );
        Ok(())
    }

    fn inspect(
        &mut self,
        signer: PublicKey,
        role: Role,
        m: &RecordInspection,
    ) -> Result<(), TxError> {
        let rec = Self::signer_issuer(
            signer,
            role,
            &m.agency,
            "only agency keys record inspections",
        )?;
        Self::require_active(&rec)?;
        if m.location.is_empty() {
            return Err(TxError::InvalidField {
                field: "location",
                reason: "must not be empty",
            });
        }
        if m.inspected_at > self.time.saturating_add(MAX_FUTURE_SKEW_SECS) {
            return Err(TxError::InvalidField {
                field: "inspected_at",
                reason: "is more than 5 minutes after the block time",
            });
        }
        // Only certificates on the chain are inspected: ids that were never registered would
        // let any agency key grow the state without bound. A forged code naming a real id is
        // recorded against that id (outcome 5).
        if self.get(&keys::cert(&m.cert)).is_none() {
            return Err(TxError::CertificateNotFound { id: m.cert.clone() });
        }
        let record = InspectionRecord {
            cert: m.cert.clone(),
            agency: m.agency.clone(),
            inspector: signer,
            location: m.location.clone(),
            outcome: m.outcome,
            notes: m.notes.clone(),
            inspected_at: m.inspected_at,
            recorded_height: self.height,
            recorded_time: self.time,
        };
        let cert = m.cert.clone();
        let n = self.append(
            &keys::inspection_len(&cert),
            |n| keys::inspection(&cert, n),
            &record,
        )?;
        self.event(
            "inspection_recorded",
            &[("cert", cert.to_string()), ("index", n.to_string())],
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devkit::demo_genesis;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn registry_can_be_shared_across_threads() {
        assert_send_sync::<Registry>();
        assert_send_sync::<PendingBlock>();
    }

    #[test]
    fn genesis_is_version_zero_and_blocks_advance() {
        let mut reg = Registry::new(&demo_genesis("c", 100)).unwrap();
        assert_eq!(reg.last_height(), 0);
        let h0 = reg.app_hash();
        assert_eq!(reg.app_hash_at(0), Some(h0));
        let out = reg.execute_block(1, 100, &[]).unwrap();
        assert_ne!(out.app_hash, h0);
        assert_eq!(reg.app_hash_at(1), Some(out.app_hash));
        assert_eq!(reg.app_hash_at(2), None);
        let block = reg.begin_block(2, 101).unwrap();
        assert_eq!(block.height(), 2);
        assert!(block.tx_results().is_empty());
        // A block that was started for a height that is no longer next cannot be committed.
        reg.execute_block(2, 101, &[]).unwrap();
        assert!(matches!(
            reg.commit_block(block),
            Err(BlockError::WrongHeight { .. })
        ));
    }

    #[test]
    fn invalid_genesis_is_refused() {
        let mut g = demo_genesis("c", 100);
        g.governance.threshold = 4;
        assert!(Registry::new(&g).is_err());
        let mut g = demo_genesis("c", 100);
        let dup = g.governance.keys[0];
        g.issuers[0].keys.push(dup);
        assert!(matches!(
            Registry::new(&g),
            Err(GenesisError::DuplicateKey(_))
        ));
        let mut g = demo_genesis("", 100);
        g.chain_id.clear();
        assert!(Registry::new(&g).is_err());
    }
}
