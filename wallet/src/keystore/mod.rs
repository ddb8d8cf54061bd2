//! The keystore: the wallet's ed25519 signing keys behind one interface ([`KeyBackend`]),
//! with their metadata in SQLite ([`meta`]) and their secrets only in a real store: the OS
//! credential store ([`keyring`]) or a PKCS#11 token ([`pkcs11`]).
//!
//! Create, import from backup words ([`mnemonic`], the derivation in docs/protocol.md), import
//! the devnet's development keys (marked as such), rename, list, delete, and sign in a
//! session. A secret is never written to the wallet's files or logs, never printed by
//! `Debug`, and zeroized after use; the only secret that leaves the keystore is a new key's
//! backup words, returned once ([`Created::backup`]) for the user to write down.

pub mod keyring;
pub mod meta;
pub mod mnemonic;
#[cfg(not(any(target_os = "android", target_os = "ios")))]
pub mod pkcs11;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use self::keyring::KeyringBackend;
pub use self::meta::MetaStore;
pub use self::mnemonic::{MnemonicBackup, SecretSeed};
#[cfg(not(any(target_os = "android", target_os = "ios")))]
pub use self::pkcs11::{PinRetry, Pkcs11Backend, TokenConfig};

/// What went wrong, with a stable [`KeystoreError::kind`] for the shells.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// A bad label, bad backup words, a bad file.
    #[error("{0}")]
    InvalidRequest(String),
    /// No key with that label (or object on the token).
    #[error("{0}")]
    NotFound(String),
    /// The label or the key is already in the wallet.
    #[error("{0}")]
    Exists(String),
    /// The action needs an explicit confirmation.
    #[error("{0}")]
    ConfirmationRequired(String),
    /// The OS credential store failed, is missing or is locked.
    #[error("{0}")]
    Store(String),
    /// The token needs its PIN.
    #[error("the token needs its PIN")]
    PinRequired,
    /// The PIN was wrong; what the token says of the tries left.
    #[cfg(not(any(target_os = "android", target_os = "ios")))]
    #[error("wrong PIN: {}", retry.describe())]
    WrongPin {
        /// The token's retry state after the wrong PIN.
        retry: PinRetry,
    },
    /// The token's PIN is locked.
    #[error("the token's PIN is locked: its security officer must unlock it")]
    PinLocked,
    /// The token (or its library) is not there.
    #[error("{0}")]
    TokenNotFound(String),
    /// Another PKCS#11 failure.
    #[error("PKCS#11: {0}")]
    Token(String),
    /// The metadata database failed.
    #[error("key metadata: {0}")]
    Database(String),
    /// Not available on this platform.
    #[error("{0}")]
    Unsupported(String),
}

impl KeystoreError {
    /// A stable name for the kind of error (the CLI's `error.kind`, later the API's code).
    pub fn kind(&self) -> &'static str {
        match self {
            KeystoreError::InvalidRequest(_) => "invalid_request",
            KeystoreError::NotFound(_) => "not_found",
            KeystoreError::Exists(_) => "exists",
            KeystoreError::ConfirmationRequired(_) => "confirmation_required",
            KeystoreError::Store(_) => "credential_store",
            KeystoreError::PinRequired => "pin_required",
            #[cfg(not(any(target_os = "android", target_os = "ios")))]
            KeystoreError::WrongPin { .. } => "wrong_pin",
            KeystoreError::PinLocked => "pin_locked",
            KeystoreError::TokenNotFound(_) => "token_not_found",
            KeystoreError::Token(_) => "token",
            KeystoreError::Database(_) => "storage",
            KeystoreError::Unsupported(_) => "unsupported",
        }
    }

    /// The token wanted its PIN or refused the one given: nothing was signed, and the same
    /// request may be tried again with the right PIN.
    pub fn is_pin_refusal(&self) -> bool {
        match self {
            KeystoreError::PinRequired => true,
            #[cfg(not(any(target_os = "android", target_os = "ios")))]
            KeystoreError::WrongPin { .. } => true,
            _ => false,
        }
    }
}

