//! Against the devnet (started inside each test, on loopback): the wallet never accepts a
//! forged header or value, detects a fork and keeps and submits the evidence, replaces
//! failing primaries, and recovers when an honest primary is configured.

use std::time::Duration;

use devnet::{Behaviour, Devnet, DevnetConfig};
use tradeseal_api::{NodeHealth, NodeState};
use tradeseal_wallet::{Wallet, WalletConfig, WalletError};

use crate::support::{wallet_for, NodeSetup};

const CERT: &str = "cert/KE-KEPHIS/PH-2026-0001";

struct Net {
    net: Devnet,
    _dir: tempfile::TempDir,
    wallet: Wallet,
    urls: Vec<String>,
}

async fn start(behaviours: Vec<(usize, Behaviour)>) -> Net {
    start_with(behaviours, 100).await
}

/// `stale_after`: block intervals (100 ms here) before the head counts as stale; large by
/// default so a loaded machine does not make a fresh head look stale.
async fn start_with(behaviours: Vec<(usize, Behaviour)>, stale_after: u32) -> Net {
    let net = Devnet::start(DevnetConfig {
        behaviours,
        ..DevnetConfig::for_tests()
    })
    .await
    .expect("devnet starts");
    assert!(net.wait_for_height(3, Duration::from_secs(20)).await);
    let dir = tempfile::tempdir().unwrap();
    let setup = NodeSetup {
        stale_after_blocks: stale_after,
        ..NodeSetup::quick()
    };
    let wallet = wallet_for(&net, &DevnetConfig::for_tests(), dir.path(), setup).await;
    let urls = net.rpc_urls().to_vec();
    // Past the checkpoint, so the first sync has a new header to cross-check.
    blocks(&net, 2).await;
    Net {
        net,
        _dir: dir,
        wallet,
        urls,
    }
}

