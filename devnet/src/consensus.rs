//! The bridge to the `light-client` crate: every consensus-critical byte the network produces
//! (header hash, validator-set hash, vote sign-bytes, Merkle roots and proofs) and the JSON
//! shapes of headers, commits and validators come from there. The few hashes a light client
//! never checks (last commit, results, consensus params, part set) are encoded here with the
//! same Merkle tree.

use base64::Engine as _;
use light_client::merkle;
use light_client::types as lc;
use light_client::types::{
    Address, BlockIdFlag, ChainId, Hash, Height, HexBytes, PartSetHeader, PublicKey, Signature,
    Time, Version,
};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::app::TxResult;
use crate::block::{
    BlockId, Commit, CommitSig, Header, Validator, ValidatorSet, FLAG_ABSENT, FLAG_COMMIT,
};
use crate::timestamp::Timestamp;

/// CometBFT's default `block.max_bytes` (hashed into `consensus_hash`).
pub const BLOCK_MAX_BYTES: i64 = 22_020_096;
/// CometBFT's default `block.max_gas` (no limit).
pub const BLOCK_MAX_GAS: i64 = -1;

fn hash32(bytes: &[u8]) -> Hash {
    Hash::from_slice(bytes).unwrap_or_else(|_| Hash::new([0; 32]))
}

fn opt_hash32(bytes: &[u8]) -> Option<Hash> {
    Hash::from_slice(bytes).ok()
}

fn address(bytes: &[u8]) -> Address {
    Address::from_slice(bytes).unwrap_or_else(|_| Address::new([0; 20]))
}

fn pub_key(bytes: &[u8]) -> PublicKey {
    let mut k = [0u8; 32];
    if bytes.len() == 32 {
        k.copy_from_slice(bytes);
    }
    PublicKey::from_bytes(k)
}

/// A timestamp as the light client's time (Go's zero time and anything out of range clamp to
/// the epoch).
pub fn time(t: Timestamp) -> Time {
    Time::from_unix(t.secs, t.nanos).unwrap_or(Time::UNIX_EPOCH)
}

/// The light client's block id.
pub fn block_id(id: &BlockId) -> lc::BlockId {
    lc::BlockId {
        hash: hash32(&id.hash),
        part_set_header: PartSetHeader {
            total: id.parts_total,
            hash: hash32(&id.parts_hash),
        },
    }
}

/// The light client's header.
pub fn header(h: &Header) -> lc::Header {
    lc::Header {
        version: Version {
            block: h.version_block,
            app: h.version_app,
        },
        chain_id: ChainId::new(h.chain_id.clone()),
        height: Height::from(h.height),
        time: time(h.time()),
        last_block_id: h.last_block_id.as_ref().map(block_id),
        last_commit_hash: opt_hash32(&h.last_commit_hash),
        data_hash: opt_hash32(&h.data_hash),
        validators_hash: hash32(&h.validators_hash),
        next_validators_hash: hash32(&h.next_validators_hash),
        consensus_hash: hash32(&h.consensus_hash),
        app_hash: HexBytes(h.app_hash.clone()),
        last_results_hash: opt_hash32(&h.last_results_hash),
        evidence_hash: opt_hash32(&h.evidence_hash),
        proposer_address: address(&h.proposer_address),
    }
}

fn commit_sig(s: &CommitSig) -> lc::CommitSig {
    if s.flag == FLAG_ABSENT {
        return lc::CommitSig::absent();
    }
    lc::CommitSig {
        block_id_flag: if s.flag == FLAG_COMMIT {
            BlockIdFlag::Commit
        } else {
            BlockIdFlag::Nil
        },
        validator_address: Some(address(&s.address)),
        timestamp: time(s.time()),
        signature: Some(Signature::new(s.signature.clone())),
    }
}

/// The light client's commit.
pub fn commit(c: &Commit) -> lc::Commit {
    lc::Commit {
        height: Height::from(c.height),
        round: c.round,
        block_id: block_id(&c.block_id),
        signatures: c.signatures.iter().map(commit_sig).collect(),
    }
}

fn validator(v: &Validator) -> lc::Validator {
    lc::Validator::new(pub_key(&v.pub_key), u64::try_from(v.power).unwrap_or(0))
}

