//! Verifying certificates in the real app on the local development network: the devnet's QR
//! images of sample certificates (valid, revoked, expired, issuer removed, tampered, foreign)
//! given to the Verify page's file input, a serial typed in, and the camera path: a QR image
//! played into a `canvas.captureStream()` that stands in for the camera, read by the same
//! scanning code. Each verdict is read from the WebView; the History page then lists them.
//! Then offline field mode: the Settings page's offline data synced with "Sync now" against
//! the devnet, the warning age validated and saved, a certificate verified from the offline
//! data with its freshness shown, and the History's online re-check flagging it unchanged;
//! another, revoked after it was judged offline, flagged CHANGED to revoked.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use registry::state::RevocationReason;
use registry::{keys, PublicKey, TxBuilder};

use crate::harness::{number_after, App, Net, SYNC, WAIT};

/// From giving the input to the verdict on screen (a proof round trip on a busy machine).
const VERDICT: Duration = Duration::from_secs(30);

fn samples(net: &Net) -> Vec<Value> {
    let text = std::fs::read_to_string(net.files_dir().join("certificates.json")).unwrap();
    let index: Value = serde_json::from_str(&text).unwrap();
    index["certificates"].as_array().unwrap().clone()
}

fn sample<'a>(all: &'a [Value], status: &str) -> &'a Value {
    all.iter()
        .find(|c| c["status"] == status)
        .unwrap_or_else(|| panic!("a {status} sample"))
}

/// Gives `png` to the file input `#verify-file` as the user's choice (a `DataTransfer` with
/// the file, then `change`: what choosing a file does).
fn choose_file(app: &App, name: &str, png: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(png);
    app.js(&format!(
        "const bytes = Uint8Array.from(atob({b64}), c => c.charCodeAt(0));\
         const dt = new DataTransfer();\
         dt.items.add(new File([bytes], {name}, {{type: 'image/png'}}));\
         const input = document.querySelector('#verify-file');\
         input.files = dt.files;\
         input.dispatchEvent(new Event('change', {{bubbles: true}}));\
         return true",
        b64 = Value::from(b64),
        name = Value::from(name),
    ));
}

