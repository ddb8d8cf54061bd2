//! What the app reports about itself and its light node.

use serde::{Deserialize, Serialize};

/// Static facts about the running app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    /// `linux`, `macos`, `windows`, `android` or `ios`.
    pub platform: String,
}

/// The chain the light node is configured for: its root of trust and its full nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSummary {
    pub chain_id: String,
    pub checkpoint_height: u64,
    /// Upper-case hex of the trusted header's hash.
    pub checkpoint_hash: String,
    pub trusting_period_secs: u64,
    pub primary: String,
    pub witnesses: Vec<String>,
}

/// The light node's state as the status bar and the Network page show it.
///
/// Syncing, synced, stale knowledge, expired trust and a detected fork arrive with the light
/// node itself; today the app knows whether it has a usable root of trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NodeStatus {
    /// No chain config (root of trust) has been chosen yet.
    NotConfigured,
    /// A chain config was found and is valid; header sync has not started.
    Configured { chain: ChainSummary },
    /// A chain config was found but cannot be used; `source` names the file.
    ConfigInvalid { source: String, reason: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_pinned() {
        assert_eq!(
            serde_json::to_string(&NodeStatus::NotConfigured).unwrap(),
            r#"{"state":"not_configured"}"#
        );
        let invalid = NodeStatus::ConfigInvalid {
            source: "chain.json".into(),
            reason: "bad".into(),
        };
        assert_eq!(
            serde_json::to_string(&invalid).unwrap(),
            r#"{"state":"config_invalid","source":"chain.json","reason":"bad"}"#
        );
    }
}
