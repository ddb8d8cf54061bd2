//! The scenarios: each measures our light node and the anchor on the same devnet in the same
//! run and prints a Markdown table; the goals are checked against the measured numbers.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use light_client::{ChainConfig, Height};
use light_node::{Provider as _, PruneWindow, RpcConfig, RpcProvider, SqliteStore, StoreIdentity};
use tradeseal_wallet::{Wallet, WalletConfig};

use crate::anchor::{self, AnchorConfig, AnchorRun, Trust};
use crate::net::{ChainSpec, Net};
use crate::ours::{self, OursRun};
use crate::proxy::{Proxies, WireCounts};
use crate::report::{self, bytes, median, percentile, ratio, secs, verdict, Table};

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Blocks between checkpoint and head.
    pub behind: u64,
    /// Validators.
    pub validators: usize,
    /// Rotation period of the rotating set.
    pub rotate_every: u64,
    /// Block interval.
    pub block_interval: Duration,
    /// Loopback repetitions.
    pub reps: usize,
    /// Repetitions with latency.
    pub latency_reps: usize,
    /// Added round-trip time.
    pub rtt: Duration,
    /// Time without syncing for `resume`.
    pub resume: Duration,
    /// Number of proven queries.
    pub queries: usize,
    /// Blocks to follow.
    pub follow_blocks: u64,
    /// Run on the stable set.
    pub stable: bool,
    /// Run on the rotating set.
    pub rotating: bool,
}

impl Settings {
    fn resume_blocks(&self) -> u64 {
        let interval = self.block_interval.as_secs_f64().max(0.001);
        (self.resume.as_secs_f64() / interval).ceil() as u64
    }
}

/// Which scenarios (1-6) to run.
#[derive(Debug, Clone, Copy)]
pub struct Which([bool; 7]);

impl Which {
    /// Every scenario.
    pub fn all() -> Which {
        Which([false, true, true, true, true, true, true])
    }

    /// Scenario `n` alone.
    pub fn only(n: usize) -> Which {
        let mut w = [false; 7];
        w[n] = true;
        Which(w)
    }

    /// The scenarios numbered in `list`.
    pub fn list(list: &[usize]) -> anyhow::Result<Which> {
        let mut w = [false; 7];
        for &n in list {
            if !(1..=6).contains(&n) {
                bail!("there is no scenario {n} (1-6)");
            }
            w[n] = true;
        }
        Ok(Which(w))
    }

    fn has(&self, n: usize) -> bool {
        self.0[n]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Stable,
    Rotating,
}

impl Kind {
    fn name(self, s: &Settings) -> String {
        match self {
            Kind::Stable => "stable set".to_owned(),
            Kind::Rotating => format!("1/3 rotated every {} blocks", s.rotate_every),
        }
    }
}

/// Everything printed at the end.
#[derive(Debug, Default)]
struct Out {
    tables: Vec<Table>,
    goals: Vec<String>,
    notes: Vec<String>,
}

impl Out {
    fn table(&mut self, t: Table) {
        println!("{}", t.markdown());
        self.tables.push(t);
    }

    fn goal(&mut self, text: String) {
        println!("goal: {text}");
        self.goals.push(text);
    }

