//! Headers, block ids, commits and signed headers, with their CometBFT hashes.

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::primitives::{opt_address, opt_hash, opt_signature};
use super::{Address, ChainId, Hash, Height, HexBytes, Signature, Time};
use crate::merkle;
use crate::proto::{self, ProtoWriter};
use crate::serde_helpers::{num_u32, str_u64, votes_list};

/// The block protocol version of every CometBFT release from v0.34 to v1.x.
pub const BLOCK_PROTOCOL: u64 = 11;

/// Header version: block protocol and application version. JSON: `{"block": "11", "app": "1"}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Version {
    /// Block protocol version (11 for CometBFT v0.34 to v1.x).
    #[serde(with = "str_u64")]
    pub block: u64,
    /// Application version.
    #[serde(with = "str_u64", default)]
    pub app: u64,
}

impl Version {
    fn encode(&self) -> Vec<u8> {
        let mut w = ProtoWriter::with_capacity(22);
        w.uint(1, self.block);
        w.uint(2, self.app);
        w.into_bytes()
    }
}

/// The header of a block's parts. JSON: `{"total": 1, "hash": "..."}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartSetHeader {
    /// Number of parts.
    #[serde(with = "num_u32")]
    pub total: u32,
    /// Merkle root of the parts.
    pub hash: Hash,
}

impl PartSetHeader {
    fn encode(&self) -> Vec<u8> {
        let mut w = ProtoWriter::with_capacity(40);
        w.uint(1, u64::from(self.total));
        w.bytes(2, self.hash.as_bytes());
        w.into_bytes()
    }
}

/// A block id: the header hash and the part-set header. JSON:
/// `{"hash": "...", "parts": {"total": 1, "hash": "..."}}` (`part_set_header` is accepted too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockId {
    /// The header hash.
    pub hash: Hash,
    /// The part-set header.
    #[serde(rename = "parts", alias = "part_set_header")]
    pub part_set_header: PartSetHeader,
}

impl BlockId {
    /// Protobuf `BlockID` encoding (the part-set header is always written).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = ProtoWriter::with_capacity(80);
        w.bytes(1, self.hash.as_bytes());
        w.message(2, &self.part_set_header.encode());
        w.into_bytes()
    }
}

/// Serde for the header's `last_block_id`: `None` is the zero block id, which CometBFT prints
/// as `{"hash": "", "parts": {"total": 0, "hash": ""}}`; `null` is accepted too.
mod opt_block_id {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct RawParts {
        #[serde(with = "num_u32", default)]
        total: u32,
        #[serde(with = "opt_hash", default)]
        hash: Option<Hash>,
    }

    #[derive(Serialize, Deserialize)]
    struct RawBlockId {
        #[serde(with = "opt_hash", default)]
        hash: Option<Hash>,
        #[serde(rename = "parts", alias = "part_set_header")]
        parts: Option<RawParts>,
    }

    pub(super) fn serialize<S: Serializer>(v: &Option<BlockId>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(id) => id.serialize(s),
            None => RawBlockId {
                hash: None,
                parts: Some(RawParts {
                    total: 0,
                    hash: None,
                }),
            }
            .serialize(s),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BlockId>, D::Error> {
        let Some(raw) = Option::<RawBlockId>::deserialize(d)? else {
            return Ok(None);
        };
        let parts = raw.parts.unwrap_or(RawParts {
            total: 0,
            hash: None,
        });
        match (raw.hash, parts.hash) {
            (None, None) if parts.total == 0 => Ok(None),
            (Some(hash), Some(parts_hash)) => Ok(Some(BlockId {
                hash,
                part_set_header: PartSetHeader {
                    total: parts.total,
                    hash: parts_hash,
                },
            })),
            _ => Err(de::Error::custom(
                "block id must have both a hash and a part-set hash, or neither",
            )),
        }
    }
}

/// A block header, all fields, in the CometBFT JSON-RPC shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Block and app protocol versions.
    pub version: Version,
    /// Chain id.
    pub chain_id: ChainId,
    /// Height.
    pub height: Height,
    /// Block time (BFT time).
    pub time: Time,
    /// The previous block's id (`None` at the first height).
    #[serde(with = "opt_block_id", default)]
    pub last_block_id: Option<BlockId>,
    /// Merkle root of the previous block's commit signatures.
    #[serde(with = "opt_hash", default)]
    pub last_commit_hash: Option<Hash>,
    /// Merkle root of the transactions.
    #[serde(with = "opt_hash", default)]
    pub data_hash: Option<Hash>,
    /// Hash of the validator set that signs this block.
    pub validators_hash: Hash,
    /// Hash of the validator set that signs the next block.
    pub next_validators_hash: Hash,
    /// Hash of the consensus parameters.
    pub consensus_hash: Hash,
    /// Application state root after the previous block.
    #[serde(default)]
    pub app_hash: HexBytes,
    /// Merkle root of the previous block's transaction results.
    #[serde(with = "opt_hash", default)]
    pub last_results_hash: Option<Hash>,
    /// Merkle root of the evidence in this block.
    #[serde(with = "opt_hash", default)]
    pub evidence_hash: Option<Hash>,
    /// Address of the block proposer.
    pub proposer_address: Address,
}