/// A token PIN. Zeroized on drop; its `Debug` shows nothing of it.
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Takes the PIN (surrounding line breaks removed); the caller's string is consumed.
    pub fn new(pin: String) -> Pin {
        let mut pin = Zeroizing::new(pin);
        while pin.ends_with(['\n', '\r']) {
            pin.pop();
        }
        Pin(pin)
    }

    /// The PIN, to give to the token.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// Which kind of store holds a key's secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// The OS credential store.
    Keyring,
    /// A PKCS#11 token.
    Pkcs11,
}

impl BackendKind {
    /// Its name in the database and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Keyring => "keyring",
            BackendKind::Pkcs11 => "pkcs11",
        }
    }

    /// From [`BackendKind::as_str`].
    pub fn parse(s: &str) -> Option<BackendKind> {
        match s {
            "keyring" => Some(BackendKind::Keyring),
            "pkcs11" => Some(BackendKind::Pkcs11),
            _ => None,
        }
    }
}

/// How a key came into the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Created here, with backup words.
    Created,
    /// Generated inside a token: there are no backup words.
    GeneratedInToken,
    /// Imported from backup words.
    Imported,
    /// A development key of the local network: public, never for a real network.
    Development,
}

impl Origin {
    /// Its name in the database and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Created => "created",
            Origin::GeneratedInToken => "generated_in_token",
            Origin::Imported => "imported",
            Origin::Development => "development",
        }
    }

    /// From [`Origin::as_str`].
    pub fn parse(s: &str) -> Option<Origin> {
        [
            Origin::Created,
            Origin::GeneratedInToken,
            Origin::Imported,
            Origin::Development,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// Where a key's secret lives (never what it is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum Locator {
    /// An entry of the OS credential store.
    Keyring {
        /// The entry's service.
        service: String,
        /// The entry's user (the key's id).
        user: String,
    },
    /// Objects on a PKCS#11 token.
    Pkcs11 {
        /// The PKCS#11 library.
        library: std::path::PathBuf,
        /// The token's label.
        token_label: String,
        /// The token's serial number.
        token_serial: String,
        /// CKA_ID of the private and public key objects, hex.
        object_id: String,
    },
}

/// A key as the wallet records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// Random id; names the secret in its store.
    pub id: String,
    /// The user's name for it (unique).
    pub label: String,
    /// The ed25519 public key, 64 lowercase hex digits.
    pub public_key: String,
    /// Which store holds the secret.
    pub backend: BackendKind,
    /// Where in that store.
    pub locator: Locator,
    /// What protects the secret, in plain words (the Keys page shows it).
    pub protection: String,
    /// How the key came in.
    pub origin: Origin,
    /// When it was added, unix seconds.
    pub created_at: u64,
}

impl KeyInfo {
    /// A development key of the local network (public: never for a real network).
    pub fn is_development(&self) -> bool {
        self.origin == Origin::Development
    }

    /// The raw public key.
    pub fn public_key_bytes(&self) -> Result<[u8; 32], KeystoreError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(&self.public_key, &mut out).map_err(|_| {
            KeystoreError::Database("a stored public key is not 64 hex digits".into())
        })?;
        Ok(out)
    }
}

/// What a backend made when asked for a new key.
#[derive(Debug)]
pub struct Generated {
    /// The public key.
    pub public_key: [u8; 32],
    /// Where the secret is.
    pub locator: Locator,
    /// The backup words, when the key was made outside a token.
    pub backup: Option<MnemonicBackup>,
    /// Generated inside a token (no backup possible).
    pub in_token: bool,
}

/// A new key and, once, its backup words.
#[derive(Debug)]
pub struct Created {
    /// The key.
    pub key: KeyInfo,
    /// Its backup words: show them once, have the user confirm some, then drop them. `None`
    /// for a key generated inside a token (it can never leave it).
    pub backup: Option<MnemonicBackup>,
}

