//! Canonical vote sign-bytes: the exact bytes a validator signs for a precommit
//! (`types/canonical.go`, `types/vote.go` `VoteSignBytes`).
//!
//! The signed message is the length-prefixed protobuf `CanonicalVote`:
//! `type = 2 (precommit)`, `height` and `round` as `sfixed64`, the `CanonicalBlockID` (left out
//! for a nil vote), the `Timestamp` (always written) and the chain id.

use crate::proto::{self, ProtoWriter};
use crate::types::{BlockId, BlockIdFlag, ChainId, Commit, Height, Time};

/// `SignedMsgType` of a precommit.
const PRECOMMIT: u64 = 2;

/// The bytes a validator signs for a precommit at (`chain_id`, `height`, `round`) for
/// `block_id` (`None` for a nil vote) at `timestamp`.
pub fn precommit_sign_bytes(
    chain_id: &ChainId,
    height: Height,
    round: u32,
    block_id: Option<&BlockId>,
    timestamp: Time,
) -> Vec<u8> {
    CommitSignBytes::with_block_id(chain_id, height, round, block_id).for_timestamp(timestamp)
}

/// The bytes the validator at `index` of `commit` signed, or `None` when that entry is absent
/// or out of range. (Nil votes sign without a block id.)
pub fn vote_sign_bytes(chain_id: &ChainId, commit: &Commit, index: usize) -> Option<Vec<u8>> {
    let sig = commit.signatures.get(index)?;
    let block_id = match sig.block_id_flag {
        BlockIdFlag::Absent => return None,
        BlockIdFlag::Commit => Some(&commit.block_id),
        BlockIdFlag::Nil => None,
    };
    Some(precommit_sign_bytes(
        chain_id,
        commit.height,
        commit.round,
        block_id,
        sig.timestamp,
    ))
}

/// Sign-bytes for many votes of one commit: everything but the timestamp is encoded once.
#[derive(Debug, Clone)]
pub struct CommitSignBytes {
    prefix: Vec<u8>,
    suffix: Vec<u8>,
}

impl CommitSignBytes {
    /// For the votes for the committed block of `commit`.
    pub fn for_commit(chain_id: &ChainId, commit: &Commit) -> CommitSignBytes {
        Self::with_block_id(
            chain_id,
            commit.height,
            commit.round,
            Some(&commit.block_id),
        )
    }

    fn with_block_id(
        chain_id: &ChainId,
        height: Height,
        round: u32,
        block_id: Option<&BlockId>,
    ) -> CommitSignBytes {
        let mut w = ProtoWriter::with_capacity(96);
        w.uint(1, PRECOMMIT);
        w.sfixed64(2, height.value() as i64);
        w.sfixed64(3, i64::from(round));
        if let Some(id) = block_id {
            w.message(4, &id.encode());
        }
        let mut suffix = ProtoWriter::with_capacity(chain_id.as_str().len() + 2);
        suffix.bytes(6, chain_id.as_str().as_bytes());
        CommitSignBytes {
            prefix: w.into_bytes(),
            suffix: suffix.into_bytes(),
        }
    }

    /// The sign-bytes of the vote with this timestamp.
    pub fn for_timestamp(&self, timestamp: Time) -> Vec<u8> {
        let ts = proto::timestamp(timestamp);
        // Field 5 (length-delimited): tag 0x2a, then the length (a timestamp is < 128 bytes).
        let body_len = self.prefix.len() + 2 + ts.len() + self.suffix.len();
        let mut w = ProtoWriter::with_capacity(body_len + 2);
        w.varint(body_len as u64);
        let mut out = w.into_bytes();
        out.extend_from_slice(&self.prefix);
        out.push(0x2a);
        out.push(ts.len() as u8);
        out.extend_from_slice(&ts);
        out.extend_from_slice(&self.suffix);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Hash, PartSetHeader};

    #[test]
    fn matches_cometbft_vote_sign_bytes_vector() {
        // Vector from CometBFT types/vote_test.go TestVoteSignBytesTestVectors (case 1):
        // precommit, height 1, round 1, empty block id, zero-ish time, no chain id.
        let zero_time = Time::from_unix(-62_135_596_800, 0).unwrap();
        let bytes = precommit_sign_bytes(&ChainId::new(""), Height(1), 1, None, zero_time);
        let expected: Vec<u8> = vec![
            0x21, 0x08, 0x02, 0x11, 0x01, 0, 0, 0, 0, 0, 0, 0, 0x19, 0x01, 0, 0, 0, 0, 0, 0, 0,
            0x2a, 0x0b, 0x08, 0x80, 0x92, 0xb8, 0xc3, 0x98, 0xfe, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(bytes, expected);
    }

    #[test]
    fn chain_id_and_block_id_are_included() {
        let id = BlockId {
            hash: Hash::new([1; 32]),
            part_set_header: PartSetHeader {
                total: 1,
                hash: Hash::new([2; 32]),
            },
        };
        let t = Time::from_unix(1, 0).unwrap();
        let a = precommit_sign_bytes(&ChainId::new("a"), Height(5), 0, Some(&id), t);
        let b = precommit_sign_bytes(&ChainId::new("b"), Height(5), 0, Some(&id), t);
        assert_ne!(a, b);
        assert_eq!(a[0] as usize, a.len() - 1);
        assert!(a.ends_with(&[0x32, 0x01, b'a']));
    }
}
