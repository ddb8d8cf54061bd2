//! The `app_state` of CometBFT's genesis file: the registry's genesis as JSON.
//!
//! Its shape is `registry::Genesis` with `chain_id` and `genesis_time` optional:
//!
//! ```json
//! {
//!   "chain_id": "tradeseal-1",
//!   "genesis_time": 1767225600,
//!   "governance": { "threshold": 2, "keys": ["<hex ed25519 key>", "..."] },
//!   "issuers": [ { "id": "KE-KEPHIS", "legal_name": "...", "country": "KE",
//!                  "keys": ["<hex>"], "kinds": ["phytosanitary"],
//!                  "valid_from": 1767225600, "valid_until": 2082758400 } ]
//! }
//! ```
//!
//! A `chain_id` given must equal CometBFT's; a missing one is CometBFT's. A missing
//! `genesis_time` is CometBFT's genesis time in whole unix seconds.

use registry::state::{Governance, IssuerSpec};
use registry::Genesis;
use serde::{Deserialize, Serialize};

/// The `app_state` JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppState {
    /// The chain id; must equal CometBFT's `chain_id` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<String>,
    /// Genesis time (unix seconds); CometBFT's `genesis_time` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genesis_time: Option<u64>,
    /// Governance keys and threshold.
    pub governance: Governance,
    /// Issuers active from genesis.
    #[serde(default)]
    pub issuers: Vec<IssuerSpec>,
}

/// Why an `app_state` cannot start the chain.
#[derive(Debug, thiserror::Error)]
pub enum AppStateError {
    /// Not JSON of the documented shape.
    #[error("app_state is not a registry genesis: {0}")]
    Json(#[from] serde_json::Error),
    /// The chain ids differ.
    #[error("app_state chain_id {app_state:?} differs from CometBFT's chain_id {cometbft:?}")]
    ChainId {
        /// The app_state's.
        app_state: String,
        /// CometBFT's.
        cometbft: String,
    },
    /// The genesis time is before 1970.
    #[error("genesis time {0} is before 1970")]
    Time(i64),
    /// The registry refused the genesis.
    #[error("invalid registry genesis: {0}")]
    Invalid(#[from] registry::GenesisError),
}

impl AppState {
    /// The registry genesis for CometBFT's `chain_id` and genesis time (unix seconds),
    /// validated.
    pub fn into_genesis(self, chain_id: &str, time: i64) -> Result<Genesis, AppStateError> {
        if let Some(c) = &self.chain_id {
            if c != chain_id {
                return Err(AppStateError::ChainId {
                    app_state: c.clone(),
                    cometbft: chain_id.to_owned(),
                });
            }
        }
        let genesis_time = match self.genesis_time {
            Some(t) => t,
            None => u64::try_from(time).map_err(|_| AppStateError::Time(time))?,
        };
        let genesis = Genesis {
            chain_id: chain_id.to_owned(),
            genesis_time,
            governance: self.governance,
            issuers: self.issuers,
        };
        genesis.validate()?;
        Ok(genesis)
    }

    /// Parses `app_state` bytes (CometBFT passes the JSON value's text).
    pub fn parse(bytes: &[u8]) -> Result<Self, AppStateError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// The full form of a registry genesis (both optional fields written).
    pub fn from_genesis(g: &Genesis) -> Self {
        Self {
            chain_id: Some(g.chain_id.clone()),
            genesis_time: Some(g.genesis_time),
            governance: g.governance.clone(),
            issuers: g.issuers.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry::devkit::demo_genesis;

    #[test]
    fn a_full_app_state_is_the_registry_genesis() {
        let g = demo_genesis("tradeseal-1", 1_767_225_600);
        let json = serde_json::to_vec(&AppState::from_genesis(&g)).unwrap();
        // The same text parses as registry::Genesis: the shapes agree.
        let direct: Genesis = serde_json::from_slice(&json).unwrap();
        assert_eq!(direct, g);
        let parsed = AppState::parse(&json).unwrap();
        assert_eq!(parsed.into_genesis("tradeseal-1", 5).unwrap(), g);
    }

    #[test]
    fn missing_fields_come_from_cometbft_and_mismatches_are_refused() {
        let g = demo_genesis("tradeseal-1", 1_767_225_600);
        let mut s = AppState::from_genesis(&g);
        s.chain_id = None;
        s.genesis_time = None;
        let json = serde_json::to_vec(&s).unwrap();
        let got = AppState::parse(&json)
            .unwrap()
            .into_genesis("other-chain", 42)
            .unwrap();
        assert_eq!(got.chain_id, "other-chain");
        assert_eq!(got.genesis_time, 42);
        let full = AppState::from_genesis(&g);
        assert!(matches!(
            full.clone().into_genesis("other-chain", 42),
            Err(AppStateError::ChainId { .. })
        ));
        let mut bad = full;
        bad.governance.threshold = 9;
        assert!(matches!(
            bad.into_genesis("tradeseal-1", 42),
            Err(AppStateError::Invalid(_))
        ));
        assert!(AppState::parse(b"{\"governance\":1}").is_err());
        assert!(
            AppState::parse(b"{\"governance\":{\"threshold\":1,\"keys\":[]},\"x\":1}").is_err()
        );
    }
}
