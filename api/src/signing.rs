//! The Keys and Sign pages' models: keys as the wallet records them (never a secret), the
//! requests that create, import and delete them, the signing forms, the review of exactly the
//! bytes to sign, the outbox and the audit log.
//!
//! A PIN travels from the UI to the backend only, inside the request that needs it, and is
//! never sent back; a new key's backup words travel back once, in [`KeyCreated`].

use serde::{Deserialize, Serialize};

/// A PKCS#11 token as the user picks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenChoice {
    /// The token's PKCS#11 library (a path).
    pub library: String,
    /// Its slot number, when several tokens are present.
    pub slot: Option<u64>,
    /// Its label.
    pub label: Option<String>,
}

/// Where a key's secret goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum KeyBackendChoice {
    /// The OS credential store.
    Keyring,
    /// A PKCS#11 token.
    Pkcs11 {
        /// Which token.
        token: TokenChoice,
    },
}

/// A key as listed: what the wallet records of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyView {
    /// Its label (unique).
    pub label: String,
    /// The ed25519 public key, 64 hex digits.
    pub public_key: String,
    /// `keyring` or `pkcs11`.
    pub backend: String,
    /// `created`, `generated_in_token`, `imported` or `development`.
    pub origin: String,
    /// A development key of the local network (its secret is public).
    pub development: bool,
    /// What protects its secret, in plain words.
    pub protection: String,
    /// When it was added, unix seconds.
    pub created_at: u64,
    /// The token that holds it: library, token label.
    pub token: Option<(String, String)>,
}

/// Create a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCreate {
    /// Its label.
    pub label: String,
    /// Where it goes.
    pub backend: KeyBackendChoice,
    /// The token's PIN (for a token).
    pub pin: Option<String>,
}

/// A new key and, once, its backup words (none for a key generated inside a token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCreated {
    /// The key.
    pub key: KeyView,
    /// The backup words, in order: show them once, then ask the user for some of them.
    pub backup_words: Option<Vec<String>>,
}

/// Import a key from its backup words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyImport {
    /// Its label.
    pub label: String,
    /// The BIP-39 words, separated by spaces.
    pub words: String,
    /// Where it goes.
    pub backend: KeyBackendChoice,
    /// The token's PIN (for a token).
    pub pin: Option<String>,
}

/// Import a development network's keys.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyImportDev {
    /// The text of its `dev-keys.json` (public development keys, never real ones: the file
    /// must carry the development-key warning).
    pub text: String,
}

impl std::fmt::Debug for KeyImportDev {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyImportDev(<{} bytes>)", self.text.len())
    }
}

/// Delete a key (cannot be undone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDelete {
    /// Its label.
    pub label: String,
    /// The user confirmed.
    pub confirm: bool,
    /// The token's PIN (for a token).
    pub pin: Option<String>,
}

/// Check a signing form against the proven chain state and build its review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignPrepare {
    /// The key that signs.
    pub key_label: String,
    /// The form, in the shape of `tradeseal-cli sign --tx` (`{"type": "inspect", ...}`,
    /// `{"type": "propose", "action": {"type": "set_validator", "pub_key", "power"}}`), as
    /// JSON text.
    pub form_json: String,
}

/// One line of a review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewLine {
    /// Stable name (`cert`, `outcome`).
    pub name: String,
    /// In words (English; the UI may translate by `name`).
    pub label: String,
    /// The value.
    pub value: String,
}

/// What the user confirms: decoded from exactly the bytes to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignReview {
    /// `record_inspection`, `revoke_certificate`, `propose`, `approve`, `issue_certificate`.
    pub action: String,
    /// One sentence.
    pub summary: String,
    /// The chain.
    pub chain_id: String,
    /// The signer's public key.
    pub signer: String,
    /// The signer's label.
    pub signer_label: String,
    /// The sequence.
    pub sequence: u64,
    /// Every field.
    pub fields: Vec<ReviewLine>,
    /// SHA-256 of the bytes to sign: [`SignConfirm`] names it.
    pub sign_bytes_sha256: String,
    /// What was proven, in words.
    pub checks: Vec<String>,
    /// The state height proven at.
    pub proven_height: u64,
}

/// Sign the transaction reviewed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignConfirm {
    /// The review's `sign_bytes_sha256`.
    pub sign_bytes_sha256: String,
    /// The token's PIN (for a token key), for this signing session only.
    pub pin: Option<String>,
}

/// A signed transaction in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    /// Its number.
    pub id: i64,
    /// The transaction hash.
    pub tx_hash: String,
    /// The signer's label.
    pub key_label: String,
    /// The sequence.
    pub sequence: u64,
    /// The message's stable name.
    pub action: String,
    /// One sentence.
    pub summary: String,
    /// `pending`, `submitted`, `confirmed` or `failed`.
    pub state: String,
    /// The verified block that includes it.
    pub height: Option<u64>,
    /// The registry's code when it failed.
    pub code: Option<u32>,
    /// The registry's reason when it failed.
    pub reason: Option<String>,
    /// When it was signed, unix seconds.
    pub created_at: u64,
}

/// A failed outbox entry to retry or discard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxAction {
    /// Its number.
    pub id: i64,
    /// For a discard: the user confirmed.
    pub confirm: bool,
}
