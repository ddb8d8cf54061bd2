//! The registry's state proofs for the light node: ICS-23 over the registry's Jellyfish
//! Merkle tree, one `ics23:jmt` proof operation per answer.

use light_node::{ProofOp, StateVerifier};

/// Checks registry query proofs (`registry::proof`).
#[derive(Debug, Default, Clone, Copy)]
pub struct RegistryProofs;

impl StateVerifier for RegistryProofs {
    fn verify(
        &self,
        app_hash: &[u8],
        key: &[u8],
        value: Option<&[u8]>,
        proof: &[ProofOp],
    ) -> Result<(), String> {
        let root: &[u8; 32] = app_hash
            .try_into()
            .map_err(|_| format!("app hash is {} bytes, not 32", app_hash.len()))?;
        let [op] = proof else {
            return Err(format!("{} proof operations, expected 1", proof.len()));
        };
        if op.kind != registry::PROOF_OP_TYPE {
            return Err(format!(
                "proof type {:?}, expected {:?}",
                op.kind,
                registry::PROOF_OP_TYPE
            ));
        }
        if op.key != key {
            return Err("the proof is for another key".into());
        }
        registry::proof::verify_value(root, key, value, &op.data).map_err(|e| e.to_string())
    }
}

/// The state key and `abci_query` path for a registry path (`/store/<key>`) or a bare key.
pub fn registry_query(path_or_key: &str) -> (String, Vec<u8>) {
    match path_or_key.strip_prefix("/store/") {
        Some(key) => (path_or_key.to_owned(), key.as_bytes().to_vec()),
        None => (
            format!("/store/{path_or_key}"),
            path_or_key.as_bytes().to_vec(),
        ),
    }
}
