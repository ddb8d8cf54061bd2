//! The OS credential store backend, through keyring 4 (`keyring-core` and one store crate per
//! platform): Secret Service on Linux (zbus, encrypted transfer), Keychain on macOS, the
//! protected store on iOS, Credential Manager on Windows, Android's store on Android.
//!
//! The 32-byte ed25519 secret seed is the entry's secret (service [`SERVICE`], user = the
//! key's id). The store is always named explicitly: no default store is ever set, so nothing
//! can fall back to keyring's mock, and a store that does not keep secrets on disk (a mock, a
//! kernel keyring) is refused.

use std::sync::Arc;

use ed25519_dalek::{Signer as _, SigningKey};
use keyring_core::{CredentialPersistence, CredentialStore, Entry};
use zeroize::Zeroizing;

use super::mnemonic::{self, SecretSeed};
use super::{BackendKind, Generated, KeyBackend, KeystoreError, Locator, Pin, SigningSession};

/// The service name of every Tradeseal entry in the credential store.
pub const SERVICE: &str = "tradeseal-wallet";

/// The OS credential store.
pub struct KeyringBackend {
    /// Always `Some` until dropped.
    store: Option<Arc<CredentialStore>>,
    protection: &'static str,
}

impl Drop for KeyringBackend {
    fn drop(&mut self) {
        // The Secret Service client blocks on its own runtime when it closes, which panics on
        // a thread that drives async tasks: close it on a thread of its own.
        if let Some(store) = self.store.take() {
            let _ = std::thread::spawn(move || drop(store)).join();
        }
    }
}

impl std::fmt::Debug for KeyringBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringBackend")
            .field("store", &self.vendor())
            .finish()
    }
}

fn store_error(e: keyring_core::Error) -> KeystoreError {
    use keyring_core::Error as E;
    // Never format `e` whole: two of its variants carry the stored bytes.
    let message = match e {
        E::PlatformFailure(p) => format!("the credential store failed: {p}"),
        E::NoStorageAccess(p) => format!(
            "the credential store cannot be reached or is locked: {p} (on Linux: is a Secret \
             Service such as GNOME Keyring running and unlocked in this session?)"
        ),
        E::NoEntry => "the key's secret is missing from the credential store".to_owned(),
        E::BadEncoding(_) | E::BadDataFormat(..) => {
            "the key's secret in the credential store has an unexpected format".to_owned()
        }
        E::BadStoreFormat(s) => format!("the credential store is damaged: {s}"),
        E::TooLong(what, max) => format!("{what} is longer than the store allows ({max})"),
        E::Invalid(what, why) => format!("invalid {what}: {why}"),
        E::Ambiguous(entries) => format!(
            "{} entries in the credential store match this key",
            entries.len()
        ),
        E::NoDefaultStore => "no credential store is configured".to_owned(),
        E::NotSupportedByStore(s) => format!("not supported by this credential store: {s}"),
        _ => "the credential store failed".to_owned(),
    };
    KeystoreError::Store(message)
}

impl KeyringBackend {
    /// The platform's store. Fails (never falls back) when it cannot be reached.
    pub fn platform() -> Result<KeyringBackend, KeystoreError> {
        let (store, protection) = platform_store()?;
        KeyringBackend::with_store(store, protection)
    }

    /// A given store; refused unless it keeps secrets until they are deleted.
    pub fn with_store(
        store: Arc<CredentialStore>,
        protection: &'static str,
    ) -> Result<KeyringBackend, KeystoreError> {
        match store.persistence() {
            CredentialPersistence::UntilDelete => Ok(KeyringBackend {
                store: Some(store),
                protection,
            }),
            other => {
                let kept = match other {
                    CredentialPersistence::EntryOnly => "only in the entry",
                    CredentialPersistence::ProcessOnly => "only in this process",
                    CredentialPersistence::UntilLogout => "until logout",
                    CredentialPersistence::UntilReboot => "until reboot",
                    _ => "for an unknown time",
                };
                Err(KeystoreError::Store(format!(
                    "the credential store '{}' keeps secrets {kept}, not until they are \
                     deleted: refused",
                    store.vendor()
                )))
            }
        }
    }

    /// Which store this is (its vendor string).
    pub fn vendor(&self) -> String {
        self.store().vendor()
    }

    fn store(&self) -> &Arc<CredentialStore> {
        self.store.as_ref().expect("present until dropped")
    }

    fn entry(&self, user: &str, label: Option<&str>) -> Result<Entry, KeystoreError> {
        // Secret Service items carry a label its user interfaces show; other stores take no
        // modifiers.
        let description = label.map(|l| format!("Tradeseal signing key '{l}'"));
        let mut modifiers = std::collections::HashMap::new();
        if let Some(d) = &description {
            if self.vendor().contains("Secret Service") {
                modifiers.insert("label", d.as_str());
            }
        }
        Entry::new_in_store_with_modifiers(self.store(), SERVICE, user, &modifiers)
            .map_err(store_error)
    }

    fn read(&self, user: &str) -> Result<SecretSeed, KeystoreError> {
        let secret = Zeroizing::new(self.entry(user, None)?.get_secret().map_err(store_error)?);
        let bytes: [u8; 32] = secret.as_slice().try_into().map_err(|_| {
            KeystoreError::Store(
                "the key's secret in the credential store has an unexpected length".into(),
            )
        })?;
        Ok(SecretSeed::from_bytes(bytes))
    }
}

