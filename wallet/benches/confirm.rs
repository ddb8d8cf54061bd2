//! Time from submission to "confirmed by proof" on loopback: a devnet started here (block
//! intervals of 100 ms and 1 s), one inspection record at a time signed through the signing
//! service (an in-memory key backend: the store's own cost is in the `keys` bench), then
//! outbox passes 10 ms apart until the transaction is proven in a verified block and its
//! effect proven in the state after it. Run with
//! `cargo bench -p tradeseal-wallet --bench confirm`; not part of the tests.

#[path = "../tests/support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use devnet::{Devnet, DevnetConfig};
use light_node::RpcConfig;
use tradeseal_wallet::keystore::{BackendChoice, Keystore};
use tradeseal_wallet::outbox::{Outbox, OutboxState};
use tradeseal_wallet::signing::{self, Confirmation, Form};

use support::{wallet_for, MemoryBackend, NodeSetup};

const RUNS: usize = 20;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn run(interval: Duration) {
    let config = DevnetConfig {
        block_interval: interval,
        ..DevnetConfig::for_tests()
    };
    let net = Devnet::start(config.clone()).await.expect("devnet");
    assert!(net.wait_for_height(12, Duration::from_secs(120)).await);
    let dir = tempfile::tempdir().unwrap();
    let setup = NodeSetup {
        rpc: RpcConfig::default(),
        stale_after_blocks: 1000,
        follow: false,
    };
    let wallet = wallet_for(&net, &config, dir.path(), setup).await;
    let keystore = Keystore::with_keyring(dir.path(), Arc::new(MemoryBackend::default()))
        .await
        .unwrap();
    let samples = net.samples().unwrap();
    let issuer = samples
        .issuers
        .iter()
        .find(|i| i.spec.id.as_str() == "KE-KEPHIS")
        .unwrap();
    let keys = serde_json::json!({
        "warning": devnet::DEV_KEY_WARNING,
        "issuers": [{
            "label": "KE-KEPHIS",
            "public_key": hex::encode(issuer.key.verifying_key().to_bytes()),
            "secret_key": hex::encode(issuer.key.to_bytes()),
        }],
    });
    keystore
        .import_development(&keys.to_string(), "", &BackendChoice::Keyring, None)
        .await
        .unwrap();
    let outbox = Outbox::new(keystore.database());
    let (mut prepare, mut sign, mut confirm, mut blocks) = (vec![], vec![], vec![], vec![]);
    for i in 0..RUNS {
        let form = Form::Inspect {
            cert: "KE-KEPHIS/PH-2026-0001".into(),
            agency: "KE-KEPHIS".into(),
            location: "bench".into(),
            outcome: "compliant".into(),
            notes: format!("bench {i}"),
            inspected_at: None,
        };
        let t = Instant::now();
        let p = signing::prepare(&wallet, &keystore, &outbox, "KE-KEPHIS", &form)
            .await
            .unwrap();
        prepare.push(t.elapsed());
        let t = Instant::now();
        let entry = signing::sign(&keystore, &outbox, &p, &Confirmation::of(&p.review), None)
            .await
            .unwrap();
        sign.push(t.elapsed());
        let start_height = net.chain().blocks().latest().map_or(0, |b| b.height());
        let t = Instant::now();
        loop {
            outbox.submit(&wallet).await.unwrap();
            let e = outbox.get(&entry.id.to_string()).await.unwrap();
            if e.state == OutboxState::Confirmed {
                break;
            }
            assert_ne!(e.state, OutboxState::Failed, "{e:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        confirm.push(t.elapsed());
        let end_height = net.chain().blocks().latest().map_or(0, |b| b.height());
        blocks.push(end_height - start_height);
    }
    let pct = |v: &mut Vec<Duration>, p: f64| {
        v.sort();
        ms(v[((v.len() as f64 * p) as usize).min(v.len() - 1)])
    };
    blocks.sort_unstable();
    println!(
        "| {} ms | {RUNS} | {:.0} | {:.1} | {:.0} / {:.0} / {:.0} | {:.0} | {} / {} |",
        interval.as_millis(),
        pct(&mut prepare, 0.5),
        pct(&mut sign, 0.5),
        pct(&mut confirm, 0.1),
        pct(&mut confirm, 0.5),
        pct(&mut confirm, 0.9),
        pct(&mut confirm, 1.0),
        blocks[RUNS / 2],
        blocks[RUNS - 1],
    );
    net.shutdown().await;
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "| block interval | n | prepare median ms | sign + queue median ms | submit → confirmed p10 / median / p90 ms | max ms | blocks produced median / max |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    rt.block_on(async {
        for interval in [Duration::from_millis(100), Duration::from_secs(1)] {
            run(interval).await;
        }
    });
}
