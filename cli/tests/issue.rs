//! `tradeseal-cli issue` and `print` against a devnet started here on loopback, with the
//! issuer's key in a Secret Service the test starts (the wallet's `stores.rs`): a form is
//! issued, confirmed by proof, and the PNG and the PDF it writes verify as VALID through
//! `tradeseal-cli verify` (the attached document too); a form with fields at fault is refused
//! with every field named and nothing signed; `print` makes the same files from the payload.

#[path = "../../wallet/tests/stores.rs"]
mod stores;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use devnet::{Devnet, DevnetConfig};
use serde_json::Value;
use stores::{require, Stores};

fn run(s: &Stores, args: &[&str]) -> (Output, Value) {
    let out = s
        .command(env!("CARGO_BIN_EXE_tradeseal-cli"))
        .args(args)
        .env_remove("TRADESEAL_PIN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("tradeseal-cli");
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    (out, last)
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

fn form(serial: &str, hs_code: &str) -> Value {
    serde_json::json!({
        "kind": "phytosanitary",
        "issuer": "KE-KEPHIS",
        "serial": serial,
        "exporter": {"name": "Rift Valley Roses Ltd", "country": "KE", "identifier": "P051234567X"},
        "importer": {"name": "Aalsmeer Flower Imports B.V.", "country": "nl"},
        "goods": {"description": "Fresh cut roses (Rosa spp.), 480 cartons", "hs_code": hs_code,
                  "quantity": "9600", "unit": "KGM"},
        "origin": "KE",
        "destination": "NL",
        "valid_days": 14,
        "transport": "Air KQ0112 NBO-AMS",
        "remarks": "Free from quarantine pests",
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn issue_then_verify_the_png_and_the_pdf() {
    if !require(&["dbus-daemon", "dbus-send", "gnome-keyring-daemon"]) {
        return;
    }
    let mut s = Stores::new();
    s.start_secret_service();
    let dir = s.dir.path().to_owned();
    let net = Devnet::start(DevnetConfig::for_tests())
        .await
        .expect("devnet starts");
    assert!(net.wait_for_height(12, Duration::from_secs(60)).await);
    let config =
        devnet::chain_config(&DevnetConfig::for_tests(), net.chain(), net.rpc_urls()).unwrap();
    let config_path = dir.join("chain-config.json");
    std::fs::write(&config_path, config.to_json()).unwrap();
    let samples = net.samples().expect("samples");
    let issuer = samples
        .issuers
        .iter()
        .find(|i| i.spec.id.as_str() == "KE-KEPHIS")
        .expect("KE-KEPHIS");
    let keys = serde_json::json!({
        "warning": devnet::DEV_KEY_WARNING,
        "governance": {"keys": []},
        "issuers": [{
            "label": "KE-KEPHIS",
            "public_key": hex::encode(issuer.key.verifying_key().to_bytes()),
            "secret_key": hex::encode(issuer.key.to_bytes()),
        }],
    });
    let keys_path = dir.join("dev-keys.json");
    std::fs::write(&keys_path, keys.to_string()).unwrap();
    let config = p(&config_path);
    let data = p(&dir.join("wallet"));
    let out_dir = dir.join("out");
    let out = p(&out_dir);
    let doc = dir.join("document.pdf");
    std::fs::write(&doc, b"%PDF-1.4\n% the full certificate text\n%%EOF\n").unwrap();
    let form_path = dir.join("form.json");
    std::fs::write(&form_path, form("PH-2026-7001", "060311").to_string()).unwrap();

    // Everything blocking runs off the runtime's threads, so the devnet keeps serving.
    let s = std::sync::Arc::new(s);
    let results = tokio::task::spawn_blocking({
        let s = s.clone();
        let (config, data, out) = (config.clone(), data.clone(), out.clone());
        let (doc, form_path, dir) = (p(&doc), p(&form_path), dir.clone());
        move || {
            let (o, _) = run(
                &s,
                &[
                    "keys",
                    "import-dev",
                    "--file",
                    &p(&keys_path),
                    "--data-dir",
                    &data,
                ],
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            // Fields at fault: every one named, nothing signed.
            let bad_form = dir.join("bad.json");
            let mut bad = form("PH 7002", "06");
            bad["origin"] = "Kenya".into();
            std::fs::write(&bad_form, bad.to_string()).unwrap();
            let bad = run(
                &s,
                &[
                    "issue",
                    "--key",
                    "dev/KE-KEPHIS",
                    "--form",
                    &p(&bad_form),
                    "--out",
                    &out,
                    "--chain-config",
                    &config,
                    "--data-dir",
                    &data,
                    "--yes",
                ],
            );
            let issued = run(
                &s,
                &[
                    "issue",
                    "--key",
                    "dev/KE-KEPHIS",
                    "--form",
                    &form_path,
                    "--attachment",
                    &doc,
                    "--out",
                    &out,
                    "--chain-config",
                    &config,
                    "--data-dir",
                    &data,
                    "--yes",
                ],
            );
            let png = p(&Path::new(&out).join("PH-2026-7001.png"));
            let pdf = p(&Path::new(&out).join("PH-2026-7001.pdf"));
            let verify = |file: &str, extra: &[&str]| {
                let mut args = vec![
                    "verify",
                    file,
                    "--chain-config",
                    &config,
                    "--data-dir",
                    &data,
                ];
                args.extend_from_slice(extra);
                run(&s, &args)
            };
            let v_png = verify(&png, &["--document", &doc]);
            let v_pdf = verify(&pdf, &[]);
            let outbox = run(&s, &["outbox", "list", "--data-dir", &data]);
            (bad, issued, v_png, v_pdf, outbox)
        }
    })
    .await
    .unwrap();
    let (bad, issued, v_png, v_pdf, outbox) = results;

    assert_eq!(bad.0.status.code(), Some(2));
    assert_eq!(bad.1["error"]["kind"], "invalid_form");
    let fields: Vec<&str> = bad.1["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["serial", "goods.hs_code", "origin"], "{}", bad.1);

    let (o, j) = &issued;
    assert!(
        o.status.success(),
        "{j}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(j["cert_id"], "KE-KEPHIS/PH-2026-7001");
    assert_eq!(j["state"], "confirmed");
    assert!(j["height"].as_u64().unwrap() > 0);
    assert!(j["tx_hash"].as_str().is_some_and(|h| h.len() == 64));
    let version = j["qr_version"].as_u64().unwrap();
    assert!((1..=15).contains(&version));
    assert_eq!(j["print"]["modules"].as_u64().unwrap(), 17 + 4 * version);
    assert!(j["print"]["side_mm"].as_f64().unwrap() >= j["print"]["min_side_mm"].as_f64().unwrap());
    for ext in ["png", "svg", "pdf"] {
        let file = j["files"][ext].as_str().unwrap();
        assert!(Path::new(file).is_file(), "{file}");
        assert_eq!(Path::new(file).parent().unwrap(), out_dir);
    }
    // The entry the registration went through: one, confirmed (the bad form signed nothing).
    let entries = outbox.1["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", outbox.1);
    assert_eq!(entries[0]["action"], "issue_certificate");

    let (o, v) = &v_png;
    assert_eq!(v["verdict"], "valid", "{v}");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(v["certificate_id"], "KE-KEPHIS/PH-2026-7001");
    assert_eq!(v["evidence"]["document_matches"], true, "{v}");
    let (o, v) = &v_pdf;
    assert_eq!(v["verdict"], "valid", "{v}");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(v["source"], "pdf");

    // `print` makes the same files from the payload alone, byte for byte.
    let again = dir.join("again");
    let chain_id = net.chain().chain_id().to_owned();
    let payload = j["payload"].as_str().unwrap().to_owned();
    let (o, printed) = run(
        &s,
        &[
            "print",
            "--payload",
            &payload,
            "--out",
            &p(&again),
            "--chain-id",
            &chain_id,
        ],
    );
    assert!(o.status.success(), "{printed}");
    for ext in ["png", "svg", "pdf"] {
        let a = std::fs::read(j["files"][ext].as_str().unwrap()).unwrap();
        let b = std::fs::read(printed["files"][ext].as_str().unwrap()).unwrap();
        assert!(a == b, "{ext} differs");
    }
    let (o, from_pdf) = run(
        &s,
        &["print", &pdf_path(j), "--out", &p(&dir.join("third"))],
    );
    assert!(o.status.success(), "{from_pdf}");
    assert_eq!(from_pdf["payload"], j["payload"]);
    let (o, none) = run(
        &s,
        &[
            "print",
            "--payload",
            "https://example.com",
            "--out",
            &p(&dir),
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(none["error"]["kind"], "invalid_payload");
    net.shutdown().await;
}

fn pdf_path(j: &Value) -> String {
    j["files"]["pdf"].as_str().unwrap().to_owned()
}
