//! The genesis: chain id, genesis time, governance and the initial issuers.

use serde::{Deserialize, Serialize};

use crate::codec::DecodeError;
use crate::error::GenesisError;
use crate::state::{Governance, IssuerSpec};
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
}

impl Genesis {
    /// Checks every rule: chain id length, governance, issuer fields, unique ids, and that no
    /// key is used twice across governance and issuers.
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
        Ok(())
    }
}