/// The verdicts shown, with the certificate ids.
fn verdicts(app: &App) -> Vec<(String, String)> {
    let v = app.js(
        "return Array.from(document.querySelectorAll('#verify-results .report'))\
         .map(r => [r.dataset.verdict, r.dataset.certificate || ''])",
    );
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p[0].as_str().unwrap_or_default().to_owned(),
                        p[1].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Waits for the verdict on certificate `id` (the previous one stays until the new one is
/// asked for).
fn wait_verdict(app: &App, what: &str, id: &str) -> (String, String) {
    app.wait(VERDICT, &format!("the verdict on {what}"), || {
        let errors = app.text_of("#verify-errors").unwrap_or_default();
        assert!(errors.trim().is_empty(), "{what}: {errors}");
        verdicts(app).into_iter().next().filter(|(_, c)| c == id)
    })
}

fn type_and_verify(app: &App, text: &str) {
    app.js(&format!(
        "const i = document.querySelector('#verify-text');\
         i.value = {text}; i.dispatchEvent(new Event('input', {{bubbles: true}}));\
         return true",
        text = Value::from(text)
    ));
    app.click("#verify-submit");
}

/// Replaces the camera with a canvas stream showing `png` (drawn again every frame, as a
/// camera would deliver it), so the page's scanner reads it through its normal path.
fn camera_shows(app: &App, png: &[u8]) {
    let b64 = base64::engine::general_purpose::STANDARD.encode(png);
    app.js(&format!(
        "const img = new Image();\
         img.src = 'data:image/png;base64,' + {b64};\
         const canvas = document.createElement('canvas');\
         canvas.width = 800; canvas.height = 600;\
         const ctx = canvas.getContext('2d');\
         const draw = () => {{\
           ctx.fillStyle = '#8a8f87'; ctx.fillRect(0, 0, 800, 600);\
           if (img.complete) ctx.drawImage(img, 250, 150, 300, 300);\
           requestAnimationFrame(draw);\
         }};\
         draw();\
         const stream = canvas.captureStream(15);\
         const fake = {{ getUserMedia: async () => stream, enumerateDevices: async () => [] }};\
         Object.defineProperty(navigator, 'mediaDevices', {{ value: fake, configurable: true }});\
         return typeof canvas.captureStream",
        b64 = Value::from(b64)
    ));
}

fn png_of(net: &Net, c: &Value) -> Vec<u8> {
    let rel = c["qr_png"].as_str().unwrap();
    std::fs::read(net.files_dir().join(Path::new(rel))).unwrap()
}

#[test]
fn certificates_are_verified_in_the_app() {
    let net = Net::start();
    let app = App::launch(Some(&net.chain_config));
    app.wait_state(SYNC, &["synced"]);
    app.open("verify");
    let all = samples(&net);

    for (status, verdict) in [
        ("valid", "valid"),
        ("revoked", "revoked"),
        ("expired", "expired"),
        ("issuer_removed", "issuer_removed"),
    ] {
        let c = sample(&all, status);
        choose_file(&app, &format!("{status}.png"), &png_of(&net, c));
        let shown = wait_verdict(&app, status, c["id"].as_str().unwrap());
        app.log(format!("{status}: {shown:?}"));
        assert_eq!(shown.0, verdict, "{status}");
        app.shot(&format!("verify-{status}.png"));
    }
    // The evidence of the last one names the proven height.
    assert!(app.exists("#verify-results .report-height"));

    // Images of a valid certificate altered after signing (its issuer's signature kept), and
    // of a foreign code.
    let text = sample(&all, "valid")["qr_text"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut altered = registry::qr::decode(text.as_bytes()).unwrap();
    altered.certificate.goods.quantity = "1".into();
    let tampered = registry::qr::encode(&altered).unwrap();
    choose_file(
        &app,
        "tampered.png",
        &devnet::qr_png(tampered.as_bytes()).unwrap(),
    );
    let id = altered.certificate.id.to_string();
    let shown = app.wait(VERDICT, "the tampered certificate's verdict", || {
        verdicts(&app)
            .into_iter()
            .next()
            .filter(|(v, c)| v != "valid" && c == &id)
    });
    assert_eq!(shown.0, "tampered");
    choose_file(
        &app,
        "foreign.png",
        &devnet::qr_png(b"https://example.com/certificate/1").unwrap(),
    );
    app.wait(VERDICT, "the foreign code's verdict", || {
        verdicts(&app)
            .into_iter()
            .next()
            .filter(|(v, c)| v == "not_ours" && c.is_empty())
    });
    // A serial typed in.
    let revoked = sample(&all, "revoked")["id"].as_str().unwrap().to_owned();
    type_and_verify(&app, &revoked);
    let shown = wait_verdict(&app, "a typed serial", &revoked);
    assert_eq!(shown.0, "revoked");

    // The camera path: a canvas stream in place of the camera, read by the page's scanner.
    let valid = sample(&all, "valid");
    camera_shows(&app, &png_of(&net, valid));
    app.click("#verify-scan");
    let shown = app.wait(VERDICT, "the camera scan's verdict", || {
        verdicts(&app)
            .into_iter()
            .next()
            .filter(|(v, _)| v == "valid")
    });
    assert_eq!(shown.1, valid["id"].as_str().unwrap());
    assert!(!app.exists("#verify-camera-error"));
    app.shot("verify-camera.png");

    // The history lists every verification, newest first, and filters by verdict.
    app.open("history");
    app.wait_for("#history-table");
    let rows = || {
        app.js("return Array.from(document.querySelectorAll('.history-row')).map(r => r.dataset.verdict)")
    };
    let all_rows = app.wait(WAIT, "eight verifications in the history", || {
        let r = rows();
        (r.as_array().map_or(0, Vec::len) == 8).then_some(r)
    });
    assert_eq!(all_rows[0], "valid", "the camera scan is the newest");
    app.js("const s = document.querySelector('#history-verdict');\
         s.value = 'revoked'; s.dispatchEvent(new Event('change', {bubbles: true})); return true");
    app.wait(WAIT, "only the revoked verifications", || {
        let r = rows();
        (r.as_array().map_or(0, Vec::len) == 2 && r[0] == "revoked").then_some(())
    });
    app.shot("history.png");

    offline_field_mode(&app, &net, valid);
}

/// The Settings page's offline data section and "Sync now"; the warning age; a verdict from
/// the offline data with its freshness; the History's online re-check of it.
fn offline_field_mode(app: &App, net: &Net, valid: &Value) {
    app.open("settings");
    app.wait_for("#offline-section");
    app.click("#offline-sync");
    let height = app.wait(SYNC, "the offline data synced by Sync now", || {
        if let Some(e) = app.text_of("#offline-sync-error") {
            panic!("Sync now failed: {e}");
        }
        if !app.exists("#offline-sync-done") {
            return None;
        }
        let h = app.js(
            "const e = document.querySelector('#offline-height'); return e ? e.dataset.height : null",
        );
        h.as_str()?.parse::<u64>().ok()
    });
    app.log(format!(
        "offline data at height {height}: {}",
        app.text_of("#offline-status").unwrap_or_default()
    ));
    assert!(height > 0 && height <= net.height(), "height {height}");
    assert_eq!(
        app.js("return document.querySelector('#offline-status').dataset.state"),
        "fresh"
    );
    let issuers = app.text_of("#offline-issuers").unwrap_or_default();
    assert!(issuers.parse::<u64>().is_ok_and(|n| n > 0), "{issuers:?}");
    app.scroll_to("#offline-section");
    app.shot("settings-offline.png");

    // The warning age: refused out of range, saved when a whole number of hours.
    let set_warn = |v: &str| {
        app.js(&format!(
            "const i = document.querySelector('#offline-warn-after');\
             i.value = {v}; i.dispatchEvent(new Event('change', {{bubbles: true}})); return true",
            v = Value::from(v)
        ))
    };
    set_warn("0");
    app.wait_for("#offline-warn-after-invalid");
    set_warn("48");
    app.wait(WAIT, "the warning age saved", || {
        let text = std::fs::read_to_string(app.config_dir().join("settings.json")).ok()?;
        let stored: Value = serde_json::from_str(&text).ok()?;
        (stored["offline_warn_after_hours"] == 48).then_some(())
    });
    assert!(!app.exists("#offline-warn-after-invalid"));

    // Verified from the offline data only: the verdict says so, as of which block.
    app.open("verify");
    app.click("#verify-offline");
    let id = valid["id"].as_str().unwrap();
    choose_file(app, "offline.png", &png_of(net, valid));
    let line = app.wait(VERDICT, "the offline verdict with its freshness", || {
        let errors = app.text_of("#verify-errors").unwrap_or_default();
        assert!(errors.trim().is_empty(), "offline: {errors}");
        app.text_of("#verify-results .report .report-offline")
    });
    app.log(format!("offline verdict: {line}"));
    assert_eq!(verdicts(app).first().map(|v| v.1.as_str()), Some(id));
    assert_eq!(verdicts(app)[0].0, "valid");
    assert!(
        line.contains("Offline") && line.contains("cannot be known offline"),
        "{line}"
    );
    // "block 1,234": the height with its thousands grouped.
    let block: u64 = line
        .split("block ")
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("no block in {line:?}"));
    assert!(block >= height && block <= net.height(), "{line}");
    assert!(app.exists("#verify-results [data-recheck='pending']"));
    app.shot("verify-offline.png");

    // Back online, the History's re-check flags it: same verdict.
    app.open("history");
    app.wait_for("#history-table");
    app.click("#history-recheck");
    app.wait(VERDICT, "the offline verdict re-checked online", || {
        app.exists("#history-table [data-recheck='same']")
            .then_some(())
    });
    assert!(!app.exists("#history-table [data-recheck='changed']"));
    app.shot("history-recheck.png");

    // Another valid certificate judged offline, then revoked by its issuer: once the app has
    // verified the block after the revocation, the re-check flags it CHANGED to revoked.
    let samples = net.devnet().samples().expect("sample data").clone();
    let later = samples
        .certificates
        .iter()
        .filter(|c| c.status == devnet::SampleStatus::Valid)
        .find(|c| c.signed.certificate.id.to_string() != id)
        .expect("a second valid sample");
    let later_id = later.signed.certificate.id.to_string();
    app.open("verify");
    app.click("#verify-offline");
    let code = registry::qr::encode(&later.signed).unwrap();
    choose_file(app, "later.png", &devnet::qr_png(code.as_bytes()).unwrap());
    app.wait(VERDICT, "the second offline verdict", || {
        let errors = app.text_of("#verify-errors").unwrap_or_default();
        assert!(errors.trim().is_empty(), "offline: {errors}");
        let shown = verdicts(app).into_iter().next()?;
        (shown.1 == later_id && app.exists("#verify-results .report-offline")).then_some(())
    });
    assert_eq!(verdicts(app)[0].0, "valid");
    let issuer = samples
        .issuers
        .iter()
        .find(|i| i.spec.id == later.signed.certificate.id.issuer)
        .expect("its issuer");
    let signer = PublicKey::from(&issuer.key.verifying_key());
    let sequence = net.counter(&keys::account(&signer)) + 1;
    let revoke = TxBuilder::new(&samples.chain_id, &issuer.key)
        .revoke(
            sequence,
            later.signed.certificate.id.clone(),
            RevocationReason::Superseded,
            "replaced after the inspection",
        )
        .unwrap();
    net.submit("the revocation", revoke);
    net.settle();
    let revoked_by = net.height();
    app.wait(SYNC, "the app past the revocation's block", || {
        let head = number_after(&app.status_line(), "height")?;
        (head > revoked_by).then_some(())
    });
    app.open("history");
    app.wait_for("#history-table");
    app.click("#history-recheck");
    app.wait(VERDICT, "the revoked certificate flagged CHANGED", || {
        app.exists("#history-table [data-recheck='changed'][data-now='revoked']")
            .then_some(())
    });
    app.shot("history-changed.png");
}

/// The verdict's sentence in the chosen language, in the real WebView: French, then Arabic
/// (right to left), for a revoked certificate typed in by its serial; the backend's English
/// sentence is not what the page shows.
#[test]
fn the_verdict_sentence_reads_in_the_chosen_language() {
    let net = Net::start();
    let app = App::launch(Some(&net.chain_config));
    app.wait_state(SYNC, &["synced"]);
    let all = samples(&net);
    let revoked = sample(&all, "revoked")["id"].as_str().unwrap().to_owned();

    let sentence = |lang: &str| -> String {
        app.open("settings");
        app.wait_for("#language-select");
        app.click(&format!("#language-select option[value='{lang}']"));
        app.wait(WAIT, &format!("the page in {lang}"), || {
            (app.js("return document.documentElement.lang") == lang).then_some(())
        });
        app.open("verify");
        type_and_verify(&app, &revoked);
        let shown = wait_verdict(&app, "a typed serial", &revoked);
        assert_eq!(shown.0, "revoked");
        app.text_of("#verify-results .report .report-reason")
            .unwrap_or_default()
    };
    let english = sentence("en");
    let french = sentence("fr");
    app.shot("verify-revoked-fr.png");
    let arabic = sentence("ar");
    app.shot("verify-revoked-ar.png");
    app.log(format!("en: {english}\nfr: {french}\nar: {arabic}"));
    assert!(english.starts_with("Revoked"), "{english}");
    assert!(french.contains("Révoqué"), "{french}");
    assert!(arabic.contains("ألغت"), "{arabic}");
    assert_eq!(
        app.js("return document.documentElement.dir"),
        Value::from("rtl")
    );
    // Back to English for whoever looks at the screenshots next.
    let _ = sentence("en");
}