/// The light client's validator set.
pub fn validator_set(set: &ValidatorSet) -> Result<lc::ValidatorSet, lc::ValidatorSetError> {
    let validators: Vec<lc::Validator> = set.validators().iter().map(validator).collect();
    let proposer = validators.first().cloned();
    lc::ValidatorSet::new(validators, proposer)
}

/// The light client's signed header.
pub fn signed_header(h: &Header, c: &Commit) -> lc::SignedHeader {
    lc::SignedHeader {
        header: header(h),
        commit: commit(c),
    }
}

/// The validator-set hash (Merkle root of the `SimpleValidator` encodings, in set order).
pub fn validator_set_hash(validators: &[Validator]) -> Vec<u8> {
    let leaves: Vec<Vec<u8>> = validators
        .iter()
        .map(|v| validator(v).hash_bytes())
        .collect();
    merkle::hash_from_byte_slices(&leaves).as_bytes().to_vec()
}

/// The header hash.
pub fn header_hash(h: &Header) -> Vec<u8> {
    header(h).hash().as_bytes().to_vec()
}

/// The canonical precommit sign-bytes for `block_id` at `height`/`round`, voted at `t`.
pub fn vote_sign_bytes(
    chain_id: &str,
    height: u64,
    round: u32,
    id: &BlockId,
    t: Timestamp,
) -> Vec<u8> {
    light_client::vote::precommit_sign_bytes(
        &ChainId::new(chain_id),
        Height::from(height),
        round,
        Some(&block_id(id)),
        time(t),
    )
}

/// The root of an empty Merkle tree (`SHA-256("")`).
pub fn empty_merkle_root() -> Vec<u8> {
    merkle::empty_hash().as_bytes().to_vec()
}

/// `data_hash`: the Merkle root of the transactions' SHA-256 hashes.
pub fn data_hash(txs: &[Vec<u8>]) -> Vec<u8> {
    let leaves: Vec<[u8; 32]> = txs.iter().map(|t| Sha256::digest(t).into()).collect();
    merkle::hash_from_byte_slices(&leaves).as_bytes().to_vec()
}

/// The `tx` endpoint's proof: the transaction's inclusion under the block's `data_hash`.
pub fn tx_proof_json(txs: &[Vec<u8>], index: usize) -> Value {
    let leaves: Vec<[u8; 32]> = txs.iter().map(|t| Sha256::digest(t).into()).collect();
    let (root, proofs) = merkle::proofs_from_byte_slices(&leaves);
    let proof = proofs.get(index).map_or(Value::Null, |p| {
        serde_json::to_value(p).unwrap_or(Value::Null)
    });
    let data = txs
        .get(index)
        .map(|t| base64::engine::general_purpose::STANDARD.encode(t));
    json!({ "root_hash": root.to_hex(), "data": data, "proof": proof })
}

/// Minimal protobuf writer for the hashes a light client does not check.
#[derive(Default)]
struct Proto(Vec<u8>);

impl Proto {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, field: u64, wire: u64) {
        self.varint((field << 3) | wire);
    }
    fn uint(&mut self, field: u64, v: u64) {
        if v != 0 {
            self.key(field, 0);
            self.varint(v);
        }
    }
    fn int(&mut self, field: u64, v: i64) {
        // int64 is written as the two's-complement varint.
        self.uint(field, v as u64);
    }
    fn bytes(&mut self, field: u64, b: &[u8]) {
        if !b.is_empty() {
            self.key(field, 2);
            self.varint(b.len() as u64);
            self.0.extend_from_slice(b);
        }
    }
    fn message(&mut self, field: u64, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }
}

/// `last_commit_hash`: Merkle root of the previous commit's `CommitSig` protobuf encodings
/// (the empty root at height 1).
pub fn commit_hash(commit: Option<&Commit>) -> Vec<u8> {
    let Some(commit) = commit else {
        return empty_merkle_root();
    };
    let leaves: Vec<Vec<u8>> = commit
        .signatures
        .iter()
        .map(|s| {
            let mut ts = Proto::default();
            ts.int(1, s.time_secs);
            ts.int(2, i64::from(s.time_nanos));
            let mut p = Proto::default();
            p.uint(1, u64::from(s.flag));
            p.bytes(2, &s.address);
            p.message(3, &ts.0);
            p.bytes(4, &s.signature);
            p.0
        })
        .collect();
    merkle::hash_from_byte_slices(&leaves).as_bytes().to_vec()
}

