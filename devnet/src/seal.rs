//! Sealing a block: the header built from the block's inputs, hashed and signed by the
//! validators' development keys. Every type, hash and sign-byte is `light_client`'s (the
//! code the wallet verifies with); the network keeps no copy of CometBFT's encodings. Also
//! the record the network keeps of each height, and its clock.

use std::sync::Arc;
use std::time::Duration;

use light_client::types::{
    consensus_params_hash, data_hash, results_hash, Address, BlockId, BlockIdFlag, ChainId, Commit,
    CommitSig, Hash, Header, Height, HexBytes, LightBlock, PartSetHeader, ResultLeaf, Signature,
    SignedHeader, Time, Validator, ValidatorSet, Version, BLOCK_PROTOCOL,
};
use light_client::{merkle, vote};

use crate::app::{ExecTxResult, ValidatorUpdate};
use crate::keys::ValidatorKey;

/// CometBFT's default `block.max_bytes` (hashed into `consensus_hash`).
pub const BLOCK_MAX_BYTES: i64 = 22_020_096;
/// CometBFT's default `block.max_gas` (no limit).
pub const BLOCK_MAX_GAS: i64 = -1;

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
    /// Their execution results (`FinalizeBlock`'s answer).
    pub tx_results: Vec<ExecTxResult>,
    /// The application's validator updates (`FinalizeBlock`'s answer; they sign from
    /// height + 2).
    pub validator_updates: Vec<ValidatorUpdate>,
    /// The app hash after executing this block (goes into the next header).
    pub app_hash_after: Vec<u8>,
}

impl BlockRecord {
    /// The height.
    pub fn height(&self) -> u64 {
        self.header.height.value()
    }

    /// The light block a full node serves for this height (header, commit, both sets).
    pub fn light_block(&self) -> LightBlock {
        LightBlock {
            signed_header: SignedHeader {
                header: self.header.clone(),
                commit: self.commit.clone(),
            },
            validators: (*self.validators).clone(),
            next_validators: Some((*self.next_validators).clone()),
        }
    }
}

/// The wall clock as the light client's time.
pub fn now() -> Time {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Time::from_unix(
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        since.subsec_nanos(),
    )
    .unwrap_or(Time::UNIX_EPOCH)
}

/// `t` plus `millis` milliseconds (`t` itself past year 9999, which no block reaches).
pub fn after_millis(t: Time, millis: u64) -> Time {
    t.checked_add(Duration::from_millis(millis)).unwrap_or(t)
}

/// The inputs of a header, before it is hashed and signed.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Chain id.
    pub chain_id: ChainId,
    /// `version.app`.
    pub app_version: u64,
    /// Height.
    pub height: u64,
    /// Block time.
    pub time: Time,
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
    pub last_results: Vec<ExecTxResult>,
}

/// The proposer of `height` in `set`: a simple round-robin (the proposer is not part of
/// anything a light client verifies).
pub fn proposer(set: &ValidatorSet, height: u64) -> Option<&Validator> {
    let n = u64::try_from(set.len()).ok().filter(|n| *n > 0)?;
    let i = usize::try_from(height.saturating_sub(1) % n).ok()?;
    set.validators().get(i)
}

/// A header's `last_results_hash` over `FinalizeBlock`'s results.
pub fn results_root(results: &[ExecTxResult]) -> Hash {
    let leaves: Vec<ResultLeaf<'_>> = results
        .iter()
        .map(|r| ResultLeaf {
            code: r.code.value(),
            data: &r.data,
            gas_wanted: r.gas_wanted,
            gas_used: r.gas_used,
        })
        .collect();
    results_hash(&leaves)
}

/// The part-set hash of a block id. This network does not gossip blocks: a block is one
/// part, whose bytes are the header hash followed by the transactions' hashes (not CometBFT's
/// protobuf block; no light client reads a part), hashed as a one-leaf Merkle tree.
pub fn part_set_hash(header_hash: &Hash, txs: &[Vec<u8>]) -> Hash {
    let mut part = header_hash.as_bytes().to_vec();
    for t in txs {
        part.extend_from_slice(Hash::sha256(t).as_bytes());
    }
    merkle::hash_from_byte_slices(&[part])
}

