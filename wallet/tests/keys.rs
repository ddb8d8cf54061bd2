//! The keystore against real stores that the tests start themselves: GNOME Keyring's Secret
//! Service on a private D-Bus session bus, and a SoftHSM2 token in a temporary folder (see
//! `stores.rs`). Each test's body runs in a child test process that has the stores'
//! environment; the parent starts and stops the stores.

use std::path::Path;
use std::sync::Arc;

use ed25519_dalek::{Signature, VerifyingKey};
use tradeseal_wallet::keystore::{
    mnemonic, BackendChoice, BackendKind, KeyringBackend, Keystore, KeystoreError, Origin, Pin,
    PinRetry, TokenConfig,
};
use zeroize::Zeroizing;

use crate::stores::{self, child_dir, require, Stores, PIN, TOKEN_LABEL};

/// The standard BIP-39 test words; their key is fixed by the documented derivation.
const WORDS: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const SECRET_SERVICE_TOOLS: &[&str] = &[
    "dbus-daemon",
    "dbus-send",
    "gnome-keyring-daemon",
    "secret-tool",
];
const SOFTHSM_TOOLS: &[&str] = &["softhsm2-util", "pkcs11-tool"];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// In the parent: starts the stores and runs `name` in a child; `None`. In the child: the
/// stores' folder.
fn stage(name: &str, secret_service: bool, softhsm: bool) -> Option<std::path::PathBuf> {
    if let Some(dir) = child_dir() {
        return Some(dir);
    }
    let mut tools = Vec::new();
    if secret_service {
        tools.extend_from_slice(SECRET_SERVICE_TOOLS);
    }
    if softhsm {
        tools.extend_from_slice(SOFTHSM_TOOLS);
    }
    if !require(&tools) {
        return None;
    }
    let mut s = Stores::new();
    if secret_service {
        s.start_secret_service();
    }
    if softhsm {
        s.start_softhsm();
    }
    s.run_child(&format!("keys::{name}"));
    None
}

fn token() -> TokenConfig {
    TokenConfig {
        library: stores::softhsm_library().expect("SoftHSM2's library"),
        slot: None,
        token_label: Some(TOKEN_LABEL.to_owned()),
    }
}

fn pin() -> Option<Pin> {
    Some(Pin::new(PIN.to_owned()))
}

fn verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) {
    VerifyingKey::from_bytes(public)
        .unwrap()
        .verify_strict(message, &Signature::from_bytes(signature))
        .expect("the signature verifies with ed25519-dalek");
}