#[allow(clippy::unnecessary_wraps)]
fn platform_store() -> Result<(Arc<CredentialStore>, &'static str), KeystoreError> {
    #[cfg(target_os = "linux")]
    {
        let store = zbus_secret_service_keyring_store::Store::new().map_err(store_error)?;
        Ok((
            store,
            "OS credential store (Secret Service): encrypted at rest with the user's login \
             keyring, readable by this user's programs while the keyring is unlocked; the key \
             is held in memory only while signing",
        ))
    }
    #[cfg(target_os = "macos")]
    {
        let store = apple_native_keyring_store::keychain::Store::new().map_err(store_error)?;
        Ok((
            store,
            "OS credential store (macOS Keychain): encrypted at rest, readable by this app \
             while the user is logged in; not held in the Secure Enclave (it has no Ed25519)",
        ))
    }
    #[cfg(target_os = "ios")]
    {
        let store = apple_native_keyring_store::protected::Store::new().map_err(store_error)?;
        Ok((
            store,
            "OS credential store (iOS data protection keychain): encrypted by the device; not \
             held in the Secure Enclave (it has no Ed25519)",
        ))
    }
    #[cfg(target_os = "windows")]
    {
        let store = windows_native_keyring_store::Store::new().map_err(store_error)?;
        Ok((
            store,
            "OS credential store (Windows Credential Manager): encrypted with the user's \
             login (DPAPI), readable by this user's programs",
        ))
    }
    #[cfg(target_os = "android")]
    {
        let store = android_native_keyring_store::Store::new().map_err(store_error)?;
        Ok((
            store,
            "OS credential store (Android): encrypted with an AES key held by Android \
             Keystore; the Ed25519 key itself is not held in the chip",
        ))
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "macos",
        target_os = "ios",
        target_os = "windows",
        target_os = "android"
    )))]
    {
        Err(KeystoreError::Unsupported(
            "no OS credential store on this platform".into(),
        ))
    }
}

impl KeyBackend for KeyringBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Keyring
    }

    fn protection(&self) -> String {
        self.protection.to_owned()
    }

    fn generate(
        &self,
        id: &str,
        label: &str,
        _pin: Option<&Pin>,
    ) -> Result<Generated, KeystoreError> {
        let (backup, seed) = mnemonic::generate()?;
        let locator = self.import(id, label, &seed, None)?;
        Ok(Generated {
            public_key: seed.public_key(),
            locator,
            backup: Some(backup),
            in_token: false,
        })
    }

    fn import(
        &self,
        id: &str,
        label: &str,
        seed: &SecretSeed,
        _pin: Option<&Pin>,
    ) -> Result<Locator, KeystoreError> {
        let entry = self.entry(id, Some(label))?;
        entry.set_secret(seed.expose()).map_err(store_error)?;
        // Read it back through the store: what was written is what will sign.
        let back = self.read(id)?;
        if back.expose() != seed.expose() {
            let _ = entry.delete_credential();
            return Err(KeystoreError::Store(
                "the credential store gave back another secret than was written".into(),
            ));
        }
        Ok(Locator::Keyring {
            service: SERVICE.to_owned(),
            user: id.to_owned(),
        })
    }

    fn open_session(
        &self,
        locator: &Locator,
        public_key: &[u8; 32],
        _pin: Option<&Pin>,
    ) -> Result<Box<dyn SigningSession>, KeystoreError> {
        let Locator::Keyring { user, .. } = locator else {
            return Err(KeystoreError::InvalidRequest(
                "not a credential store key".into(),
            ));
        };
        let seed = self.read(user)?;
        let key = seed.signing_key();
        if &key.verifying_key().to_bytes() != public_key {
            return Err(KeystoreError::Store(
                "the credential store holds another key than the wallet recorded".into(),
            ));
        }
        Ok(Box::new(KeyringSession { key }))
    }

    fn delete(&self, locator: &Locator, _pin: Option<&Pin>) -> Result<(), KeystoreError> {
        let Locator::Keyring { user, .. } = locator else {
            return Err(KeystoreError::InvalidRequest(
                "not a credential store key".into(),
            ));
        };
        match self.entry(user, None)?.delete_credential() {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(store_error(e)),
        }
    }
}

/// A signing session over a key read from the store: the key stays in memory (zeroized when
/// the session ends) until the session is dropped.
struct KeyringSession {
    key: SigningKey,
}

impl std::fmt::Debug for KeyringSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringSession")
            .field(
                "public_key",
                &hex::encode(self.key.verifying_key().to_bytes()),
            )
            .finish()
    }
}

impl SigningSession for KeyringSession {
    fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    fn sign(&mut self, message: &[u8]) -> Result<[u8; 64], KeystoreError> {
        Ok(self.key.sign(message).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_default_store_means_an_error_not_a_mock() {
        // The wallet never sets a default store, so keyring's global entry points fail.
        assert!(keyring_core::get_default_store().is_none());
        match Entry::new(SERVICE, "nobody") {
            Err(keyring_core::Error::NoDefaultStore) => {}
            other => panic!("expected NoDefaultStore, got {other:?}"),
        }
    }

    #[test]
    fn errors_never_carry_the_stored_bytes() {
        let secret = vec![0xAB; 32];
        let e = store_error(keyring_core::Error::BadEncoding(secret));
        let text = format!("{e} {e:?}");
        assert!(
            !text.contains("171") && !text.to_lowercase().contains("abab"),
            "{text}"
        );
    }
}
