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
//! `genesis_time` is CometBFT's genesis time in whole unix seconds. An optional `limits`
//! object sets the chain's [`ChainLimits`] (every field optional, defaults otherwise):
//! `ProcessProposal` judges proposals by them, so they belong to the chain, not to a node.
//!
//! The consensus validators are CometBFT's (`InitChain`'s `validators`, from its genesis
//! file's `validators`): the registry records them so that governance can change the set
//! (`SetValidator`). An `app_state` may list them too (`"validators": [{"pub_key": "<hex>",
//! "power": 10}]`): they must then be the same set as CometBFT's, or, when CometBFT's genesis
//! lists none, they are the set `InitChain` answers with.
//!
//! The node keeps the full form (both optional fields, the limits and the validators written)
//! as its `genesis.json`, and rebuilds the registry from it alone.

use registry::state::{Governance, IssuerSpec, Validator};
use registry::Genesis;
use serde::{Deserialize, Serialize};

/// Limits every validator applies alike: `CheckTx` refuses larger transactions,
/// `PrepareProposal` keeps within them and `ProcessProposal` rejects proposals over them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainLimits {
    /// Largest transaction (bytes), 1 to the registry's [`registry::MAX_TX_BYTES`].
    pub max_tx_bytes: usize,
    /// Most transactions in one block, at least 1.
    pub max_block_txs: usize,
    /// Most transaction bytes in one block, counted as CometBFT counts them (each
    /// transaction's protobuf tag and length included); at least one largest transaction. A
    /// proposal also respects CometBFT's `max_tx_bytes`, the smaller applying.
    pub max_block_bytes: u64,
}

impl Default for ChainLimits {
    fn default() -> Self {
        Self {
            max_tx_bytes: registry::MAX_TX_BYTES,
            max_block_txs: 2000,
            max_block_bytes: 4 * 1024 * 1024,
        }
    }
}