/// One store of ed25519 secrets: the interface every backend implements. Calls block (D-Bus,
/// a token): the [`Keystore`] runs them off the async runtime.
pub trait KeyBackend: Send + Sync + std::fmt::Debug {
    /// Which kind it is.
    fn kind(&self) -> BackendKind;
    /// What protects a key it holds, in plain words.
    fn protection(&self) -> String;
    /// Makes a new key (inside the store when it can, else from fresh backup words).
    fn generate(
        &self,
        id: &str,
        label: &str,
        pin: Option<&Pin>,
    ) -> Result<Generated, KeystoreError>;
    /// Stores a given secret.
    fn import(
        &self,
        id: &str,
        label: &str,
        seed: &SecretSeed,
        pin: Option<&Pin>,
    ) -> Result<Locator, KeystoreError>;
    /// Opens a signing session for a key (the PIN, when the store needs one, is asked per
    /// session); the stored key must be the one with `public_key`.
    fn open_session(
        &self,
        locator: &Locator,
        public_key: &[u8; 32],
        pin: Option<&Pin>,
    ) -> Result<Box<dyn SigningSession>, KeystoreError>;
    /// Deletes a key's secret (done when it is already gone).
    fn delete(&self, locator: &Locator, pin: Option<&Pin>) -> Result<(), KeystoreError>;
}

/// An open signing session with one key.
pub trait SigningSession: Send + std::fmt::Debug {
    /// The key's public key.
    fn public_key(&self) -> [u8; 32];
    /// An ed25519 signature of `message` (blocking).
    fn sign(&mut self, message: &[u8]) -> Result<[u8; 64], KeystoreError>;
}

/// Where a new key goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendChoice {
    /// The OS credential store.
    Keyring,
    /// A PKCS#11 token.
    #[cfg(not(any(target_os = "android", target_os = "ios")))]
    Pkcs11(TokenConfig),
}

/// A development key file as the devnet writes it (`dev-keys.json`).
#[derive(Deserialize)]
struct DevKeyFile {
    warning: Option<String>,
    #[serde(default)]
    governance: Option<DevGovernance>,
    #[serde(default)]
    issuers: Vec<DevKey>,
}

#[derive(Deserialize)]
struct DevGovernance {
    keys: Vec<DevKey>,
}

#[derive(Deserialize)]
struct DevKey {
    label: String,
    public_key: String,
    secret_key: Zeroizing<String>,
}

/// The most characters in a label.
pub const MAX_LABEL: usize = 64;

fn check_label(label: &str) -> Result<(), KeystoreError> {
    let n = label.chars().count();
    if n == 0 || n > MAX_LABEL || label.trim() != label || label.chars().any(char::is_control) {
        return Err(KeystoreError::InvalidRequest(format!(
            "a label has 1 to {MAX_LABEL} characters, no control characters and no space at either end"
        )));
    }
    Ok(())
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn new_id() -> Result<String, KeystoreError> {
    use rand_core::RngCore as _;
    let mut id = [0u8; 16];
    rand_core::OsRng
        .try_fill_bytes(&mut id)
        .map_err(|e| KeystoreError::Store(format!("the system's random source failed: {e}")))?;
    Ok(hex::encode(id))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, KeystoreError> + Send + 'static,
) -> Result<T, KeystoreError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| KeystoreError::Store(format!("a keystore task failed: {e}")))?
}

/// The keystore service: metadata plus the backends.
#[derive(Debug)]
pub struct Keystore {
    meta: MetaStore,
    keyring: OnceLock<Arc<dyn KeyBackend>>,
}

impl Keystore {
    /// Opens the key metadata in `data_dir` (`keys.sqlite`). The OS credential store is
    /// reached when a key first needs it.
    pub async fn open(data_dir: &Path) -> Result<Keystore, KeystoreError> {
        Ok(Keystore {
            meta: MetaStore::open(data_dir).await?,
            keyring: OnceLock::new(),
        })
    }

