//! The registry application: genesis, transaction checking and execution, commit, queries.
//!
//! Driven like an ABCI application by the node (or the local network): [`Registry::new`] for
//! `InitChain`, [`Registry::check_tx`] for `CheckTx`, [`Registry::execute_block`] for
//! `FinalizeBlock` + `Commit`, [`Registry::query`] for `Query`. It reads no clock: block time
//! is an input. The execution of one transaction is in `app/`, by topic: `exec.rs` (reads,
//! writes, signature, sequence and the signer's role), `governance.rs` (proposals, approvals,
//! actions), `issuers.rs` (issuer status and log), `certificates.rs` (registration,
//! revocation), `inspections.rs`.

mod certificates;
mod exec;
mod governance;
mod inspections;
mod issuers;

use std::collections::BTreeMap;

use jmt::{KeyHash, Sha256Jmt};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::codec::Canonical;
use crate::error::{BlockError, GenesisError, TxError};
use crate::genesis::Genesis;
use crate::keys;
use crate::log::{Log, Page, PageRequest, MAX_PAGE_BYTES, MAX_PAGE_ENTRIES};
use crate::query::{ProofOp, QueryError, QueryResult, PROOF_OP_TYPE};
use crate::state::{
    decode_u64, encode_u64, BlockMeta, IssuerChange, IssuerLogEntry, IssuerRecord, IssuerStatus,
    Validator, ValidatorTotals,
};
use crate::store::{MemoryStore, StoreStats};
use crate::tx::Tx;
use exec::Exec;

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
    /// The validators whose voting power this block changed (executed `SetValidator`
    /// actions), by key, each once with its power at the end of the block (0: removed). A
    /// power set and set back within the block is no change. CometBFT applies them from
    /// block `height + 2`.
    #[serde(default)]
    pub validator_updates: Vec<Validator>,
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
        // A genesis without validators writes none of these keys: its state (and app hash)
        // is what it was before validator changes existed.
        if !genesis.validators.is_empty() {
            for v in &genesis.validators {
                w.insert(keys::validator(&v.pub_key), encode_u64(v.power));
            }
            let totals = ValidatorTotals {
                count: genesis.validators.len() as u64,
                total_power: genesis.validators.iter().map(|v| v.power).sum(),
            };
            w.insert(keys::VALIDATOR_SET.to_vec(), totals.to_bytes());
        }
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
        let validator_updates = self.validator_updates(&writes)?;
        let app_hash = self.commit(writes, height).map_err(BlockError::Tree)?;
        self.last_time = time;
        Ok(BlockOutcome {
            height,
            tx_results,
            app_hash,
            validator_updates,
        })
    }

    /// The validators whose power `writes` changes from the committed state, in key order.
    fn validator_updates(
        &self,
        writes: &BTreeMap<Vec<u8>, Vec<u8>>,
    ) -> Result<Vec<Validator>, BlockError> {
        let power = |bytes: &[u8]| {
            decode_u64(bytes).map_err(|e| BlockError::Tree(format!("validator power: {e}")))
        };
        let mut updates = Vec::new();
        for (key, value) in writes {
            let Some(pub_key) = keys::parse_validator(key) else {
                continue;
            };
            let new = power(value)?;
            let old = match self.get(key) {
                Some(b) => power(&b)?,
                None => 0,
            };
            if new != old {
                updates.push(Validator {
                    pub_key,
                    power: new,
                });
            }
        }
        Ok(updates)
    }

    /// The voting power of `key` in the latest committed state: `None` when the registry
    /// knows no validator set (a genesis without validators), `Some(0)` for a key that is not
    /// a validator.
    pub fn validator_power(&self, key: &crate::PublicKey) -> Option<u64> {
        self.get(keys::VALIDATOR_SET)?;
        Some(
            self.get(&keys::validator(key))
                .and_then(|b| decode_u64(&b).ok())
                .unwrap_or(0),
        )
    }

    /// The size of the validator set in the latest committed state (`None` when the registry
    /// knows no set).
    pub fn validator_totals(&self) -> Option<ValidatorTotals> {
        self.get(keys::VALIDATOR_SET)
            .and_then(|b| ValidatorTotals::from_bytes(&b).ok())
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
    ///
    /// `/log/issuer` and `/log/revocation` answer a page of log entries with no proof
    /// ([`Registry::log_page`]); `data` is a [`crate::log::PageRequest`].
    pub fn query(&self, path: &str, data: &[u8], height: Option<u64>, prove: bool) -> QueryResult {
        self.query_upto(path, data, height, prove, self.version)
    }

    /// [`Registry::query`] answering from no version above `latest` (`None` or `Some(0)`:
    /// `latest` itself): an application whose newest block is executed but not yet committed
    /// answers from the committed one.
    pub fn query_upto(
        &self,
        path: &str,
        data: &[u8],
        height: Option<u64>,
        prove: bool,
        latest: u64,
    ) -> QueryResult {
        let version = match height {
            None | Some(0) => latest,
            Some(h) => h,
        };
        let above = |key: Vec<u8>| {
            (version > latest).then(|| {
                let e = QueryError::HeightNotAvailable {
                    height: version,
                    oldest: self.oldest,
                    latest,
                };
                self.query_error(key, version, &e)
            })
        };
        if let Some(log) = Log::from_page_path(path) {
            if let Some(refused) = above(data.to_vec()) {
                return refused;
            }
            return match self.log_page(log, data, version) {
                Ok(page) => QueryResult {
                    code: 0,
                    log: String::new(),
                    key: data.to_vec(),
                    value: Some(page),
                    proof: None,
                    height: version,
                },
                Err(e) => self.query_error(data.to_vec(), version, &e),
            };
        }
        let key = if path == "/key" {
            data.to_vec()
        } else if let Some(rest) = path.strip_prefix("/store/") {
            rest.as_bytes().to_vec()
        } else {
            return self.query_error(Vec::new(), 0, &QueryError::UnknownPath(path.to_owned()));
        };
        if let Some(refused) = above(key.clone()) {
            return refused;
        }
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

    /// A page of `log` at state `version` (the answer of `/log/issuer` and `/log/revocation`):
    /// `data` is a [`PageRequest`]; the answer is the canonical [`Page`] of entries
    /// `from .. from + count`, fewer when they would exceed [`MAX_PAGE_BYTES`] (never fewer
    /// than one). No proof: a client checks the entries against the log's proven head. A
    /// count of 0 or over [`MAX_PAGE_ENTRIES`], or a malformed request, is code 104; a range
    /// past the end of the log code 105.
    pub fn log_page(&self, log: Log, data: &[u8], version: u64) -> Result<Vec<u8>, QueryError> {
        let req = PageRequest::from_bytes(data)
            .map_err(|e| QueryError::BadPageRequest(format!("data: {e}")))?;
        if req.count == 0 || req.count > MAX_PAGE_ENTRIES {
            return Err(QueryError::BadPageRequest(format!(
                "count {} is not 1 to {MAX_PAGE_ENTRIES}",
                req.count
            )));
        }
        self.check_version(version)?;
        let read = |key: &[u8]| self.store.value_at(version, KeyHash::with::<Sha256>(key));
        let len = match read(log.len_key()) {
            None => 0,
            Some(b) => decode_u64(b).map_err(|e| QueryError::Tree(format!("log length: {e}")))?,
        };
        let end = req.from.saturating_add(u64::from(req.count));
        if end > len {
            return Err(QueryError::PageOutOfRange {
                from: req.from,
                end,
                len,
            });
        }
        let mut page = Page {
            from: req.from,
            entries: Vec::new(),
        };
        let mut bytes = 0;
        for n in req.from..end {
            let entry = read(&log.entry_key(n))
                .ok_or_else(|| QueryError::Tree(format!("{} entry {n} is missing", log.name())))?;
            bytes += 4 + entry.len();
            if bytes > MAX_PAGE_BYTES && !page.entries.is_empty() {
                break;
            }
            page.entries.push(entry.to_vec());
        }
        Ok(page.to_bytes())
    }

    fn check_version(&self, version: u64) -> Result<(), QueryError> {
        if version > self.version || version < self.oldest {
            return Err(QueryError::HeightNotAvailable {
                height: version,
                oldest: self.oldest,
                latest: self.version,
            });
        }
        Ok(())
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
        self.check_version(version)?;
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
