//! `broadcast_evidence`: reading a light-client attack in CometBFT's amino JSON, checking it
//! the way CometBFT's RPC does before its evidence pool (shape errors are -32602, evidence
//! that fails its basic checks is -32603), and the record each node keeps of what it got.

use light_client::types::{Height, LightBlock, SignedHeader, Time, Validator, ValidatorSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::jsonrpc::RpcError;

/// The amino type name of the one kind of evidence accepted.
pub const LIGHT_CLIENT_ATTACK: &str = "tendermint/LightClientAttackEvidence";
/// The amino type name of duplicate-vote evidence (recognised, not accepted: the devnet's
/// validators never double-sign).
pub const DUPLICATE_VOTE: &str = "tendermint/DuplicateVoteEvidence";

/// `{"type": ..., "value": ...}`.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    value: serde_json::Value,
}

/// `LightClientAttackEvidence`'s JSON.
#[derive(Deserialize)]
struct LightClientAttack {
    conflicting_block: ConflictingBlock,
    common_height: Height,
    #[serde(default)]
    byzantine_validators: Option<Vec<Validator>>,
    #[serde(with = "int64_string")]
    total_voting_power: i64,
    timestamp: Time,
}

#[derive(Deserialize)]
struct ConflictingBlock {
    signed_header: SignedHeader,
    validator_set: ValidatorSet,
}

mod int64_string {
    use serde::{Deserialize as _, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom(format!("expected an int64 string, got {s:?}")))
    }
}

/// What a node keeps of a piece of evidence it accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceRecord {
    /// Upper-case hex SHA-256 of the evidence JSON as received (the answer's `hash`).
    pub hash: String,
    /// The amino type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Height of the conflicting block.
    pub conflicting_height: u64,
    /// Last height at which the attacked light client and the chain agreed.
    pub common_height: u64,
    /// Hash of the conflicting header (upper-case hex).
    pub conflicting_header_hash: String,
    /// Number of validators named as byzantine.
    pub byzantine_validators: usize,
    /// The evidence's own timestamp (RFC 3339).
    pub timestamp: String,
    /// When the node received it (RFC 3339).
    pub received_at: String,
}

fn path_error<T>(
    result: Result<T, serde_path_to_error::Error<serde_json::Error>>,
    prefix: &str,
) -> Result<T, RpcError> {
    result.map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            prefix.to_string()
        } else {
            format!("{prefix}.{path}")
        };
        RpcError::params(format!("evidence: at {at}: {}", e.into_inner()))
    })
}

/// Reads and checks `text` (the `evidence` parameter as received) against the node's chain:
/// its id and latest height. Malformed JSON, a missing or mistyped field and an unknown type
/// are -32602; evidence that reads but fails CometBFT's basic checks is -32603.
pub fn check(text: &str, chain_id: &str, latest_height: u64) -> Result<EvidenceRecord, RpcError> {
    let hash = hex::encode_upper(Sha256::digest(text.as_bytes()));
    let mut de = serde_json::Deserializer::from_str(text);
    let envelope: Envelope = path_error(serde_path_to_error::deserialize(&mut de), "evidence")?;
    de.end()
        .map_err(|e| RpcError::params(format!("evidence: trailing data: {e}")))?;
    match envelope.kind.as_str() {
        LIGHT_CLIENT_ATTACK => {}
        DUPLICATE_VOTE => {
            return Err(RpcError::internal(
                "duplicate-vote evidence is not accepted by this network (its validators never double-sign)",
            ))
        }
        other => {
            return Err(RpcError::params(format!(
                "evidence: unknown type {other:?}, expected {LIGHT_CLIENT_ATTACK:?}"
            )))
        }
    }
    let ev: LightClientAttack =
        path_error(serde_path_to_error::deserialize(envelope.value), "value")?;

    let failed = |why: String| RpcError::internal(format!("evidence failed basic checks: {why}"));
    let header = &ev.conflicting_block.signed_header.header;
    let conflicting_height = header.height.value();
    let common_height = ev.common_height.value();
    if header.chain_id.as_str() != chain_id {
        return Err(failed(format!(
            "conflicting block is for chain {:?}, this is {chain_id:?}",
            header.chain_id.as_str()
        )));
    }
    if common_height == 0 {
        return Err(failed("common height must be positive".into()));
    }
    if common_height > conflicting_height {
        return Err(failed(format!(
            "common height {common_height} is ahead of the conflicting block height {conflicting_height}"
        )));
    }
    if common_height > latest_height {
        return Err(failed(format!(
            "common height {common_height} is ahead of this node's height {latest_height}"
        )));
    }
    if ev.total_voting_power <= 0 {
        return Err(failed(format!(
            "total voting power must be positive, got {}",
            ev.total_voting_power
        )));
    }
    let block = LightBlock {
        signed_header: ev.conflicting_block.signed_header.clone(),
        validators: ev.conflicting_block.validator_set.clone(),
        next_validators: None,
    };
    light_client::verify::validate_light_block(&block)
        .map_err(|e| failed(format!("conflicting block: {e}")))?;
    let byzantine = ev.byzantine_validators.unwrap_or_default();
    Ok(EvidenceRecord {
        hash,
        kind: envelope.kind,
        conflicting_height,
        common_height,
        conflicting_header_hash: header.hash().to_hex(),
        byzantine_validators: byzantine.len(),
        timestamp: serde_json::to_value(ev.timestamp)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        received_at: crate::seal::now().to_rfc3339(),
    })
}