impl ChainLimits {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), AppStateError> {
        let bad = |reason: &str| Err(AppStateError::Limits(reason.to_owned()));
        if self.max_tx_bytes == 0 || self.max_tx_bytes > registry::MAX_TX_BYTES {
            return bad("max_tx_bytes must be 1 to 16384");
        }
        if self.max_block_txs == 0 {
            return bad("max_block_txs must be at least 1");
        }
        if self.max_block_bytes < crate::app::proto_size(self.max_tx_bytes) {
            return bad("max_block_bytes must hold at least one largest transaction");
        }
        Ok(())
    }
}

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
    /// The chain's limits; [`ChainLimits::default`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ChainLimits>,
    /// The consensus validators; CometBFT's when absent (see the module documentation).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validators: Vec<Validator>,
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
    /// A limit is out of its range.
    #[error("app_state limits: {0}")]
    Limits(String),
    /// The stored genesis lacks its chain id or time.
    #[error("the stored genesis lacks {0}")]
    Incomplete(&'static str),
    /// The genesis time is before 1970.
    #[error("genesis time {0} is before 1970")]
    Time(i64),
    /// The registry refused the genesis.
    #[error("invalid registry genesis: {0}")]
    Invalid(#[from] registry::GenesisError),
    /// The `app_state`'s validators are not CometBFT's.
    #[error("app_state validators differ from CometBFT's genesis validators")]
    Validators,
}

impl AppState {
    /// The registry genesis for CometBFT's `chain_id`, genesis time (unix seconds) and
    /// validators, and the chain's limits, validated. The validators are CometBFT's, or the
    /// `app_state`'s when CometBFT gives none; both given must be the same set (in any
    /// order). The genesis lists them ordered by key.
    pub fn into_genesis(
        self,
        chain_id: &str,
        time: i64,
        validators: &[Validator],
    ) -> Result<(Genesis, ChainLimits), AppStateError> {
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
        let limits = self.limits.unwrap_or_default();
        limits.validate()?;
        let sorted = |v: &[Validator]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        let validators = match (self.validators.is_empty(), validators.is_empty()) {
            (_, true) => sorted(&self.validators),
            (true, false) => sorted(validators),
            (false, false) => {
                let ours = sorted(&self.validators);
                if ours != sorted(validators) {
                    return Err(AppStateError::Validators);
                }
                ours
            }
        };
        let genesis = Genesis {
            chain_id: chain_id.to_owned(),
            genesis_time,
            governance: self.governance,
            issuers: self.issuers,
            validators,
        };
        genesis.validate()?;
        Ok((genesis, limits))
    }

    /// [`AppState::into_genesis`] of the full form the node stores.
    pub fn into_stored(self) -> Result<(Genesis, ChainLimits), AppStateError> {
        let chain_id = self
            .chain_id
            .clone()
            .ok_or(AppStateError::Incomplete("chain_id"))?;
        let time = self
            .genesis_time
            .ok_or(AppStateError::Incomplete("genesis_time"))?;
        let time = i64::try_from(time).map_err(|_| AppStateError::Incomplete("genesis_time"))?;
        self.into_genesis(&chain_id, time, &[])
    }

    /// Parses `app_state` bytes (CometBFT passes the JSON value's text).
    pub fn parse(bytes: &[u8]) -> Result<Self, AppStateError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// The full form of a registry genesis and limits (every optional field written).
    pub fn from_genesis(g: &Genesis, limits: ChainLimits) -> Self {
        Self {
            chain_id: Some(g.chain_id.clone()),
            genesis_time: Some(g.genesis_time),
            governance: g.governance.clone(),
            issuers: g.issuers.clone(),
            limits: Some(limits),
            validators: g.validators.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry::devkit::demo_genesis;

    #[test]
    fn a_full_app_state_holds_the_registry_genesis() {
        let g = demo_genesis("tradeseal-1", 1_767_225_600);
        let mut state = AppState::from_genesis(&g, ChainLimits::default());
        state.limits = None;
        let json = serde_json::to_vec(&state).unwrap();
        // Without limits the text is a registry::Genesis: the shapes agree.
        let direct: Genesis = serde_json::from_slice(&json).unwrap();
        assert_eq!(direct, g);
        let parsed = AppState::parse(&json).unwrap();
        assert_eq!(
            parsed.into_genesis("tradeseal-1", 5, &[]).unwrap(),
            (g.clone(), ChainLimits::default())
        );
        let full = AppState::from_genesis(&g, ChainLimits::default());
        let back = AppState::parse(&serde_json::to_vec(&full).unwrap()).unwrap();
        assert_eq!(back.into_stored().unwrap(), (g, ChainLimits::default()));
    }

    #[test]
    fn missing_fields_come_from_cometbft_and_mismatches_are_refused() {
        let g = demo_genesis("tradeseal-1", 1_767_225_600);
        let mut s = AppState::from_genesis(&g, ChainLimits::default());
        s.chain_id = None;
        s.genesis_time = None;
        s.limits = None;
        let json = serde_json::to_vec(&s).unwrap();
        let (got, _) = AppState::parse(&json)
            .unwrap()
            .into_genesis("other-chain", 42, &[])
            .unwrap();
        assert_eq!(got.chain_id, "other-chain");
        assert_eq!(got.genesis_time, 42);
        assert!(matches!(
            AppState::parse(&json).unwrap().into_stored(),
            Err(AppStateError::Incomplete("chain_id"))
        ));
        let full = AppState::from_genesis(&g, ChainLimits::default());
        assert!(matches!(
            full.clone().into_genesis("other-chain", 42, &[]),
            Err(AppStateError::ChainId { .. })
        ));
        let mut bad = full;
        bad.governance.threshold = 9;
        assert!(matches!(
            bad.into_genesis("tradeseal-1", 42, &[]),
            Err(AppStateError::Invalid(_))
        ));
        assert!(AppState::parse(b"{\"governance\":1}").is_err());
        assert!(
            AppState::parse(b"{\"governance\":{\"threshold\":1,\"keys\":[]},\"x\":1}").is_err()
        );
    }

    #[test]
    fn limits_are_optional_field_by_field_and_checked() {
        let g = demo_genesis("tradeseal-1", 1_767_225_600);
        let mut v =
            serde_json::to_value(AppState::from_genesis(&g, ChainLimits::default())).unwrap();
        v["limits"] = serde_json::json!({ "max_block_txs": 10 });
        let state = AppState::parse(v.to_string().as_bytes()).unwrap();
        let (_, limits) = state.into_genesis("tradeseal-1", 0, &[]).unwrap();
        assert_eq!(
            limits,
            ChainLimits {
                max_block_txs: 10,
                ..ChainLimits::default()
            }
        );
        for bad in [
            serde_json::json!({ "max_tx_bytes": 0 }),
            serde_json::json!({ "max_tx_bytes": 16385 }),
            serde_json::json!({ "max_block_txs": 0 }),
            serde_json::json!({ "max_block_bytes": 100 }),
        ] {
            v["limits"] = bad.clone();
            let state = AppState::parse(v.to_string().as_bytes()).unwrap();
            assert!(
                matches!(
                    state.into_genesis("tradeseal-1", 0, &[]),
                    Err(AppStateError::Limits(_))
                ),
                "{bad}"
            );
        }
        v["limits"] = serde_json::json!({ "max_gas": 1 });
        assert!(AppState::parse(v.to_string().as_bytes()).is_err());
    }

    #[test]
    fn validators_come_from_cometbft_or_the_app_state_and_must_agree() {
        use registry::devkit::dev_public_key;
        let v = |label: &str, power| Validator {
            pub_key: dev_public_key(label),
            power,
        };
        let (a, b) = (v("validator-a", 10), v("validator-b", 5));
        let g = demo_genesis("tradeseal-1", 1_767_225_600);
        let state = AppState::from_genesis(&g, ChainLimits::default());
        // CometBFT's, kept ordered by key, and stored.
        let (got, limits) = state
            .clone()
            .into_genesis("tradeseal-1", 0, &[a, b])
            .unwrap();
        let mut want = vec![a, b];
        want.sort();
        assert_eq!(got.validators, want);
        let stored = AppState::from_genesis(&got, limits);
        let json = serde_json::to_vec(&stored).unwrap();
        assert_eq!(
            AppState::parse(&json).unwrap().into_stored().unwrap().0,
            got
        );
        // The app_state's, when CometBFT gives none; the same set in another order is fine.
        let mut listed = state.clone();
        listed.validators = vec![b, a];
        let (only, _) = listed.clone().into_genesis("tradeseal-1", 0, &[]).unwrap();
        assert_eq!(only.validators, want);
        assert_eq!(
            listed
                .clone()
                .into_genesis("tradeseal-1", 0, &[a, b])
                .unwrap()
                .0,
            only
        );
        assert!(matches!(
            listed.into_genesis("tradeseal-1", 0, &[a]),
            Err(AppStateError::Validators)
        ));
        // Without validators the stored form is as before (no `validators` field).
        assert!(!String::from_utf8(serde_json::to_vec(&state).unwrap())
            .unwrap()
            .contains("validators"));
        // The registry's rules apply.
        assert!(matches!(
            state.into_genesis("tradeseal-1", 0, &[v("validator-a", 0)]),
            Err(AppStateError::Invalid(_))
        ));
    }
}
