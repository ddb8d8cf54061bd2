//! The canonical chain: block production in CometBFT's order (mempool → `PrepareProposal`
//! → sealed header → `ProcessProposal` → signed commit → `FinalizeBlock` → `Commit` →
//! rechecks), validator-set changes (the operator's and the application's), the transaction
//! index, persistence, and the handshake on restart (`Info`, `InitChain`, stored blocks
//! replayed).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use light_client::types::{
    Address, BlockId, ChainId, Commit, PublicKey, Time, Validator, ValidatorSet,
};
use sha2::{Digest as _, Sha256};

use crate::abci;
use crate::app::{request, response, AppGenesis, Application};
use crate::keys::{KeyRole, ValidatorKey};
use crate::seal::{self, after_millis, seal, BlockRecord, Draft};
use crate::store::{Store, StoreError};

/// Most validators a set may have (the wallet is tested up to this size).
pub const MAX_VALIDATORS: usize = 150;
/// Highest voting power of one validator (CometBFT caps the total at `i64::MAX / 8`).
pub const MAX_POWER: i64 = 1 << 40;
/// Development key indices searched for the key of a validator address this process has not
/// derived yet (after a restart): a validator whose key is none of these is absent from every
/// commit (its key is not a development key, and the network cannot sign for it).
pub const MAX_KEY_INDEX: u32 = 1 << 16;

/// Errors of the chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The application failed.
    #[error(transparent)]
    App(#[from] crate::app::AppError),
    /// Persistence failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Replaying stored blocks gave another app hash than the one stored.
    #[error("replay of block {height} gave app hash {got}, the stored chain has {stored}")]
    ReplayMismatch {
        /// The block height.
        height: u64,
        /// App hash computed now.
        got: String,
        /// App hash stored.
        stored: String,
    },
    /// The stored chain is not the one configured (other chain id or seed), or was written by
    /// an older version of the network.
    #[error("the data directory holds chain {stored:?}, not {configured:?}: start with --fresh")]
    OtherChain {
        /// Stored chain id / seed fingerprint.
        stored: String,
        /// Configured chain id / seed fingerprint.
        configured: String,
    },
    /// The application rejected the block its own `PrepareProposal` made.
    #[error("the application rejected proposal {0} (ProcessProposal)")]
    ProposalRejected(u64),
    /// A requested validator-set change is not allowed.
    #[error("invalid validator update: {0}")]
    InvalidValidatorUpdate(String),
    /// An internal lock was poisoned by a panic elsewhere.
    #[error("internal state lock poisoned")]
    Poisoned,
}

/// Why a transaction was not accepted into the mempool (besides a non-zero CheckTx code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// The same bytes are already queued or committed.
    #[error("tx already exists in cache")]
    Duplicate,
    /// The mempool is full.
    #[error("mempool is full: {0} transactions")]
    Full(usize),
    /// The transaction is larger than allowed.
    #[error("tx too large: {size} bytes, max {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
}

/// Chain parameters.
#[derive(Debug, Clone)]
pub struct ChainParams {
    /// Chain id.
    pub chain_id: String,
    /// Seed all development keys are derived from.
    pub seed: String,
    /// Voting power of each genesis validator, one entry per validator (key index = position).
    pub genesis_powers: Vec<i64>,
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// Most transactions waiting in the mempool.
    pub mempool_limit: usize,
    /// Largest transaction accepted, bytes.
    pub max_tx_bytes: usize,
    /// Every this many blocks, replace a third of the validator set with other development
    /// keys (0: never). See [`Chain::produce_block`].
    pub rotate_every: u64,
}

fn time_from_nanos(nanos: i128) -> Time {
    let secs = i64::try_from(nanos.div_euclid(1_000_000_000)).unwrap_or(0);
    let sub = u32::try_from(nanos.rem_euclid(1_000_000_000)).unwrap_or(0);
    Time::from_unix(secs, sub).unwrap_or(Time::UNIX_EPOCH)
}

/// A generated history: `blocks` blocks, block h at `start + (h - 1) * interval`. Kept in the
/// store's metadata (key [`HistoryPlan::META_KEY`]) before the first block is made, so that a
/// restart finishes an interrupted generation with the same times and never redoes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HistoryPlan {
    /// Number of generated blocks (heights 1..=blocks).
    pub blocks: u64,
    /// Time of block 1, seconds since the epoch.
    pub start_secs: i64,
    /// Time of block 1, nanoseconds.
    pub start_nanos: u32,
    /// Time between blocks, nanoseconds.
    pub interval_nanos: u64,
}

impl HistoryPlan {
    /// The metadata key of the plan.
    pub const META_KEY: &'static str = "history";

    /// `blocks` blocks `interval` apart, the last one `interval` before `now` (so the next
    /// block, made at `now`, keeps the spacing).
    pub fn ending_at(now: Time, blocks: u64, interval: std::time::Duration) -> Self {
        let interval_nanos = u64::try_from(interval.as_nanos())
            .unwrap_or(u64::MAX)
            .max(1);
        let span = i128::from(blocks) * i128::from(interval_nanos);
        let start = time_from_nanos(now.unix_nanos() - span);
        Self {
            blocks,
            start_secs: start.unix_seconds(),
            start_nanos: start.subsec_nanos(),
            interval_nanos,
        }
    }

