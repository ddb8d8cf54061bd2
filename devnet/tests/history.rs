//! A generated history (`history_blocks`, `rotate_every`): validly signed blocks with past,
//! increasing times, validator rotations through the normal update path, verifiable with the
//! light client adjacent and skipping, kept across a restart.

use std::time::Duration;

use devnet::{AppKind, BlockRecord, DevnetConfig};
use light_client::types::{LightBlock, Time};
use light_client::verify::{verify, Options, Verdict};

use crate::support::{self, light_block, now};

const BLOCKS: u64 = 300;
const ROTATE: u64 = 50;

fn config_in(dir: &std::path::Path) -> DevnetConfig {
    DevnetConfig {
        data_dir: Some(dir.to_path_buf()),
        history_blocks: BLOCKS,
        rotate_every: ROTATE,
        block_interval: Duration::from_millis(100),
        ..support::config(AppKind::Kv)
    }
}

fn unix_nanos(t: Time) -> i128 {
    t.unix_nanos()
}

/// Whether skipping from `trusted` to `target` has enough trust: the power of `trusted`'s
/// next validators that also sign `target` is above a third of theirs (every validator of
/// the devnet signs).
fn enough_trust(trusted: &BlockRecord, target: &BlockRecord) -> bool {
    let overlap: u64 = target
        .validators
        .validators()
        .iter()
        .filter_map(|v| trusted.next_validators.find(&v.address))
        .map(|(_, v)| v.voting_power)
        .sum();
    3 * overlap > trusted.next_validators.total_voting_power()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_history_verifies_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let before = now();
    let net = support::start(config_in(dir.path())).await;
    let started = now();
    let blocks: Vec<_> = (1..=BLOCKS)
        .map(|h| net.chain().blocks().get(h).cloned().expect("generated"))
        .collect();

    // Times: in the past, increasing by the block interval, the last about one interval ago.
    let times: Vec<i128> = blocks.iter().map(|b| unix_nanos(b.header.time)).collect();
    for pair in times.windows(2) {
        assert_eq!(
            pair[1] - pair[0],
            100_000_000,
            "spaced by the block interval"
        );
    }
    let last = *times.last().unwrap();
    assert!(last < unix_nanos(started), "in the past");
    assert!(
        unix_nanos(before) - last < 1_000_000_000,
        "ending about now: {} ms before the start",
        (unix_nanos(before) - last) / 1_000_000
    );
    let live = net.chain().blocks().get(BLOCKS + 1).cloned().unwrap();
    assert!(live.header.time > blocks[BLOCKS as usize - 1].header.time);

    // Rotations: announced by every 50th header, a third of the 4 validators (one) replaced.
    for b in &blocks {
        let rotates = b.height() % ROTATE == 0;
        assert_eq!(
            b.header.validators_hash != b.header.next_validators_hash,
            rotates,
            "height {}",
            b.height()
        );
        assert_eq!(b.validators.validators().len(), 4);
    }
    let keys = |b: &BlockRecord| {
        let mut k: Vec<u32> = b
            .validators
            .validators()
            .iter()
            .map(|v| net.chain().keys().find(&v.address).unwrap().index)
            .collect();
        k.sort_unstable();
        k
    };
    assert_eq!(keys(&blocks[0]), vec![0, 1, 2, 3]);
    assert_eq!(keys(&blocks[50]), vec![1, 2, 3, 4]);
    assert_eq!(keys(&blocks[299]), vec![5, 6, 7, 8]);

    // Every block verifies from the one before; skips verify or lack trust, as the sets say.
    let lights: Vec<LightBlock> = blocks.iter().map(|b| b.light_block()).collect();
    let opts = Options::default();
    let at = now();
    for pair in lights.windows(2) {
        assert_eq!(
            verify(&pair[1], &pair[0], &opts, at),
            Verdict::Success,
            "adjacent {}",
            pair[1].height()
        );
    }
    let mut outcomes = (0, 0);
    for from in (0..BLOCKS as usize).step_by(37) {
        for to in (from + 2..BLOCKS as usize).step_by(23) {
            let verdict = verify(&lights[to], &lights[from], &opts, at);
            if enough_trust(&blocks[from], &blocks[to]) {
                assert_eq!(verdict, Verdict::Success, "{} -> {}", from + 1, to + 1);
                outcomes.0 += 1;
            } else {
                assert!(
                    matches!(verdict, Verdict::NotEnoughTrust(_)),
                    "{} -> {}: {verdict:?}",
                    from + 1,
                    to + 1
                );
                outcomes.1 += 1;
            }
        }
    }
    assert!(
        outcomes.0 > 10 && outcomes.1 > 10,
        "both cases seen: {outcomes:?}"
    );
    // What the nodes serve is the same.
    let url = net.rpc_urls()[0].clone();
    let served = light_block(&url, 151).await;
    assert_eq!(served.signed_header, lights[150].signed_header);
    assert_eq!(
        served.validators.validators(),
        lights[150].validators.validators()
    );

    // Live production rotates on the same schedule.
    support::wait_height(&net, 2 * ROTATE * 3 + ROTATE + 1).await;
    let b = net.chain().blocks().get(7 * ROTATE).cloned().unwrap();
    assert_ne!(b.header.validators_hash, b.header.next_validators_hash);
    let first_hash = blocks[0].block_id.hash;
    let height = net.chain().latest_height();
    net.shutdown().await;

    // A restart replays the stored chain and generates nothing.
    let net = support::start(config_in(dir.path())).await;
    assert!(net.chain().latest_height() > height);
    let again = net.chain().blocks().get(1).cloned().unwrap();
    assert_eq!(again.block_id.hash, first_hash);
    assert_eq!(
        net.chain().blocks().get(BLOCKS).unwrap().header,
        blocks[BLOCKS as usize - 1].header
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_on_the_registry_seeds_the_samples_after_it() {
    let config = DevnetConfig {
        history_blocks: 40,
        ..support::config(AppKind::Registry { seed_samples: true })
    };
    let net = support::start(config).await;
    let samples = net.samples().expect("samples");
    let anchor = net.chain().blocks().get(41).unwrap().header.time;
    assert!(anchor > net.chain().blocks().get(40).unwrap().header.time);
    assert!(!samples.certificates.is_empty());
    // The registry accepted the seed transactions after the history.
    let h = net.chain().latest_height();
    support::wait_height(&net, h + 1).await;
    let cert = &samples.certificates[0].signed.certificate.id;
    let r = support::result(
        &net.rpc_urls()[0],
        &format!(
            "/abci_query?path=%22/store/cert/{}/{}%22",
            cert.issuer.as_str(),
            cert.serial.as_str()
        ),
    )
    .await;
    assert!(r["response"]["value"].is_string(), "{r}");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_history_is_finished_on_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = DevnetConfig {
        history_blocks: 20,
        ..config_in(dir.path())
    };
    let interval = config.block_interval;
    let plan = devnet::HistoryPlan::ending_at(devnet::now(), 20, interval);
    // A start that stopped after 10 of the 20 planned blocks.
    {
        let params = devnet::ChainParams {
            chain_id: config.chain_id.clone(),
            seed: config.seed.clone(),
            genesis_powers: vec![config.validator_power; config.validators],
            max_block_txs: config.max_block_txs,
            mempool_limit: config.mempool_limit,
            max_tx_bytes: config.max_tx_bytes,
            rotate_every: config.rotate_every,
        };
        let store = devnet::Store::open(&dir.path().join(devnet::DB_FILE)).unwrap();
        let chain =
            devnet::Chain::open(params, Box::new(devnet::KvApp::default()), Some(store)).unwrap();
        chain
            .set_meta(
                devnet::HistoryPlan::META_KEY,
                &serde_json::to_string(&plan).unwrap(),
            )
            .unwrap();
        chain
            .generate_history(&devnet::HistoryPlan { blocks: 10, ..plan })
            .unwrap();
    }
    let net = support::start(config).await;
    for h in 1..=20 {
        let b = net.chain().blocks().get(h).cloned().unwrap();
        assert_eq!(b.header.time, plan.time_of(h), "height {h} on the plan");
    }
    assert!(net.chain().blocks().get(21).unwrap().header.time > plan.time_of(20));
    net.shutdown().await;
}
