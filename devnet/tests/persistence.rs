//! The data directory: the chain survives a restart (replayed and checked against the stored
//! app hashes), `--fresh` starts a new chain, and the files for the wallet are written.

use devnet::{AppKind, ChainError, DevnetConfig, DevnetError, SampleStatus};
use light_client::config::ChainConfig;
use serde_json::Value;

use crate::support::{self, result};

fn config_in(dir: &std::path::Path) -> DevnetConfig {
    DevnetConfig {
        data_dir: Some(dir.to_path_buf()),
        ..support::config(AppKind::Registry { seed_samples: true })
    }
}

async fn block_hash(url: &str, height: u64) -> String {
    let c = result(url, &format!("/commit?height={height}")).await;
    c["signed_header"]["commit"]["block_id"]["hash"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_continues_the_chain_and_fresh_starts_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let net = support::start(config_in(dir.path())).await;
    let url = net.rpc_urls()[0].clone();
    let seeded = net.chain().latest_height();
    support::wait_height(&net, seeded + 3).await;
    let first_hash = block_hash(&url, 1).await;
    let h = seeded + 2;
    let hash_h = block_hash(&url, h).await;
    let cert = net.samples().unwrap().certificates[0]
        .signed
        .certificate
        .id
        .clone();

    // Files for the wallet.
    let files = net.files().expect("files").clone();
    let cfg = ChainConfig::from_json(&std::fs::read_to_string(&files.chain_config).unwrap())
        .expect("valid chain config");
    assert_eq!(cfg.chain_id.as_str(), devnet::DEFAULT_CHAIN_ID);
    assert_eq!(cfg.primary, net.rpc_urls()[0]);
    assert_eq!(cfg.witnesses, net.rpc_urls()[1..].to_vec());
    // The same config as a QR code beside it (its decoding is tested by the wallet).
    assert_eq!(
        files.chain_config_qr,
        files
            .chain_config
            .with_file_name(devnet::CHAIN_CONFIG_QR_FILE)
    );
    let png = std::fs::read(&files.chain_config_qr).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(png, devnet::chain_config_qr_png(&cfg).unwrap());
    let checkpoint_hash = block_hash(&url, cfg.checkpoint.height.value()).await;
    assert_eq!(cfg.checkpoint.hash.to_hex(), checkpoint_hash);
    let keys: Value =
        serde_json::from_str(&std::fs::read_to_string(&files.dev_keys).unwrap()).unwrap();
    assert_eq!(keys["warning"], devnet::DEV_KEY_WARNING);
    assert_eq!(keys["issuers"].as_array().unwrap().len(), 4);
    assert_eq!(keys["governance"]["keys"].as_array().unwrap().len(), 3);
    let index: Value = serde_json::from_str(
        &std::fs::read_to_string(files.certificates.as_ref().unwrap()).unwrap(),
    )
    .unwrap();
    let certs = index["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), net.samples().unwrap().certificates.len());
    assert_eq!(files.qr_codes.len(), certs.len());
    let png = image::open(&files.qr_codes[0])
        .expect("PNG decodes")
        .to_luma8();
    assert!(png.width() > 100 && png.width() == png.height());
    assert!(
        certs.iter().any(|c| c["status"] == "revoked")
            && certs.iter().any(|c| c["status"] == "expired")
    );
    net.shutdown().await;

    // Restart: same chain, continues.
    let net = support::start(config_in(dir.path())).await;
    let url = net.rpc_urls()[0].clone();
    assert!(net.chain().latest_height() >= seeded + 3);
    assert_eq!(block_hash(&url, 1).await, first_hash);
    assert_eq!(block_hash(&url, h).await, hash_h);
    let before = net.chain().latest_height();
    support::wait_height(&net, before + 2).await;
    let r = result(
        &url,
        &format!(
            "/abci_query?path=%22/store/cert/{}/{}%22",
            cert.issuer.as_str(),
            cert.serial.as_str()
        ),
    )
    .await;
    assert!(
        r["response"]["value"].is_string(),
        "state rebuilt by replay: {r}"
    );
    // The same samples (anchored to block 1), so the QR codes still match the chain.
    assert_eq!(
        net.samples().unwrap().certificates[0].status,
        SampleStatus::Valid
    );
    net.shutdown().await;

    // Another chain id in the same directory is refused.
    let mut other = config_in(dir.path());
    other.chain_id = "another-chain".into();
    match devnet::Devnet::start(other).await {
        Err(DevnetError::Chain(ChainError::OtherChain { .. })) => {}
        other => panic!("expected OtherChain, got {other:?}"),
    }

    // Fresh: a new chain.
    let mut fresh = config_in(dir.path());
    fresh.fresh = true;
    let net = support::start(fresh).await;
    let url = net.rpc_urls()[0].clone();
    assert!(net.chain().latest_height() < seeded + 3);
    assert_ne!(block_hash(&url, 1).await, first_hash);
    net.shutdown().await;
}