async fn blocks(net: &Devnet, n: u64) {
    let now = net.chain().blocks().latest().map_or(0, |b| b.height());
    assert!(net.wait_for_height(now + n, Duration::from_secs(20)).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn syncs_and_proves_values_and_absences() {
    let n = start(vec![]).await;
    let status = n.wallet.sync_once().await.unwrap();
    assert_eq!(status.state, NodeState::Synced, "{status:?}");
    assert!(
        status.nodes.iter().all(|x| x.health == NodeHealth::Ok),
        "{:?}",
        status.nodes
    );
    let head = status.head.unwrap().height;

    let proven = n.wallet.query(CERT, None).await.unwrap();
    assert!(proven.value.is_some());
    assert_eq!(proven.header_height.value(), proven.height.value() + 1);
    assert!(proven.header_height.value() <= head);

    let absent = n.wallet.query("cert/NOBODY/0", None).await.unwrap();
    assert!(absent.value.is_none());
    // An old height, below the checkpoint: proven along the hash chain.
    let old = n
        .wallet
        .query(CERT, Some(light_client::Height(2)))
        .await
        .unwrap();
    assert_eq!(old.header_height.value(), 3);
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forked_witness_is_detected_the_evidence_kept_and_sent_and_an_honest_list_recovers() {
    let n = start(vec![]).await;
    n.wallet.sync_once().await.unwrap();
    n.net.set_behaviour(1, Behaviour::Fork { from_height: 0 });
    blocks(&n.net, 3).await;
    let status = n.wallet.sync_once().await.unwrap();
    let NodeState::ForkDetected { fork } = &status.state else {
        panic!("expected a fork: {status:?}");
    };
    assert_eq!(fork.witness, n.urls[1]);
    assert!(std::path::Path::new(&fork.evidence_file).exists());
    // To the witness and the primary, and both pieces to the third node.
    assert_eq!(fork.submitted_to.len(), 4, "{:?}", fork.submitted_to);
    assert!(
        fork.submitted_to.iter().all(|s| s.contains("accepted")),
        "{:?}",
        fork.submitted_to
    );
    for node in 0..3 {
        assert!(
            !n.net.evidence(node).is_empty(),
            "node {node} got no evidence"
        );
    }
    // Nothing new is trusted, and queries cannot be answered.
    assert!(matches!(
        n.wallet.query(CERT, None).await,
        Err(WalletError::Query(_))
    ));

    // The operator says node 1 lies: remove it; the node starts again from the common height.
    let status = n.wallet.node_remove(&n.urls[1]).await.unwrap();
    assert!(
        !matches!(status.state, NodeState::ForkDetected { .. }),
        "{status:?}"
    );
    let status = n.wallet.sync_once().await.unwrap();
    assert_eq!(status.state, NodeState::Synced, "{status:?}");
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lunatic_primary_is_rejected_and_replaced() {
    let n = start(vec![]).await;
    n.wallet.sync_once().await.unwrap();
    n.net
        .set_behaviour(0, Behaviour::Lunatic { from_height: 0 });
    blocks(&n.net, 3).await;
    let status = n.wallet.sync_once().await.unwrap();
    assert_eq!(status.state, NodeState::Synced, "{status:?}");
    let liar = status.nodes.iter().find(|x| x.url == n.urls[0]).unwrap();
    assert_eq!(liar.health, NodeHealth::Faulty, "{liar:?}");
    assert!(!liar.primary);
    // The head is the honest chain's.
    let head = status.head.unwrap();
    let honest = n
        .net
        .chain()
        .blocks()
        .get(head.height)
        .map(|b| b.block_id.hash.to_hex());
    assert_eq!(honest.as_deref(), Some(head.hash.as_str()));
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lying_query_answers_are_never_accepted() {
    let n = start(vec![(0, Behaviour::LieValue), (1, Behaviour::LieProof)]).await;
    n.wallet.sync_once().await.unwrap();
    // The honest third node answers; the two liars are named.
    let proven = n.wallet.query("cert/NOBODY/0", None).await.unwrap();
    assert!(proven.value.is_none());
    assert_eq!(proven.node, n.urls[2]);
    let status = n.wallet.node_status();
    assert_eq!(
        status
            .nodes
            .iter()
            .filter(|x| x.health == NodeHealth::Faulty)
            .count(),
        2,
        "{:?}",
        status.nodes
    );
    // With every node lying there is no answer, never a wrong one.
    n.net.set_behaviour(2, Behaviour::LieValue);
    let err = n.wallet.query("cert/NOBODY/0", None).await.unwrap_err();
    assert!(
        err.to_string().contains("no node gave a provable answer"),
        "{err}"
    );
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_and_garbage_primaries_are_replaced_and_a_stale_one_noticed() {
    let n = start(vec![(0, Behaviour::Timeout), (1, Behaviour::Garbage)]).await;
    let status = n.wallet.sync_once().await.unwrap();
    assert_eq!(status.state, NodeState::Synced, "{status:?}");
    let health = |url: &str| status.nodes.iter().find(|x| x.url == url).unwrap().health;
    assert_eq!(health(&n.urls[0]), NodeHealth::Silent);
    assert_eq!(health(&n.urls[1]), NodeHealth::Faulty);
    assert!(status.nodes[0].primary && status.nodes[0].url == n.urls[2]);
    n.net.shutdown().await;

    // A primary that stops serving new headers while the chain goes on.
    let n = start_with(vec![], 15).await;
    n.wallet.sync_once().await.unwrap();
    n.net.set_behaviour(0, Behaviour::Stale { height: 0 });
    // 100 ms blocks: stale after 15 intervals.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let status = n.wallet.sync_once().await.unwrap();
    assert!(
        matches!(status.state, NodeState::Stale { .. }),
        "{status:?}"
    );
    let status = n.wallet.sync_once().await.unwrap();
    assert_eq!(status.state, NodeState::Synced, "{status:?}");
    assert_ne!(status.nodes[0].url, n.urls[0]);
    n.net.shutdown().await;
}

/// An image file's bytes as the Join screen sends them: a `data:` URL.
fn data_url(mime: &str, bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn joins_from_the_chain_config_qr_image_as_from_its_text() {
    let net = Devnet::start(DevnetConfig::for_tests())
        .await
        .expect("devnet starts");
    assert!(net.wait_for_height(3, Duration::from_secs(20)).await);
    let config =
        devnet::chain_config(&DevnetConfig::for_tests(), net.chain(), net.rpc_urls()).unwrap();
    // The image the devnet writes beside its chain-config.json.
    let png = devnet::chain_config_qr_png(&config).unwrap();

    // A wallet with no network yet: the image previews exactly as the text does.
    let dir = tempfile::tempdir().unwrap();
    let wallet = Wallet::open(WalletConfig::new(
        dir.path().join("config"),
        dir.path().join("data"),
    ))
    .await
    .unwrap();
    let image = data_url("image/png", &png);
    let from_image = wallet.chain_preview(&image).unwrap();
    let from_text = wallet.chain_preview(&config.to_json()).unwrap();
    assert_eq!(from_image, from_text);
    assert_eq!(from_image.chain.chain_id, config.chain_id.as_str());
    assert_eq!(
        from_image.chain.fingerprint,
        tradeseal_wallet::fingerprint(&config)
    );

    // Imported: the node runs on it and verifies the devnet's headers.
    wallet.chain_import(&image, false).await.unwrap();
    let status = wallet.sync_once().await.unwrap();
    assert_eq!(status.state, NodeState::Synced, "{status:?}");
    assert_eq!(
        status.chain.unwrap().fingerprint,
        from_text.chain.fingerprint
    );
    // Saved as the chain config's JSON, not as the image.
    let saved = std::fs::read_to_string(dir.path().join("config").join("chain-config.json"))
        .expect("the imported config is saved");
    assert_eq!(tradeseal_wallet::parse_text(&saved).unwrap(), config);

    // The PNG file itself serves as the chain config file (TRADESEAL_CHAIN_CONFIG).
    let png_path = dir.path().join(devnet::CHAIN_CONFIG_QR_FILE);
    std::fs::write(&png_path, &png).unwrap();
    let fixed = tempfile::tempdir().unwrap();
    let mut wc = WalletConfig::new(fixed.path().join("config"), fixed.path().join("data"));
    wc.chain_config = Some(png_path);
    let from_file = Wallet::open(wc).await.unwrap();
    assert_eq!(
        from_file.node_status().chain.unwrap().fingerprint,
        from_text.chain.fingerprint
    );

    // Images that hold no chain config are refused with what they hold.
    let certificate = devnet::qr_png(b"TS1:NOT-A-CHAIN-CONFIG").unwrap();
    let err = wallet
        .chain_preview(&data_url("image/png", &certificate))
        .unwrap_err();
    assert!(
        matches!(&err, WalletError::InvalidRequest(m) if m.contains("certificate")),
        "{err}"
    );
    let other = devnet::qr_png(br#"{"chain_id": 5}"#).unwrap();
    let err = wallet
        .chain_preview(&data_url("image/png", &other))
        .unwrap_err();
    assert!(
        matches!(&err, WalletError::InvalidRequest(m) if m.contains("not a usable chain config")),
        "{err}"
    );
    let blank = {
        let mut out = std::io::Cursor::new(Vec::new());
        image::GrayImage::from_pixel(64, 64, image::Luma([255]))
            .write_to(&mut out, image::ImageFormat::Png)
            .unwrap();
        out.into_inner()
    };
    let err = wallet
        .chain_preview(&data_url("image/png", &blank))
        .unwrap_err();
    assert!(
        matches!(&err, WalletError::InvalidRequest(m) if m.contains("no QR code")),
        "{err}"
    );
    let err = wallet
        .chain_preview("data:image/png;base64,@@@@")
        .unwrap_err();
    assert!(matches!(err, WalletError::InvalidRequest(_)), "{err}");
    net.shutdown().await;
}
