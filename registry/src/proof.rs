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

/// The ICS-23 proof spec of the registry's tree.
pub fn spec() -> ics23::ProofSpec {
    jmt::ics23_spec()
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
