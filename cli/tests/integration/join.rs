//! `--chain-config` takes the chain config's QR code image as it takes its JSON file: the
//! devnet's `chain-config.png` syncs as its `chain-config.json` does.

use std::process::{Command, Stdio};
use std::time::Duration;

use devnet::{Devnet, DevnetConfig};
use serde_json::Value;

fn sync(config: &std::path::Path, dir: &std::path::Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_tradeseal-cli"))
        .arg("sync")
        .arg("--chain-config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn syncs_from_the_chain_config_qr_image() {
    let net = Devnet::start(DevnetConfig::for_tests())
        .await
        .expect("devnet starts");
    assert!(net.wait_for_height(3, Duration::from_secs(20)).await);
    let config =
        devnet::chain_config(&DevnetConfig::for_tests(), net.chain(), net.rpc_urls()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join(devnet::CHAIN_CONFIG_QR_FILE);
    std::fs::write(&png, devnet::chain_config_qr_png(&config).unwrap()).unwrap();
    assert!(
        net.wait_for_height(
            config.checkpoint.height.value() + 2,
            Duration::from_secs(20)
        )
        .await
    );

    let (code, json) = sync(&png, &tmp.path().join("data"));
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["status"], "synced", "{json}");
    assert_eq!(json["chain_id"], config.chain_id.as_str(), "{json}");
    assert!(json["height"].as_u64().unwrap() > config.checkpoint.height.value());

    // An image without a chain config in it is bad input (exit 2), saying what it holds.
    let other = tmp.path().join("certificate.png");
    std::fs::write(&other, devnet::qr_png(b"TS1:NOT-A-CHAIN-CONFIG").unwrap()).unwrap();
    let (code, json) = sync(&other, &tmp.path().join("other"));
    assert_eq!(code, 2, "{json}");
    assert_eq!(json["error"]["kind"], "invalid_request", "{json}");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.contains("certificate"), "{message}");
    net.shutdown().await;
}
