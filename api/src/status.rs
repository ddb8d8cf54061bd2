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

/// The light node's state as the status bar shows it.
///
/// Today the node has no chain configured; the variants for a running node (syncing, synced,
/// stale knowledge, expired trust, detected fork) arrive with the light node itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NodeStatus {
    /// No chain config (root of trust) has been chosen yet.
    NotConfigured,
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
    }
}
