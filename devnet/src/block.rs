//! The network's own block records (headers, commits, validator sets, transactions and their
//! results) and how a block is sealed: hashed and signed by validator keys. Hashes, sign-bytes
//! and JSON shapes come from the `light-client` crate (see [`crate::consensus`]).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::app::TxResult;
use crate::consensus;
use crate::keys::ValidatorKey;
use crate::timestamp::Timestamp;

/// CometBFT's block protocol version (`version.block`) for v0.34-v1.x.
pub const BLOCK_PROTOCOL: u64 = 11;

/// `block_id_flag` of a commit signature that voted for the block.
pub const FLAG_COMMIT: u8 = 2;
/// `block_id_flag` of an absent validator.
pub const FLAG_ABSENT: u8 = 1;

/// Go's zero time (0001-01-01T00:00:00Z), which CometBFT writes for absent votes.
pub const ZERO_TIME_SECS: i64 = -62_135_596_800;

/// A block id: the header hash and the part-set header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockId {
    /// Header hash.
    #[serde(with = "crate::hexser")]
    pub hash: Vec<u8>,
    /// Number of block parts.
    pub parts_total: u32,
    /// Merkle root of the block parts.
    #[serde(with = "crate::hexser")]
    pub parts_hash: Vec<u8>,
}

/// A block header (CometBFT `Header`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// `version.block`.
    pub version_block: u64,
    /// `version.app`.
    pub version_app: u64,
    /// Chain id.
    pub chain_id: String,
    /// Height (>= 1).
    pub height: u64,
    /// Block time.
    pub time_secs: i64,
    /// Block time, nanoseconds.
    pub time_nanos: u32,
    /// Previous block id (none at height 1).
    pub last_block_id: Option<BlockId>,
    /// Merkle root of the previous commit's signatures.
    #[serde(with = "crate::hexser")]
    pub last_commit_hash: Vec<u8>,
    /// Merkle root of the transactions' hashes.
    #[serde(with = "crate::hexser")]
    pub data_hash: Vec<u8>,
    /// Hash of the validator set of this height.
    #[serde(with = "crate::hexser")]
    pub validators_hash: Vec<u8>,
    /// Hash of the validator set of the next height.
    #[serde(with = "crate::hexser")]
    pub next_validators_hash: Vec<u8>,
    /// Hash of the consensus parameters.
    #[serde(with = "crate::hexser")]
    pub consensus_hash: Vec<u8>,
    /// App hash after executing the previous block (state version height - 1).
    #[serde(with = "crate::hexser")]
    pub app_hash: Vec<u8>,
    /// Merkle root of the previous block's transaction results.
    #[serde(with = "crate::hexser")]
    pub last_results_hash: Vec<u8>,
    /// Merkle root of the evidence.
    #[serde(with = "crate::hexser")]
    pub evidence_hash: Vec<u8>,
    /// Address of the proposer.
    #[serde(with = "crate::hexser")]
    pub proposer_address: Vec<u8>,
}

impl Header {
    /// The block time.
    pub fn time(&self) -> Timestamp {
        Timestamp {
            secs: self.time_secs,
            nanos: self.time_nanos,
        }
    }
}

/// One validator's entry in a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSig {
    /// [`FLAG_COMMIT`] or [`FLAG_ABSENT`].
    pub flag: u8,
    /// Validator address (empty when absent).
    #[serde(with = "crate::hexser")]
    pub address: Vec<u8>,
    /// Vote time, seconds.
    pub time_secs: i64,
    /// Vote time, nanoseconds.
    pub time_nanos: u32,
    /// Ed25519 signature over the canonical vote sign-bytes (empty when absent).
    #[serde(with = "crate::hexser")]
    pub signature: Vec<u8>,
}

impl CommitSig {
    /// The vote time.
    pub fn time(&self) -> Timestamp {
        Timestamp {
            secs: self.time_secs,
            nanos: self.time_nanos,
        }
    }
}