/// `last_results_hash`: Merkle root of the deterministic `ExecTxResult` encodings (code, data,
/// gas wanted, gas used).
pub fn results_hash(results: &[TxResult]) -> Vec<u8> {
    let leaves: Vec<Vec<u8>> = results
        .iter()
        .map(|r| {
            let mut p = Proto::default();
            p.uint(1, u64::from(r.code));
            p.bytes(2, &r.data);
            p.int(5, r.gas_wanted);
            p.int(6, r.gas_used);
            p.0
        })
        .collect();
    merkle::hash_from_byte_slices(&leaves).as_bytes().to_vec()
}

/// `consensus_hash`: SHA-256 of the `HashedParams` encoding of CometBFT's default block limits.
pub fn consensus_params_hash() -> Vec<u8> {
    let mut p = Proto::default();
    p.int(1, BLOCK_MAX_BYTES);
    p.int(2, BLOCK_MAX_GAS);
    Sha256::digest(&p.0).to_vec()
}

/// The part-set hash of the block id. This network does not gossip block parts; the block is
/// one part and its hash is the Merkle root of one leaf: the header hash followed by the
/// transactions' hashes.
pub fn part_set_hash(header_hash: &[u8], txs: &[Vec<u8>]) -> Vec<u8> {
    let mut part = header_hash.to_vec();
    for t in txs {
        part.extend_from_slice(&Sha256::digest(t));
    }
    merkle::hash_from_byte_slices(&[part]).as_bytes().to_vec()
}

/// A header as CometBFT JSON.
pub fn header_json(h: &Header) -> Value {
    serde_json::to_value(header(h)).unwrap_or(Value::Null)
}

/// A commit as CometBFT JSON.
pub fn commit_json(c: &Commit) -> Value {
    serde_json::to_value(commit(c)).unwrap_or(Value::Null)
}

/// A block id as CometBFT JSON.
pub fn block_id_json(id: &BlockId) -> Value {
    serde_json::to_value(block_id(id)).unwrap_or(Value::Null)
}

/// A validator as CometBFT JSON.
pub fn validator_json(v: &Validator) -> Value {
    serde_json::to_value(validator(v)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::KvApp;
    use crate::block::BlockRecord;
    use crate::chain::{Chain, ChainParams};
    use light_client::types::LightBlock;
    use light_client::verify::{verify, Options, Verdict};

    fn light_block(b: &BlockRecord) -> LightBlock {
        LightBlock {
            signed_header: signed_header(&b.header, &b.commit),
            validators: validator_set(&b.validators).unwrap(),
            next_validators: Some(validator_set(&b.next_validators).unwrap()),
        }
    }

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
        let mut t = Timestamp::now();
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
            t = t.plus_millis(500);
            blocks.push(light_block(&chain.produce_block(t).unwrap()));
        }
        let now = time(t.plus_millis(1000));
        let opts = Options::default();
        for pair in blocks.windows(2) {
            assert_eq!(
                verify(&pair[1], &pair[0], &opts, now),
                Verdict::Success,
                "adjacent {}",
                pair[1].height()
            );
        }
        for b in &blocks[2..] {
            match verify(b, &blocks[0], &opts, now) {
                Verdict::Success | Verdict::NotEnoughTrust(_) => {}
                Verdict::Invalid(e) => panic!("skipping to {} invalid: {e}", b.height()),
            }
        }
        assert_eq!(verify(&blocks[3], &blocks[0], &opts, now), Verdict::Success);
        // Tampering is caught.
        let mut forged = blocks[5].clone();
        forged.signed_header.header.app_hash = HexBytes(vec![1; 32]);
        assert!(matches!(
            verify(&forged, &blocks[4], &opts, now),
            Verdict::Invalid(_)
        ));
    }

    #[test]
    fn empty_hashes_match_cometbft() {
        let empty = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(hex::encode_upper(data_hash(&[])), empty);
        assert_eq!(hex::encode_upper(results_hash(&[])), empty);
        assert_eq!(hex::encode_upper(commit_hash(None)), empty);
        assert_eq!(consensus_params_hash().len(), 32);
    }
}
