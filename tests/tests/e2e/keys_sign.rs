//! Keys and signing in the real app on the local development network, with real stores
//! started here: GNOME Keyring's Secret Service on a private D-Bus session bus and a SoftHSM2
//! token. On the Keys page a key is created in the OS store (its backup words shown once and
//! three asked back) and one inside the token; governance registers both as the keys of a new
//! inspection agency (out of band, through the devnet); on the Sign page each signs an
//! inspection record — the token's first with a wrong PIN, refused and signed again with the
//! right one — and the outbox shows both confirmed by proof, which the chain's state agrees
//! with.

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

/// Creates a key in the OS store and goes through the backup words.
fn create_in_os_store(app: &App, label: &str) -> String {
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
    public_key(app, label)
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

    let os_key = create_in_os_store(&app, "field-laptop");
    let token_key = create_in_token(&app, &stores, "field-token");
    app.log(format!("keys: {os_key} (OS store), {token_key} (token)"));
    app.shot("keys-created.png");
    assert_ne!(os_key, token_key);
    register_agency(&net, &[os_key.clone(), token_key.clone()]);

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
    let second = wait_confirmed(&app, "the token key's inspection", &[first.clone()]);
    app.log(format!("confirmed: {second}"));
    app.shot("sign-confirmed.png");

    // The chain agrees: two inspections of the certificate.
    assert_eq!(net.counter(&keys::inspection_len(&cert_id)), 2);
}
