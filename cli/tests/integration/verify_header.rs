//! `tradeseal-cli verify-header` on real Celestia mocha-4 light blocks.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn celestia(height: u64) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../light-client/testdata/celestia-mocha-4")
        .join(format!("{height}.json"))
}

/// Writes `doc` to a fresh file for this test.
fn temp_file(name: &str, doc: &Value) -> PathBuf {
    let path =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-{name}.json", std::process::id()));
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

fn load(height: u64) -> Value {
    serde_json::from_str(&std::fs::read_to_string(celestia(height)).unwrap()).unwrap()
}

struct Run {
    code: i32,
    json: Value,
    stderr: String,
}

fn run(trusted: &Path, untrusted: &Path, now: &str, extra: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_tradeseal-cli"))
        .arg("verify-header")
        .arg("--trusted")
        .arg(trusted)
        .arg("--untrusted")
        .arg(untrusted)
        .args(["--now", now])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    Run {
        code: out.status.code().unwrap(),
        json: serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

const SEPT_2023: &str = "2023-09-20T00:00:00Z";

#[test]
fn adjacent_and_skipping_succeed_with_defaults() {
    for (t, u) in [
        (3000, 3001),
        (10000, 10001),
        (10003, 10004),
        (3001, 10000),
        (10000, 10004),
    ] {
        let r = run(&celestia(t), &celestia(u), SEPT_2023, &[]);
        assert_eq!(r.code, 0, "{t}->{u}: {}", r.json);
        assert_eq!(r.json["verdict"], "success");
        assert!(r.json["reason"].is_null());
    }
    let r = run(
        &celestia(157000),
        &celestia(157001),
        "2023-11-01T00:00:00Z",
        &["--trusting-period", "60d"],
    );
    assert_eq!(r.code, 0, "{}", r.json);
}

#[test]
fn output_puts_the_verdict_first() {
    let out = Command::new(env!("CARGO_BIN_EXE_tradeseal-cli"))
        .args(["verify-header", "--now", SEPT_2023, "--trusted"])
        .arg(celestia(3000))
        .arg("--untrusted")
        .arg(celestia(3001))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        r#"{"verdict":"success","reason":null}"#
    );
}

#[test]
fn not_enough_trust_exits_nonzero() {
    let r = run(
        &celestia(10000),
        &celestia(10004),
        SEPT_2023,
        &["--trust-level", "1/1"],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.json["verdict"], "not_enough_trust");
    assert_eq!(r.json["reason"]["kind"], "not_enough_trust");
}

#[test]
fn expired_trusting_period_is_invalid() {
    let r = run(
        &celestia(3001),
        &celestia(10000),
        SEPT_2023,
        &["--trusting-period", "1h"],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.json["verdict"], "invalid");
    assert_eq!(r.json["reason"]["kind"], "trusted_header_expired");
    let r = run(
        &celestia(3001),
        &celestia(10000),
        "2024-09-20T00:00:00Z",
        &[],
    );
    assert_eq!(r.json["reason"]["kind"], "trusted_header_expired");
}

#[test]
fn flipped_signature_and_changed_chain_id_are_invalid() {
    let mut doc = load(10001);
    let sig = doc["result"]["commit"]["signatures"][0]["signature"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut chars: Vec<char> = sig.chars().collect();
    chars[5] = if chars[5] == 'A' { 'B' } else { 'A' };
    doc["result"]["commit"]["signatures"][0]["signature"] =
        Value::String(chars.into_iter().collect());
    let r = run(
        &celestia(10000),
        &temp_file("flipped", &doc),
        SEPT_2023,
        &[],
    );
    assert_eq!(r.code, 1);
    assert_eq!(r.json["reason"]["kind"], "invalid_signature", "{}", r.json);

    let mut doc = load(10001);
    doc["result"]["header"]["chain_id"] = Value::String("mocha-5".into());
    let r = run(&celestia(10000), &temp_file("chain", &doc), SEPT_2023, &[]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json["verdict"], "invalid");
    assert_eq!(r.json["reason"]["kind"], "header_commit_mismatch");
}

#[test]
fn signed_header_shape_with_next_validator_set_is_read() {
    let convert = |h: u64| {
        let r = &load(h)["result"];
        serde_json::json!({
            "signed_header": {"header": r["header"], "commit": r["commit"]},
            "validator_set": r["validator_set"],
            "next_validator_set": r["validator_set"],
        })
    };
    let t = temp_file("sh-trusted", &convert(10000));
    let u = temp_file("sh-untrusted", &convert(10004));
    let r = run(&t, &u, SEPT_2023, &[]);
    assert_eq!(r.code, 0, "{}", r.json);
}

#[test]
fn malformed_input_and_bad_arguments() {
    let mut doc = load(3001);
    doc["result"]["header"]["height"] = Value::String("tall".into());
    let r = run(
        &celestia(3000),
        &temp_file("malformed", &doc),
        SEPT_2023,
        &[],
    );
    assert_eq!(
        r.code, 2,
        "malformed input is bad input, not a forged block"
    );
    assert_eq!(r.json["error"]["kind"], "malformed_input");
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("result.header.height"));

    let r = run(
        &celestia(3000),
        Path::new("/nonexistent/x.json"),
        SEPT_2023,
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read the untrusted block"));

    let r = run(
        &celestia(3000),
        &celestia(3001),
        SEPT_2023,
        &["--trust-level", "1/4"],
    );
    assert_eq!(r.code, 2);
    let r = run(&celestia(3000), &celestia(3001), "yesterday", &[]);
    assert_eq!(r.code, 2);
}