/// The secret of an entry, read by another Secret Service client than the wallet's.
fn secret_tool_lookup(user: &str) -> Option<Vec<u8>> {
    let out = std::process::Command::new("secret-tool")
        .args(["lookup", "service", "tradeseal-wallet", "username", user])
        .output()
        .expect("secret-tool");
    (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
}

fn user_of(key: &tradeseal_wallet::keystore::KeyInfo) -> String {
    match &key.locator {
        tradeseal_wallet::keystore::Locator::Keyring { user, .. } => user.clone(),
        other => panic!("not a keyring key: {other:?}"),
    }
}

#[test]
fn keyring_keys_live_in_the_secret_service() {
    let Some(dir) = stage("keyring_keys_live_in_the_secret_service", true, false) else {
        return;
    };
    runtime().block_on(async {
        let data = dir.join("wallet");
        let ks = Keystore::open(&data).await.unwrap();

        // Create: the backup words come back once and give the stored key.
        let created = ks
            .create("inspector", &BackendChoice::Keyring, None)
            .await
            .unwrap();
        let backup = created.backup.expect("a created key has backup words");
        assert_eq!(backup.word_count(), 24);
        let key = created.key;
        assert_eq!(key.backend, BackendKind::Keyring);
        assert_eq!(key.origin, Origin::Created);
        assert!(
            key.protection.contains("Secret Service"),
            "{}",
            key.protection
        );
        let seed = mnemonic::from_words(backup.expose(), 0).unwrap();
        assert_eq!(hex::encode(seed.public_key()), key.public_key);
        // A second, independent client (libsecret's secret-tool) reads the same secret.
        assert_eq!(
            secret_tool_lookup(&user_of(&key)).as_deref(),
            Some(&seed.expose()[..]),
            "the secret is in the real Secret Service"
        );
        // GNOME Keyring persisted it in its own file, encrypted.
        let keyrings = dir.join("xdg-data/keyrings");
        assert!(stores::files_under(&keyrings)
            .iter()
            .any(|p| p.ends_with("login.keyring")));
        stores::assert_no_secret(&keyrings, "the seed", seed.expose());

        // Import from words: the documented derivation.
        let words = Zeroizing::new(WORDS.to_owned());
        let imported = ks
            .import_mnemonic("imported", words, &BackendChoice::Keyring, None)
            .await
            .unwrap();
        assert_eq!(imported.origin, Origin::Imported);
        assert_eq!(
            imported.public_key,
            hex::encode(mnemonic::from_words(WORDS, 0).unwrap().public_key())
        );
        // The same key twice, or a label twice, is refused.
        let again = ks
            .import_mnemonic(
                "other",
                Zeroizing::new(WORDS.to_owned()),
                &BackendChoice::Keyring,
                None,
            )
            .await
            .unwrap_err();
        assert!(matches!(again, KeystoreError::Exists(_)), "{again}");
        let again = ks
            .create("imported", &BackendChoice::Keyring, None)
            .await
            .unwrap_err();
        assert!(matches!(again, KeystoreError::Exists(_)), "{again}");

        // Sign in a session; the signature verifies.
        let mut session = ks.open_session("inspector", None).await.unwrap();
        let sig = session.sign(b"record inspection").unwrap();
        verify(&key.public_key_bytes().unwrap(), b"record inspection", &sig);
        drop(session);

        // Reopened (a new connection to the store): the keys are still there.
        ks.close().await;
        let ks = Keystore::open(&data).await.unwrap();
        let labels: Vec<_> = ks
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.label)
            .collect();
        assert_eq!(labels, ["inspector", "imported"]);
        let mut session = ks.open_session("imported", None).await.unwrap();
        verify(
            &imported.public_key_bytes().unwrap(),
            b"x",
            &session.sign(b"x").unwrap(),
        );
        drop(session);

        // Rename, then delete (only when confirmed): the secret leaves the store.
        let renamed = ks.rename("inspector", "customs inspector").await.unwrap();
        assert_eq!(renamed.public_key, key.public_key);
        let refused = ks
            .delete("customs inspector", false, None)
            .await
            .unwrap_err();
        assert!(matches!(refused, KeystoreError::ConfirmationRequired(_)));
        assert!(secret_tool_lookup(&user_of(&key)).is_some());
        ks.delete("customs inspector", true, None).await.unwrap();
        assert!(
            secret_tool_lookup(&user_of(&key)).is_none(),
            "deleted from the store"
        );
        assert!(matches!(
            ks.get("customs inspector").await,
            Err(KeystoreError::NotFound(_))
        ));
        assert!(matches!(
            ks.open_session("nobody", None).await,
            Err(KeystoreError::NotFound(_))
        ));
    });
}

#[test]
fn a_secret_missing_from_the_store_is_reported() {
    let Some(dir) = stage("a_secret_missing_from_the_store_is_reported", true, false) else {
        return;
    };
    runtime().block_on(async {
        let ks = Keystore::open(&dir.join("wallet")).await.unwrap();
        let key = ks
            .create("k", &BackendChoice::Keyring, None)
            .await
            .unwrap()
            .key;
        let out = std::process::Command::new("secret-tool")
            .args([
                "clear",
                "service",
                "tradeseal-wallet",
                "username",
                &user_of(&key),
            ])
            .status()
            .unwrap();
        assert!(out.success());
        let e = ks.open_session("k", None).await.unwrap_err();
        assert_eq!(e.kind(), "credential_store");
        assert!(e.to_string().contains("missing"), "{e}");
    });
}

