//! Offline knowledge at scale: a devnet on loopback (three full nodes) grown to 100 issuers
//! and 100,000 revocations, then the time, bytes and requests of a first offline sync (the
//! logs' heads proven, their entries in pages checked against them, the issuer records
//! proven), the space `offline.sqlite` takes next to the logs' own size on chain, an
//! incremental sync after 1,000 more revocations, and the offline verdict time (goal: under
//! 30 ms) next to the online verdict of the same certificate, measured in the same run.
//! Prints a Markdown table. Run with `cargo bench -p tradeseal-wallet --bench offline`; not
//! part of the tests (growing the chain alone takes a few minutes).

#[path = "../tests/support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use devnet::{Devnet, DevnetConfig, SampleStatus};
use ed25519_dalek::SigningKey;
use light_node::{
    LightNode, NodeOptions, Provider, PruneWindow, RpcConfig, RpcProvider, SqliteStore,
    StoreIdentity, SystemClock,
};
use registry::state::{GovAction, IssuerSpec, RevocationReason};
use registry::{
    CertId, Certificate, CertificateKind, Country, Goods, IssuerId, KindSet, Party, Serial,
    TxBuilder,
};
use sha2::{Digest as _, Sha256};
use tradeseal_api::{Origin, Verdict, VerifyInput, VerifyRequest};
use tradeseal_wallet::offline::{self, OfflineStore};

/// Issuers on the chain in all (the devnet's samples included).
const ISSUERS: usize = 100;
/// Revocations in the log before the first sync (the samples' included).
const REVOCATIONS: usize = 100_000;
/// Revocations added before the incremental sync.
const MORE: usize = 1_000;
/// Offline verdicts timed.
const RUNS: usize = 200;
const DAY: u64 = 86_400;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(run());
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A bench issuer: its key and spec.
struct Issuer {
    key: SigningKey,
    spec: IssuerSpec,
    /// Sequences it has used.
    sequence: u64,
    /// Certificates it has issued.
    issued: u64,
}

fn bench_issuer(n: usize) -> Issuer {
    let key = SigningKey::from_bytes(&Sha256::digest(format!("offline bench issuer {n}")).into());
    let spec = IssuerSpec {
        id: IssuerId::new(format!("KE-BENCH-{n:03}")).unwrap(),
        legal_name: format!("Bench issuer {n}"),
        country: Country::new("KE").unwrap(),
        keys: vec![registry::PublicKey::from(&key.verifying_key())],
        kinds: KindSet::of(&[CertificateKind::CertificateOfOrigin]),
        valid_from: unix_now() - 365 * DAY,
        valid_until: unix_now() + 10 * 365 * DAY,
    };
    Issuer {
        key,
        spec,
        sequence: 0,
        issued: 0,
    }
}

fn certificate(issuer: &Issuer, n: u64) -> Certificate {
    let now = unix_now();
    let country = issuer.spec.country;
    Certificate {
        kind: CertificateKind::CertificateOfOrigin,
        id: CertId::new(
            issuer.spec.id.clone(),
            Serial::new(format!("B-{n:06}")).unwrap(),
        ),
        exporter: Party {
            name: "Bench Exporters Ltd".into(),
            country,
            identifier: Some("P051234567X".into()),
        },
        importer: Party {
            name: "Bench Imports B.V.".into(),
            country: Country::new("NL").unwrap(),
            identifier: None,
        },
        goods: Goods {
            description: "Fresh cut roses".into(),
            hs_code: "060311".into(),
            quantity: "100".into(),
            unit: "KGM".into(),
        },
        origin: country,
        destination: Country::new("NL").unwrap(),
        issued_at: now - 3600,
        expires_at: now + 180 * DAY,
        transport: None,
        invoice: None,
        remarks: None,
        document_hash: None,
    }
}

