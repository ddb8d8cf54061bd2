//! Keys and signing in the real app on the local development network, with real stores
//! started here: GNOME Keyring's Secret Service on a private D-Bus session bus and a SoftHSM2
//! token. On the Keys page a key is created in the OS store (its backup words shown once and
//! three asked back) and one inside the token, and the devnet's development keys are imported
//! from its dev-keys.json, each marked as a development key; governance registers both as the keys of a new
//! inspection agency (out of band, through the devnet); on the Sign page each signs an
//! inspection record — the token's first with a wrong PIN, refused and signed again with the
//! right one — and the outbox shows both confirmed by proof, which the chain's state agrees
//! with. The OS store key's secret (derived here from the backup words the page showed, by
//! the documented derivation) appears nowhere: not in the IPC traffic between the page and
//! the backend (recorded in the WebView), not in any file of the app's config and data folders;
//! nor is the token's PIN in those files.

#[path = "../../../wallet/tests/stores.rs"]
mod stores;

use std::time::Duration;

use registry::state::{GovAction, IssuerSpec};
use registry::{keys, CertId, CertificateKind, Country, IssuerId, KindSet, PublicKey, TxBuilder};
use serde_json::Value;

use crate::harness::{App, Net, SYNC, WAIT};

/// From confirming a signature to "confirmed by proof" (submission, a block, two proofs).
const CONFIRMED: Duration = Duration::from_secs(60);
const AGENCY: &str = "KE-FIELD-INSPECT";

/// Types `value` into the input `css` as a user would (an `input` event per change).
fn type_into(app: &App, css: &str, value: &str) {
    let done = app.js(&format!(
        "const i = document.querySelector({css});\
         if (!i) return false;\
         i.value = {value}; i.dispatchEvent(new Event('input', {{bubbles: true}}));\
         return true",
        css = Value::from(css),
        value = Value::from(value)
    ));
    assert_eq!(done, Value::Bool(true), "no input {css}");
}

/// Chooses `value` in the select `css` (a `change` event).
fn choose(app: &App, css: &str, value: &str) {
    let done = app.js(&format!(
        "const s = document.querySelector({css});\
         if (!s) return false;\
         s.value = {value}; s.dispatchEvent(new Event('change', {{bubbles: true}}));\
         return s.value === {value}",
        css = Value::from(css),
        value = Value::from(value)
    ));
    assert_eq!(done, Value::Bool(true), "cannot choose {value} in {css}");
}

/// The public key of the key card labelled `label`, once it is listed.
fn public_key(app: &App, label: &str) -> String {
    app.wait(WAIT, &format!("the key {label} listed"), || {
        app.js(&format!(
            "const c = Array.from(document.querySelectorAll('.key-card'))\
             .find(c => c.dataset.label === {label});\
             return c ? c.querySelector('.key-public').textContent.trim() : null",
            label = Value::from(label)
        ))
        .as_str()
        .map(str::to_owned)
    })
}

/// Records every call through Tauri's `invoke` and its answer, in `window.__ipc`.
fn record_ipc(app: &App) {
    // The page calls `window.__TAURI__.core.invoke` at each call; `core` is a frozen module
    // namespace, so `__TAURI__` gets a copy whose `core.invoke` records and passes on.
    let hooked = app.js(
        "if (!window.__ipc) {\
           window.__ipc = [];\
           const tauri = window.__TAURI__;\
           const invoke = tauri.core.invoke;\
           const wrapped = (cmd, args, options) => invoke(cmd, args, options).then(\
             r => { window.__ipc.push(JSON.stringify([cmd, args, r])); return r; },\
             e => { window.__ipc.push(JSON.stringify([cmd, args, e])); throw e; });\
           const copy = Object.assign({}, tauri, { core: Object.assign({}, tauri.core, { invoke: wrapped }) });\
           try { window.__TAURI__ = copy; } catch (_) {}\
           if (window.__TAURI__ !== copy) {\
             Object.defineProperty(window, '__TAURI__', { value: copy, configurable: true, writable: true });\
           }\
         }\
         return window.__TAURI__.core.invoke.toString().includes('__ipc')",
    );
    assert_eq!(
        hooked,
        Value::Bool(true),
        "Tauri's invoke could not be wrapped"
    );
}