    /// Over a given credential store backend instead of the platform's (tests).
    pub async fn with_keyring(
        data_dir: &Path,
        keyring: Arc<dyn KeyBackend>,
    ) -> Result<Keystore, KeystoreError> {
        let keystore = Keystore::open(data_dir).await?;
        let _ = keystore.keyring.set(keyring);
        Ok(keystore)
    }

    /// The wallet's database (`keys.sqlite`): the outbox and the audit log keep their tables
    /// beside the key metadata.
    pub fn database(&self) -> sqlx::SqlitePool {
        self.meta.pool()
    }

    /// Closes the metadata database.
    pub async fn close(&self) {
        self.meta.close().await;
    }

    async fn keyring(&self) -> Result<Arc<dyn KeyBackend>, KeystoreError> {
        if let Some(k) = self.keyring.get() {
            return Ok(k.clone());
        }
        let backend: Arc<dyn KeyBackend> = Arc::new(blocking(KeyringBackend::platform).await?);
        Ok(self.keyring.get_or_init(|| backend).clone())
    }

    async fn backend_for_choice(
        &self,
        choice: &BackendChoice,
    ) -> Result<Arc<dyn KeyBackend>, KeystoreError> {
        match choice {
            BackendChoice::Keyring => self.keyring().await,
            #[cfg(not(any(target_os = "android", target_os = "ios")))]
            BackendChoice::Pkcs11(config) => {
                let config = config.clone();
                Ok(Arc::new(
                    blocking(move || Pkcs11Backend::open(&config)).await?,
                ))
            }
        }
    }

    async fn backend_for_key(&self, key: &KeyInfo) -> Result<Arc<dyn KeyBackend>, KeystoreError> {
        match &key.locator {
            Locator::Keyring { .. } => self.keyring().await,
            #[cfg(not(any(target_os = "android", target_os = "ios")))]
            Locator::Pkcs11 { .. } => {
                let locator = key.locator.clone();
                Ok(Arc::new(
                    blocking(move || Pkcs11Backend::for_locator(&locator)).await?,
                ))
            }
            #[cfg(any(target_os = "android", target_os = "ios"))]
            Locator::Pkcs11 { .. } => Err(KeystoreError::Unsupported(
                "PKCS#11 tokens are not available on this platform".into(),
            )),
        }
    }

    /// Every key, oldest first.
    pub async fn list(&self) -> Result<Vec<KeyInfo>, KeystoreError> {
        self.meta.list().await
    }

    /// The key with this label.
    pub async fn get(&self, label: &str) -> Result<KeyInfo, KeystoreError> {
        self.meta
            .get(label)
            .await?
            .ok_or_else(|| KeystoreError::NotFound(format!("no key labelled '{label}'")))
    }

    /// Creates a key: in a token, generated inside it (no backup words); in the credential
    /// store, from fresh backup words returned once in [`Created::backup`].
    pub async fn create(
        &self,
        label: &str,
        choice: &BackendChoice,
        pin: Option<Pin>,
    ) -> Result<Created, KeystoreError> {
        check_label(label)?;
        if self.meta.get(label).await?.is_some() {
            return Err(KeystoreError::Exists(format!(
                "a key labelled '{label}' exists"
            )));
        }
        let backend = self.backend_for_choice(choice).await?;
        let id = new_id()?;
        let (b, i, l) = (backend.clone(), id.clone(), label.to_owned());
        let generated = blocking(move || b.generate(&i, &l, pin.as_ref())).await?;
        let origin = if generated.in_token {
            Origin::GeneratedInToken
        } else {
            Origin::Created
        };
        let key = self
            .record(
                &backend,
                id,
                label,
                generated.public_key,
                generated.locator,
                origin,
            )
            .await?;
        tracing::info!(label, public_key = %key.public_key, backend = key.backend.as_str(), "key created");
        Ok(Created {
            key,
            backup: generated.backup,
        })
    }