/// Precommit signatures for a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// Height.
    pub height: u64,
    /// Round.
    pub round: u32,
    /// The block voted for.
    pub block_id: BlockId,
    /// One entry per validator of the height, in validator-set order.
    pub signatures: Vec<CommitSig>,
}

/// A validator: key and voting power.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// Index of the dev key this validator signs with.
    pub key_index: u32,
    /// Whether the key is one of the made-up set of a lunatic node.
    #[serde(default)]
    pub lunatic: bool,
    /// Ed25519 public key.
    #[serde(with = "crate::hexser")]
    pub pub_key: Vec<u8>,
    /// Address (SHA-256 of the public key, 20 bytes).
    #[serde(with = "crate::hexser")]
    pub address: Vec<u8>,
    /// Voting power (> 0).
    pub power: i64,
}

impl Validator {
    /// The validator entry for a key with `power`.
    pub fn from_key(key: &ValidatorKey, power: i64, lunatic: bool) -> Self {
        Self {
            key_index: key.index,
            lunatic,
            pub_key: key.pub_key.to_vec(),
            address: key.address.to_vec(),
            power,
        }
    }
}

/// A validator set in CometBFT order (voting power descending, then address ascending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    #[serde(with = "crate::hexser")]
    hash: Vec<u8>,
}

impl ValidatorSet {
    /// Sorts `validators` into CometBFT order and hashes the set.
    pub fn new(mut validators: Vec<Validator>) -> Self {
        validators.sort_by(|a, b| {
            b.power
                .cmp(&a.power)
                .then_with(|| a.address.cmp(&b.address))
        });
        let hash = consensus::validator_set_hash(&validators);
        Self { validators, hash }
    }

    /// The validators in order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// The set's hash (what headers commit to).
    pub fn hash(&self) -> &[u8] {
        &self.hash
    }

    /// Total voting power.
    pub fn total_power(&self) -> i64 {
        self.validators.iter().map(|v| v.power).sum()
    }

    /// The proposer of `height`: a simple round-robin over the set (the proposer is not part of
    /// anything a light client verifies).
    pub fn proposer(&self, height: u64) -> Option<&Validator> {
        let n = u64::try_from(self.validators.len())
            .ok()
            .filter(|n| *n > 0)?;
        let i = usize::try_from((height.saturating_sub(1)) % n).ok()?;
        self.validators.get(i)
    }
}

/// Everything the network keeps about one height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRecord {
    /// The header.
    pub header: Header,
    /// The header's block id (hash + parts).
    pub block_id: BlockId,
    /// The commit for this header (signed when the block was made).
    pub commit: Commit,
    /// The validator set of this height.
    pub validators: Arc<ValidatorSet>,
    /// The validator set of the next height.
    pub next_validators: Arc<ValidatorSet>,
    /// The transactions.
    pub txs: Vec<Vec<u8>>,
    /// Their execution results.
    pub tx_results: Vec<TxResult>,
    /// The app hash after executing this block (goes into the next header).
    pub app_hash_after: Vec<u8>,
}

impl BlockRecord {
    /// The height.
    pub fn height(&self) -> u64 {
        self.header.height
    }
}

/// The inputs of a header, before it is hashed and signed.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Chain id.
    pub chain_id: String,
    /// `version.app`.
    pub app_version: u64,
    /// Height.
    pub height: u64,
    /// Block time.
    pub time: Timestamp,
    /// The previous block's id and commit (none at height 1).
    pub last: Option<(BlockId, Commit)>,
    /// The transactions.
    pub txs: Vec<Vec<u8>>,
    /// The validator set of this height.
    pub validators: Arc<ValidatorSet>,
    /// The validator set of the next height.
    pub next_validators: Arc<ValidatorSet>,
    /// App hash of state version height - 1.
    pub app_hash: Vec<u8>,
    /// Results of the previous block's transactions.
    pub last_results: Vec<TxResult>,
}

