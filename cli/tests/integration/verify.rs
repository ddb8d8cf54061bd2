//! `tradeseal-cli verify` and `history` against a devnet started on loopback inside the
//! test, fed the QR images the devnet writes for its sample certificates: the verdict, its
//! exit code and the JSON fields integrators read; bad input; the history export.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use devnet::{Devnet, DevnetConfig};
use serde_json::Value;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tradeseal-cli"))
}

struct Out {
    code: i32,
    json: Value,
    stdout: String,
}

fn run(args: &[&str], config: &Path, dir: &Path) -> Out {
    let out = cli()
        .args(args)
        .arg("--chain-config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Out {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        stdout,
    }
}

/// The QR image of the first sample with this intended status.
fn sample_png(out_dir: &Path, index: &Value, status: &str) -> PathBuf {
    let c = index["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == status)
        .unwrap_or_else(|| panic!("a {status} sample"));
    out_dir.join(c["qr_png"].as_str().expect("qr_png path"))
}

#[tokio::test(flavor = "multi_thread")]
async fn verdicts_exit_codes_and_history_through_the_cli() {
    let out_dir = tempfile::tempdir().unwrap();
    let net = Devnet::start(DevnetConfig {
        data_dir: Some(out_dir.path().to_owned()),
        ..DevnetConfig::for_tests()
    })
    .await
    .expect("devnet starts");
    assert!(net.wait_for_height(10, Duration::from_secs(30)).await);
    let files = net.files().expect("output files").clone();
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(files.certificates.as_ref().unwrap()).unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = files.chain_config.clone();
    let cases = [
        ("valid", "valid", 0),
        ("revoked", "revoked", 10),
        ("expired", "expired", 11),
        ("issuer_removed", "issuer_removed", 14),
    ];
    // Blocking CLI runs off the runtime's threads, so the devnet keeps serving.
    let results = tokio::task::spawn_blocking({
        let index = index.clone();
        let config = config.clone();
        let dir = dir.path().to_owned();
        let out_dir = out_dir.path().to_owned();
        move || {
            cases
                .iter()
                .map(|(status, _, _)| {
                    let png = sample_png(&out_dir, &index, status);
                    run(&["verify", png.to_str().unwrap()], &config, &dir)
                })
                .collect::<Vec<_>>()
        }
    })
    .await
    .unwrap();
    for ((status, verdict, code), out) in cases.iter().zip(&results) {
        assert_eq!(out.json["verdict"], *verdict, "{status}: {}", out.stdout);
        assert_eq!(out.code, *code, "{status}");
        assert!(out.json["reason"].as_str().is_some_and(|r| !r.is_empty()));
        assert_eq!(out.json["evidence"]["proof"], "verified");
        assert!(out.json["evidence"]["proven_height"].as_u64().is_some());
        assert!(out.json["history_id"].as_i64().unwrap() > 0);
    }

    let dir_path = dir.path().to_owned();
    let (payload, serial, foreign, bad, offline, list, csv) =
        tokio::task::spawn_blocking(move || {
            let valid = index["certificates"][0].clone();
            let text = valid["qr_text"].as_str().unwrap().to_owned();
            let mut tampered = text.clone();
            // Change one base45 character in the middle: the signature or the encoding breaks.
            let mid = tampered.len() / 2;
            let c = if &tampered[mid..=mid] == "A" {
                "B"
            } else {
                "A"
            };
            tampered.replace_range(mid..=mid, c);
            let payload = run(&["verify", "--payload", &tampered], &config, &dir_path);
            let serial = run(
                &["verify", "--serial", valid["id"].as_str().unwrap()],
                &config,
                &dir_path,
            );
            let foreign = run(
                &["verify", "--payload", "https://example.com/x"],
                &config,
                &dir_path,
            );
            let bad = run(&["verify", "/nonexistent/file.png"], &config, &dir_path);
            let offline = run(
                &["verify", "--offline", "--payload", &text],
                &config,
                &dir_path,
            );
            let list = run(
                &["history", "list", "--verdict", "valid"],
                &config,
                &dir_path,
            );
            let csv = run(
                &["history", "export", "--format", "csv"],
                &config,
                &dir_path,
            );
            (payload, serial, foreign, bad, offline, list, csv)
        })
        .await
        .unwrap();
    // A character changed: either no longer decodes (not ours: damaged) or the signature fails.
    assert!(
        (payload.json["verdict"] == "tampered" && payload.code == 17)
            || (payload.json["verdict"] == "not_ours" && payload.code == 18),
        "{}",
        payload.stdout
    );
    assert_eq!(serial.json["verdict"], "valid", "{}", serial.stdout);
    assert_eq!(serial.json["source"], "serial");
    assert_eq!(foreign.json["verdict"], "not_ours");
    assert_eq!(foreign.code, 18);
    assert_eq!(bad.code, 2);
    assert_eq!(bad.json["error"]["kind"], "invalid_request");
    assert_eq!(offline.json["verdict"], "cannot_verify");
    assert_eq!(offline.code, 20);
    assert_eq!(offline.json["evidence"]["mode"], "offline");
    let valid_lines: Vec<Value> = list
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(valid_lines.len(), 2, "{}", list.stdout);
    assert!(valid_lines.iter().all(|v| v["verdict"] == "valid"));
    // Header, and one row per verification (the bad file was not kept).
    assert_eq!(csv.stdout.lines().count(), 1 + 4 + 4, "{}", csv.stdout);
    assert!(csv.stdout.starts_with("id,checked_at,verdict,"));
    net.shutdown().await;
}
