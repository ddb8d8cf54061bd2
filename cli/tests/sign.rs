//! `tradeseal-cli sign`, `outbox` and `audit` against the devnet (started here, on
//! loopback) with keys in real stores started by the test: GNOME Keyring's Secret Service on
//! a private D-Bus session bus and a SoftHSM2 token (the wallet's `stores.rs`). The outbox's
//! crash safety: the submitting process is killed with SIGKILL mid-submission, many times,
//! and every queued transaction is on the chain exactly once.

#[path = "../../wallet/tests/stores.rs"]
mod stores;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use devnet::{Devnet, DevnetConfig};
use serde_json::Value;
use stores::{require, Stores, PIN, TOKEN_LABEL};

fn cli(s: &Stores) -> Command {
    let mut c = s.command(env!("CARGO_BIN_EXE_tradeseal-cli"));
    c.env_remove("TRADESEAL_PIN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn run(s: &Stores, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> (Output, Vec<Value>) {
    let mut child = cli(s)
        .args(args)
        .envs(env.iter().copied())
        .spawn()
        .expect("tradeseal-cli");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (out, lines)
}

/// The last JSON line of a run that must succeed.
fn ok(s: &Stores, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Value {
    let (out, lines) = run(s, args, stdin, env);
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    lines.last().cloned().unwrap_or(Value::Null)
}

/// The error of a run that must fail with `code`.
fn err(s: &Stores, args: &[&str], stdin: &str, env: &[(&str, &str)], code: i32) -> Value {
    let (out, lines) = run(s, args, stdin, env);
    let last = lines.last().cloned().unwrap_or(Value::Null);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {last}");
    assert!(last["error"]["kind"].is_string(), "{args:?}: {last}");
    last
}

struct Chain {
    net: Devnet,
    config: PathBuf,
    dev_keys: PathBuf,
}

/// The devnet, its chain config and its development keys in `dir`.
async fn devnet(dir: &Path) -> Chain {
    let net = Devnet::start(DevnetConfig::for_tests())
        .await
        .expect("devnet starts");
    // The samples go in one phase per block.
    assert!(net.wait_for_height(12, Duration::from_secs(60)).await);
    let config =
        devnet::chain_config(&DevnetConfig::for_tests(), net.chain(), net.rpc_urls()).unwrap();
    let config_path = dir.join("chain-config.json");
    std::fs::write(&config_path, config.to_json()).unwrap();
    let samples = net.samples().expect("samples");
    let entry = |label: &str, k: &ed25519_dalek::SigningKey| {
        serde_json::json!({
            "label": label,
            "public_key": hex::encode(k.verifying_key().to_bytes()),
            "secret_key": hex::encode(k.to_bytes()),
        })
    };
    let keys = serde_json::json!({
        "warning": devnet::DEV_KEY_WARNING,
        "governance": {"keys": samples.governance.iter().enumerate()
            .map(|(i, k)| entry(&format!("governance-{i}"), k)).collect::<Vec<_>>()},
        "issuers": samples.issuers.iter()
            .map(|i| entry(i.spec.id.as_str(), &i.key)).collect::<Vec<_>>(),
    });
    let dev_keys = dir.join("dev-keys.json");
    std::fs::write(&dev_keys, keys.to_string()).unwrap();
    Chain {
        net,
        config: config_path,
        dev_keys,
    }
}

fn inspection(dir: &Path, name: &str, cert: &str, notes: &str) -> String {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(
        &path,
        serde_json::json!({
            "type": "inspect",
            "cert": cert,
            "agency": "KE-KEPHIS",
            "location": "Port of Mombasa, berth 11",
            "outcome": "compliant",
            "notes": notes,
        })
        .to_string(),
    )
    .unwrap();
    path.display().to_string()
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_with_the_os_store_and_a_token_confirmed_by_proof_and_audited() {
    if !require(&[
        "dbus-daemon",
        "dbus-send",
        "gnome-keyring-daemon",
        "softhsm2-util",
    ]) {
        return;
    }
    let mut s = Stores::new();
    s.start_secret_service().start_softhsm();
    let lib = p(s.pkcs11_library.as_ref().unwrap());
    let dir = s.dir.path().to_owned();
    let chain = devnet(&dir).await;
    let config = p(&chain.config);
    let data = p(&dir.join("wallet"));
    ok(
        &s,
        &[
            "keys",
            "import-dev",
            "--file",
            &p(&chain.dev_keys),
            "--data-dir",
            &data,
        ],
        "",
        &[],
    );
    let tx = inspection(&dir, "a", "KE-KEPHIS/PH-2026-0001", "seals intact");
    // Not confirmed: the review is printed, nothing is signed.
    let args = [
        "sign",
        "--key",
        "dev/KE-KEPHIS",
        "--tx",
        &tx,
        "--chain-config",
        &config,
        "--data-dir",
        &data,
    ];
    let (out, lines) = run(&s, &args, "no\n", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(lines[0]["review"]["action"], "record_inspection");
    assert_eq!(lines[1]["error"]["kind"], "confirmation_required");
    let listed = ok(&s, &["outbox", "list", "--data-dir", &data], "", &[]);
    assert_eq!(listed["entries"], Value::Array(vec![]));

    // Confirmed on stdin: signed in the Secret Service, confirmed by proof.
    let (out, lines) = run(&s, &args, "yes\n", &[]);
    assert!(
        out.status.success(),
        "{lines:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done = lines.last().unwrap();
    assert_eq!(done["entry"]["state"], "confirmed", "{done}");
    assert_eq!(done["review"]["signer_label"], "dev/KE-KEPHIS");
    assert!(done["entry"]["height"].as_u64().unwrap() > 0);
    let review = &done["review"];
    let fields: BTreeMap<&str, &str> = review["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["value"].as_str().unwrap()))
        .collect();
    assert_eq!(fields["notes"], "seals intact");
    assert_eq!(review["chain_id"], chain.net.chain().chain_id());

    // A form the proven state refuses: another issuer's certificate.
    let revoke = dir.join("revoke.json");
    std::fs::write(
        &revoke,
        r#"{"type":"revoke","cert":"KE-KNCCI/CO-2026-0001","reason":"cancelled"}"#,
    )
    .unwrap();
    let e = err(
        &s,
        &[
            "sign",
            "--key",
            "dev/KE-KEPHIS",
            "--tx",
            &p(&revoke),
            "--chain-config",
            &config,
            "--data-dir",
            &data,
            "--yes",
        ],
        "",
        &[],
        2,
    );
    assert_eq!(e["error"]["kind"], "would_be_rejected");
    assert_eq!(e["error"]["registry_code"], 21);

    // The same agency's key imported into the token, in another wallet: a wrong PIN first.
    let token_data = p(&dir.join("token-wallet"));
    ok(
        &s,
        &[
            "keys",
            "import-dev",
            "--file",
            &p(&chain.dev_keys),
            "--prefix",
            "hsm/",
            "--backend",
            "pkcs11",
            "--pkcs11-lib",
            &lib,
            "--token-label",
            TOKEN_LABEL,
            "--data-dir",
            &token_data,
        ],
        "",
        &[("TRADESEAL_PIN", PIN)],
    );
    let tx2 = inspection(&dir, "b", "KE-KEPHIS/PH-2026-0001", "token-signed");
    let token_args = [
        "sign",
        "--key",
        "hsm/KE-KEPHIS",
        "--tx",
        &tx2,
        "--chain-config",
        &config,
        "--data-dir",
        &token_data,
        "--yes",
    ];
    let e = err(&s, &token_args, "", &[("TRADESEAL_PIN", "000000")], 2);
    assert_eq!(e["error"]["kind"], "wrong_pin", "{e}");
    assert!(!e["error"]["pin_retry"].is_null(), "{e}");
    let done = ok(&s, &token_args, &format!("{PIN}\n"), &[]);
    assert_eq!(done["entry"]["state"], "confirmed", "{done}");

    // The audit log: the failed attempt, then the signature and its confirmation.
    let (out, _) = run(
        &s,
        &[
            "audit",
            "export",
            "--format",
            "json",
            "--data-dir",
            &token_data,
        ],
        "",
        &[],
    );
    assert!(out.status.success());
    let audit: Value = serde_json::from_slice(&out.stdout).unwrap();
    let events: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["sign_failed", "signed", "submitted", "confirmed"],
        "{audit}"
    );
    assert_eq!(audit[1]["key_label"], "hsm/KE-KEPHIS");
    let (out, _) = run(
        &s,
        &[
            "audit",
            "export",
            "--format",
            "csv",
            "--data-dir",
            &token_data,
        ],
        "",
        &[],
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with(
        "id,at,event,key_label,public_key,chain_id,action,summary,sequence,tx_hash,detail\r\n"
    ));
    assert_eq!(csv.lines().count(), 5);
    // No PIN anywhere in the wallet's files.
    stores::assert_no_secret(&dir.join("token-wallet"), "the PIN", PIN.as_bytes());
    chain.net.shutdown().await;
}

/// A fixed-seed sequence in [0, 1) (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

const QUEUED: usize = 10;
const KILLS: usize = 40;
const CERT: &str = "KE-KEPHIS/PH-2026-0004";

fn kill(mut child: Child) {
    // Child::kill sends SIGKILL on Unix.
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_submission_nothing_is_lost_or_duplicated() {
    if !require(&["dbus-daemon", "dbus-send", "gnome-keyring-daemon"]) {
        return;
    }
    let mut s = Stores::new();
    s.start_secret_service();
    let dir = s.dir.path().to_owned();
    let chain = devnet(&dir).await;
    let config = p(&chain.config);
    let data = p(&dir.join("wallet"));
    ok(
        &s,
        &[
            "keys",
            "import-dev",
            "--file",
            &p(&chain.dev_keys),
            "--data-dir",
            &data,
        ],
        "",
        &[],
    );
    // Some signed offline, queued in the outbox.
    for i in 0..QUEUED {
        let tx = inspection(&dir, &format!("q{i}"), CERT, &format!("queued-{i}"));
        let out = ok(
            &s,
            &[
                "sign",
                "--key",
                "dev/KE-KEPHIS",
                "--tx",
                &tx,
                "--chain-config",
                &config,
                "--data-dir",
                &data,
                "--yes",
                "--no-submit",
            ],
            "",
            &[],
        );
        assert_eq!(out["entry"]["state"], "pending");
    }

    // Then, in turns: a `sign` that signs, queues, submits and waits for the proof, and an
    // `outbox submit`, each killed at a point spread over how long it takes (before it
    // signs, between signing and queueing, mid-broadcast, while it waits for the proof).
    let mut rng = Rng(0x0005_eed0_f0ed_b0c5);
    let mut mid_way = 0;
    let mut known = QUEUED;
    for round in 0..KILLS {
        let child = if round % 2 == 0 {
            let tx = inspection(&dir, &format!("k{round}"), CERT, &format!("killed-{round}"));
            cli(&s)
                .args([
                    "sign",
                    "--key",
                    "dev/KE-KEPHIS",
                    "--tx",
                    &tx,
                    "--chain-config",
                    &config,
                    "--data-dir",
                    &data,
                    "--yes",
                ])
                .spawn()
                .unwrap()
        } else {
            cli(&s)
                .args([
                    "outbox",
                    "submit",
                    "--chain-config",
                    &config,
                    "--data-dir",
                    &data,
                ])
                .spawn()
                .unwrap()
        };
        let delay = Duration::from_millis((rng.next() * 1200.0) as u64);
        std::thread::sleep(delay);
        kill(child);
        let listed = ok(&s, &["outbox", "list", "--data-dir", &data], "", &[]);
        let entries = listed["entries"].as_array().unwrap();
        // Nothing queued is ever lost from the outbox; a killed `sign` adds one or none.
        assert!(
            entries.len() == known || entries.len() == known + 1,
            "after kill {round}: {listed}"
        );
        known = entries.len();
        assert!(
            entries.iter().all(|e| e["state"] != "failed"),
            "after kill {round}: {listed}"
        );
        let count = |state: &str| entries.iter().filter(|e| e["state"] == state).count();
        if count("confirmed") < entries.len() && count("pending") < entries.len() {
            mid_way += 1;
        }
        eprintln!(
            "kill {round} after {delay:?}: {} pending, {} submitted, {} confirmed",
            count("pending"),
            count("submitted"),
            count("confirmed")
        );
    }
    eprintln!("{mid_way} of {KILLS} kills left the outbox part sent");

    // A last submission that is let finish.
    let done = ok(
        &s,
        &[
            "outbox",
            "submit",
            "--chain-config",
            &config,
            "--data-dir",
            &data,
            "--timeout",
            "180",
        ],
        "",
        &[],
    );
    let listed = ok(&s, &["outbox", "list", "--data-dir", &data], "", &[]);
    let entries = listed["entries"].as_array().unwrap();
    assert!(
        entries.iter().all(|e| e["state"] == "confirmed"),
        "{done}\n{listed}"
    );
    // What the outbox holds: the notes of every transaction signed and queued.
    let expected: Vec<String> = entries
        .iter()
        .map(|e| {
            let tx =
                registry::Tx::decode(&hex::decode(e["tx_hex"].as_str().unwrap()).unwrap()).unwrap();
            let registry::Message::RecordInspection(m) = tx.body.message else {
                panic!("not an inspection: {e}")
            };
            m.notes
        })
        .collect();
    assert!(expected.len() >= QUEUED);

    // On the chain, proven: each one exactly once.
    let query = |key: &str| -> Value {
        ok(
            &s,
            &[
                "query",
                "--chain-config",
                &config,
                "--data-dir",
                &p(&dir.join("q")),
                key,
            ],
            "",
            &[],
        )
    };
    let len = query(&format!("inspection/{CERT}/len"));
    let len = u64::from_str_radix(len["value_hex"].as_str().unwrap(), 16).unwrap();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for n in 0..len {
        let v = query(&format!("inspection/{CERT}/{n}"));
        let bytes = hex::decode(v["value_hex"].as_str().unwrap()).unwrap();
        let record: registry::state::InspectionRecord =
            registry::Canonical::from_bytes(&bytes).unwrap();
        *seen.entry(record.notes).or_default() += 1;
    }
    let lost: Vec<&String> = expected.iter().filter(|n| !seen.contains_key(*n)).collect();
    let duplicated: Vec<(&String, &usize)> = seen.iter().filter(|(_, c)| **c > 1).collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(duplicated.is_empty(), "duplicated: {duplicated:?}");
    let unknown: Vec<&String> = seen.keys().filter(|n| !expected.contains(n)).collect();
    assert!(
        unknown.is_empty(),
        "on the chain but not in the outbox: {unknown:?}"
    );
    assert_eq!(len as usize, expected.len(), "{seen:?}");
    eprintln!(
        "{KILLS} kills: 0 lost, 0 duplicated, {} inspections on the chain",
        expected.len()
    );
    chain.net.shutdown().await;
}