fn opt_bytes(h: &Option<Hash>) -> &[u8] {
    h.as_ref().map_or(&[][..], |h| h.as_bytes().as_slice())
}

impl Header {
    /// The header hash (the block id hash): the RFC 6962 Merkle root of the 14 protobuf-encoded
    /// fields, in the order of `types/block.go` `Header.Hash`.
    pub fn hash(&self) -> Hash {
        let last_block_id = match &self.last_block_id {
            Some(id) => id.encode(),
            // The zero BlockID: an empty hash and an always-written empty part-set header.
            None => vec![0x12, 0x00],
        };
        let fields: [Vec<u8>; 14] = [
            self.version.encode(),
            proto::bytes_value(self.chain_id.as_str().as_bytes()),
            proto::int64_value(self.height.value() as i64),
            proto::timestamp(self.time),
            last_block_id,
            proto::bytes_value(opt_bytes(&self.last_commit_hash)),
            proto::bytes_value(opt_bytes(&self.data_hash)),
            proto::bytes_value(self.validators_hash.as_bytes()),
            proto::bytes_value(self.next_validators_hash.as_bytes()),
            proto::bytes_value(self.consensus_hash.as_bytes()),
            proto::bytes_value(self.app_hash.as_bytes()),
            proto::bytes_value(opt_bytes(&self.last_results_hash)),
            proto::bytes_value(opt_bytes(&self.evidence_hash)),
            proto::bytes_value(self.proposer_address.as_bytes()),
        ];
        merkle::hash_from_byte_slices(&fields)
    }
}

/// Which block a commit signature is for. JSON: the number 1, 2 or 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockIdFlag {
    /// The validator's vote was not received.
    Absent,
    /// The validator voted for the committed block.
    Commit,
    /// The validator voted for nil.
    Nil,
}

impl BlockIdFlag {
    /// The protobuf / JSON number of the flag.
    pub fn code(self) -> u8 {
        match self {
            BlockIdFlag::Absent => 1,
            BlockIdFlag::Commit => 2,
            BlockIdFlag::Nil => 3,
        }
    }
}

impl Serialize for BlockIdFlag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for BlockIdFlag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = num_u32::deserialize(d)?;
        match code {
            1 => Ok(BlockIdFlag::Absent),
            2 => Ok(BlockIdFlag::Commit),
            3 => Ok(BlockIdFlag::Nil),
            other => Err(de::Error::custom(format_args!(
                "unknown block_id_flag {other} (expected 1 absent, 2 commit or 3 nil)"
            ))),
        }
    }
}

/// One validator's entry in a commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitSig {
    /// Absent, commit or nil.
    pub block_id_flag: BlockIdFlag,
    /// The signer (`None` for absent votes; JSON `""`).
    #[serde(with = "opt_address", default)]
    pub validator_address: Option<Address>,
    /// The vote's timestamp (part of the signed bytes).
    pub timestamp: Time,
    /// The signature (`None` for absent votes; JSON `null`).
    #[serde(with = "opt_signature", default)]
    pub signature: Option<Signature>,
}

impl CommitSig {
    /// An absent vote, as CometBFT prints it: no address, Go's zero time, no signature.
    pub fn absent() -> CommitSig {
        CommitSig {
            block_id_flag: BlockIdFlag::Absent,
            validator_address: None,
            timestamp: Time::ZERO,
            signature: None,
        }
    }