#[test]
fn without_a_secret_service_nothing_falls_back() {
    if child_dir().is_none() {
        // A bus address where nothing listens: the store must fail, not mock.
        let s = Stores::new();
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new(exe)
            .args([
                "keys::without_a_secret_service_nothing_falls_back",
                "--exact",
                "--test-threads=1",
            ])
            .env(stores::CHILD, "1")
            .env("TRADESEAL_TEST_DIR", s.dir.path())
            .env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", s.dir.path().join("no-bus").display()),
            )
            .output()
            .unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let dir = child_dir().unwrap();
    let e = KeyringBackend::platform().unwrap_err();
    assert_eq!(e.kind(), "credential_store", "{e}");
    runtime().block_on(async {
        let ks = Keystore::open(&dir.join("wallet")).await.unwrap();
        let e = ks
            .create("k", &BackendChoice::Keyring, None)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "credential_store", "{e}");
        assert!(
            ks.list().await.unwrap().is_empty(),
            "no metadata without a secret"
        );
    });
    // keyring's own mock keeps secrets in memory only: refused.
    let mock: Arc<keyring_core::CredentialStore> = keyring_core::mock::Store::new().unwrap();
    let e = KeyringBackend::with_store(mock, "mock").unwrap_err();
    assert!(e.to_string().contains("refused"), "{e}");
    // And without a store set, keyring fails instead of mocking.
    assert!(matches!(
        keyring_core::Entry::new("tradeseal-wallet", "x"),
        Err(keyring_core::Error::NoDefaultStore)
    ));
}

#[test]
fn pkcs11_key_generated_in_the_token() {
    let Some(dir) = stage("pkcs11_key_generated_in_the_token", false, true) else {
        return;
    };
    runtime().block_on(async {
        let ks = Keystore::open(&dir.join("wallet")).await.unwrap();
        let choice = BackendChoice::Pkcs11(token());
        let missing = ks.create("hsm", &choice, None).await.unwrap_err();
        assert!(matches!(missing, KeystoreError::PinRequired), "{missing}");

        let created = ks.create("hsm", &choice, pin()).await.unwrap();
        assert!(
            created.backup.is_none(),
            "a key made in a token has no backup words"
        );
        let key = created.key;
        assert_eq!(key.backend, BackendKind::Pkcs11);
        assert_eq!(key.origin, Origin::GeneratedInToken);
        assert!(
            key.protection.contains("generated inside the token"),
            "{}",
            key.protection
        );
        assert!(key.protection.contains(TOKEN_LABEL));

        // An independent PKCS#11 client sees a sensitive, never-extractable private key.
        let objects = list_objects();
        assert!(objects.contains("Private Key Object"), "{objects}");
        assert!(objects.contains("never extractable"), "{objects}");
        assert!(objects.contains("sensitive"), "{objects}");

        // Sign inside the token; the 64-byte signature verifies.
        let public = key.public_key_bytes().unwrap();
        let mut session = ks.open_session("hsm", pin()).await.unwrap();
        assert_eq!(session.public_key(), public);
        let sig = session.sign(b"issue certificate").unwrap();
        verify(&public, b"issue certificate", &sig);

        // A second session while the first is open shares the token's login.
        let mut second = ks.open_session("hsm", pin()).await.unwrap();
        verify(&public, b"2", &second.sign(b"2").unwrap());
        drop(session);
        verify(&public, b"3", &second.sign(b"3").unwrap());
        drop(second);

        // Every session logged out: a wrong PIN is a wrong PIN, with the retry state.
        let wrong = ks
            .open_session("hsm", Some(Pin::new("000000".into())))
            .await
            .unwrap_err();
        match &wrong {
            KeystoreError::WrongPin { retry } => assert_eq!(*retry, PinRetry::CountLow),
            other => panic!("expected a wrong PIN, got {other:?}"),
        }
        assert_eq!(wrong.kind(), "wrong_pin");
        assert!(wrong.to_string().contains("few tries remain"), "{wrong}");
        // The right PIN still opens a session (and clears the count).
        let mut session = ks.open_session("hsm", pin()).await.unwrap();
        verify(&public, b"4", &session.sign(b"4").unwrap());
        drop(session);
        let backend = tradeseal_wallet::keystore::Pkcs11Backend::open(&token()).unwrap();
        assert_eq!(backend.pin_retry(), PinRetry::Tries);

        // Delete needs the PIN and removes both objects from the token.
        assert!(ks.delete("hsm", true, None).await.is_err());
        ks.delete("hsm", true, pin()).await.unwrap();
        assert!(!list_objects().contains("Private Key Object"));
    });
}

