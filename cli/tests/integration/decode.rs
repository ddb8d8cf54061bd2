//! `tradeseal-cli decode`: one JSON line per file, the codes' text, exit 2 on unreadable input.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("decode-{}-{name}", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn payload() -> String {
    let cert = registry::sample_certificate(
        registry::Serial::new("KE-PH-2026-000777").unwrap(),
        1_767_225_600,
    )
    .sign(
        "tradeseal-devnet",
        &registry::devkit::dev_key("issuer-ke-kephis"),
    )
    .unwrap();
    registry::qr::encode(&cert).unwrap()
}

fn run(files: &[&Path]) -> (i32, Vec<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_tradeseal-cli"))
        .arg("decode")
        .args(files)
        .output()
        .unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (out.status.code().unwrap(), lines)
}

#[test]
fn prints_every_code_of_every_file_one_line_each() {
    let ours = payload();
    let a = temp("ours.png", &devnet::qr_png(ours.as_bytes()).unwrap());
    let b = temp(
        "url.png",
        &devnet::qr_png(b"https://example.com/x").unwrap(),
    );
    let (code, lines) = run(&[&a, &b]);
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], a.display().to_string());
    assert_eq!(lines[0]["codes"], serde_json::json!([ours]));
    assert_eq!(
        lines[1]["codes"],
        serde_json::json!(["https://example.com/x"])
    );
    assert!(lines[0].get("sha256").is_none());
}

#[test]
fn unreadable_files_are_errors_with_exit_2_and_the_rest_still_decoded() {
    let good = temp("good.png", &devnet::qr_png(b"hello").unwrap());
    let garbage = temp("garbage.png", b"not an image at all");
    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-file.png");
    let (code, lines) = run(&[&garbage, &good, &missing]);
    assert_eq!(code, 2);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["error"]["kind"], "unsupported_format");
    assert!(lines[0]["error"]["message"].is_string());
    assert_eq!(lines[1]["codes"], serde_json::json!(["hello"]));
    assert_eq!(lines[2]["error"]["kind"], "io");
}
