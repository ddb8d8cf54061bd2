//! The RFC 6962 Merkle tree of the CometBFT spec (`crypto/merkle`): roots and inclusion proofs.
//!
//! Leaves are hashed as `SHA-256(0x00 || leaf)`, inner nodes as `SHA-256(0x01 || left ||
//! right)`, the empty tree is `SHA-256("")`, and a tree of `n > 1` leaves splits at the
//! largest power of two smaller than `n`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::serde_helpers::{base64_decode, base64_encode, str_u64};
use crate::types::Hash;

/// The most aunts a proof may carry (as in CometBFT: trees of up to 2^100 leaves).
pub const MAX_AUNTS: usize = 100;

/// Why a Merkle proof does not prove a leaf.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// The proof's shape (index, total, number of aunts) is impossible.
    #[error("malformed proof: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// The proof's leaf hash is not the hash of the given leaf.
    #[error("leaf hash mismatch: proof has {in_proof}, leaf hashes to {computed}")]
    LeafHashMismatch {
        /// The leaf hash in the proof.
        in_proof: Hash,
        /// The hash of the given leaf.
        computed: Hash,
    },
    /// The proof leads to another root.
    #[error("root mismatch: expected {expected}, proof gives {computed}")]
    RootMismatch {
        /// The trusted root.
        expected: Hash,
        /// The root computed from the proof.
        computed: Hash,
    },
}

/// `SHA-256("")`: the root of an empty tree.
pub fn empty_hash() -> Hash {
    Hash::sha256(b"")
}

/// `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    Hash::new(h.finalize().into())
}

/// `SHA-256(0x01 || left || right)`.
pub fn inner_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.as_bytes());
    h.update(right.as_bytes());
    Hash::new(h.finalize().into())
}

/// The largest power of two strictly smaller than `n` (for `n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    let bits = u64::BITS - (n - 1).leading_zeros();
    1 << (bits - 1)
}

/// The Merkle root of `items` (CometBFT `merkle.HashFromByteSlices`).
pub fn hash_from_byte_slices<T: AsRef<[u8]>>(items: &[T]) -> Hash {
    match items {
        [] => empty_hash(),
        [one] => leaf_hash(one.as_ref()),
        _ => {
            let k = split_point(items.len() as u64) as usize;
            inner_hash(
                &hash_from_byte_slices(&items[..k]),
                &hash_from_byte_slices(&items[k..]),
            )
        }
    }
}

/// An inclusion proof of one leaf (CometBFT `merkle.Proof`). JSON: `{"total": "4",
/// "index": "1", "leaf_hash": "<base64>", "aunts": ["<base64>", ...]}`; aunts run from the
/// leaf's sibling up to the root's child.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// Number of leaves in the tree.
    #[serde(with = "str_u64")]
    pub total: u64,
    /// Index of the proven leaf.
    #[serde(with = "str_u64")]
    pub index: u64,
    /// `leaf_hash(leaf)`.
    #[serde(with = "b64_hash")]
    pub leaf_hash: Hash,
    /// Sibling hashes from the bottom up.
    #[serde(with = "b64_hashes", default)]
    pub aunts: Vec<Hash>,
}

mod b64_hash {
    use super::*;
    use serde::{de, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64_encode(h.as_bytes()))
    }

    pub(super) fn parse<E: de::Error>(text: &str) -> Result<Hash, E> {
        let bytes = base64_decode(text).map_err(E::custom)?;
        Hash::from_slice(&bytes).map_err(E::custom)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse(&text)
    }
}

mod b64_hashes {
    use super::*;
    use serde::ser::SerializeSeq;
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(hs: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(hs.len()))?;
        for h in hs {
            seq.serialize_element(&base64_encode(h.as_bytes()))?;
        }
        seq.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let texts = Option::<Vec<String>>::deserialize(d)?.unwrap_or_default();
        texts.iter().map(|t| b64_hash::parse(t)).collect()
    }
}

impl Proof {
    /// The root this proof leads to, or `None` if its shape is impossible.
    pub fn compute_root(&self) -> Option<Hash> {
        if self.aunts.len() > MAX_AUNTS {
            return None;
        }
        root_from_aunts(self.index, self.total, self.leaf_hash, &self.aunts)
    }