    /// Imports a key from backup words (see docs/protocol.md for the derivation).
    pub async fn import_mnemonic(
        &self,
        label: &str,
        words: Zeroizing<String>,
        choice: &BackendChoice,
        pin: Option<Pin>,
    ) -> Result<KeyInfo, KeystoreError> {
        check_label(label)?;
        let seed = mnemonic::from_words(&words, 0)?;
        drop(words);
        self.import_seed(label, seed, choice, pin, Origin::Imported)
            .await
    }

    /// Imports the development keys (governance and issuers) of a devnet key file, labelled
    /// `prefix + the file's label`, marked as development keys. Keys already in the wallet
    /// are skipped. Validators' keys are consensus keys, not wallet keys: never imported.
    pub async fn import_development(
        &self,
        file_text: &str,
        prefix: &str,
        choice: &BackendChoice,
        pin: Option<Pin>,
    ) -> Result<Vec<KeyInfo>, KeystoreError> {
        let file: DevKeyFile = serde_json::from_str(file_text).map_err(|e| {
            KeystoreError::InvalidRequest(format!(
                "not a development key file: {}",
                e.to_string().split(" at line").next().unwrap_or("bad JSON")
            ))
        })?;
        if !file
            .warning
            .as_deref()
            .is_some_and(|w| w.to_ascii_uppercase().contains("DEVELOPMENT"))
        {
            return Err(KeystoreError::InvalidRequest(
                "not a development key file: it has no development-key warning".into(),
            ));
        }
        let keys: Vec<DevKey> = file
            .governance
            .map(|g| g.keys)
            .unwrap_or_default()
            .into_iter()
            .chain(file.issuers)
            .collect();
        let mut imported = Vec::new();
        for key in keys {
            let label = format!("{prefix}{}", key.label);
            check_label(&label)?;
            let seed = SecretSeed::from_hex(&key.secret_key)?;
            if hex::encode(seed.public_key()) != key.public_key.to_ascii_lowercase() {
                return Err(KeystoreError::InvalidRequest(format!(
                    "development key '{}': the secret does not give the public key the file states",
                    key.label
                )));
            }
            if self.meta.get(&label).await?.is_some()
                || self
                    .list()
                    .await?
                    .iter()
                    .any(|k| k.public_key == key.public_key.to_ascii_lowercase())
            {
                continue;
            }
            let pin = pin.as_ref().map(|p| Pin::new(p.expose().to_owned()));
            imported.push(
                self.import_seed(&label, seed, choice, pin, Origin::Development)
                    .await?,
            );
        }
        Ok(imported)
    }

    async fn import_seed(
        &self,
        label: &str,
        seed: SecretSeed,
        choice: &BackendChoice,
        pin: Option<Pin>,
        origin: Origin,
    ) -> Result<KeyInfo, KeystoreError> {
        let public_key = seed.public_key();
        self.meta
            .check_free(label, &hex::encode(public_key))
            .await?;
        let backend = self.backend_for_choice(choice).await?;
        let id = new_id()?;
        let (b, i, l) = (backend.clone(), id.clone(), label.to_owned());
        let locator = blocking(move || b.import(&i, &l, &seed, pin.as_ref())).await?;
        let key = self
            .record(&backend, id, label, public_key, locator, origin)
            .await?;
        tracing::info!(label, public_key = %key.public_key, backend = key.backend.as_str(), origin = origin.as_str(), "key imported");
        Ok(key)
    }

    async fn record(
        &self,
        backend: &Arc<dyn KeyBackend>,
        id: String,
        label: &str,
        public_key: [u8; 32],
        locator: Locator,
        origin: Origin,
    ) -> Result<KeyInfo, KeystoreError> {
        let mut protection = match (&locator, origin) {
            #[cfg(not(any(target_os = "android", target_os = "ios")))]
            (Locator::Pkcs11 { .. }, Origin::Imported | Origin::Development) => {
                backend.protection().replace(
                    "generated inside the token, never left it",
                    "imported into the token",
                )
            }
            _ => backend.protection(),
        };
        if origin == Origin::Development {
            protection = format!(
                "DEVELOPMENT KEY of the local network: its secret is public, never use it on a real network. {protection}"
            );
        }
        let key = KeyInfo {
            id,
            label: label.to_owned(),
            public_key: hex::encode(public_key),
            backend: backend.kind(),
            locator,
            protection,
            origin,
            created_at: now(),
        };
        if let Err(e) = self.meta.insert(&key).await {
            // The secret must not outlive a failed record.
            let (b, l) = (backend.clone(), key.locator.clone());
            let _ = blocking(move || b.delete(&l, None)).await;
            return Err(e);
        }
        Ok(key)
    }

