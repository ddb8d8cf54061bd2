//! Light-client attack evidence, as CometBFT's detector builds it (`light/detector.go`,
//! `types/evidence.go`): which height is common, which validators are byzantine, and the
//! JSON that `broadcast_evidence` takes.

use light_client::{Address, BlockIdFlag, Header, LightBlock, ValidatorSet};
use serde_json::{json, Value};

use crate::status::AttackKind;

/// Evidence that `conflicting` was signed against the chain `trusted` belongs to.
#[derive(Debug, Clone)]
pub struct AttackEvidence {
    /// The block that conflicts with `trusted`.
    pub conflicting: LightBlock,
    /// The height CometBFT's evidence names as common.
    pub common_height: u64,
    /// The time of that height.
    pub timestamp: light_client::Time,
    /// Total voting power of the set at that height.
    pub total_voting_power: u64,
    /// Byzantine validators, by voting power (highest first).
    pub byzantine: Vec<light_client::Validator>,
    /// The attack's kind.
    pub kind: AttackKind,
}

/// `true` when `conflicting` claims state the trusted header at its height does not have
/// (CometBFT's `ConflictingHeaderIsInvalid`): a lunatic attack.
fn conflicting_header_is_invalid(conflicting: &Header, trusted: &Header) -> bool {
    conflicting.validators_hash != trusted.validators_hash
        || conflicting.next_validators_hash != trusted.next_validators_hash
        || conflicting.consensus_hash != trusted.consensus_hash
        || conflicting.app_hash != trusted.app_hash
        || conflicting.last_results_hash != trusted.last_results_hash
}

impl AttackEvidence {
    /// CometBFT's `newLightClientAttackEvidence(conflicted, trusted, common)`.
    pub fn new(
        conflicting: &LightBlock,
        trusted: &LightBlock,
        common: &LightBlock,
    ) -> AttackEvidence {
        let lunatic = conflicting_header_is_invalid(
            &conflicting.signed_header.header,
            &trusted.signed_header.header,
        );
        let (base, kind) = if lunatic {
            (common, AttackKind::Lunatic)
        } else if conflicting.signed_header.commit.round == trusted.signed_header.commit.round {
            (trusted, AttackKind::Equivocation)
        } else {
            (trusted, AttackKind::Amnesia)
        };
        let byzantine = match kind {
            AttackKind::Lunatic => signers_in(conflicting, &common.validators),
            AttackKind::Equivocation => double_signers(conflicting, trusted),
            AttackKind::Amnesia => Vec::new(),
        };
        AttackEvidence {
            conflicting: LightBlock {
                next_validators: None,
                ..conflicting.clone()
            },
            common_height: base.height().value(),
            timestamp: base.time(),
            total_voting_power: base.validators.total_voting_power(),
            byzantine,
            kind,
        }
    }

    /// The byzantine validators' addresses.
    pub fn byzantine_addresses(&self) -> Vec<Address> {
        self.byzantine.iter().map(|v| v.address).collect()
    }

    /// CometBFT's amino JSON of `LightClientAttackEvidence`, as `broadcast_evidence` takes it.
    pub fn to_json(&self) -> Value {
        json!({
            "type": "tendermint/LightClientAttackEvidence",
            "value": {
                "conflicting_block": {
                    "signed_header": self.conflicting.signed_header,
                    "validator_set": self.conflicting.validators,
                },
                "common_height": self.common_height.to_string(),
                "byzantine_validators": self.byzantine,
                "total_voting_power": self.total_voting_power.to_string(),
                "timestamp": self.timestamp.to_rfc3339(),
            }
        })
    }
}

fn by_power(mut vals: Vec<light_client::Validator>) -> Vec<light_client::Validator> {
    // CometBFT's ValidatorsByVotingPower: power descending, then address ascending.
    vals.sort_by(|a, b| {
        b.voting_power
            .cmp(&a.voting_power)
            .then_with(|| a.address.as_bytes().cmp(b.address.as_bytes()))
    });
    vals
}

/// Validators of `set` that signed `block` for the block.
fn signers_in(block: &LightBlock, set: &ValidatorSet) -> Vec<light_client::Validator> {
    let vals = block
        .signed_header
        .commit
        .signatures
        .iter()
        .filter(|s| s.block_id_flag == BlockIdFlag::Commit)
        .filter_map(|s| s.validator_address.as_ref())
        .filter_map(|a| set.find(a).map(|(_, v)| v.clone()))
        .collect();
    by_power(vals)
}

/// Validators that signed both commits at the same index (equivocation).
fn double_signers(conflicting: &LightBlock, trusted: &LightBlock) -> Vec<light_client::Validator> {
    let a = &conflicting.signed_header.commit.signatures;
    let b = &trusted.signed_header.commit.signatures;
    let vals = a
        .iter()
        .zip(b.iter())
        .filter(|(x, y)| {
            x.block_id_flag != BlockIdFlag::Absent && y.block_id_flag != BlockIdFlag::Absent
        })
        .filter_map(|(x, _)| x.validator_address.as_ref())
        .filter_map(|addr| conflicting.validators.find(addr).map(|(_, v)| v.clone()))
        .collect();
    by_power(vals)
}