    /// The time of block `height`.
    pub fn time_of(&self, height: u64) -> Time {
        let start = i128::from(self.start_secs) * 1_000_000_000 + i128::from(self.start_nanos);
        let offset = i128::from(height.saturating_sub(1)) * i128::from(self.interval_nanos);
        time_from_nanos(start + offset)
    }
}

/// Where a committed transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Index in the block.
    pub index: u32,
}

/// Committed blocks and the tx index.
#[derive(Debug, Default)]
pub struct Blocks {
    records: Vec<Arc<BlockRecord>>,
    tx_index: HashMap<[u8; 32], TxLocation>,
}

impl Blocks {
    /// The latest height (0 before the first block).
    pub fn latest_height(&self) -> u64 {
        u64::try_from(self.records.len()).unwrap_or(u64::MAX)
    }

    /// The block at `height`.
    pub fn get(&self, height: u64) -> Option<&Arc<BlockRecord>> {
        let i = usize::try_from(height.checked_sub(1)?).ok()?;
        self.records.get(i)
    }

    /// The latest block.
    pub fn latest(&self) -> Option<&Arc<BlockRecord>> {
        self.records.last()
    }

    /// Where the transaction with this hash was committed.
    pub fn find_tx(&self, hash: &[u8; 32]) -> Option<TxLocation> {
        self.tx_index.get(hash).copied()
    }

    fn push(&mut self, record: Arc<BlockRecord>) {
        for (i, tx) in record.txs.iter().enumerate() {
            let loc = TxLocation {
                height: record.height(),
                index: u32::try_from(i).unwrap_or(u32::MAX),
            };
            self.tx_index.insert(tx_hash(tx), loc);
        }
        self.records.push(record);
    }
}

/// The SHA-256 hash of a transaction (its id in `tx` and `broadcast_tx_*`).
pub fn tx_hash(tx: &[u8]) -> [u8; 32] {
    Sha256::digest(tx).into()
}

#[derive(Debug, Default)]
struct Mempool {
    queue: VecDeque<([u8; 32], Vec<u8>)>,
    hashes: HashSet<[u8; 32]>,
}

/// Which development key: a real validator's (`lunatic = false`) or one of the made-up set's,
/// by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId {
    /// One of the made-up set a lunatic node signs with.
    pub lunatic: bool,
    /// The key's index in its derivation.
    pub index: u32,
}

#[derive(Debug, Default)]
struct Derived {
    keys: HashMap<KeyId, ValidatorKey>,
    by_address: HashMap<[u8; 20], KeyId>,
    /// Real keys `0..scanned` are all derived.
    scanned: u32,
}

/// Derived validator keys, cached (derivation is deterministic from the seed), and found again
/// by address.
#[derive(Debug)]
pub struct KeyRing {
    seed: String,
    derived: Mutex<Derived>,
}

impl KeyRing {
    /// A key ring for `seed`.
    pub fn new(seed: &str) -> Self {
        Self {
            seed: seed.to_string(),
            derived: Mutex::new(Derived::default()),
        }
    }

    fn derived(&self) -> MutexGuard<'_, Derived> {
        self.derived
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn derive_into(&self, d: &mut Derived, id: KeyId) -> ValidatorKey {
        d.keys
            .entry(id)
            .or_insert_with(|| {
                let role = if id.lunatic {
                    KeyRole::LunaticValidator
                } else {
                    KeyRole::Validator
                };
                let key = ValidatorKey::derive(&self.seed, role, id.index);
                d.by_address.insert(key.address, id);
                key
            })
            .clone()
    }

    /// Key `index` of the real validators (`lunatic = false`) or of the made-up set.
    pub fn key(&self, lunatic: bool, index: u32) -> ValidatorKey {
        self.derive_into(&mut self.derived(), KeyId { lunatic, index })
    }

    /// The validator of key `id` with `power`.
    pub fn validator(&self, id: KeyId, power: u64) -> Validator {
        let key = self.key(id.lunatic, id.index);
        Validator::new(PublicKey::from_bytes(key.pub_key), power)
    }

    /// Which development key has `address`: one derived already, or the first real key up to
    /// [`MAX_KEY_INDEX`] that has it (each searched once).
    pub fn find(&self, address: &Address) -> Option<KeyId> {
        let mut d = self.derived();
        if let Some(id) = d.by_address.get(address.as_bytes()) {
            return Some(*id);
        }
        while d.scanned < MAX_KEY_INDEX {
            let id = KeyId {
                lunatic: false,
                index: d.scanned,
            };
            d.scanned += 1;
            if self.derive_into(&mut d, id).address == *address.as_bytes() {
                return Some(id);
            }
        }
        None
    }

    /// The signing key of `validator` (`None`: not a development key).
    pub fn key_for(&self, validator: &Validator) -> Option<ValidatorKey> {
        let id = self.find(&validator.address)?;
        Some(self.key(id.lunatic, id.index))
    }
}