    /// Changes a key's label.
    pub async fn rename(&self, label: &str, new_label: &str) -> Result<KeyInfo, KeystoreError> {
        check_label(new_label)?;
        if !self.meta.rename(label, new_label).await? {
            return Err(KeystoreError::NotFound(format!(
                "no key labelled '{label}'"
            )));
        }
        self.get(new_label).await
    }

    /// Deletes a key and its secret, only with `confirm` (it cannot be undone: without its
    /// backup words the key is gone).
    pub async fn delete(
        &self,
        label: &str,
        confirm: bool,
        pin: Option<Pin>,
    ) -> Result<KeyInfo, KeystoreError> {
        let key = self.get(label).await?;
        if !confirm {
            return Err(KeystoreError::ConfirmationRequired(format!(
                "deleting '{label}' cannot be undone; confirm to delete it"
            )));
        }
        let backend = self.backend_for_key(&key).await?;
        let locator = key.locator.clone();
        blocking(move || backend.delete(&locator, pin.as_ref())).await?;
        self.meta.delete(&key.id).await?;
        tracing::info!(label, public_key = %key.public_key, "key deleted");
        Ok(key)
    }

    /// Opens a signing session with a key (a token asks its PIN here, once per session).
    pub async fn open_session(
        &self,
        label: &str,
        pin: Option<Pin>,
    ) -> Result<Box<dyn SigningSession>, KeystoreError> {
        let key = self.get(label).await?;
        let public = key.public_key_bytes()?;
        let backend = self.backend_for_key(&key).await?;
        let locator = key.locator.clone();
        blocking(move || backend.open_session(&locator, &public, pin.as_ref())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        for ok in ["a", "KE-KEPHIS inspector", "ключ", &"x".repeat(MAX_LABEL)] {
            check_label(ok).unwrap();
        }
        for bad in ["", " a", "a ", "a\nb", &"x".repeat(MAX_LABEL + 1)] {
            assert!(check_label(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pin_is_trimmed_and_hidden() {
        let pin = Pin::new("123456\r\n".to_owned());
        assert_eq!(pin.expose(), "123456");
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
    }

    #[test]
    fn locator_json_names_no_secret() {
        let l = Locator::Keyring {
            service: "tradeseal-wallet".into(),
            user: "00ff".into(),
        };
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(
            json,
            r#"{"backend":"keyring","service":"tradeseal-wallet","user":"00ff"}"#
        );
        assert_eq!(serde_json::from_str::<Locator>(&json).unwrap(), l);
    }

    #[tokio::test]
    async fn metadata_round_trip() {
        let meta = MetaStore::in_memory().await.unwrap();
        let key = KeyInfo {
            id: "01".into(),
            label: "one".into(),
            public_key: "ab".repeat(32),
            backend: BackendKind::Keyring,
            locator: Locator::Keyring {
                service: "s".into(),
                user: "01".into(),
            },
            protection: "p".into(),
            origin: Origin::Development,
            created_at: 7,
        };
        meta.insert(&key).await.unwrap();
        assert_eq!(meta.list().await.unwrap(), vec![key.clone()]);
        assert!(matches!(
            meta.check_free("two", &key.public_key).await,
            Err(KeystoreError::Exists(_))
        ));
        assert!(meta.rename("one", "two").await.unwrap());
        assert!(meta.get("one").await.unwrap().is_none());
        assert!(meta.get("two").await.unwrap().unwrap().is_development());
        meta.delete("01").await.unwrap();
        assert!(meta.list().await.unwrap().is_empty());
    }
}