    /// Checks that `leaf` is at `self.index` in the tree with root `root`.
    pub fn verify(&self, root: &Hash, leaf: &[u8]) -> Result<(), MerkleError> {
        if self.total == 0 || self.index >= self.total {
            return Err(MerkleError::Malformed {
                reason: "index must be below total, total above zero",
            });
        }
        if self.aunts.len() > MAX_AUNTS {
            return Err(MerkleError::Malformed {
                reason: "too many aunts",
            });
        }
        let computed = leaf_hash(leaf);
        if computed != self.leaf_hash {
            return Err(MerkleError::LeafHashMismatch {
                in_proof: self.leaf_hash,
                computed,
            });
        }
        let computed = self.compute_root().ok_or(MerkleError::Malformed {
            reason: "number of aunts does not fit index and total",
        })?;
        if computed != *root {
            return Err(MerkleError::RootMismatch {
                expected: *root,
                computed,
            });
        }
        Ok(())
    }
}

fn root_from_aunts(index: u64, total: u64, leaf: Hash, aunts: &[Hash]) -> Option<Hash> {
    if index >= total || total == 0 {
        return None;
    }
    if total == 1 {
        return aunts.is_empty().then_some(leaf);
    }
    let (last, rest) = aunts.split_last()?;
    let num_left = split_point(total);
    if index < num_left {
        let left = root_from_aunts(index, num_left, leaf, rest)?;
        Some(inner_hash(&left, last))
    } else {
        let right = root_from_aunts(index - num_left, total - num_left, leaf, rest)?;
        Some(inner_hash(last, &right))
    }
}

/// The root of `items` and one inclusion proof per item (CometBFT `merkle.ProofsFromByteSlices`).
pub fn proofs_from_byte_slices<T: AsRef<[u8]>>(items: &[T]) -> (Hash, Vec<Proof>) {
    let leaves: Vec<Hash> = items.iter().map(|i| leaf_hash(i.as_ref())).collect();
    let mut aunts: Vec<Vec<Hash>> = vec![Vec::new(); items.len()];
    let root = build(&leaves, &mut aunts, 0);
    let total = items.len() as u64;
    let proofs = leaves
        .iter()
        .zip(aunts)
        .enumerate()
        .map(|(i, (leaf, aunts))| Proof {
            total,
            index: i as u64,
            leaf_hash: *leaf,
            aunts,
        })
        .collect();
    (root, proofs)
}

/// Root of `leaves` (already leaf-hashed); pushes each leaf's aunts, bottom up.
fn build(leaves: &[Hash], aunts: &mut [Vec<Hash>], offset: usize) -> Hash {
    match leaves {
        [] => empty_hash(),
        [one] => *one,
        _ => {
            let k = split_point(leaves.len() as u64) as usize;
            let left = build(&leaves[..k], aunts, offset);
            let right = build(&leaves[k..], aunts, offset + k);
            for a in &mut aunts[offset..offset + k] {
                a.push(right);
            }
            for a in &mut aunts[offset + k..offset + leaves.len()] {
                a.push(left);
            }
            inner_hash(&left, &right)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_roots() {
        // From CometBFT crypto/merkle tests: the root of ["a","b","c"] etc. is checked against
        // a direct computation here; the empty root is SHA-256 of nothing.
        assert_eq!(
            hash_from_byte_slices::<&[u8]>(&[]).to_hex(),
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        );
        let items: [&[u8]; 3] = [b"a", b"b", b"c"];
        let expected = inner_hash(
            &inner_hash(&leaf_hash(b"a"), &leaf_hash(b"b")),
            &leaf_hash(b"c"),
        );
        assert_eq!(hash_from_byte_slices(&items), expected);
    }

    #[test]
    fn proofs_verify_for_every_size_and_index() {
        for n in 1..=20usize {
            let items: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; i + 1]).collect();
            let (root, proofs) = proofs_from_byte_slices(&items);
            assert_eq!(root, hash_from_byte_slices(&items));
            for (i, p) in proofs.iter().enumerate() {
                p.verify(&root, &items[i]).unwrap();
                assert!(p.verify(&root, b"other").is_err());
                let mut wrong = p.clone();
                wrong.index = (wrong.index + 1) % n as u64;
                if n > 1 {
                    assert!(wrong.verify(&root, &items[i]).is_err());
                }
                let json = serde_json::to_string(p).unwrap();
                assert_eq!(serde_json::from_str::<Proof>(&json).unwrap(), *p);
            }
        }
    }

    #[test]
    fn malformed_proofs_are_rejected_without_panic() {
        let p = Proof {
            total: 0,
            index: 0,
            leaf_hash: leaf_hash(b"x"),
            aunts: vec![],
        };
        assert!(p.verify(&empty_hash(), b"x").is_err());
        let p = Proof {
            total: u64::MAX,
            index: 5,
            leaf_hash: leaf_hash(b"x"),
            aunts: vec![empty_hash(); 3],
        };
        assert!(p.verify(&empty_hash(), b"x").is_err());
    }
}