    /// The rules of CometBFT's `CommitSig.ValidateBasic` (`types/block.go`), in its order; the
    /// error says which one is broken.
    ///
    /// - An absent vote carries no validator address, Go's zero time ([`Time::ZERO`],
    ///   `0001-01-01T00:00:00Z`) and no signature.
    /// - A commit or nil vote carries a validator address (always 20 bytes here) and a
    ///   signature of 1 to 64 bytes. (Its timestamp is not checked here, as in CometBFT.)
    ///
    /// An empty signature counts as no signature, as Go's `len(cs.Signature) == 0` does.
    pub fn validate_basic(&self) -> Result<(), &'static str> {
        let signature_len = self.signature.as_ref().map_or(0, |s| s.as_bytes().len());
        match self.block_id_flag {
            BlockIdFlag::Absent => {
                if self.validator_address.is_some() {
                    return Err(
                        "absent vote with a validator address (validator address is present)",
                    );
                }
                if !self.timestamp.is_zero() {
                    return Err(
                        "absent vote with a timestamp other than 0001-01-01T00:00:00Z (time is present)",
                    );
                }
                if signature_len != 0 {
                    return Err("absent vote with a signature (signature is present)");
                }
            }
            BlockIdFlag::Commit | BlockIdFlag::Nil => {
                if self.validator_address.is_none() {
                    return Err("vote without a validator address");
                }
                if signature_len == 0 {
                    return Err("vote without a signature (signature is missing)");
                }
                if signature_len > MAX_SIGNATURE_SIZE {
                    return Err("signature longer than 64 bytes (signature is too big)");
                }
            }
        }
        Ok(())
    }
}

/// CometBFT's `MaxSignatureSize`: the longest signature a commit entry may carry.
const MAX_SIGNATURE_SIZE: usize = 64;

/// A commit: the precommit signatures for one block. JSON (`/commit`'s `signed_header.commit`):
/// `{"height": "3000", "round": 0, "block_id": {...}, "signatures": [...]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// Height of the committed block.
    pub height: Height,
    /// Consensus round of the commit.
    #[serde(with = "num_u32", default)]
    pub round: u32,
    /// The committed block.
    pub block_id: BlockId,
    /// One entry per validator of the block's validator set, in the set's order. JSON `null`
    /// (Go's empty list) reads as no entries; more than
    /// [`MAX_VOTES_COUNT`](super::MAX_VOTES_COUNT) entries are refused while reading.
    #[serde(deserialize_with = "votes_list")]
    pub signatures: Vec<CommitSig>,
}

impl CommitSig {
    /// Protobuf `CommitSig` encoding (a leaf of the commit hash); the timestamp is always
    /// written.
    fn encode(&self) -> Vec<u8> {
        let mut w = ProtoWriter::with_capacity(120);
        w.uint(1, u64::from(self.block_id_flag.code()));
        if let Some(address) = &self.validator_address {
            w.bytes(2, address.as_bytes());
        }
        w.message(3, &proto::timestamp(self.timestamp));
        if let Some(sig) = &self.signature {
            w.bytes(4, sig.as_bytes());
        }
        w.into_bytes()
    }
}

impl Commit {
    /// The commit hash (the next header's `last_commit_hash`): the RFC 6962 Merkle root of the
    /// protobuf-encoded commit signatures (`types/block.go` `Commit.Hash`).
    pub fn hash(&self) -> Hash {
        let leaves: Vec<Vec<u8>> = self.signatures.iter().map(CommitSig::encode).collect();
        merkle::hash_from_byte_slices(&leaves)
    }
}

/// A block's `data_hash`: the Merkle root of the SHA-256 hashes of its transactions
/// (`types/tx.go` `Txs.Hash`). Also the root against which a transaction's inclusion proof
/// (the `tx` endpoint's `proof`) is checked, with leaf `SHA-256(tx)`.
pub fn data_hash<T: AsRef<[u8]>>(txs: &[T]) -> Hash {
    let leaves: Vec<Hash> = txs.iter().map(|tx| Hash::sha256(tx.as_ref())).collect();
    merkle::hash_from_byte_slices(&leaves)
}