fn list_objects() -> String {
    let out = std::process::Command::new("pkcs11-tool")
        .arg("--module")
        .arg(stores::softhsm_library().unwrap())
        .args([
            "--token-label",
            TOKEN_LABEL,
            "--login",
            "--pin",
            PIN,
            "--list-objects",
        ])
        .output()
        .expect("pkcs11-tool");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn pkcs11_key_imported_from_words() {
    let Some(dir) = stage("pkcs11_key_imported_from_words", false, true) else {
        return;
    };
    runtime().block_on(async {
        let ks = Keystore::open(&dir.join("wallet")).await.unwrap();
        let choice = BackendChoice::Pkcs11(token());
        let key = ks
            .import_mnemonic("words", Zeroizing::new(WORDS.to_owned()), &choice, pin())
            .await
            .unwrap();
        let expected = mnemonic::from_words(WORDS, 0).unwrap();
        assert_eq!(key.public_key, hex::encode(expected.public_key()));
        assert!(
            key.protection.contains("imported into the token"),
            "{}",
            key.protection
        );
        let mut session = ks.open_session("words", pin()).await.unwrap();
        let sig = session.sign(b"revoke").unwrap();
        // The token signs exactly as the software key would (ed25519 is deterministic).
        use ed25519_dalek::Signer as _;
        assert_eq!(sig, expected.signing_key().sign(b"revoke").to_bytes());
        drop(session);
        // The private key does not come out of the token.
        let Some(tradeseal_wallet::keystore::Locator::Pkcs11 { object_id, .. }) =
            Some(key.locator.clone())
        else {
            panic!()
        };
        let out = std::process::Command::new("pkcs11-tool")
            .arg("--module")
            .arg(stores::softhsm_library().unwrap())
            .args(["--token-label", TOKEN_LABEL, "--login", "--pin", PIN])
            .args(["--read-object", "--type", "privkey", "--id", &object_id])
            .output()
            .unwrap();
        assert!(
            !out.status.success() || !contains(&out.stdout, expected.expose()),
            "the private key was read out of the token"
        );
        // The token dir holds the key encrypted, never in the clear.
        stores::assert_no_secret(&dir.join("tokens"), "the seed", expected.expose());
    });
}

#[test]
fn a_missing_token_or_library_is_reported() {
    let Some(dir) = stage("a_missing_token_or_library_is_reported", false, true) else {
        return;
    };
    runtime().block_on(async {
        let ks = Keystore::open(&dir.join("wallet")).await.unwrap();
        let mut config = token();
        config.token_label = Some("no-such-token".into());
        let e = ks
            .create("x", &BackendChoice::Pkcs11(config), pin())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "token_not_found", "{e}");
        assert!(e.to_string().contains("no-such-token"), "{e}");
        let config = TokenConfig {
            library: dir.join("no-such-library.so"),
            slot: None,
            token_label: None,
        };
        let e = ks
            .create("x", &BackendChoice::Pkcs11(config), pin())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "token_not_found", "{e}");
        // A key whose token is gone: the token's serial no longer matches.
        let key = ks
            .create("gone", &BackendChoice::Pkcs11(token()), pin())
            .await
            .unwrap()
            .key;
        let mut locator = key.locator;
        if let tradeseal_wallet::keystore::Locator::Pkcs11 { token_serial, .. } = &mut locator {
            *token_serial = "0000000000000000".into();
        }
        let e = tradeseal_wallet::keystore::Pkcs11Backend::for_locator(&locator).unwrap_err();
        assert_eq!(e.kind(), "token_not_found", "{e}");
        assert!(e.to_string().contains("insert it"), "{e}");
    });
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A development key file in the shape the devnet writes (`dev-keys.json`).
fn dev_key_file(labels: &[&str]) -> String {
    let entry = |label: &str| {
        let key = registry::devkit::dev_key(label);
        serde_json::json!({
            "label": label,
            "algorithm": "ed25519",
            "public_key": hex::encode(key.verifying_key().to_bytes()),
            "secret_key": hex::encode(key.to_bytes()),
        })
    };
    serde_json::json!({
        "warning": devnet::DEV_KEY_WARNING,
        "chain_id": "tradeseal-devnet",
        "validators": [{"key_index": 0, "public_key": "00", "secret_key": "00"}],
        "governance": {"threshold": 2, "keys": labels[..1].iter().map(|l| entry(l)).collect::<Vec<_>>()},
        "issuers": labels[1..].iter().map(|l| entry(l)).collect::<Vec<_>>(),
    })
    .to_string()
}