    fn note(&mut self, text: String) {
        println!("note: {text}");
        self.notes.push(text);
    }
}

/// Runs the chosen scenarios on one devnet per validator-set history.
pub async fn run(s: &Settings, which: Which) -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("# light-node-bench {}\n", args.join(" "));
    println!("machine: {}\n", report::machine());
    let mut out = Out::default();
    let kinds = [(Kind::Stable, s.stable), (Kind::Rotating, s.rotating)];
    for (kind, wanted) in kinds {
        let needed = [1, 2, 3, 5].iter().any(|&n| which.has(n))
            || (kind == Kind::Stable && (which.has(4) || which.has(6)));
        if !wanted || !needed {
            continue;
        }
        let spec = ChainSpec {
            history: s.behind.max(s.resume_blocks()) + 20,
            validators: s.validators,
            rotate_every: if kind == Kind::Rotating {
                s.rotate_every
            } else {
                0
            },
            block_interval: s.block_interval,
        };
        let net = Net::start(spec).await?;
        let head = net.head();
        let age_days = (unix_now() - net.time_secs(1)?) as f64 / 86_400.0;
        out.note(format!(
            "devnet, {}: {} validators, {} blocks {} ms apart made in {:.1} s (history {:.2} days), head {head}, load {}",
            kind.name(s),
            s.validators,
            spec.history,
            s.block_interval.as_millis(),
            net.start_secs,
            age_days,
            report::load()
        ));
        if which.has(1) {
            sync_loopback(&net, s, kind, &mut out).await?;
        }
        if which.has(2) {
            sync_latency(&net, s, kind, &mut out).await?;
        }
        if which.has(3) {
            resume(&net, s, kind, &mut out).await?;
        }
        if kind == Kind::Stable && which.has(4) {
            queries(&net, s, &mut out).await?;
        }
        if which.has(5) {
            memory(&net, s, kind, &mut out).await?;
        }
        if kind == Kind::Stable && which.has(6) {
            follow(&net, s, &mut out).await?;
        }
        net.devnet.shutdown().await;
    }
    println!("\n## Summary\n\nmachine: {}\n", report::machine());
    for t in &out.tables {
        println!("{}", t.markdown());
    }
    println!("\n#### Goals\n");
    for g in &out.goals {
        println!("- {g}");
    }
    println!("\n#### Notes\n");
    for n in &out.notes {
        println!("- {n}");
    }
    Ok(())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn anchor_config(net: &Net, url: &str) -> AnchorConfig {
    AnchorConfig {
        url: url.to_owned(),
        trusting_period: net.trusting_period,
        clock_drift: light_client::config::DEFAULT_MAX_CLOCK_DRIFT,
        timeout: RpcConfig::default().timeout,
    }
}

async fn fewest(net: &Net, from: u64, to: u64) -> anyhow::Result<u64> {
    let chain = net.devnet.chain().clone();
    tokio::task::spawn_blocking(move || crate::fewest::fewest(&chain, from, to)).await?
}

async fn anchor_sync(config: AnchorConfig, trust: Trust) -> anyhow::Result<AnchorRun> {
    tokio::task::spawn_blocking(move || anchor::sync(&config, trust)).await?
}

fn checkpoint(net: &Net, behind: u64) -> anyhow::Result<u64> {
    let head = net.head();
    if head <= behind {
        bail!("the chain has {head} blocks, fewer than {behind} + 1");
    }
    Ok(head - behind)
}

/// One of our syncs from `behind` blocks back, through proxies adding `rtt` when given.
async fn ours_sync(
    net: &Net,
    behind: u64,
    rtt: Option<Duration>,
) -> anyhow::Result<(OursRun, Option<(WireCounts, WireCounts)>, u64, u64)> {
    let proxies = match rtt {
        Some(rtt) => Some(Proxies::start(&net.urls(), rtt).await?),
        None => None,
    };
    let urls = proxies.as_ref().map_or_else(|| net.urls(), Proxies::urls);
    let from = checkpoint(net, behind)?;
    let run = ours::sync_once(&net.chain_config(from, &urls)?).await?;
    let wire = proxies.as_ref().map(|p| (p.wire.counts(), p.primary()));
    let few = fewest(net, from, run.height).await?;
    Ok((run, wire, few, from))
}

/// One anchor sync from `behind` blocks back (primary only: it has no witnesses).
async fn anchor_run(
    net: &Net,
    behind: u64,
    rtt: Option<Duration>,
) -> anyhow::Result<(AnchorRun, Option<WireCounts>, u64, u64)> {
    let proxies = match rtt {
        Some(rtt) => Some(Proxies::start(&net.urls()[..1], rtt).await?),
        None => None,
    };
    let url = proxies
        .as_ref()
        .map_or_else(|| net.urls()[0].clone(), |p| p.urls()[0].clone());
    let from = checkpoint(net, behind)?;
    let trust = Trust::Checkpoint {
        height: from,
        hash: net.hash(from)?,
    };
    let run = anchor_sync(anchor_config(net, &url), trust).await?;
    let wire = proxies.as_ref().map(|p| p.wire.counts());
    let few = fewest(net, from, run.height).await?;
    Ok((run, wire, few, from))
}

/// Scenario 1: loopback syncs, timed direct (median of `reps`), counted once through
/// proxies that add no delay.
async fn sync_loopback(net: &Net, s: &Settings, kind: Kind, out: &mut Out) -> anyhow::Result<()> {
    // Warm-up (not counted): the first HTTP client of a process loads the platform's root
    // certificates, the first connections are made.
    let (w, _, _, _) = ours_sync(net, s.behind, None).await?;
    let (wa, _, _, _) = anchor_run(net, s.behind, None).await?;
    out.note(format!(
        "1 {}: warm-up runs (not counted): ours {} (of which opening {}), tendermint-rs {}",
        kind.name(s),
        secs(w.secs),
        secs(w.open_secs),
        secs(wa.secs)
    ));
    let mut ours_t = Vec::new();
    let mut anchor_t = Vec::new();
    let mut ours_open = Vec::new();
    let mut anchor_open = Vec::new();
    let mut last_ours = None;
    let mut last_anchor = None;
    for _ in 0..s.reps {
        let (o, _, few_o, _) = ours_sync(net, s.behind, None).await?;
        ours_t.push(o.secs);
        ours_open.push(o.open_secs);
        let (a, _, few_a, _) = anchor_run(net, s.behind, None).await?;
        anchor_t.push(a.secs);
        anchor_open.push(a.open_secs);
        println!(
            "  sync: ours {} (opening the store {}; {} light blocks), tendermint-rs {} ({} light blocks)",
            secs(o.secs),
            secs(o.open_secs),
            o.light_blocks,
            secs(a.secs),
            a.light_blocks
        );
        last_ours = Some((o, few_o));
        last_anchor = Some((a, few_a));
    }
    let (o, few_o) = last_ours.expect("reps >= 1");
    let (a, few_a) = last_anchor.expect("reps >= 1");
    let (oc, ow, _, _) = ours_sync(net, s.behind, Some(Duration::ZERO)).await?;
    let (ac, aw, _, _) = anchor_run(net, s.behind, Some(Duration::ZERO)).await?;
    let ((ow, ow_primary), aw) = (ow.expect("counted"), aw.expect("counted"));
    // Any schedule fetches the checkpoint's block, then one block per verification step.
    let (few_o, few_a) = (few_o + 1, few_a + 1);
    let (to, ta) = (median(&ours_t), median(&anchor_t));
    let mut t = Table::new(
        &format!(
            "1. Sync from {} blocks behind, loopback, {} ({} reps, median [min-max])",
            s.behind,
            kind.name(s),
            s.reps
        ),
        &[
            "client",
            "time",
            "of which making the clients",
            "light blocks fetched",
            "verified",
            "fewest",
            "fetched / fewest",
            "requests",
            "bytes received (wire, all nodes)",
            "of which from the primary",
            "connections",
        ],
    );
    let range = |v: &[f64]| {
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        format!("{} [{}-{}]", secs(median(v)), secs(min), secs(max))
    };
    t.row(vec![
        "light-node (ours)".into(),
        range(&ours_t),
        secs(median(&ours_open)),
        o.light_blocks.to_string(),
        o.verified.to_string(),
        few_o.to_string(),
        ratio(o.light_blocks as f64, few_o as f64),
        format!("{} ({} to witnesses)", oc.requests, oc.witness_requests),
        bytes(ow.bytes_down),
        bytes(ow_primary.bytes_down),
        ow.connections.to_string(),
    ]);
    t.row(vec![
        "tendermint-light-client 0.41".into(),
        range(&anchor_t),
        secs(median(&anchor_open)),
        a.light_blocks.to_string(),
        a.verified.to_string(),
        few_a.to_string(),
        ratio(a.light_blocks as f64, few_a as f64),
        aw.requests.to_string(),
        bytes(aw.bytes_down),
        bytes(aw.bytes_down),
        aw.connections.to_string(),
    ]);
    out.table(t);
    let speedup = ta / to;
    let alone = |t: &[f64], o: &[f64]| {
        let v: Vec<f64> = t.iter().zip(o).map(|(t, o)| t - o).collect();
        median(&v)
    };
    let (so, sa) = (alone(&ours_t, &ours_open), alone(&anchor_t, &anchor_open));
    out.note(format!(
        "1 {}: without making the HTTP clients: ours {} vs tendermint-rs {} = {:.2}x",
        kind.name(s),
        secs(so),
        secs(sa),
        sa / so
    ));
    out.goal(format!(
        "1 {}: ≥3x faster than tendermint-rs: {:.2}x ({} vs {}) — {}",
        kind.name(s),
        speedup,
        secs(to),
        secs(ta),
        verdict(speedup >= 3.0)
    ));
    let lb = o.light_blocks as f64 / few_o.max(1) as f64;
    out.goal(format!(
        "1 {}: within 1.2x of the fewest light blocks: {} fetched ({} verified) / {} fewest = {:.2}x — {}",
        kind.name(s),
        o.light_blocks,
        o.verified,
        few_o,
        lb,
        verdict(lb <= 1.2)
    ));
    if kind == Kind::Stable {
        out.goal(format!(
            "1 {}: under 2 s: {} — {}",
            kind.name(s),
            secs(to),
            verdict(to < 2.0)
        ));
    }
    let b = ow.bytes_down as f64 / aw.bytes_down.max(1) as f64;
    out.goal(format!(
        "1 {}: at most half of tendermint-rs's bytes: {} vs {} = {:.2} (primary alone: {}, {:.2}) — {}",
        kind.name(s),
        bytes(ow.bytes_down),
        bytes(aw.bytes_down),
        b,
        bytes(ow_primary.bytes_down),
        ow_primary.bytes_down as f64 / aw.bytes_down.max(1) as f64,
        verdict(b <= 0.5)
    ));
    out.note(format!(
        "1 {}: our answer bodies (RpcProvider::traffic) {} in {} requests; HTTP headers make the rest of the wire bytes",
        kind.name(s),
        bytes(oc.body_bytes),
        oc.requests
    ));
    out.note(format!(
        "1 {}: counted runs (through the counting proxy): ours {} light blocks, {} commits, {} validator sets, {} headers, {} status; witnesses {} headers, {} light blocks; {} HTTP requests on the wire",
        kind.name(s),
        oc.primary.light_blocks,
        oc.primary.commits,
        oc.primary.validators,
        oc.primary.headers,
        oc.primary.statuses + oc.witnesses.statuses,
        oc.witnesses.headers,
        oc.witnesses.light_blocks,
        ow.requests,
    ));
    out.note(format!(
        "1 {}: the anchor fetched {} light blocks in its counted run and verified {}",
        kind.name(s),
        ac.light_blocks,
        ac.verified
    ));
    Ok(())
}

/// Scenario 2: the same through proxies adding `rtt`.
async fn sync_latency(net: &Net, s: &Settings, kind: Kind, out: &mut Out) -> anyhow::Result<()> {
    let mut t = Table::new(
        &format!(
            "2. Sync from {} blocks behind, {} ms added round-trip time, {}",
            s.behind,
            s.rtt.as_millis(),
            kind.name(s)
        ),
        &[
            "client",
            "time",
            "time / RTT",
            "light blocks fetched",
            "fewest",
            "requests",
            "request round trips",
            "connections",
            "bytes received (wire)",
        ],
    );
    let per_rtt = |t: f64| format!("{:.1}", t / s.rtt.as_secs_f64().max(1e-9));
    let mut ours_t = Vec::new();
    let mut anchor_t = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..s.latency_reps {
        let (o, ow, few, _) = ours_sync(net, s.behind, Some(s.rtt)).await?;
        let (ow, _) = ow.expect("through proxies");
        let few = few + 1;
        ours_t.push(o.secs);
        rows.push(vec![
            "light-node (ours)".into(),
            secs(o.secs),
            per_rtt(o.secs),
            o.light_blocks.to_string(),
            few.to_string(),
            ow.requests.to_string(),
            ow.round_trips.to_string(),
            ow.connections.to_string(),
            bytes(ow.bytes_down),
        ]);
        let (a, aw, few, _) = anchor_run(net, s.behind, Some(s.rtt)).await?;
        let aw = aw.expect("through proxies");
        let few = few + 1;
        anchor_t.push(a.secs);
        rows.push(vec![
            "tendermint-light-client 0.41".into(),
            secs(a.secs),
            per_rtt(a.secs),
            a.light_blocks.to_string(),
            few.to_string(),
            aw.requests.to_string(),
            aw.round_trips.to_string(),
            aw.connections.to_string(),
            bytes(aw.bytes_down),
        ]);
    }
    for r in rows {
        t.row(r);
    }
    out.table(t);
    let (to, ta) = (median(&ours_t), median(&anchor_t));
    out.goal(format!(
        "2 {}, {} ms RTT: ≥3x faster than tendermint-rs: {:.2}x ({} vs {}) — {}",
        kind.name(s),
        s.rtt.as_millis(),
        ta / to,
        secs(to),
        secs(ta),
        verdict(ta / to >= 3.0)
    ));
    if kind == Kind::Stable {
        out.goal(format!(
            "2 {}, {} ms RTT: under 2 s: {} — {}",
            kind.name(s),
            s.rtt.as_millis(),
            secs(to),
            verdict(to < 2.0)
        ));
    }
    Ok(())
}

/// `t` in round-trip times.
fn rtts(t: f64, rtt: Duration) -> String {
    format!("{:.1}", t / rtt.as_secs_f64().max(1e-9))
}

fn identity(config: &ChainConfig) -> StoreIdentity {
    StoreIdentity {
        chain_id: config.chain_id.as_str().to_owned(),
        checkpoint_height: config.checkpoint.height,
        checkpoint_hash: config.checkpoint.hash,
    }
}

fn wallet_config(dir: &Path, chain_config: &Path) -> WalletConfig {
    let mut wc = WalletConfig::new(dir.join("config"), dir.join("data"));
    wc.chain_config = Some(chain_config.to_owned());
    wc
}

/// Scenario 3: a store whose head is `resume` old; from opening the wallet to a verified
/// head, through proxies adding `rtt`.
async fn resume(net: &Net, s: &Settings, kind: Kind, out: &mut Out) -> anyhow::Result<()> {
    let back = s.resume_blocks();
    let mut t = Table::new(
        &format!(
            "3. Resume: store head {back} blocks ({:.1} days) behind, {} ms RTT, {}",
            s.resume.as_secs_f64() / 86_400.0,
            s.rtt.as_millis(),
            kind.name(s)
        ),
        &[
            "client",
            "start to verified head",
            "time / RTT",
            "blocks caught up",
            "light blocks fetched (fewest)",
            "requests",
            "request round trips",
            "connections",
            "bytes received (wire)",
        ],
    );
    let mut ours_t = Vec::new();
    let mut fresh_t = Vec::new();
    for _ in 0..s.latency_reps {
        let dir = tempfile::tempdir()?;
        let proxies = Proxies::start(&net.urls(), s.rtt).await?;
        let (path, from) = resumable_store(net, dir.path(), back, &proxies.urls()).await?;
        let stored_age = (unix_now() - net.time_secs(from)?) as f64 / 86_400.0;

        let started = Instant::now();
        let wallet = Wallet::open(wallet_config(dir.path(), &path)).await?;
        wallet.start_node(false).await?;
        let node = wallet
            .node()
            .light_node()
            .await
            .context("the wallet started no light node")?;
        let head = node.sync().await.map_err(|e| anyhow!("resume: {e}"))?;
        let secs_taken = started.elapsed().as_secs_f64();
        let w = proxies.wire.counts();
        node.store().close().await;
        drop(wallet);
        ours_t.push(secs_taken);
        t.row(vec![
            format!("light-node (ours), wallet, store {stored_age:.2} days old"),
            secs(secs_taken),
            rtts(secs_taken, s.rtt),
            (head.height.value() - from).to_string(),
            format!(
                "{} ({})",
                w.commits,
                fewest(net, from, head.height.value()).await?
            ),
            w.requests.to_string(),
            w.round_trips.to_string(),
            w.connections.to_string(),
            bytes(w.bytes_down),
        ]);

        // The same from a fresh process (as `tradeseal-cli sync` would run): a new store
        // of the same age behind fresh proxies.
        let fresh = fresh_resume(net, s, back).await?;
        fresh_t.push(fresh.0);
        t.row(fresh.1);

        let from = checkpoint(net, back)?;
        let direct = anchor_config(net, &net.urls()[0]);
        let stored = tokio::task::spawn_blocking(move || anchor::fetch(&direct, from)).await??;
        let proxies = Proxies::start(&net.urls()[..1], s.rtt).await?;
        let run = anchor_sync(
            anchor_config(net, &proxies.urls()[0]),
            Trust::Stored(Box::new(stored)),
        )
        .await?;
        let w = proxies.wire.counts();
        t.row(vec![
            "tendermint-light-client 0.41, trusted block kept".into(),
            secs(run.secs),
            rtts(run.secs, s.rtt),
            (run.height - from).to_string(),
            format!("{} ({})", w.commits, fewest(net, from, run.height).await?),
            w.requests.to_string(),
            w.round_trips.to_string(),
            w.connections.to_string(),
            bytes(w.bytes_down),
        ]);
    }
    out.table(t);
    let to = median(&ours_t);
    let tf = median(&fresh_t);
    out.goal(format!(
        "3 {}: resume after {:.1} days with {} ms RTT under 2 s: {} in a running process, {} from a fresh process — {}",
        kind.name(s),
        s.resume.as_secs_f64() / 86_400.0,
        s.rtt.as_millis(),
        secs(to),
        secs(tf),
        verdict(to < 2.0 && tf < 2.0)
    ));
    Ok(())
}

/// Writes the store a wallet would have kept, its head verified `back` blocks ago, in
/// `dir/data/headers.sqlite`, and a chain config trusting that head with `urls`; answers
/// the config's path and the head's height.
async fn resumable_store(
    net: &Net,
    dir: &Path,
    back: u64,
    urls: &[String],
) -> anyhow::Result<(std::path::PathBuf, u64)> {
    let from = checkpoint(net, back)?;
    let block = RpcProvider::new(&net.urls()[0], RpcConfig::default())
        .map_err(|e| anyhow!("{e}"))?
        .light_block(Some(Height(from)))
        .await
        .map_err(|e| anyhow!("fetching {from}: {e}"))?;
    if block.signed_header.header.hash().as_bytes() != &net.hash(from)? {
        bail!("block {from} does not hash to the chain's");
    }
    let config = net.chain_config(from, urls)?;
    let path = dir.join("chain-config.json");
    std::fs::write(&path, config.to_json())?;
    let store = SqliteStore::open(
        &dir.join("data").join("headers.sqlite"),
        identity(&config),
        PruneWindow::default(),
    )
    .await?
    .store;
    store.insert(&block).await?;
    store.close().await;
    Ok((path, from))
}

/// The resume in a child process: from spawning it to its report of a verified head.
async fn fresh_resume(net: &Net, s: &Settings, back: u64) -> anyhow::Result<(f64, Vec<String>)> {
    let dir = tempfile::tempdir()?;
    let proxies = Proxies::start(&net.urls(), s.rtt).await?;
    let (path, from) = resumable_store(net, dir.path(), back, &proxies.urls()).await?;
    let r = child(vec![
        "child-sync".into(),
        "--chain-config".into(),
        path.display().to_string(),
        "--data-dir".into(),
        dir.path().join("data").display().to_string(),
    ])
    .await?;
    let w = proxies.wire.counts();
    let report: serde_json::Value = serde_json::from_str(&r.line)?;
    let height = report["height"].as_u64().context("child's height")?;
    Ok((
        r.secs,
        vec![
            format!(
                "light-node (ours), fresh process (spawn to verified head; {} s inside)",
                report["secs"]
            ),
            secs(r.secs),
            rtts(r.secs, s.rtt),
            (height - from).to_string(),
            format!("{} ({})", w.commits, fewest(net, from, height).await?),
            w.requests.to_string(),
            w.round_trips.to_string(),
            w.connections.to_string(),
            bytes(w.bytes_down),
        ],
    ))
}

/// Scenario 4: proven queries through the wallet (`Wallet::query`, `RegistryProofs`).
async fn queries(net: &Net, s: &Settings, out: &mut Out) -> anyhow::Result<()> {
    let keys: Vec<String> = net
        .devnet
        .samples()
        .context("the devnet has no samples")?
        .certificates
        .iter()
        .map(|c| format!("cert/{}", c.signed.certificate.id))
        .collect();
    if keys.is_empty() {
        bail!("no sample certificates to query");
    }
    let mut t = Table::new(
        "4. Proven query end to end (Wallet::query: abci_query, ICS-23 proof, bound to a verified header)",
        &["network", "queries", "p50", "p95", "max", "mean", "requests per query"],
    );
    let mut p95_loopback = 0.0;
    for (label, rtt, n) in [
        ("loopback".to_owned(), Duration::ZERO, s.queries),
        (
            format!("{} ms RTT", s.rtt.as_millis()),
            s.rtt,
            (s.queries / 10).max(10),
        ),
    ] {
        let dir = tempfile::tempdir()?;
        let proxies = Proxies::start(&net.urls(), rtt).await?;
        let config = net.chain_config(checkpoint(net, 10)?, &proxies.urls())?;
        let path = dir.path().join("chain-config.json");
        std::fs::write(&path, config.to_json())?;
        let wallet = Wallet::open(wallet_config(dir.path(), &path)).await?;
        wallet.start_node(false).await?;
        let node = wallet.node().light_node().await.context("no light node")?;
        node.sync().await.map_err(|e| anyhow!("query setup: {e}"))?;
        for key in keys.iter().take(5) {
            wallet.query(key, None).await?;
        }
        let before = proxies.wire.counts();
        let mut times = Vec::new();
        for i in 0..n {
            let key = &keys[i % keys.len()];
            let started = Instant::now();
            let proven = wallet.query(key, None).await?;
            times.push(started.elapsed().as_secs_f64());
            if proven.value.is_none() {
                bail!("{key}: proven absent, expected a value");
            }
        }
        let requests = (proxies.wire.counts() - before).requests;
        node.store().close().await;
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        let p95 = percentile(&times, 95.0);
        if rtt.is_zero() {
            p95_loopback = p95;
        }
        t.row(vec![
            label,
            n.to_string(),
            secs(median(&times)),
            secs(p95),
            secs(percentile(&times, 100.0)),
            secs(mean),
            format!("{:.2}", requests as f64 / n as f64),
        ]);
    }
    out.table(t);
    out.goal(format!(
        "4: proven query p95 under 50 ms on loopback: {} — {}",
        secs(p95_loopback),
        verdict(p95_loopback < 0.050)
    ));
    Ok(())
}

/// What a child reported: its line, `VmHWM` and `VmRSS` (KB), and the wall time from
/// spawning it to its report.
struct ChildReport {
    line: String,
    hwm_kb: u64,
    rss_kb: u64,
    secs: f64,
}

/// Runs this binary as a child with `args`, waits for its one-line report, reads its
/// `VmHWM`, then lets it exit.
async fn child(args: Vec<String>) -> anyhow::Result<ChildReport> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<ChildReport> {
        let exe = std::env::current_exe()?;
        let started = Instant::now();
        let mut c = Command::new(exe)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let pid = c.id();
        let mut line = String::new();
        BufReader::new(c.stdout.take().context("child stdout")?).read_line(&mut line)?;
        let secs = started.elapsed().as_secs_f64();
        let mem = report::memory_kb(pid);
        drop(c.stdin.take());
        let status = c.wait()?;
        if !status.success() || line.is_empty() {
            bail!("child {args:?} failed: {status}");
        }
        let (hwm_kb, rss_kb) = mem.context("no VmHWM for the child")?;
        Ok(ChildReport {
            line: line.trim().to_owned(),
            hwm_kb,
            rss_kb,
            secs,
        })
    })
    .await?
}