/// Builds the header of `draft`, hashes it and has every validator of the height sign the
/// precommit. `key_for` returns the signing key of a validator (or `None`: then it is absent).
pub fn seal(draft: &Draft, key_for: &KeyFor<'_>) -> (Header, BlockId, Commit) {
    let proposer = draft
        .validators
        .proposer(draft.height)
        .map(|v| v.address.clone())
        .unwrap_or_default();
    let header = Header {
        version_block: BLOCK_PROTOCOL,
        version_app: draft.app_version,
        chain_id: draft.chain_id.clone(),
        height: draft.height,
        time_secs: draft.time.secs,
        time_nanos: draft.time.nanos,
        last_block_id: draft.last.as_ref().map(|(id, _)| id.clone()),
        last_commit_hash: consensus::commit_hash(draft.last.as_ref().map(|(_, c)| c)),
        data_hash: consensus::data_hash(&draft.txs),
        validators_hash: draft.validators.hash().to_vec(),
        next_validators_hash: draft.next_validators.hash().to_vec(),
        consensus_hash: consensus::consensus_params_hash(),
        app_hash: draft.app_hash.clone(),
        last_results_hash: consensus::results_hash(&draft.last_results),
        evidence_hash: consensus::empty_merkle_root(),
        proposer_address: proposer,
    };
    let hash = consensus::header_hash(&header);
    let block_id = BlockId {
        parts_total: 1,
        parts_hash: consensus::part_set_hash(&hash, &draft.txs),
        hash,
    };
    let commit = sign_commit(&header, &block_id, &draft.validators, key_for);
    (header, block_id, commit)
}

/// Returns the signing key of a validator (`None`: it is absent from the commit).
pub type KeyFor<'a> = dyn Fn(&Validator) -> Option<ValidatorKey> + Sync + 'a;

/// Validators per signing thread: below this a thread costs more than it saves (a thread per
/// block of 4 validators made history generation twice as slow on 2 cores).
const VALIDATORS_PER_THREAD: usize = 16;

/// Signing threads of a commit (this one included): the machine's cores, at most 4.
fn signing_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(4)
    })
}

/// Has the validators of `validators` sign a precommit for `block_id` at the header's height,
/// on several threads for large sets when there are cores for it (signing is most of a
/// block's cost).
pub fn sign_commit(
    header: &Header,
    block_id: &BlockId,
    validators: &ValidatorSet,
    key_for: &KeyFor<'_>,
) -> Commit {
    let sign_one = |(i, v): (usize, &Validator)| {
        // Votes arrive a little after the proposal, each at its own time.
        let t = header
            .time()
            .plus_millis(1 + u64::try_from(i).unwrap_or(0) % 50);
        match key_for(v) {
            Some(key) => {
                let msg =
                    consensus::vote_sign_bytes(&header.chain_id, header.height, 0, block_id, t);
                CommitSig {
                    flag: FLAG_COMMIT,
                    address: v.address.clone(),
                    time_secs: t.secs,
                    time_nanos: t.nanos,
                    signature: key.sign(&msg).to_vec(),
                }
            }
            None => CommitSig {
                flag: FLAG_ABSENT,
                address: Vec::new(),
                time_secs: ZERO_TIME_SECS,
                time_nanos: 0,
                signature: Vec::new(),
            },
        }
    };
    let all = validators.validators();
    let threads = signing_threads()
        .min(all.len() / VALIDATORS_PER_THREAD)
        .max(1);
    let signatures: Vec<CommitSig> = if threads == 1 {
        all.iter().enumerate().map(sign_one).collect()
    } else {
        let chunk = all.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let sign_one = &sign_one;
            let helpers: Vec<_> = all
                .chunks(chunk)
                .enumerate()
                .skip(1)
                .map(|(c, part)| {
                    scope.spawn(move || {
                        part.iter()
                            .enumerate()
                            .map(|(i, v)| sign_one((c * chunk + i, v)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            let mut out: Vec<CommitSig> = all[..chunk.min(all.len())]
                .iter()
                .enumerate()
                .map(sign_one)
                .collect();
            for h in helpers {
                // A panic in a helper is a bug; surface it here.
                out.extend(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            out
        })
    };
    Commit {
        height: header.height,
        round: 0,
        block_id: block_id.clone(),
        signatures,
    }
}
