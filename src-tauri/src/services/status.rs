//! The light node's status as the UI shows it, starting from the chain config (root of trust).

use std::path::{Path, PathBuf};

use light_client::config::ChainConfig;
use tradeseal_api::{ChainSummary, NodeStatus};

/// Reports the light node's state. It reads the chain config once, at start; the light node
/// service (header sync, witnesses) builds on the config found here.
#[derive(Debug)]
pub struct StatusService {
    chain: ChainSource,
}

/// What was found where the chain config should be.
#[derive(Debug)]
enum ChainSource {
    Missing,
    Valid(ChainConfig),
    Invalid { source: String, reason: String },
}

impl StatusService {
    /// Use the chain config at `path` if there is one. A missing file means "not configured";
    /// an unreadable or invalid one is reported with its reason and left untouched.
    pub fn load(path: Option<&Path>) -> Self {
        let Some(path) = path.filter(|p| p.exists()) else {
            return Self {
                chain: ChainSource::Missing,
            };
        };
        let parsed = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|text| ChainConfig::from_json(&text).map_err(|e| e.to_string()));
        let chain = match parsed {
            Ok(config) => ChainSource::Valid(config),
            Err(reason) => ChainSource::Invalid {
                source: path.display().to_string(),
                reason,
            },
        };
        Self { chain }
    }

    pub fn status(&self) -> NodeStatus {
        match &self.chain {
            ChainSource::Missing => NodeStatus::NotConfigured,
            ChainSource::Valid(config) => NodeStatus::Configured {
                chain: summary(config),
            },
            ChainSource::Invalid { source, reason } => NodeStatus::ConfigInvalid {
                source: source.clone(),
                reason: reason.clone(),
            },
        }
    }

    /// The root of trust, if a valid one was found.
    pub fn chain_config(&self) -> Option<&ChainConfig> {
        match &self.chain {
            ChainSource::Valid(config) => Some(config),
            _ => None,
        }
    }
}

/// Where the chain config comes from: `TRADESEAL_CHAIN_CONFIG` (set by `cargo xtask dev` to the
/// local network's file) or `chain-config.json` in the app's configuration directory.
pub fn chain_config_path(config_dir: &Path) -> PathBuf {
    std::env::var_os("TRADESEAL_CHAIN_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| config_dir.join("chain-config.json"))
}

fn summary(config: &ChainConfig) -> ChainSummary {
    ChainSummary {
        chain_id: config.chain_id.as_str().to_owned(),
        checkpoint_height: config.checkpoint.height.value(),
        checkpoint_hash: config.checkpoint.hash.to_string(),
        trusting_period_secs: config.trusting_period.as_secs(),
        primary: config.primary.clone(),
        witnesses: config.witnesses.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"{
        "chain_id": "tradeseal-test-1",
        "checkpoint": { "height": "7", "hash": "A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90" },
        "trusting_period": "1209600s",
        "trust_level": "1/3",
        "max_clock_drift": "10s",
        "primary": "http://127.0.0.1:26657",
        "witnesses": ["http://127.0.0.1:26658"]
    }"#;

    #[test]
    fn missing_file_is_not_configured() {
        let dir = tempfile::tempdir().unwrap();
        let service = StatusService::load(Some(&dir.path().join("chain-config.json")));
        assert_eq!(service.status(), NodeStatus::NotConfigured);
        assert_eq!(
            StatusService::load(None).status(),
            NodeStatus::NotConfigured
        );
    }

    #[test]
    fn valid_file_is_configured() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain-config.json");
        std::fs::write(&path, VALID).unwrap();
        let service = StatusService::load(Some(&path));
        let NodeStatus::Configured { chain } = service.status() else {
            panic!("expected configured, got {:?}", service.status());
        };
        assert_eq!(chain.chain_id, "tradeseal-test-1");
        assert_eq!(chain.checkpoint_height, 7);
        assert_eq!(chain.trusting_period_secs, 14 * 24 * 3600);
        assert_eq!(chain.witnesses, ["http://127.0.0.1:26658"]);
        assert!(service.chain_config().is_some());
    }

    #[test]
    fn invalid_file_says_why_and_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain-config.json");
        let bad = VALID.replace("\"7\"", "\"0\"");
        std::fs::write(&path, &bad).unwrap();
        let NodeStatus::ConfigInvalid { source, reason } =
            StatusService::load(Some(&path)).status()
        else {
            panic!("expected invalid");
        };
        assert!(source.ends_with("chain-config.json"));
        assert!(reason.contains("checkpoint.height"), "{reason}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), bad);

        std::fs::write(&path, "{ not json").unwrap();
        assert!(matches!(
            StatusService::load(Some(&path)).status(),
            NodeStatus::ConfigInvalid { .. }
        ));
    }
}
