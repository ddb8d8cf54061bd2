//! Client-side verification of registry query proofs (ICS-23 over the Jellyfish Merkle tree).
//!
//! A wallet that has verified header `H + 1` checks an `abci_query` answer made at height `H`
//! with [`verify_value`], passing that header's `app_hash`.

use ics23::HostFunctionsManager;
use thiserror::Error;

/// Why a proof does not establish the claimed value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    /// The proof bytes are not a protobuf `ics23::CommitmentProof`.
    #[error("proof is not a protobuf CommitmentProof")]
    Undecodable,
    /// The proof op type is not [`crate::PROOF_OP_TYPE`].
    #[error("unexpected proof type {0:?}")]
    WrongType(String),
    /// The proof does not prove the value (or absence) for the key under the root.
    #[error("proof does not verify against the app hash")]
    Invalid,
}

/// The ICS-23 proof spec of the registry's tree: jmt 0.12's `ics23_spec()`, written out so
/// that the client side checks proofs without the tree crate (a test on the chain side checks
/// the two are equal). Leaves are `SHA-256("JMT::LeafNode" || SHA-256(key) ||
/// SHA-256(value))`, inner nodes `SHA-256("JMT::IntrnalNode" || left || right)`, an empty
/// child is the placeholder hash, and keys are compared by their SHA-256.
pub fn spec() -> ics23::ProofSpec {
    const LEAF_PREFIX: &[u8] = b"JMT::LeafNode";
    const INTERNAL_PREFIX: &[u8] = b"JMT::IntrnalNode";
    const PLACEHOLDER: &[u8; 32] = b"SPARSE_MERKLE_PLACEHOLDER_HASH__";
    ics23::ProofSpec {
        leaf_spec: Some(ics23::LeafOp {
            hash: ics23::HashOp::Sha256.into(),
            prehash_key: ics23::HashOp::Sha256.into(),
            prehash_value: ics23::HashOp::Sha256.into(),
            length: ics23::LengthOp::NoPrefix.into(),
            prefix: LEAF_PREFIX.to_vec(),
        }),
        inner_spec: Some(ics23::InnerSpec {
            hash: ics23::HashOp::Sha256.into(),
            child_order: vec![0, 1],
            min_prefix_length: INTERNAL_PREFIX.len() as i32,
            max_prefix_length: INTERNAL_PREFIX.len() as i32,
            child_size: 32,
            empty_child: PLACEHOLDER.to_vec(),
        }),
        min_depth: 0,
        max_depth: 64,
        prehash_key_before_comparison: true,
    }
}

/// Decodes the `data` of a proof op.
pub fn decode_proof(data: &[u8]) -> Result<ics23::CommitmentProof, ProofError> {
    prost::Message::decode(data).map_err(|_| ProofError::Undecodable)
}

/// Checks that `proof` (protobuf bytes) proves `value` for `key` under `app_hash`: existence
/// when `value` is `Some`, absence when `None`.
pub fn verify_value(
    app_hash: &[u8; 32],
    key: &[u8],
    value: Option<&[u8]>,
    proof: &[u8],
) -> Result<(), ProofError> {
    let proof = decode_proof(proof)?;
    let spec = spec();
    let root = app_hash.to_vec();
    let ok = match value {
        Some(v) => ics23::verify_membership::<HostFunctionsManager>(&proof, &spec, &root, key, v),
        None => ics23::verify_non_membership::<HostFunctionsManager>(&proof, &spec, &root, key),
    };
    if ok {
        Ok(())
    } else {
        Err(ProofError::Invalid)
    }
}

/// Checks a whole query answer against the app hash of header `answer.height + 1`.
pub fn verify_query(app_hash: &[u8; 32], answer: &crate::QueryResult) -> Result<(), ProofError> {
    let op = answer.proof.as_ref().ok_or(ProofError::Invalid)?;
    if op.kind != crate::PROOF_OP_TYPE {
        return Err(ProofError::WrongType(op.kind.clone()));
    }
    if op.key != answer.key {
        return Err(ProofError::Invalid);
    }
    verify_value(app_hash, &answer.key, answer.value.as_deref(), &op.data)
}

#[cfg(all(test, feature = "chain"))]
mod tests {
    #[test]
    fn spec_is_the_trees_own() {
        assert_eq!(super::spec(), jmt::ics23_spec());
    }
}