/// Builds the header of `draft`, hashes it and has every validator of the height sign the
/// precommit. `key_for` returns the signing key of a validator (or `None`: then it is absent).
pub fn seal(draft: &Draft, key_for: &KeyFor<'_>) -> (Header, BlockId, Commit) {
    let proposer_address =
        proposer(&draft.validators, draft.height).map_or(Address::new([0; 20]), |v| v.address);
    let header = Header {
        version: Version {
            block: BLOCK_PROTOCOL,
            app: draft.app_version,
        },
        chain_id: draft.chain_id.clone(),
        height: Height::from(draft.height),
        time: draft.time,
        last_block_id: draft.last.as_ref().map(|(id, _)| *id),
        last_commit_hash: Some(
            draft
                .last
                .as_ref()
                .map_or_else(merkle::empty_hash, |(_, c)| c.hash()),
        ),
        data_hash: Some(data_hash(&draft.txs)),
        validators_hash: draft.validators.hash(),
        next_validators_hash: draft.next_validators.hash(),
        consensus_hash: consensus_params_hash(BLOCK_MAX_BYTES, BLOCK_MAX_GAS),
        app_hash: HexBytes(draft.app_hash.clone()),
        last_results_hash: Some(results_root(&draft.last_results)),
        evidence_hash: Some(merkle::empty_hash()),
        proposer_address,
    };
    let hash = header.hash();
    let block_id = BlockId {
        hash,
        part_set_header: PartSetHeader {
            total: 1,
            hash: part_set_hash(&hash, &draft.txs),
        },
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
        let t = after_millis(header.time, 1 + u64::try_from(i).unwrap_or(0) % 50);
        match key_for(v) {
            Some(key) => {
                let msg = vote::precommit_sign_bytes(
                    &header.chain_id,
                    header.height,
                    0,
                    Some(block_id),
                    t,
                );
                CommitSig {
                    block_id_flag: BlockIdFlag::Commit,
                    validator_address: Some(v.address),
                    timestamp: t,
                    signature: Some(Signature::new(key.sign(&msg).to_vec())),
                }
            }
            None => CommitSig::absent(),
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
        block_id: *block_id,
        signatures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::KvApp;
    use crate::chain::{Chain, ChainParams};
    use light_client::verify::{verify, Options, Verdict};

    #[test]
    fn every_produced_block_verifies_through_set_changes() {
        let params = ChainParams {
            chain_id: "verify-chain".into(),
            seed: "seed".into(),
            genesis_powers: vec![10, 20, 30, 40, 50],
            max_block_txs: 10,
            mempool_limit: 10,
            max_tx_bytes: 64,
            rotate_every: 0,
        };
        let chain = Chain::open(params, Box::new(KvApp::default()), None).unwrap();
        let mut t = now();
        let mut blocks = Vec::new();
        for h in 1..=24u32 {
            // Change the set every few blocks: add, reweigh, remove.
            match h % 4 {
                1 => chain.update_validator(100 + h, 15).unwrap(),
                2 => chain.update_validator(1, i64::from(h)).unwrap(),
                3 => chain.update_validator(100 + h - 2, 0).unwrap(),
                _ => {}
            }
            chain.submit_tx(format!("k{h}=v").into_bytes()).unwrap();
            t = after_millis(t, 500);
            blocks.push(chain.produce_block(t).unwrap().light_block());
        }
        let at = after_millis(t, 1000);
        let opts = Options::default();
        for pair in blocks.windows(2) {
            assert_eq!(
                verify(&pair[1], &pair[0], &opts, at),
                Verdict::Success,
                "adjacent {}",
                pair[1].height()
            );
        }
        for b in &blocks[2..] {
            match verify(b, &blocks[0], &opts, at) {
                Verdict::Success | Verdict::NotEnoughTrust(_) => {}
                Verdict::Invalid(e) => panic!("skipping to {} invalid: {e}", b.height()),
            }
        }
        assert_eq!(verify(&blocks[3], &blocks[0], &opts, at), Verdict::Success);
        // Tampering is caught.
        let mut forged = blocks[5].clone();
        forged.signed_header.header.app_hash = HexBytes(vec![1; 32]);
        assert!(matches!(
            verify(&forged, &blocks[4], &opts, at),
            Verdict::Invalid(_)
        ));
    }

    #[test]
    fn an_empty_block_commits_to_empty_roots() {
        let empty = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(results_root(&[]).to_hex(), empty);
        assert_eq!(merkle::empty_hash().to_hex(), empty);
        let chain = Chain::open(
            ChainParams {
                chain_id: "c".into(),
                seed: "s".into(),
                genesis_powers: vec![1],
                max_block_txs: 1,
                mempool_limit: 1,
                max_tx_bytes: 8,
                rotate_every: 0,
            },
            Box::new(KvApp::default()),
            None,
        )
        .unwrap();
        let b = chain.produce_block(now()).unwrap();
        for h in [
            b.header.last_commit_hash,
            b.header.data_hash,
            b.header.last_results_hash,
            b.header.evidence_hash,
        ] {
            assert_eq!(h.unwrap().to_hex(), empty);
        }
    }
}
