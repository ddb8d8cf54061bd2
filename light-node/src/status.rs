//! What the light node publishes about itself: its [`Status`], watched by the app and the CLI
//! (a `tokio::sync::watch` channel: every change reaches every watcher, nobody polls).

use light_client::{Address, Hash, Height, Time};
use serde::{Deserialize, Serialize};

/// How a full node behaved when last asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Not asked yet.
    Unknown,
    /// Answered correctly.
    Ok,
    /// Answered, but is behind the chain.
    Lagging,
    /// Did not answer (timeout, connection refused).
    Silent,
    /// Answered wrongly (garbage, forged or unverifiable data).
    Faulty,
    /// Served a validly signed header that conflicts with the verified chain.
    Forked,
}

/// One full node as the light node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// Its URL.
    pub url: String,
    /// Headers come from the primary; witnesses cross-check them.
    pub primary: bool,
    /// How it behaved.
    pub health: Health,
    /// Its latest height, when it said.
    pub latest_height: Option<Height>,
    /// What went wrong, in words.
    pub detail: Option<String>,
}

/// The kind of light-client attack (CometBFT's classification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttackKind {
    /// The conflicting header was made by validators that signed two blocks at one height.
    Equivocation,
    /// The conflicting header has state (validators, app hash...) the chain never had.
    Lunatic,
    /// Same validators, another round: who is faulty cannot be told from the headers.
    Amnesia,
}

impl AttackKind {
    /// `equivocation`, `lunatic` or `amnesia`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttackKind::Equivocation => "equivocation",
            AttackKind::Lunatic => "lunatic",
            AttackKind::Amnesia => "amnesia",
        }
    }
}

/// A detected fork and what was done about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkReport {
    /// The last height both chains agree on.
    pub common_height: Height,
    /// The height of the conflicting headers.
    pub conflict_height: Height,
    /// The primary at the time.
    pub primary: String,
    /// The witness that served the conflicting header.
    pub witness: String,
    /// The header hash verified from the primary.
    pub trusted_hash: Hash,
    /// The witness's header hash.
    pub conflicting_hash: Hash,
    /// The attack's kind (of the evidence against the primary).
    pub attack: AttackKind,
    /// Validators that signed the conflicting header (or both).
    pub byzantine_validators: Vec<Address>,
    /// Where the evidence is kept.
    pub evidence_file: Option<String>,
    /// `url: hash` or `url: error` for every node the evidence was sent to.
    pub submitted_to: Vec<String>,
    /// When it was detected.
    pub detected_at: Time,
}

/// What the light node is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SyncState {
    /// No header verified yet.
    Starting,
    /// Verifying from `from` towards `to`; `current` is the newest verified.
    Syncing {
        /// Where this sync started.
        from: Height,
        /// The target.
        to: Height,
        /// The newest verified so far.
        current: Height,
    },
    /// At the chain's latest header.
    Synced,
    /// No new header for a while.
    Stale {
        /// Why, in words.
        reason: String,
    },
    /// No full node answers.
    Offline {
        /// Why, in words.
        reason: String,
    },
    /// The newest trusted header is older than the trusting period: stopped.
    TrustExpired {
        /// When trust ended.
        expired_at: Time,
    },
    /// A fork was detected: stopped.
    ForkDetected {
        /// What was found.
        fork: Box<ForkReport>,
    },
}

/// The newest verified header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// Its height.
    pub height: Height,
    /// Its time.
    pub time: Time,
    /// Its hash.
    pub hash: Hash,
}

/// Everything the light node publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// What it is doing.
    #[serde(flatten)]
    pub state: SyncState,
    /// The newest verified header.
    pub head: Option<Head>,
    /// The full nodes, primary first.
    pub nodes: Vec<NodeView>,
    /// Things the user should know that do not stop the node.
    pub notices: Vec<String>,
}
