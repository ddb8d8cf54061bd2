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
    /// Short fingerprint of the root of trust (chain id and checkpoint), for comparing with
    /// what the network's operator publishes: `XXXX-XXXX-XXXX-XXXX` (hex).
    pub fingerprint: String,
    pub primary: String,
    pub witnesses: Vec<String>,
}

/// The newest header the light node has verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedHead {
    pub height: u64,
    /// Header time, RFC 3339 UTC.
    pub time: String,
    /// Seconds between the header time and when this status was made.
    pub age_secs: u64,
    /// Upper-case hex of the header hash.
    pub hash: String,
}

/// How a full node behaves, as the light node last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeHealth {
    /// Not contacted yet.
    Unknown,
    /// Answered correctly.
    Ok,
    /// Answers, but its latest block is well behind the others.
    Lagging,
    /// Did not answer in time, or could not be reached.
    Silent,
    /// Answered with something malformed or unverifiable (garbage, forged data, bad proofs).
    Faulty,
    /// Served a header that conflicts with the verified chain.
    Forked,
}

/// One full node the light node talks to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeReport {
    pub url: String,
    /// `true` for the primary (headers come from it), `false` for a witness.
    pub primary: bool,
    pub health: NodeHealth,
    /// The latest height it reported, if any.
    pub latest_height: Option<u64>,
    /// What went wrong last, in words (empty when healthy).
    pub detail: Option<String>,
}

/// The evidence of a fork (light-client attack), as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkReport {
    /// The height both chains last agreed on.
    pub common_height: u64,
    /// The height at which the conflicting headers were seen.
    pub conflict_height: u64,
    /// The node whose header conflicts with the verified chain.
    pub witness: String,
    /// The header hash the light node had verified (from the primary).
    pub trusted_hash: String,
    /// The header hash the witness served.
    pub conflicting_hash: String,
    /// `equivocation`, `lunatic` or `amnesia`.
    pub attack: String,
    /// Addresses of validators that signed both chains (or the conflicting one).
    pub byzantine_validators: Vec<String>,
    /// Where the evidence was kept on this device.
    pub evidence_file: String,
    /// Nodes the evidence was submitted to, and whether they accepted it.
    pub submitted_to: Vec<String>,
    /// When the fork was detected, RFC 3339 UTC.
    pub detected_at: String,
}

/// What the light node is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum NodeState {
    /// No chain config (root of trust) has been chosen yet.
    NotConfigured,
    /// A chain config was found but cannot be used; `source` names the file.
    ConfigInvalid { source: String, reason: String },
    /// Configured; the first header has not been fetched yet.
    Starting,
    /// Verifying headers from `from` to `to`; `current` is the newest verified so far.
    Syncing { from: u64, to: u64, current: u64 },
    /// Verified up to the chain's latest header.
    Synced,
    /// No new header for longer than a few block intervals: knowledge is ageing.
    Stale { reason: String },
    /// No full node can be reached; what was verified before is still shown.
    Offline { reason: String },
    /// The newest trusted header is older than the trusting period: the node has stopped and
    /// needs a fresh checkpoint from the network's operator.
    TrustExpired { expired_at: String },
    /// A witness served a conflicting, validly signed header: the node trusts nothing new.
    ForkDetected { fork: ForkReport },
}

/// The light node's state as the status bar and the Network page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    #[serde(flatten)]
    pub state: NodeState,
    /// The chain it is configured for (absent when not configured or invalid).
    pub chain: Option<ChainSummary>,
    /// The newest verified header.
    pub head: Option<TrustedHead>,
    /// Every full node it talks to: the primary first.
    pub nodes: Vec<NodeReport>,
    /// Things the user should know that do not stop the node (e.g. a database moved aside).
    pub notices: Vec<String>,
}

impl NodeStatus {
    /// A status with only a state (no chain, head or nodes).
    pub fn bare(state: NodeState) -> NodeStatus {
        NodeStatus {
            state,
            chain: None,
            head: None,
            nodes: Vec::new(),
            notices: Vec::new(),
        }
    }
}

/// A chain config shown to the user before it becomes the root of trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainPreview {
    pub chain: ChainSummary,
    /// `true` when a different chain config is in use now (importing replaces it and starts
    /// a fresh header store).
    pub replaces_current: bool,
}

/// A chain config to import, as text (a file's content or a scanned QR code's text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainImport {
    pub text: String,
    /// Must be `true` to replace a chain config that is already in use.
    pub confirm_replace: bool,
}

/// A full node to add or remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEdit {
    pub url: String,
    /// Add as (or remove from) the primary instead of a witness.
    pub primary: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_pinned() {
        assert_eq!(
            serde_json::to_string(&NodeStatus::bare(NodeState::NotConfigured)).unwrap(),
            r#"{"state":"not_configured","chain":null,"head":null,"nodes":[],"notices":[]}"#
        );
        let invalid = NodeStatus::bare(NodeState::ConfigInvalid {
            source: "chain.json".into(),
            reason: "bad".into(),
        });
        assert_eq!(
            serde_json::to_string(&invalid).unwrap(),
            r#"{"state":"config_invalid","source":"chain.json","reason":"bad","chain":null,"head":null,"nodes":[],"notices":[]}"#
        );
        let syncing = NodeStatus::bare(NodeState::Syncing {
            from: 1,
            to: 9,
            current: 5,
        });
        let text = serde_json::to_string(&syncing).unwrap();
        assert!(text.starts_with(r#"{"state":"syncing","from":1,"to":9,"current":5"#));
        assert_eq!(serde_json::from_str::<NodeStatus>(&text).unwrap(), syncing);
        assert_eq!(
            serde_json::to_string(&NodeHealth::Forked).unwrap(),
            r#""forked""#
        );
    }
}