#[test]
fn development_keys_are_imported_and_marked() {
    let Some(dir) = stage("development_keys_are_imported_and_marked", true, false) else {
        return;
    };
    runtime().block_on(async {
        let ks = Keystore::open(&dir.join("wallet")).await.unwrap();
        let file = dev_key_file(&["gov-0", "issuer-ke-kephis"]);
        let keys = ks
            .import_development(&file, "dev/", &BackendChoice::Keyring, None)
            .await
            .unwrap();
        let labels: Vec<_> = keys.iter().map(|k| k.label.as_str()).collect();
        assert_eq!(labels, ["dev/gov-0", "dev/issuer-ke-kephis"]);
        for k in &keys {
            assert!(k.is_development());
            assert!(
                k.protection.starts_with("DEVELOPMENT KEY"),
                "{}",
                k.protection
            );
        }
        assert_eq!(
            keys[1].public_key,
            registry::devkit::dev_public_key("issuer-ke-kephis").to_hex()
        );
        // Imported once: a second import adds nothing.
        assert!(ks
            .import_development(&file, "dev/", &BackendChoice::Keyring, None)
            .await
            .unwrap()
            .is_empty());
        // A file without the development warning, or whose secret does not match, is refused.
        let mut v: serde_json::Value = serde_json::from_str(&file).unwrap();
        v["warning"] = serde_json::json!("keys");
        assert!(ks
            .import_development(&v.to_string(), "x/", &BackendChoice::Keyring, None)
            .await
            .is_err());
        let mut v: serde_json::Value = serde_json::from_str(&file).unwrap();
        v["issuers"][0]["public_key"] = serde_json::json!("11".repeat(32));
        let e = ks
            .import_development(&v.to_string(), "y/", &BackendChoice::Keyring, None)
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("does not give the public key"),
            "{e}"
        );
        let mut session = ks.open_session("dev/gov-0", None).await.unwrap();
        let sig = session.sign(b"approve").unwrap();
        verify(&keys[0].public_key_bytes().unwrap(), b"approve", &sig);
    });
}

/// Logs at every level go to a file in the data directory, so the scan below covers them.
fn log_to(dir: &Path) {
    let file = std::fs::File::create(dir.join("wallet.log")).unwrap();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
}

