//! Image to verdict: the time from a certificate's QR image (or its text) to the verdict,
//! online against a devnet on loopback (three full nodes) and offline from the synced offline
//! knowledge, with the QR decoding alone and the two proofs alone measured in the same run as
//! the baseline they add up from. Prints percentiles in ms. Run with `cargo bench -p tradeseal-wallet --bench verify`; not part of
//! the tests.

#[path = "../tests/support.rs"]
mod support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use devnet::{Devnet, DevnetConfig, SampleStatus};
use light_node::RpcConfig;
use tradeseal_api::{Origin, Verdict, VerifyInput, VerifyRequest};
use tradeseal_wallet::NodeServiceConfig;

use support::{wallet_for, NodeSetup};

const RUNS: usize = 100;

fn row(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let n = samples.len();
    let pct = |p: f64| samples[((n as f64 * p) as usize).min(n - 1)].as_secs_f64() * 1e3;
    println!(
        "| {what} | {n} | {:.1} | {:.1} | {:.1} | {:.1} |",
        pct(0.5),
        pct(0.95),
        pct(0.99),
        samples[n - 1].as_secs_f64() * 1e3
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(run());
}

async fn run() {
    let net = Devnet::start(DevnetConfig::for_tests())
        .await
        .expect("devnet starts");
    assert!(net.wait_for_height(12, Duration::from_secs(30)).await);
    let dir = tempfile::tempdir().unwrap();
    // Following, as in the app: the head is kept current in the background.
    let setup = NodeSetup {
        rpc: RpcConfig::default(),
        stale_after_blocks: NodeServiceConfig::default().node.stale_after_blocks,
        follow: true,
    };
    let wallet = wallet_for(&net, &DevnetConfig::for_tests(), dir.path(), setup).await;
    wallet.sync_once().await.unwrap();

    let samples = net.samples().unwrap();
    let valid = samples
        .certificates
        .iter()
        .find(|c| c.status == SampleStatus::Valid)
        .unwrap();
    let text = registry::qr::encode(&valid.signed).unwrap();
    let png = devnet::qr_png(text.as_bytes()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let image = VerifyRequest {
        input: VerifyInput::File {
            name: "certificate.png".into(),
            base64: b64,
        },
        document: None,
        offline: false,
    };
    let payload = VerifyRequest {
        input: VerifyInput::Payload {
            text: text.clone(),
            origin: Origin::Paste,
        },
        document: None,
        offline: false,
    };
    let (cert_key, issuer_key) = tradeseal_wallet::verify::keys_for(&valid.signed.certificate.id);
    let offline_image = VerifyRequest {
        offline: true,
        ..image.clone()
    };
    wallet.offline_sync().await.unwrap();

    // Warm up (connections, caches).
    for _ in 0..5 {
        wallet.verify(&image).await.unwrap();
    }
    let mut decode = Vec::new();
    let mut proofs = Vec::new();
    let mut from_text = Vec::new();
    let mut from_image = Vec::new();
    let mut offline = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let codes = tradeseal_scan::decode_image_bytes(&png).unwrap();
        decode.push(t.elapsed());
        assert_eq!(codes[0].text, text);

        let t = Instant::now();
        let cert = wallet.query(&cert_key, None).await.unwrap();
        wallet.query(&issuer_key, Some(cert.height)).await.unwrap();
        proofs.push(t.elapsed());

        let t = Instant::now();
        let r = wallet.verify(&payload).await.unwrap();
        from_text.push(t.elapsed());
        assert_eq!(r.verdict, Verdict::Valid);

        let t = Instant::now();
        let r = wallet.verify(&image).await.unwrap();
        from_image.push(t.elapsed());
        assert_eq!(r.verdict, Verdict::Valid);

        let t = Instant::now();
        let r = wallet.verify(&offline_image).await.unwrap();
        offline.push(t.elapsed());
        assert_eq!(r.verdict, Verdict::Valid);
    }
    println!(
        "image to verdict, online on loopback ({}x{} px QR image, 3 full nodes; goal: p95 under 150 ms) and offline",
        image_side(&png),
        image_side(&png)
    );
    println!();
    println!("| step | runs | p50 ms | p95 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|---|");
    row("QR decoding alone (baseline)", decode);
    row("two proofs alone (baseline)", proofs);
    row("text to verdict (history write included)", from_text);
    row("image to verdict (history write included)", from_image);
    row(
        "image to verdict offline (goal: under 30 ms; history write included)",
        offline,
    );
    net.shutdown().await;
}

fn image_side(png: &[u8]) -> u32 {
    // PNG: width is the big-endian u32 at byte 16.
    png.get(16..20)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
