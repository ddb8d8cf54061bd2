//! The genesis: chain id, genesis time, governance, the initial issuers and the consensus
//! validators.

use serde::{Deserialize, Serialize};

use crate::codec::DecodeError;
use crate::error::GenesisError;
use crate::state::{
    Governance, IssuerSpec, Validator, MAX_TOTAL_VOTING_POWER, MAX_VALIDATORS, MAX_VALIDATOR_POWER,
};
use crate::tx::MAX_CHAIN_ID_LEN;

/// What the chain starts from. Serializable as JSON (keys as hex, kinds as snake_case names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// The chain id (1-50 bytes), bound into every transaction and certificate signature.
    pub chain_id: String,
    /// Genesis time (unix seconds); the time of state version 0.
    pub genesis_time: u64,
    /// The governance keys and threshold.
    pub governance: Governance,
    /// Issuers active from genesis.
    pub issuers: Vec<IssuerSpec>,
    /// The consensus validators at genesis (CometBFT's `InitChain` validators): 0 to 150
    /// distinct valid ed25519 keys, each of power 1 to 2^40. Empty in a genesis from before
    /// validator changes (and omitted from its JSON): the registry then knows no validator
    /// set and refuses `SetValidator` (code 25), and its genesis state is the same as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validators: Vec<Validator>,
}

impl Genesis {
    /// Checks every rule: chain id length, governance, issuer fields, unique ids, that no
    /// key is used twice across governance and issuers, and the validators' rules
    /// ([`Genesis::validate_validators`]).
    pub fn validate(&self) -> Result<(), GenesisError> {
        if self.chain_id.is_empty() || self.chain_id.len() > MAX_CHAIN_ID_LEN {
            return Err(DecodeError::InvalidField {
                field: "chain_id",
                reason: "must be 1 to 50 bytes",
            }
            .into());
        }
        self.governance.validate()?;
        let mut ids = std::collections::BTreeSet::new();
        let mut keys = std::collections::BTreeSet::new();
        for k in &self.governance.keys {
            keys.insert(*k);
        }
        for i in &self.issuers {
            i.validate()?;
            if !ids.insert(i.id.clone()) {
                return Err(GenesisError::DuplicateIssuer(i.id.clone()));
            }
            for k in &i.keys {
                if !keys.insert(*k) {
                    return Err(GenesisError::DuplicateKey(*k));
                }
            }
        }
        self.validate_validators()
    }

    /// The validators: at most 150, distinct valid ed25519 keys, powers 1 to 2^40 (a total
    /// within CometBFT's bound follows). Validator keys are consensus keys: they may not sign
    /// transactions, so they are not checked against governance and issuer keys.
    pub fn validate_validators(&self) -> Result<(), GenesisError> {
        let bad = |reason: &'static str| {
            Err(DecodeError::InvalidField {
                field: "validators",
                reason,
            }
            .into())
        };
        if self.validators.len() > MAX_VALIDATORS {
            return bad("at most 150 validators");
        }
        let mut seen = std::collections::BTreeSet::new();
        let mut total = 0u64;
        for v in &self.validators {
            v.pub_key.check_valid("validators.pub_key")?;
            if !seen.insert(v.pub_key) {
                return Err(GenesisError::DuplicateValidator(v.pub_key));
            }
            if v.power == 0 || v.power > MAX_VALIDATOR_POWER {
                return bad("each power must be 1 to 2^40");
            }
            total = total.saturating_add(v.power);
        }
        if total > MAX_TOTAL_VOTING_POWER {
            return bad("total power over CometBFT's maximum");
        }
        Ok(())
    }
}