/// Submits `txs` in order, waiting whenever the mempool is near its limit, then waits until
/// every one is in a block.
async fn submit(net: &Devnet, txs: Vec<Vec<u8>>) {
    let chain = net.chain();
    for tx in txs {
        loop {
            if chain.mempool_size() < 50_000 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let r = chain.submit_tx(tx).expect("the mempool takes it");
        assert_eq!(
            r.code.value(),
            0,
            "CheckTx refused a bench transaction: {}",
            r.log
        );
    }
    while chain.mempool_size() > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The block holding the last ones is produced; one more for its state to be provable.
    let h = chain.latest_height();
    assert!(net.wait_for_height(h + 2, Duration::from_secs(60)).await);
}

/// Certificates issued and then revoked, `count` in all, spread over `issuers`.
fn issue_and_revoke(chain_id: &str, issuers: &mut [Issuer], count: usize) -> [Vec<Vec<u8>>; 2] {
    let mut issues = Vec::with_capacity(count);
    let mut revokes = Vec::with_capacity(count);
    let per = count.div_ceil(issuers.len());
    let mut left = count;
    for issuer in issuers.iter_mut() {
        let b = TxBuilder::new(chain_id, &issuer.key);
        let n = per.min(left);
        left -= n;
        let mut mine = Vec::with_capacity(n);
        for _ in 0..n {
            issuer.issued += 1;
            let signed = certificate(issuer, issuer.issued)
                .sign(chain_id, &issuer.key)
                .unwrap();
            issuer.sequence += 1;
            issues.push(b.issue_signed(issuer.sequence, &signed).unwrap());
            mine.push(signed.certificate.id);
        }
        for id in mine {
            issuer.sequence += 1;
            revokes.push(
                b.revoke(
                    issuer.sequence,
                    id,
                    RevocationReason::Cancelled,
                    "offline bench",
                )
                .unwrap(),
            );
        }
    }
    [issues, revokes]
}

async fn light_node(chain: &light_client::config::ChainConfig) -> (LightNode, Vec<RpcProvider>) {
    let identity = StoreIdentity {
        chain_id: chain.chain_id.as_str().to_owned(),
        checkpoint_height: chain.checkpoint.height,
        checkpoint_hash: chain.checkpoint.hash,
    };
    let store = SqliteStore::in_memory(identity, PruneWindow(1_000))
        .await
        .unwrap();
    let mut providers = vec![RpcProvider::new(&chain.primary, RpcConfig::default()).unwrap()];
    for w in &chain.witnesses {
        providers.push(RpcProvider::new(w, RpcConfig::default()).unwrap());
    }
    let as_dyn = |p: &RpcProvider| Arc::new(p.clone()) as Arc<dyn Provider>;
    let node = LightNode::new(
        chain.clone(),
        store,
        as_dyn(&providers[0]),
        providers[1..].iter().map(as_dyn).collect(),
        Arc::new(SystemClock),
        NodeOptions::default(),
        Vec::new(),
    )
    .await
    .unwrap();
    (node, providers)
}

/// A counter in the latest state (0 when absent), read from the devnet directly.
fn counter(net: &Devnet, key: &[u8]) -> u64 {
    let value = net.chain().value(key).unwrap();
    if value.is_empty() {
        0
    } else {
        registry::state::decode_u64(&value).unwrap()
    }
}

/// The bytes of every entry of a log in the latest state (the data's own size).
fn log_bytes(net: &Devnet, len_key: &[u8], entry: impl Fn(u64) -> Vec<u8>) -> u64 {
    (0..counter(net, len_key))
        .map(|n| net.chain().value(&entry(n)).unwrap().len() as u64)
        .sum()
}

fn traffic(providers: &[RpcProvider]) -> (u64, u64) {
    providers.iter().fold((0, 0), |(r, b), p| {
        (r + p.traffic().requests(), b + p.traffic().bytes_received())
    })
}

fn file_size(dir: &std::path::Path) -> u64 {
    // The database and its WAL (checkpointed at close, but count it either way).
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|s| std::fs::metadata(dir.join(format!("{}{s}", offline::FILE))).ok())
        .map(|m| m.len())
        .sum()
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn pct(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    let n = samples.len();
    samples[((n as f64 * p) as usize).min(n - 1)].as_secs_f64() * 1e3
}

async fn run() {
    let config = DevnetConfig {
        max_block_txs: 10_000,
        mempool_limit: 100_000,
        ..DevnetConfig::for_tests()
    };
    let net = Devnet::start(config.clone()).await.expect("devnet starts");
    assert!(net.wait_for_height(12, Duration::from_secs(60)).await);
    let samples = net.samples().unwrap();
    let chain_id = samples.chain_id.clone();
    let sample_revocations = samples
        .certificates
        .iter()
        .filter(|c| c.status == SampleStatus::Revoked)
        .count();

    // Grow the chain: governance registers the bench issuers, which issue and revoke.
    let grow = Instant::now();
    let [proposer, approver, ..] = samples.governance.as_slice() else {
        panic!("two governance keys")
    };
    let sample_issuers = samples.issuers.len();
    let mut issuers: Vec<Issuer> = (0..ISSUERS - sample_issuers).map(bench_issuer).collect();
    // The samples' governance used sequences 1..=4 (proposals) and 1..=4 (approvals) and
    // their proposals are 0..=4 (one removal): read the next numbers from the chain instead
    // of assuming them.
    let next = |key: &SigningKey| -> u64 {
        let k = registry::keys::account(&registry::PublicKey::from(&key.verifying_key()));
        counter(&net, &k)
    };
    let proposals_before = counter(&net, registry::keys::PROPOSAL_LEN);
    let p = TxBuilder::new(&chain_id, proposer);
    let a = TxBuilder::new(&chain_id, approver);
    let (p0, a0) = (next(proposer), next(approver));
    let expires = unix_now() + 7 * DAY;
    let proposals = issuers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            p.propose(
                p0 + 1 + i as u64,
                GovAction::RegisterIssuer(s.spec.clone()),
                expires,
            )
            .unwrap()
        })
        .collect();
    submit(&net, proposals).await;
    let approvals = (0..issuers.len())
        .map(|i| {
            a.approve(a0 + 1 + i as u64, proposals_before + i as u64)
                .unwrap()
        })
        .collect();
    submit(&net, approvals).await;
    let [issues, revokes] =
        issue_and_revoke(&chain_id, &mut issuers, REVOCATIONS - sample_revocations);
    submit(&net, issues).await;
    submit(&net, revokes).await;
    let grown = grow.elapsed();

    let dir = tempfile::tempdir().unwrap();
    let chain = devnet::chain_config(&config, net.chain(), net.rpc_urls()).unwrap();
    let (node, providers) = light_node(&chain).await;
    node.sync().await.unwrap();
    // Where the wallet opened below keeps its data.
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = OfflineStore::open(&data).await.unwrap();
    let trusting = chain.trusting_period.as_secs();

    // The first sync.
    let before = traffic(&providers);
    let t = Instant::now();
    let first = offline::sync(&store, &node, &chain_id, unix_now(), DAY, trusting)
        .await
        .unwrap();
    let first_time = t.elapsed();
    let after = traffic(&providers);
    assert_eq!(first.status.issuers as usize, ISSUERS, "{first:?}");
    assert_eq!(first.status.revocations as usize, REVOCATIONS, "{first:?}");
    store.close().await;
    let space = file_size(&data);
    let own = log_bytes(
        &net,
        registry::keys::REVOCATION_LOG_LEN,
        registry::keys::revocation_log,
    ) + log_bytes(
        &net,
        registry::keys::ISSUER_LOG_LEN,
        registry::keys::issuer_log,
    );
    let store = OfflineStore::open(&data).await.unwrap();

    // 1,000 more revocations, then the incremental sync.
    let [issues, revokes] = issue_and_revoke(&chain_id, &mut issuers, MORE);
    submit(&net, issues).await;
    submit(&net, revokes).await;
    node.sync().await.unwrap();
    let before_inc = traffic(&providers);
    let t = Instant::now();
    let inc = offline::sync(&store, &node, &chain_id, unix_now(), DAY, trusting)
        .await
        .unwrap();
    let inc_time = t.elapsed();
    let after_inc = traffic(&providers);
    assert_eq!(inc.new_revocations as usize, MORE, "{inc:?}");
    store.close().await;
    let space_after = file_size(&data);

    // The offline verdict through the wallet (history write included), over the same data.
    let wallet = support::wallet_for(
        &net,
        &config,
        dir.path(),
        support::NodeSetup {
            rpc: RpcConfig::default(),
            stale_after_blocks: 1000,
            follow: false,
        },
    )
    .await;
    let valid = samples
        .certificates
        .iter()
        .find(|c| c.status == SampleStatus::Valid)
        .unwrap();
    let request = |offline: bool| VerifyRequest {
        input: VerifyInput::Payload {
            text: registry::qr::encode(&valid.signed).unwrap(),
            origin: Origin::Paste,
        },
        document: None,
        offline,
    };
    let (off, on) = (request(true), request(false));
    for _ in 0..5 {
        assert_eq!(wallet.verify(&off).await.unwrap().verdict, Verdict::Valid);
        assert_eq!(wallet.verify(&on).await.unwrap().verdict, Verdict::Valid);
    }
    let mut offline_times = Vec::with_capacity(RUNS);
    let mut online_times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = wallet.verify(&off).await.unwrap();
        offline_times.push(t.elapsed());
        assert_eq!(r.verdict, Verdict::Valid);
        let t = Instant::now();
        let r = wallet.verify(&on).await.unwrap();
        online_times.push(t.elapsed());
        assert_eq!(r.verdict, Verdict::Valid);
    }

    println!(
        "offline knowledge: {ISSUERS} issuers, {REVOCATIONS} revocations (chain grown in {:.0} s, height {}), 3 full nodes on loopback",
        grown.as_secs_f64(),
        net.chain().latest_height()
    );
    println!(
        "log entries on chain (their canonical bytes, at the first sync): {}; received / entries: {:.2}",
        mib(own),
        (after.1 - before.1) as f64 / own as f64
    );
    println!();
    println!("| what | time | requests | bytes received | values proven | offline.sqlite |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| first sync | {:.1} s | {} | {} | {} | {} |",
        first_time.as_secs_f64(),
        after.0 - before.0,
        mib(after.1 - before.1),
        first.proofs,
        mib(space)
    );
    println!(
        "| incremental, {MORE} more revocations | {:.2} s | {} | {} | {} | {} |",
        inc_time.as_secs_f64(),
        after_inc.0 - before_inc.0,
        mib(after_inc.1 - before_inc.1),
        inc.proofs,
        mib(space_after)
    );
    println!();
    println!("| verdict of a valid certificate (history write included) | runs | p50 ms | p95 ms | max ms |");
    println!("|---|---|---|---|---|");
    for (what, samples) in [
        ("offline (goal: under 30 ms)", &mut offline_times),
        (
            "online, proofs from the nodes (baseline)",
            &mut online_times,
        ),
    ] {
        let max = samples.iter().max().unwrap().as_secs_f64() * 1e3;
        println!(
            "| {what} | {RUNS} | {:.1} | {:.1} | {max:.1} |",
            pct(samples, 0.5),
            pct(samples, 0.95)
        );
    }
    net.shutdown().await;
}