/// A header's `consensus_hash`: SHA-256 of the protobuf `HashedParams` (block max bytes and
/// max gas), as `types/params.go` `ConsensusParams.Hash` computes it.
pub fn consensus_params_hash(block_max_bytes: i64, block_max_gas: i64) -> Hash {
    let mut w = ProtoWriter::with_capacity(22);
    w.int(1, block_max_bytes);
    w.int(2, block_max_gas);
    Hash::sha256(&w.into_bytes())
}

/// One transaction's result as a header's `last_results_hash` commits to it: only the
/// deterministic fields of ABCI's `ExecTxResult` (`types/results.go`
/// `deterministicExecTxResult`); log, info, events and codespace are not hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResultLeaf<'a> {
    /// The result code (0 is success).
    pub code: u32,
    /// The result data.
    pub data: &'a [u8],
    /// Gas requested.
    pub gas_wanted: i64,
    /// Gas used.
    pub gas_used: i64,
}

impl ResultLeaf<'_> {
    /// The protobuf `ExecTxResult` encoding of these fields (a leaf of the results hash).
    fn encode(&self) -> Vec<u8> {
        let mut w = ProtoWriter::with_capacity(24 + self.data.len());
        w.uint(1, u64::from(self.code));
        w.bytes(2, self.data);
        w.int(5, self.gas_wanted);
        w.int(6, self.gas_used);
        w.into_bytes()
    }
}

/// A header's `last_results_hash`: the RFC 6962 Merkle root of the previous block's
/// transaction results, each encoded as [`ResultLeaf`] (`types/results.go`
/// `ABCIResults.Hash`).
pub fn results_hash(results: &[ResultLeaf<'_>]) -> Hash {
    let leaves: Vec<Vec<u8>> = results.iter().map(ResultLeaf::encode).collect();
    merkle::hash_from_byte_slices(&leaves)
}

/// A header and the commit that signs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedHeader {
    /// The header.
    pub header: Header,
    /// The commit for this header.
    pub commit: Commit,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_block_id_round_trips_as_cometbft_prints_it() {
        #[derive(Serialize, Deserialize)]
        struct W {
            #[serde(with = "opt_block_id")]
            id: Option<BlockId>,
        }
        let w: W =
            serde_json::from_str(r#"{"id":{"hash":"","parts":{"total":0,"hash":""}}}"#).unwrap();
        assert!(w.id.is_none());
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            r#"{"id":{"hash":"","parts":{"total":0,"hash":""}}}"#
        );
        let w: W = serde_json::from_str(r#"{"id":null}"#).unwrap();
        assert!(w.id.is_none());
        assert!(
            serde_json::from_str::<W>(r#"{"id":{"hash":"","parts":{"total":1,"hash":""}}}"#)
                .is_err()
        );
    }

    #[test]
    fn default_consensus_params_hash() {
        // CometBFT's default block params (22020096 bytes, no gas limit) give the consensus
        // hash seen in the headers of chains that keep them.
        assert_eq!(
            consensus_params_hash(22_020_096, -1).to_hex(),
            "048091BC7DDC283F77BFBF91D73C44DA58C3DF8A9CBC867405D8B7F3DAADA22F"
        );
    }

    #[test]
    fn data_hash_proves_each_transaction() {
        let txs: [&[u8]; 3] = [b"a=1", b"b=2", b"c=3"];
        let leaves: Vec<Hash> = txs.iter().map(|t| Hash::sha256(t)).collect();
        let (root, proofs) = merkle::proofs_from_byte_slices(&leaves);
        assert_eq!(root, data_hash(&txs));
        assert!(proofs[2]
            .verify(&root, Hash::sha256(b"c=3").as_bytes())
            .is_ok());
        assert_eq!(data_hash::<&[u8]>(&[]), merkle::empty_hash());
    }

    #[test]
    fn unknown_flags_are_rejected() {
        assert!(serde_json::from_str::<BlockIdFlag>("4").is_err());
        assert!(serde_json::from_str::<BlockIdFlag>("0").is_err());
        assert_eq!(
            serde_json::from_str::<BlockIdFlag>("2").unwrap(),
            BlockIdFlag::Commit
        );
    }
}