/// Scenario 5: peak resident memory of one sync in a child process (ours through the
/// wallet, as the CLI does; the anchor for comparison).
async fn memory(net: &Net, s: &Settings, kind: Kind, out: &mut Out) -> anyhow::Result<()> {
    let mut t = Table::new(
        &format!(
            "5. Peak resident memory (VmHWM) of a sync from {} blocks behind, child process, {}",
            s.behind,
            kind.name(s)
        ),
        &["client", "VmHWM", "VmRSS at the end", "child's report"],
    );
    let dir = tempfile::tempdir()?;
    let from = checkpoint(net, s.behind)?;
    let config = net.chain_config(from, &net.urls())?;
    let path = dir.path().join("chain-config.json");
    std::fs::write(&path, config.to_json())?;
    let r = child(vec![
        "child-sync".into(),
        "--chain-config".into(),
        path.display().to_string(),
        "--data-dir".into(),
        dir.path().join("data").display().to_string(),
    ])
    .await?;
    t.row(vec![
        "light-node (ours), wallet sync".into(),
        format!("{:.1} MB", r.hwm_kb as f64 / 1024.0),
        format!("{:.1} MB", r.rss_kb as f64 / 1024.0),
        r.line,
    ]);
    let ours_hwm = r.hwm_kb;
    let from = checkpoint(net, s.behind)?;
    let r = child(vec![
        "child-anchor".into(),
        "--url".into(),
        net.urls()[0].clone(),
        "--height".into(),
        from.to_string(),
        "--hash".into(),
        hex_of(&net.hash(from)?),
    ])
    .await?;
    t.row(vec![
        "tendermint-light-client 0.41".into(),
        format!("{:.1} MB", r.hwm_kb as f64 / 1024.0),
        format!("{:.1} MB", r.rss_kb as f64 / 1024.0),
        r.line,
    ]);
    out.table(t);
    let mb = ours_hwm as f64 / 1024.0;
    out.goal(format!(
        "5 {}: peak resident memory under 30 MB: {mb:.1} MB — {}",
        kind.name(s),
        verdict(mb < 30.0)
    ));
    Ok(())
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The child of `memory`: the wallet syncs once (as `tradeseal-cli sync`), prints one JSON
/// line, and waits for stdin to close so its parent can read its memory.
pub async fn child_sync(
    chain_config: &Path,
    data_dir: &Path,
    started: Instant,
) -> anyhow::Result<()> {
    let mut wc = WalletConfig::new(data_dir.join("config"), data_dir.to_owned());
    wc.chain_config = Some(chain_config.to_owned());
    let wallet = Wallet::open(wc).await?;
    wallet.start_node(false).await?;
    let node = wallet.node().light_node().await.context("no light node")?;
    let head = node.sync().await.map_err(|e| anyhow!("sync: {e}"))?;
    let line = serde_json::json!({
        "height": head.height.value(),
        "secs": (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    });
    wait_for_parent(&line.to_string())
}

/// The anchor's child of `memory`.
pub async fn child_anchor(url: String, height: u64, hash: &str) -> anyhow::Result<()> {
    let bytes: Vec<u8> = (0..hash.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hash.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()?;
    let hash: [u8; 32] = bytes
        .try_into()
        .map_err(|_| anyhow!("the hash is not 32 bytes"))?;
    let config = AnchorConfig {
        url,
        trusting_period: crate::net::TRUSTING_PERIOD,
        clock_drift: light_client::config::DEFAULT_MAX_CLOCK_DRIFT,
        timeout: RpcConfig::default().timeout,
    };
    let run = tokio::task::spawn_blocking(move || {
        anchor::sync(&config, Trust::Checkpoint { height, hash })
    })
    .await??;
    let line = serde_json::json!({
        "height": run.height,
        "secs": (run.secs * 1000.0).round() / 1000.0,
    });
    wait_for_parent(&line.to_string())
}

fn wait_for_parent(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    let mut rest = String::new();
    // Returns at end of input: the parent has read the memory figures.
    while std::io::stdin().read_line(&mut rest)? > 0 {}
    Ok(())
}

/// Scenario 6: bytes per sync and per followed block, ours and the anchor, through
/// counting proxies on loopback; and our `follow` loop over the same number of blocks.
async fn follow(net: &Net, s: &Settings, out: &mut Out) -> anyhow::Result<()> {
    let mut t = Table::new(
        &format!(
            "6. Bytes per sync (from {} blocks behind) and per followed block ({} blocks, one sync per new block), stable set",
            s.behind, s.follow_blocks
        ),
        &[
            "client",
            "per sync: bytes",
            "per sync: requests",
            "per followed block: bytes",
            "per followed block: requests",
            "per followed block: light blocks",
        ],
    );
    let ours_proxies = Proxies::start(&net.urls(), Duration::ZERO).await?;
    let from = checkpoint(net, s.behind)?;
    let ours = ours::Ours::open(&net.chain_config(from, &ours_proxies.urls())?).await?;
    ours.sync().await?;
    let ours_sync = ours_proxies.wire.counts();
    let ours_lb = ours.providers[0].light_blocks();

    let anchor_proxies = Proxies::start(&net.urls()[..1], Duration::ZERO).await?;
    let from = checkpoint(net, s.behind)?;
    let trust = Trust::Checkpoint {
        height: from,
        hash: net.hash(from)?,
    };
    let config = anchor_config(net, &anchor_proxies.urls()[0]);
    let mut follower = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut f = anchor::Follower::new(&config, trust)?;
        f.step()?;
        Ok(f)
    })
    .await??;
    let anchor_sync = anchor_proxies.wire.counts();
    let anchor_lb = follower.light_blocks();

    let mut height = net.head();
    for _ in 0..s.follow_blocks {
        net.wait_past(height).await?;
        height = net.head();
        ours.sync().await?;
        follower = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            follower.step()?;
            Ok(follower)
        })
        .await??;
    }
    let n = s.follow_blocks as f64;
    let ours_follow = ours_proxies.wire.counts() - ours_sync;
    let anchor_follow = anchor_proxies.wire.counts() - anchor_sync;
    t.row(vec![
        "light-node (ours), sync() per block".into(),
        bytes(ours_sync.bytes_down),
        ours_sync.requests.to_string(),
        bytes((ours_follow.bytes_down as f64 / n) as u64),
        format!("{:.1}", ours_follow.requests as f64 / n),
        format!(
            "{:.1}",
            (ours.providers[0].light_blocks() - ours_lb) as f64 / n
        ),
    ]);
    t.row(vec![
        "tendermint-light-client 0.41, verify_to_highest per block".into(),
        bytes(anchor_sync.bytes_down),
        anchor_sync.requests.to_string(),
        bytes((anchor_follow.bytes_down as f64 / n) as u64),
        format!("{:.1}", anchor_follow.requests as f64 / n),
        format!("{:.1}", (follower.light_blocks() - anchor_lb) as f64 / n),
    ]);
    ours.node.store().close().await;

    // The product's loop: `LightNode::follow` with its defaults, over the same span of time.
    let proxies = Proxies::start(&net.urls(), Duration::ZERO).await?;
    let from = checkpoint(net, 10)?;
    let follower_node = ours::Ours::open(&net.chain_config(from, &proxies.urls())?).await?;
    let start = follower_node.sync().await?;
    let before = proxies.wire.counts();
    let lb_before = follower_node.providers[0].light_blocks();
    let calls_before: Vec<_> = follower_node.providers.iter().map(|p| p.counts()).collect();
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let node = follower_node.node.clone();
    let task = tokio::spawn(async move { node.follow(stop_rx).await });
    let window = s.block_interval * s.follow_blocks as u32;
    tokio::time::sleep(window).await;
    let _ = stop.send(true);
    let _ = task.await;
    let end = follower_node
        .node
        .status()
        .head
        .map_or(start, |h| h.height.value());
    let w = proxies.wire.counts() - before;
    let followed = (end - start).max(1) as f64;
    t.row(vec![
        format!(
            "light-node (ours), LightNode::follow for {:.0} s ({} blocks)",
            window.as_secs_f64(),
            end - start
        ),
        "-".into(),
        "-".into(),
        bytes((w.bytes_down as f64 / followed) as u64),
        format!("{:.1}", w.requests as f64 / followed),
        format!(
            "{:.1}",
            (follower_node.providers[0].light_blocks() - lb_before) as f64 / followed
        ),
    ]);
    let calls: Vec<String> = follower_node
        .providers
        .iter()
        .zip(&calls_before)
        .map(|(p, b)| {
            let c = p.counts();
            format!(
                "{} light blocks, {} headers, {} status",
                c.light_blocks - b.light_blocks,
                c.headers - b.headers,
                c.statuses - b.statuses
            )
        })
        .collect();
    out.note(format!(
        "6: LightNode::follow over {:.0} s, {} blocks: primary {}; witnesses {}; {} HTTP requests, {} connections, {} received",
        window.as_secs_f64(),
        end - start,
        calls[0],
        calls[1..].join(" / "),
        w.requests,
        w.connections,
        bytes(w.bytes_down)
    ));
    follower_node.node.store().close().await;
    out.table(t);
    out.goal(format!(
        "6: bytes per sync, ours / tendermint-rs: {} / {} = {}; per followed block: {} / {} = {}",
        bytes(ours_sync.bytes_down),
        bytes(anchor_sync.bytes_down),
        ratio(ours_sync.bytes_down as f64, anchor_sync.bytes_down as f64),
        bytes((ours_follow.bytes_down as f64 / n) as u64),
        bytes((anchor_follow.bytes_down as f64 / n) as u64),
        ratio(
            ours_follow.bytes_down as f64,
            anchor_follow.bytes_down as f64
        ),
    ));
    Ok(())
}