/// Everything recorded by [`record_ipc`], one JSON text per call.
fn ipc_traffic(app: &App) -> Vec<String> {
    app.js("return window.__ipc || []")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The forms `secret` could take in text or a file: raw, hex (both cases), base64.
fn encodings(secret: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    vec![
        secret.to_vec(),
        hex::encode(secret).into_bytes(),
        hex::encode_upper(secret).into_bytes(),
        base64::engine::general_purpose::STANDARD
            .encode(secret)
            .into_bytes(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`, with its bytes.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path, bytes));
        }
    }
    out
}

/// Creates a key in the OS store and goes through the backup words; answers its public key
/// and the words.
fn create_in_os_store(app: &App, label: &str) -> (String, String) {
    app.open("keys");
    app.wait_for("#key-create-form");
    type_into(app, "#key-create-label", label);
    choose(app, "#key-create-store", "keyring");
    app.click("#key-create");
    app.wait_for("#backup-words");
    let words: Vec<String> = app
        .js("return Array.from(document.querySelectorAll('#backup-words li')).map(l => l.textContent.trim())")
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            // A list item may carry its number: keep the word itself.
            w.as_str()
                .unwrap()
                .split_whitespace()
                .last()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(words.len(), 24, "{words:?}");
    app.shot("keys-backup-words.png");
    app.click("#backup-written");
    app.wait_for("#backup-check");
    let positions: Vec<usize> = app
        .js("return Array.from(document.querySelectorAll('.backup-answer')).map(i => Number(i.dataset.position))")
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(positions.len(), 3, "three words asked back");
    for p in positions {
        type_into(
            app,
            &format!(".backup-answer[data-position='{p}']"),
            &words[p - 1],
        );
    }
    app.click("#backup-confirm");
    app.wait_for("#backup-done");
    (public_key(app, label), words.join(" "))
}

/// Creates a key inside the SoftHSM2 token.
fn create_in_token(app: &App, stores: &stores::Stores, label: &str) -> String {
    app.open("keys");
    app.wait_for("#key-create-form");
    type_into(app, "#key-create-label", label);
    choose(app, "#key-create-store", "pkcs11");
    app.wait_for("#key-create-library");
    let library = stores
        .pkcs11_library
        .as_ref()
        .unwrap()
        .display()
        .to_string();
    type_into(app, "#key-create-library", &library);
    type_into(app, "#key-create-token", stores::TOKEN_LABEL);
    type_into(app, "#key-create-pin", stores::PIN);
    app.click("#key-create");
    app.wait_for("#backup-none");
    let key = public_key(app, label);
    let backend = app.js(&format!(
        "return Array.from(document.querySelectorAll('.key-card')).find(c => c.dataset.label === {}).dataset.backend",
        Value::from(label)
    ));
    assert_eq!(backend, "pkcs11");
    key
}

/// Governance registers agency [`AGENCY`] with `agency_keys` (proposal, then approval).
fn register_agency(net: &Net, agency_keys: &[String]) {
    let samples = net.devnet().samples().expect("sample data");
    let [proposer, approver, ..] = samples.governance.as_slice() else {
        panic!("two governance keys")
    };
    let next = |k: &PublicKey| net.counter(&keys::account(k)) + 1;
    let proposal = net.counter(keys::PROPOSAL_LEN);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let spec = IssuerSpec {
        id: IssuerId::new(AGENCY).unwrap(),
        legal_name: "Field Inspection Unit (end-to-end test)".into(),
        country: Country::new("KE").unwrap(),
        keys: agency_keys
            .iter()
            .map(|k| PublicKey::from_hex(k).unwrap())
            .collect(),
        kinds: KindSet::of(&[CertificateKind::Conformity]),
        valid_from: now - 86_400,
        valid_until: now + 365 * 86_400,
    };
    let p = TxBuilder::new(&samples.chain_id, proposer);
    let sequence = next(&PublicKey::from(&proposer.verifying_key()));
    net.submit(
        "the proposal",
        p.propose(sequence, GovAction::RegisterIssuer(spec), now + 86_400)
            .unwrap(),
    );
    net.settle();
    let a = TxBuilder::new(&samples.chain_id, approver);
    let sequence = next(&PublicKey::from(&approver.verifying_key()));
    net.submit("the approval", a.approve(sequence, proposal).unwrap());
    net.settle();
    assert!(
        !net.state(&keys::issuer(&IssuerId::new(AGENCY).unwrap()))
            .is_empty(),
        "the agency is registered"
    );
}

/// Fills the Sign page's inspection form for `cert` with the key `label` and opens the review.
fn review_inspection(app: &App, label: &str, cert: &str, notes: &str) {
    app.open("sign");
    app.wait_for("#sign-form");
    choose(app, "#sign-key", label);
    choose(app, "#sign-type", "inspect");
    app.wait_for("#sign-cert");
    type_into(app, "#sign-cert", cert);
    type_into(app, "#sign-agency", AGENCY);
    type_into(app, "#sign-location", "Port of Mombasa, berth 11");
    type_into(app, "#sign-notes", notes);
    app.click("#sign-review");
    app.wait(WAIT, "the review", || {
        if let Some(e) = app.text_of("#sign-error") {
            panic!("the review was refused: {e}");
        }
        app.exists("#sign-review-panel").then_some(())
    });
    let action = app.js("return document.querySelector('#sign-review-panel').dataset.action");
    assert_eq!(action, "record_inspection");
}

/// The outbox entry holding `notes` in its summary... or, simpler, the newest one's state.
fn newest_outbox_state(app: &App) -> Option<(String, String)> {
    let v = app.js(
        "const i = document.querySelector('#outbox-list .outbox-item');\
         return i ? [i.dataset.state, i.dataset.tx] : null",
    );
    let a = v.as_array()?;
    Some((a[0].as_str()?.to_owned(), a[1].as_str()?.to_owned()))
}

fn wait_confirmed(app: &App, what: &str, before: &[String]) -> String {
    app.wait(CONFIRMED, &format!("{what} confirmed by proof"), || {
        if let Some(e) = app.text_of("#outbox-error") {
            app.log(format!("outbox: {e}"));
        }
        let (state, tx) = newest_outbox_state(app)?;
        assert_ne!(state, "failed", "{what} failed");
        if before.contains(&tx) {
            return None;
        }
        if state != "confirmed" {
            // What the user does to hurry it: "Send now".
            app.click("#outbox-send");
            return None;
        }
        Some(tx)
    })
}

#[test]
fn keys_are_created_and_sign_inspections_confirmed_by_proof() {
    if !stores::require(&[
        "dbus-daemon",
        "dbus-send",
        "gnome-keyring-daemon",
        "softhsm2-util",
    ]) {
        return;
    }
    let mut stores = stores::Stores::new();
    stores.start_secret_service().start_softhsm();
    // The app reaches the stores through the bus address and SoftHSM2's configuration only
    // (its own folders stay those of its private home).
    let env: Vec<(String, String)> = stores
        .env()
        .into_iter()
        .filter(|(k, _)| k == "DBUS_SESSION_BUS_ADDRESS" || k == "SOFTHSM2_CONF")
        .collect();
    assert_eq!(env.len(), 2, "{env:?}");
    let net = Net::start();
    let app = App::launch_with(Some(&net.chain_config), &env);
    app.wait_state(SYNC, &["synced"]);
    let app_dirs = (app.config_dir(), app.data_dir());

    app.open("keys");
    record_ipc(&app);
    let (os_key, words) = create_in_os_store(&app, "field-laptop");
    let seed = tradeseal_wallet::keystore::mnemonic::from_words(&words, 0).unwrap();
    assert_eq!(
        hex::encode(seed.signing_key().verifying_key().to_bytes()),
        os_key,
        "the words shown are the key's backup"
    );
    let token_key = create_in_token(&app, &stores, "field-token");

    // The development network's keys, imported from its dev-keys.json and marked as such.
    let dev_keys = std::fs::read(net.files_dir().join(devnet::DEV_KEYS_FILE)).unwrap();
    {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&dev_keys);
        app.js(&format!(
            "const bytes = Uint8Array.from(atob({b64}), c => c.charCodeAt(0));\
             const dt = new DataTransfer();\
             dt.items.add(new File([bytes], 'dev-keys.json', {{type: 'application/json'}}));\
             const input = document.querySelector('#key-dev-file');\
             input.files = dt.files;\
             input.dispatchEvent(new Event('change', {{bubbles: true}}));\
             return true",
            b64 = Value::from(b64)
        ));
    }
    app.wait_for("#key-dev-done");
    let marked = app.js(
        "return Array.from(document.querySelectorAll('.key-card'))\
         .filter(c => c.dataset.label.startsWith('dev/'))\
         .map(c => c.dataset.development === 'true' && c.querySelector('.key-development') !== null)",
    );
    let marked = marked.as_array().unwrap();
    assert!(marked.len() >= 4, "governance and issuer keys: {marked:?}");
    assert!(marked.iter().all(|m| m == &Value::Bool(true)), "{marked:?}");
    app.log(format!("keys: {os_key} (OS store), {token_key} (token)"));
    app.shot("keys-created.png");
    assert_ne!(os_key, token_key);
    register_agency(&net, &[os_key, token_key]);

    let certificates: Value = serde_json::from_str(
        &std::fs::read_to_string(net.files_dir().join("certificates.json")).unwrap(),
    )
    .unwrap();
    let cert = certificates["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "valid")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cert_id = CertId::parse(&cert).unwrap();

    // The OS store's key: review, confirm, confirmed by proof.
    review_inspection(&app, "field-laptop", &cert, "seals intact");
    app.shot("sign-review.png");
    app.click("#sign-confirm");
    app.wait_for("#sign-notice");
    let first = wait_confirmed(&app, "the OS store key's inspection", &[]);
    app.log(format!("confirmed: {first}"));

    // The token's key: a wrong PIN first is refused and nothing is signed; the same review
    // is then signed with the right PIN.
    review_inspection(&app, "field-token", &cert, "sampled 3 cartons");
    app.wait_for("#sign-pin");
    type_into(&app, "#sign-pin", "000000");
    app.click("#sign-confirm");
    let code = app.wait(WAIT, "the wrong PIN refused", || {
        app.exists("#sign-error").then(|| {
            app.js("return document.querySelector('#sign-error').dataset.code")
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
    });
    assert_eq!(code, "wrong_pin", "{:?}", app.text_of("#sign-error"));
    app.shot("sign-wrong-pin.png");
    assert!(app.exists("#sign-review-panel"), "the review stays");
    assert_eq!(
        newest_outbox_state(&app).map(|(_, tx)| tx),
        Some(first.clone()),
        "nothing new in the outbox"
    );
    type_into(&app, "#sign-pin", stores::PIN);
    app.click("#sign-confirm");
    app.wait_for("#sign-notice");
    let second = wait_confirmed(
        &app,
        "the token key's inspection",
        std::slice::from_ref(&first),
    );
    app.log(format!("confirmed: {second}"));
    app.shot("sign-confirmed.png");

    // The chain agrees: two inspections of the certificate.
    assert_eq!(net.counter(&keys::inspection_len(&cert_id)), 2);

    // The secret went nowhere: not through the IPC (where only the backup words passed,
    // once, in the answer to key_create), not into the app's files.
    let traffic = ipc_traffic(&app);
    assert!(
        traffic.iter().any(|t| t.starts_with("[\"key_create\"")),
        "the IPC was recorded"
    );
    // As JSON: the list of words.
    let listed = serde_json::to_string(&words.split(' ').collect::<Vec<_>>()).unwrap();
    let with_words: Vec<_> = traffic.iter().filter(|t| t.contains(&listed)).collect();
    assert_eq!(with_words.len(), 1, "the words crossed once");
    assert!(with_words[0].starts_with("[\"key_create\""));
    let mut secrets = encodings(seed.expose());
    secrets.push(stores::PIN.as_bytes().to_vec());
    for secret in &secrets[..secrets.len() - 1] {
        for t in &traffic {
            assert!(!contains(t.as_bytes(), secret), "a secret in the IPC: {t}");
        }
    }
    // (While the app runs: its home folder goes with it. The SQLite write-ahead logs are
    // files too.)
    let mut files = files_under(&app_dirs.0);
    files.extend(files_under(&app_dirs.1));
    assert!(
        files.iter().any(|(p, _)| p.ends_with("keys.sqlite")),
        "the key metadata is among the files checked"
    );
    for (path, bytes) in &files {
        for secret in &secrets {
            assert!(
                !contains(bytes, secret),
                "{} holds a secret (or the PIN)",
                path.display()
            );
        }
    }
}