#[test]
fn no_secret_reaches_the_data_directory_or_the_logs() {
    let Some(dir) = stage(
        "no_secret_reaches_the_data_directory_or_the_logs",
        true,
        true,
    ) else {
        return;
    };
    let data = dir.join("wallet");
    std::fs::create_dir_all(&data).unwrap();
    log_to(&data);
    let mut secrets: Vec<(String, Vec<u8>)> = Vec::new();
    runtime().block_on(async {
        let ks = Keystore::open(&data).await.unwrap();
        let created = ks
            .create("created", &BackendChoice::Keyring, None)
            .await
            .unwrap();
        let backup = created.backup.unwrap();
        let seed = mnemonic::from_words(backup.expose(), 0).unwrap();
        secrets.push(("the created key's seed".into(), seed.expose().to_vec()));
        secrets.push((
            "the created key's words".into(),
            backup.expose().as_bytes().to_vec(),
        ));
        let first_words: Vec<&str> = backup.expose().split(' ').take(6).collect();
        secrets.push((
            "six backup words".into(),
            first_words.join(" ").into_bytes(),
        ));

        for (label, choice, pin) in [
            ("words-keyring", BackendChoice::Keyring, None),
            ("words-token", BackendChoice::Pkcs11(token()), pin()),
        ] {
            let words = if label == "words-keyring" {
                WORDS.to_owned()
            } else {
                "legal winner thank year wave sausage worth useful legal winner thank yellow"
                    .to_owned()
            };
            let s = mnemonic::from_words(&words, 0).unwrap();
            secrets.push((format!("{label}'s seed"), s.expose().to_vec()));
            secrets.push((format!("{label}'s words"), words.as_bytes().to_vec()));
            let bip39_seed = bip39::Mnemonic::parse_normalized(&words)
                .unwrap()
                .to_seed("");
            secrets.push((format!("{label}'s BIP-39 seed"), bip39_seed.to_vec()));
            ks.import_mnemonic(label, Zeroizing::new(words), &choice, pin)
                .await
                .unwrap();
        }
        let generated = ks
            .create("generated", &BackendChoice::Pkcs11(token()), pin())
            .await
            .unwrap();
        assert!(generated.backup.is_none());
        let dev = dev_key_file(&["gov-1", "agency-nl-customs"]);
        ks.import_development(&dev, "dev/", &BackendChoice::Keyring, None)
            .await
            .unwrap();
        for l in ["gov-1", "agency-nl-customs"] {
            secrets.push((
                format!("dev key {l}"),
                registry::devkit::dev_key(l).to_bytes().to_vec(),
            ));
        }
        for (label, p) in [
            ("created", None),
            ("words-keyring", None),
            ("words-token", pin()),
            ("generated", pin()),
            ("dev/gov-1", None),
        ] {
            let mut s = ks.open_session(label, p).await.unwrap();
            let _ = s.sign(b"a message").unwrap();
            let debug = format!("{s:?}");
            for (what, secret) in &secrets {
                assert!(
                    !debug.contains(&hex::encode(secret)),
                    "{what} in Debug: {debug}"
                );
            }
        }
        let listed = format!("{:?}", ks.list().await.unwrap());
        for (what, secret) in &secrets {
            assert!(
                !listed.contains(&hex::encode(secret)),
                "{what} in a listing"
            );
        }
        // Failures are logged too.
        let _ = ks
            .open_session("words-token", Some(Pin::new("999999".into())))
            .await;
        ks.close().await;
    });
    let log = std::fs::read_to_string(data.join("wallet.log")).unwrap();
    assert!(
        log.contains("key created") && log.contains("key imported"),
        "{log}"
    );
    assert!(!log.contains(PIN), "the PIN is in the logs");
    assert!(stores::files_under(&data)
        .iter()
        .any(|p| p.ends_with("keys.sqlite")));
    for (what, secret) in &secrets {
        stores::assert_no_secret(&data, what, secret);
    }
}