/// A validator-set change waiting for the next block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpdate {
    /// The validator's key.
    pub pub_key: PublicKey,
    /// Its development key, if it is one.
    pub key: Option<KeyId>,
    /// The new power; 0 removes it.
    pub power: u64,
}

/// The canonical chain, shared by the block producer and every full node.
pub struct Chain {
    params: ChainParams,
    keys: KeyRing,
    blocks: RwLock<Blocks>,
    app: Mutex<Box<dyn Application>>,
    mempool: Mutex<Mempool>,
    /// Changes for the next block's `next_validators`, by address.
    pending_updates: Mutex<BTreeMap<[u8; 20], PendingUpdate>>,
    genesis_validators: Arc<ValidatorSet>,
    genesis: AppGenesis,
    genesis_app_hash: Vec<u8>,
    app_version: u64,
    store: Mutex<Option<Store>>,
    /// The latest height, for those waiting for new blocks (websocket subscriptions).
    heights: tokio::sync::watch::Sender<u64>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("chain_id", &self.params.chain_id)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>, ChainError> {
    m.lock().map_err(|_| ChainError::Poisoned)
}

fn invalid_update(e: impl std::fmt::Display) -> ChainError {
    ChainError::InvalidValidatorUpdate(e.to_string())
}

/// The set `current` with `updates` applied.
fn apply_updates(
    current: &ValidatorSet,
    updates: &BTreeMap<[u8; 20], PendingUpdate>,
) -> Result<ValidatorSet, ChainError> {
    let mut by_address: BTreeMap<[u8; 20], Validator> = current
        .validators()
        .iter()
        .map(|v| (*v.address.as_bytes(), v.clone()))
        .collect();
    for (address, u) in updates {
        if u.power == 0 {
            by_address.remove(address);
        } else {
            by_address.insert(*address, Validator::new(u.pub_key, u.power));
        }
    }
    let set =
        ValidatorSet::new(by_address.into_values().collect(), None).map_err(invalid_update)?;
    if set.is_empty() {
        return Err(invalid_update("the set would be empty"));
    }
    if set.len() > MAX_VALIDATORS {
        return Err(invalid_update(format!(
            "the set would have more than {MAX_VALIDATORS} validators"
        )));
    }
    Ok(set)
}

impl Chain {
    /// Opens the chain as CometBFT starts a node: `Info`; `InitChain` when the application
    /// is at height 0 (with the genesis validators and `app_state`); then the blocks in
    /// `store` the application lacks, replayed through `FinalizeBlock` and `Commit` and
    /// checked against their stored app hashes.
    pub fn open(
        params: ChainParams,
        mut app: Box<dyn Application>,
        store: Option<Store>,
    ) -> Result<Self, ChainError> {
        let keys = KeyRing::new(&params.seed);
        if params.genesis_powers.is_empty() || params.genesis_powers.len() > MAX_VALIDATORS {
            return Err(invalid_update(format!(
                "the genesis needs 1 to {MAX_VALIDATORS} validators, got {}",
                params.genesis_powers.len()
            )));
        }
        let genesis = params
            .genesis_powers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let power = u64::try_from(*p)
                    .ok()
                    .filter(|p| (1..=MAX_POWER as u64).contains(p))
                    .ok_or_else(|| {
                        invalid_update(format!(
                            "genesis validator {i}: power must be 1 to {MAX_POWER}, got {p}"
                        ))
                    })?;
                let index = u32::try_from(i).map_err(invalid_update)?;
                Ok(keys.validator(
                    KeyId {
                        lunatic: false,
                        index,
                    },
                    power,
                ))
            })
            .collect::<Result<Vec<Validator>, ChainError>>()?;
        let genesis_validators =
            Arc::new(ValidatorSet::new(genesis, None).map_err(invalid_update)?);
        let app_genesis = app.genesis();
        let info = app.info(&abci::info());
        let app_version = info.app_version;
        if info.last_block_height.value() != 0 {
            return Err(ChainError::App(crate::app::AppError {
                height: info.last_block_height.value(),
                reason: "the application must start from its genesis: the network keeps the blocks"
                    .into(),
            }));
        }
        let init = app.init_chain(abci::init_chain(
            &params.chain_id,
            &app_genesis,
            &genesis_validators,
        )?)?;
        let chain = Self {
            keys,
            blocks: RwLock::new(Blocks::default()),
            app: Mutex::new(app),
            mempool: Mutex::new(Mempool::default()),
            pending_updates: Mutex::new(BTreeMap::new()),
            genesis_validators,
            genesis: app_genesis,
            genesis_app_hash: init.app_hash.as_bytes().to_vec(),
            app_version,
            store: Mutex::new(None),
            heights: tokio::sync::watch::Sender::new(0),
            params,
        };
        if let Some(store) = store {
            let fingerprint = chain.fingerprint();
            match store.meta("chain")? {
                Some(stored) if stored != fingerprint => {
                    return Err(ChainError::OtherChain {
                        stored,
                        configured: fingerprint,
                    })
                }
                Some(_) => chain.replay(&store)?,
                None => store.set_meta("chain", &fingerprint)?,
            }
            *lock(&chain.store)? = Some(store);
        }
        Ok(chain)
    }

    /// The chain id, the seed's fingerprint and the block format (`blocks:2`: headers and
    /// commits as `light_client` types, results as ABCI's `ExecTxResult`).
    fn fingerprint(&self) -> String {
        let seed = hex::encode(&Sha256::digest(self.params.seed.as_bytes())[..8]);
        format!("{} seed:{seed} blocks:2", self.params.chain_id)
    }

    fn replay(&self, store: &Store) -> Result<(), ChainError> {
        let started = std::time::Instant::now();
        let records = store.load_blocks()?;
        let loaded = started.elapsed();
        let mut app = lock(&self.app)?;
        let mut blocks = self.blocks.write().map_err(|_| ChainError::Poisoned)?;
        for record in records {
            let finalized =
                app.finalize_block(abci::finalize(&record, blocks.latest().map(AsRef::as_ref))?)?;
            if finalized.app_hash.as_bytes() != record.app_hash_after.as_slice() {
                return Err(ChainError::ReplayMismatch {
                    height: record.height(),
                    got: hex::encode_upper(finalized.app_hash.as_bytes()),
                    stored: hex::encode_upper(&record.app_hash_after),
                });
            }
            app.commit(record.height())?;
            blocks.push(Arc::new(record));
        }
        self.heights.send_replace(blocks.latest_height());
        tracing::info!(
            blocks = blocks.latest_height(),
            load_seconds = loaded.as_secs_f64(),
            seconds = started.elapsed().as_secs_f64(),
            "stored chain replayed"
        );
        Ok(())
    }

    /// The chain parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// The chain id.
    pub fn chain_id(&self) -> &str {
        &self.params.chain_id
    }

    /// The validator keys.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Read access to the committed blocks.
    pub fn blocks(&self) -> RwLockReadGuard<'_, Blocks> {
        self.blocks
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A receiver of the latest height, changed by every new block.
    pub fn subscribe_heights(&self) -> tokio::sync::watch::Receiver<u64> {
        self.heights.subscribe()
    }

    /// The latest height.
    pub fn latest_height(&self) -> u64 {
        self.blocks().latest_height()
    }

    /// The validator set of `height` (committed heights, and latest + 1).
    pub fn validators_at(&self, height: u64) -> Option<Arc<ValidatorSet>> {
        let blocks = self.blocks();
        if let Some(b) = blocks.get(height) {
            return Some(b.validators.clone());
        }
        if height == blocks.latest_height() + 1 {
            return Some(match blocks.latest() {
                Some(b) => b.next_validators.clone(),
                None => self.genesis_validators.clone(),
            });
        }
        None
    }

    /// Answers a query from the application (ABCI `Query`).
    pub fn query(&self, query: &request::Query) -> Result<response::Query, ChainError> {
        Ok(lock(&self.app)?.query(query))
    }

    /// The application's value at `key` in the latest state (the `/key` query, without a
    /// proof; empty when absent): what tests and benchmarks read to set up their checks.
    pub fn value(&self, key: &[u8]) -> Result<Vec<u8>, ChainError> {
        let answer = self.query(&abci::query("/key", key, 0, false))?;
        Ok(answer.value.to_vec())
    }

    /// Checks a transaction (ABCI `CheckTx`) and queues it. `Ok` carries the answer (queued
    /// only when its code is 0).
    pub fn submit_tx(&self, tx: Vec<u8>) -> Result<response::CheckTx, MempoolError> {
        if tx.len() > self.params.max_tx_bytes {
            return Err(MempoolError::TooLarge {
                size: tx.len(),
                max: self.params.max_tx_bytes,
            });
        }
        let hash = tx_hash(&tx);
        if self.blocks().find_tx(&hash).is_some() {
            return Err(MempoolError::Duplicate);
        }
        // Lock order everywhere: app, then mempool.
        let mut app = self
            .app
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut pool = self
            .mempool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.hashes.contains(&hash) {
            return Err(MempoolError::Duplicate);
        }
        if pool.queue.len() >= self.params.mempool_limit {
            return Err(MempoolError::Full(pool.queue.len()));
        }
        let result = app.check_tx(abci::check(&tx, false));
        if result.code.is_ok() {
            pool.hashes.insert(hash);
            pool.queue.push_back((hash, tx));
        }
        Ok(result)
    }

    /// Number of transactions waiting.
    pub fn mempool_size(&self) -> usize {
        self.mempool.lock().map(|p| p.queue.len()).unwrap_or(0)
    }

    /// Number of transactions waiting and their total size in bytes.
    pub fn mempool_totals(&self) -> (usize, usize) {
        self.mempool
            .lock()
            .map(|p| (p.queue.len(), p.queue.iter().map(|(_, tx)| tx.len()).sum()))
            .unwrap_or((0, 0))
    }

    /// The genesis validator set (that of height 1).
    pub fn genesis_validators(&self) -> Arc<ValidatorSet> {
        self.genesis_validators.clone()
    }

    /// The genesis the application was started from (`InitChain`'s time and `app_state`).
    pub fn genesis(&self) -> &AppGenesis {
        &self.genesis
    }

    fn queue_updates(
        &self,
        updates: impl IntoIterator<Item = PendingUpdate>,
    ) -> Result<(), ChainError> {
        let current = self
            .validators_at(self.latest_height() + 1)
            .unwrap_or_else(|| self.genesis_validators.clone());
        let mut pending = lock(&self.pending_updates)?;
        let mut next = pending.clone();
        for u in updates {
            next.insert(*u.pub_key.address().as_bytes(), u);
        }
        apply_updates(&current, &next)?;
        *pending = next;
        Ok(())
    }

    /// Queues a validator-set change: `power` 0 removes validator key `key_index`, otherwise it
    /// is added or its power set. Changes queued before block H is made are in H's
    /// `next_validators_hash` and take effect at H + 1.
    pub fn update_validator(&self, key_index: u32, power: i64) -> Result<(), ChainError> {
        if !(0..=MAX_POWER).contains(&power) {
            return Err(invalid_update(format!(
                "power must be between 0 and {MAX_POWER}, got {power}"
            )));
        }
        let id = KeyId {
            lunatic: false,
            index: key_index,
        };
        let v = self.keys.validator(id, u64::try_from(power).unwrap_or(0));
        self.queue_updates([PendingUpdate {
            pub_key: v.pub_key,
            key: Some(id),
            power: v.voting_power,
        }])?;
        tracing::info!(
            key_index,
            power,
            next_block = self.latest_height() + 1,
            "validator update queued (power 0 removes)"
        );
        Ok(())
    }

    /// Validator changes queued for the next block.
    pub fn pending_updates(&self) -> Vec<PendingUpdate> {
        self.pending_updates
            .lock()
            .map(|p| p.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Makes the next block at wall-clock time `now`: executes the queued transactions, seals the
    /// header, has the validators sign it, stores it. With `rotate_every` K, a block whose
    /// height is a multiple of K announces a rotation (see [`Chain::queue_rotation`]).
    pub fn produce_block(&self, now: Time) -> Result<Arc<BlockRecord>, ChainError> {
        self.make_block(now, true)
    }

    /// Makes `plan`'s blocks that are not made yet, with their past times, and stores them in
    /// batches (each batch one transaction, written while the next is being made). For a new
    /// chain only: the servers are not running yet, nothing is served before it returns.
    pub fn generate_history(&self, plan: &HistoryPlan) -> Result<(), ChainError> {
        const BATCH: usize = 2_000;
        let started = std::time::Instant::now();
        let first = self.latest_height() + 1;
        let mut batch = Vec::with_capacity(BATCH);
        let mut pending: Option<crate::store::PendingWrite> = None;
        let mut waited = std::time::Duration::ZERO;
        for height in first..=plan.blocks {
            batch.push(self.make_block(plan.time_of(height), false)?);
            if batch.len() == BATCH || height == plan.blocks {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                if let Some(write) = pending.take() {
                    let t = std::time::Instant::now();
                    write.wait()?;
                    waited += t.elapsed();
                }
                if let Some(store) = lock(&self.store)?.as_ref() {
                    pending = Some(store.save_blocks_async(full, Vec::new()));
                }
            }
        }
        if let Some(write) = pending {
            write.wait()?;
        }
        tracing::info!(
            blocks = plan.blocks.saturating_sub(first - 1),
            seconds = started.elapsed().as_secs_f64(),
            waiting_for_store = waited.as_secs_f64(),
            "history generated"
        );
        Ok(())
    }

    /// A metadata value of the store (`None` without a store).
    pub fn meta(&self, key: &str) -> Result<Option<String>, ChainError> {
        match lock(&self.store)?.as_ref() {
            Some(store) => Ok(store.meta(key)?),
            None => Ok(None),
        }
    }

    /// Sets a metadata value of the store (nothing without a store).
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), ChainError> {
        if let Some(store) = lock(&self.store)?.as_ref() {
            store.set_meta(key, value)?;
        }
        Ok(())
    }

    /// Queues the replacement of a third of the next validator set (rounded, at least one):
    /// the validators with the lowest key indices (the longest in the set) leave, as many
    /// development keys above the highest index in the set join with the leavers' powers. The
    /// choice depends on the set alone, so a restarted chain rotates the same way. Validators
    /// whose keys are not development keys stay.
    pub fn queue_rotation(&self) -> Result<(), ChainError> {
        let current = self
            .validators_at(self.latest_height() + 1)
            .unwrap_or_else(|| self.genesis_validators.clone());
        let next = {
            let pending = lock(&self.pending_updates)?;
            apply_updates(&current, &pending)?
        };
        let mut members: Vec<(u32, u64)> = next
            .validators()
            .iter()
            .filter_map(|v| {
                let id = self.keys.find(&v.address)?;
                (!id.lunatic).then_some((id.index, v.voting_power))
            })
            .collect();
        members.sort_unstable();
        // A third, rounded to the nearest: 4 → 1, 5 → 2, 150 → 50; at least one.
        let replace = ((members.len() + 1) / 3).max(1);
        let first_new = members.last().map_or(0, |(i, _)| i + 1);
        let mut updates = Vec::new();
        for (new_index, (old_index, power)) in (first_new..).zip(members.iter().take(replace)) {
            for (index, power) in [(*old_index, 0), (new_index, *power)] {
                let id = KeyId {
                    lunatic: false,
                    index,
                };
                updates.push(PendingUpdate {
                    pub_key: self.keys.validator(id, 1).pub_key,
                    key: Some(id),
                    power,
                });
            }
        }
        self.queue_updates(updates)
    }

    fn make_block(&self, now: Time, persist: bool) -> Result<Arc<BlockRecord>, ChainError> {
        let height = self.latest_height() + 1;
        if self.params.rotate_every > 0 && height.is_multiple_of(self.params.rotate_every) {
            self.queue_rotation()?;
        }
        let mut app = lock(&self.app)?;
        let latest = self.blocks().latest().cloned();
        let last = latest.as_deref();
        let reaped: Vec<Vec<u8>> = {
            let pool = lock(&self.mempool)?;
            pool.queue
                .iter()
                .take(self.params.max_block_txs)
                .map(|(_, tx)| tx.clone())
                .collect()
        };
        let time = match last {
            Some(b) if now <= b.header.time => after_millis(b.header.time, 1),
            _ => now,
        };
        let validators = last.map_or_else(
            || self.genesis_validators.clone(),
            |b| b.next_validators.clone(),
        );
        let next_validators = {
            let mut pending = lock(&self.pending_updates)?;
            if pending.is_empty() {
                validators.clone()
            } else {
                let set = Arc::new(apply_updates(&validators, &pending)?);
                tracing::info!(
                    height,
                    updates = pending.len(),
                    validators = set.len(),
                    total_power = set.total_voting_power(),
                    "validator set changed: in this block's next_validators_hash, signs from the next block"
                );
                pending.clear();
                set
            }
        };
        let proposer =
            seal::proposer(&validators, height).map_or(Address::new([0; 20]), |v| v.address);
        // The proposer's application chooses the block's transactions.
        let prepared = app.prepare_proposal(abci::prepare(
            &abci::Proposal {
                height,
                time,
                next_validators_hash: next_validators.hash(),
                proposer,
                last,
            },
            &reaped,
            seal::BLOCK_MAX_BYTES,
        )?)?;
        let txs: Vec<Vec<u8>> = prepared.txs.iter().map(|t| t.to_vec()).collect();
        let draft = Draft {
            chain_id: ChainId::new(self.params.chain_id.clone()),
            app_version: self.app_version,
            height,
            time,
            last: last.map(|b| (b.block_id, b.commit.clone())),
            txs,
            validators,
            next_validators,
            app_hash: last.map_or_else(
                || self.genesis_app_hash.clone(),
                |b| b.app_hash_after.clone(),
            ),
            last_results: last.map(|b| b.tx_results.clone()).unwrap_or_default(),
        };
        let (header, block_id, commit) = seal(&draft, &|v| self.keys.key_for(v));
        let mut record = BlockRecord {
            header,
            block_id,
            commit,
            validators: draft.validators,
            next_validators: draft.next_validators,
            txs: draft.txs,
            tx_results: Vec::new(),
            validator_updates: Vec::new(),
            app_hash_after: Vec::new(),
        };
        // Every validator's application checks the proposal before voting for it.
        if app.process_proposal(abci::process(&record, last)?) != response::ProcessProposal::Accept
        {
            return Err(ChainError::ProposalRejected(height));
        }
        let finalized = app.finalize_block(abci::finalize(&record, last)?)?;
        record.tx_results = finalized.tx_results;
        record.validator_updates = finalized.validator_updates;
        record.app_hash_after = finalized.app_hash.as_bytes().to_vec();
        let record = Arc::new(record);
        if persist {
            if let Some(store) = lock(&self.store)?.as_ref() {
                store.save_block(&record)?;
            }
        }
        app.commit(height)?;
        self.blocks
            .write()
            .map_err(|_| ChainError::Poisoned)?
            .push(record.clone());
        self.take_app_updates(height, &record.validator_updates);
        self.heights.send_replace(height);
        // What was reaped into the block leaves the mempool; the rest is checked again against
        // the new state (CometBFT's recheck).
        let mut pool = lock(&self.mempool)?;
        let queued: Vec<_> = pool.queue.drain(..).collect();
        pool.hashes.clear();
        let included: HashSet<[u8; 32]> = record.txs.iter().map(|t| tx_hash(t)).collect();
        for (hash, tx) in queued {
            if included.contains(&hash) {
                continue;
            }
            if app.check_tx(abci::check(&tx, true)).code.is_ok() {
                pool.hashes.insert(hash);
                pool.queue.push_back((hash, tx));
            }
        }
        Ok(record)
    }

    /// The application's validator updates of block `height` (`FinalizeBlock`'s answer): in
    /// the next block's `next_validators_hash`, signing from `height + 2`, as in CometBFT. An
    /// update the set cannot take (a removal that would empty it, a key that is not ed25519)
    /// is logged and dropped; CometBFT would halt.
    fn take_app_updates(&self, height: u64, updates: &[crate::app::ValidatorUpdate]) {
        if updates.is_empty() {
            return;
        }
        let parsed: Result<Vec<PendingUpdate>, String> = updates
            .iter()
            .map(|u| {
                let bytes: [u8; 32] = u
                    .pub_key
                    .ed25519()
                    .and_then(|k| <[u8; 32]>::try_from(k.as_bytes()).ok())
                    .ok_or_else(|| "not an ed25519 key".to_owned())?;
                let pub_key = PublicKey::from_bytes(bytes);
                Ok(PendingUpdate {
                    key: self.keys.find(&pub_key.address()),
                    pub_key,
                    power: u.power.value(),
                })
            })
            .collect();
        let queued = parsed
            .map_err(invalid_update)
            .and_then(|u| self.queue_updates(u));
        match queued {
            Ok(()) => tracing::info!(
                height,
                updates = updates.len(),
                effective_height = height + 2,
                "the application changed the validator set"
            ),
            Err(e) => {
                tracing::error!(height, error = %e, "the application's validator updates are dropped")
            }
        }
    }

    /// The id and commit of the block at `height`.
    pub fn commit_at(&self, height: u64) -> Option<(BlockId, Commit)> {
        self.blocks()
            .get(height)
            .map(|b| (b.block_id, b.commit.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::KvApp;
    use crate::seal::now;

    fn params() -> ChainParams {
        ChainParams {
            chain_id: "test-chain".into(),
            seed: "seed".into(),
            genesis_powers: vec![10; 4],
            max_block_txs: 2,
            mempool_limit: 3,
            max_tx_bytes: 16,
            rotate_every: 0,
        }
    }

    #[test]
    fn produces_chained_blocks_and_limits_the_mempool() {
        let chain = Chain::open(params(), Box::new(KvApp::default()), None).unwrap();
        assert_eq!(chain.submit_tx(b"a=1".to_vec()).unwrap().code.value(), 0);
        assert_eq!(
            chain.submit_tx(b"a=1".to_vec()),
            Err(MempoolError::Duplicate)
        );
        assert_eq!(chain.submit_tx(b"bad".to_vec()).unwrap().code.value(), 1);
        assert!(matches!(
            chain.submit_tx(vec![b'x'; 17]),
            Err(MempoolError::TooLarge { .. })
        ));
        chain.submit_tx(b"b=2".to_vec()).unwrap();
        chain.submit_tx(b"c=3".to_vec()).unwrap();
        assert_eq!(chain.submit_tx(b"d=4".to_vec()), Err(MempoolError::Full(3)));
        let t = Time::from_unix(1_800_000_000, 0).unwrap();
        let b1 = chain.produce_block(t).unwrap();
        assert_eq!(b1.txs.len(), 2, "at most max_block_txs per block");
        // A clock that goes backwards still gives increasing block times.
        let b2 = chain.produce_block(Time::from_unix(1, 0).unwrap()).unwrap();
        assert!(b2.header.time > b1.header.time);
        assert_eq!(b2.header.last_block_id, Some(b1.block_id));
        assert_eq!(b2.header.app_hash.0, b1.app_hash_after);
        assert_eq!(
            chain.submit_tx(b"a=1".to_vec()),
            Err(MempoolError::Duplicate),
            "committed txs stay known"
        );
        assert!(chain.blocks().find_tx(&tx_hash(b"c=3")).is_some());
    }

    #[test]
    fn replay_detects_a_tampered_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.sqlite");
        {
            let chain = Chain::open(
                params(),
                Box::new(KvApp::default()),
                Some(Store::open(&path).unwrap()),
            )
            .unwrap();
            chain.submit_tx(b"k=v".to_vec()).unwrap();
            chain.produce_block(now()).unwrap();
            chain.produce_block(now()).unwrap();
        }
        let reopened = Chain::open(
            params(),
            Box::new(KvApp::default()),
            Some(Store::open(&path).unwrap()),
        )
        .unwrap();
        assert_eq!(reopened.latest_height(), 2);
        drop(reopened);

        let store = Store::open(&path).unwrap();
        let mut blocks = store.load_blocks().unwrap();
        blocks[0].app_hash_after = vec![0; 32];
        store.save_block(&Arc::new(blocks[0].clone())).unwrap();
        match Chain::open(params(), Box::new(KvApp::default()), Some(store)) {
            Err(ChainError::ReplayMismatch { height: 1, .. }) => {}
            other => panic!("expected a replay mismatch, got {other:?}"),
        }
        let mut other = params();
        other.chain_id = "other".into();
        assert!(matches!(
            Chain::open(
                other,
                Box::new(KvApp::default()),
                Some(Store::open(&path).unwrap())
            ),
            Err(ChainError::OtherChain { .. })
        ));
    }

    #[test]
    fn rotation_replaces_a_third_of_the_set_by_key_age() {
        let mut p = params();
        p.rotate_every = 3;
        let chain = Chain::open(p, Box::new(KvApp::default()), None).unwrap();
        let keys_of = |b: &BlockRecord| {
            let mut k: Vec<u32> = b
                .validators
                .validators()
                .iter()
                .map(|v| chain.keys().find(&v.address).unwrap().index)
                .collect();
            k.sort_unstable();
            k
        };
        let t = now();
        let blocks: Vec<_> = (0..10u64)
            .map(|i| chain.produce_block(after_millis(t, i)).unwrap())
            .collect();
        // Block 3 announces the first rotation, block 4 is signed by the new set.
        assert_eq!(keys_of(&blocks[2]), vec![0, 1, 2, 3]);
        assert_ne!(
            blocks[2].header.validators_hash,
            blocks[2].header.next_validators_hash
        );
        assert_eq!(keys_of(&blocks[3]), vec![1, 2, 3, 4]);
        assert_eq!(keys_of(&blocks[6]), vec![2, 3, 4, 5]);
        assert_eq!(keys_of(&blocks[9]), vec![3, 4, 5, 6]);
        assert_eq!(
            blocks[9].validators.total_voting_power(),
            40,
            "powers carried over"
        );
        for b in &blocks {
            let rotates = b.height() % 3 == 0;
            assert_eq!(
                b.header.validators_hash != b.header.next_validators_hash,
                rotates,
                "height {}",
                b.height()
            );
        }

        // A third, rounded: 150 → 50, 5 → 2, 1 → 1.
        for (n, replaced) in [(150usize, 50usize), (5, 2), (1, 1)] {
            let mut p = params();
            p.genesis_powers = vec![10; n];
            p.rotate_every = 1;
            let chain = Chain::open(p, Box::new(KvApp::default()), None).unwrap();
            let b1 = chain.produce_block(t).unwrap();
            let b2 = chain.produce_block(after_millis(t, 1)).unwrap();
            let gone = b1
                .validators
                .validators()
                .iter()
                .filter(|v| b2.validators.find(&v.address).is_none())
                .count();
            assert_eq!(
                (b2.validators.validators().len(), gone),
                (n, replaced),
                "{n}"
            );
        }
    }

    #[test]
    fn history_plan_times_are_spaced_and_end_before_now() {
        let now = Time::from_unix(1_800_000_000, 0).unwrap();
        let plan = HistoryPlan::ending_at(now, 1000, std::time::Duration::from_millis(250));
        assert_eq!(
            plan.time_of(1).unix_nanos(),
            now.unix_nanos() - 250_000_000_000
        );
        assert_eq!(
            plan.time_of(1000).unix_nanos(),
            now.unix_nanos() - 250_000_000
        );
        assert_eq!(
            plan.time_of(2).unix_nanos() - plan.time_of(1).unix_nanos(),
            250_000_000
        );
        let text = serde_json::to_string(&plan).unwrap();
        assert_eq!(serde_json::from_str::<HistoryPlan>(&text).unwrap(), plan);

        let chain = Chain::open(params(), Box::new(KvApp::default()), None).unwrap();
        let small = HistoryPlan::ending_at(now, 5, std::time::Duration::from_secs(1));
        chain.generate_history(&small).unwrap();
        assert_eq!(chain.latest_height(), 5);
        assert_eq!(chain.blocks().get(5).unwrap().header.time, small.time_of(5));
        // A finished plan makes nothing more.
        chain.generate_history(&small).unwrap();
        assert_eq!(chain.latest_height(), 5);
    }

    #[test]
    fn a_genesis_without_validators_or_with_bad_powers_is_refused() {
        for powers in [vec![], vec![10, 0], vec![-1], vec![MAX_POWER + 1]] {
            let mut p = params();
            p.genesis_powers = powers.clone();
            assert!(
                matches!(
                    Chain::open(p, Box::new(KvApp::default()), None),
                    Err(ChainError::InvalidValidatorUpdate(_))
                ),
                "{powers:?}"
            );
        }
    }

    #[test]
    fn validator_updates_are_checked() {
        let chain = Chain::open(params(), Box::new(KvApp::default()), None).unwrap();
        assert!(chain.update_validator(1, MAX_POWER + 1).is_err());
        for i in 0..3 {
            chain.update_validator(i, 0).unwrap();
        }
        assert!(
            chain.update_validator(3, 0).is_err(),
            "the set may not become empty"
        );
        for i in 10..(10 + MAX_VALIDATORS as u32 - 1) {
            chain.update_validator(i, 1).unwrap();
        }
        assert!(
            chain.update_validator(500, 1).is_err(),
            "at most 150 validators"
        );
        let b = chain.produce_block(now()).unwrap();
        assert_eq!(b.validators.validators().len(), 4);
        assert_eq!(b.next_validators.validators().len(), MAX_VALIDATORS);
    }
}
