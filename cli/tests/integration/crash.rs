//! Crash safety of `tradeseal-cli sync`: the real binary, syncing a devnet with a long,
//! rotating history, is killed with SIGKILL at pseudo-random points (a fixed-seed sequence
//! spread over how long a sync takes); after every kill `tradeseal-cli status` opens the
//! store cleanly (nothing moved aside as corrupt), and a last sync completes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use devnet::{AppKind, Devnet, DevnetConfig};
use light_client::{ChainConfig, ChainId, Checkpoint, Height, TrustLevel};
use serde_json::Value;

/// Blocks of history before the devnet serves, with a third of the validators replaced
/// every `ROTATE_EVERY`: the skipping sync needs many intermediate headers.
const HISTORY: u64 = 2000;
const ROTATE_EVERY: u64 = 10;
const KILLS: usize = 30;
/// Each round kills syncs into a fresh store.
const ROUNDS: usize = 5;

fn cli() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tradeseal-cli"))
}

fn args<'a>(cmd: &'a mut Command, sub: &str, config: &Path, dir: &Path) -> &'a mut Command {
    cmd.arg(sub)
        .arg("--chain-config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
}

struct Output {
    code: i32,
    json: Value,
    stderr: String,
}

fn run(sub: &str, config: &Path, dir: &Path) -> Output {
    let out = args(&mut cli(), sub, config, dir)
        .stdin(Stdio::null())
        .output()
        .expect("the CLI runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    Output {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Files in `dir` (recursively) that were moved aside.
fn moved_aside(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.contains(".corrupt") || name.contains(".foreign") {
                out.push(path);
            }
        }
    }
    out
}

/// The store opens as it was left: exit 0, `stored` or `empty`, no notice of a store moved
/// aside, no file moved aside. Answers the stored height.
fn assert_consistent(config: &Path, dir: &Path, after: &str) -> Option<u64> {
    let status = run("status", config, dir);
    assert_eq!(
        status.code, 0,
        "status after {after}: {} {}",
        status.json, status.stderr
    );
    let state = status.json["status"].as_str().unwrap_or_default();
    assert!(
        matches!(state, "stored" | "empty"),
        "status after {after}: {}",
        status.json
    );
    let notices = status.json["notices"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        notices.is_empty(),
        "status after {after} has notices: {notices:?}"
    );
    let aside = moved_aside(dir);
    assert!(aside.is_empty(), "moved aside after {after}: {aside:?}");
    status.json["height"].as_u64()
}

/// A fixed-seed sequence in [0, 1) (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn chain_config(net: &Devnet) -> ChainConfig {
    let block = net.chain().blocks().get(1).cloned().expect("block 1");
    let urls = net.rpc_urls();
    ChainConfig {
        chain_id: ChainId::new(net.chain().chain_id()),
        checkpoint: Checkpoint {
            height: Height(block.height()),
            hash: block.block_id.hash,
        },
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        trust_level: TrustLevel::ONE_THIRD,
        max_clock_drift: Duration::from_secs(10),
        primary: urls[0].clone(),
        witnesses: urls[1..].to_vec(),
    }
}

/// What happened to one store over its kills.
#[derive(Debug, Default)]
struct Tally {
    /// Killed while a sync from far behind (the checkpoint, or a partial trace) ran.
    long: usize,
    /// Killed while a sync resuming from a recent head ran.
    resumed: usize,
    /// Killed mid-sync after it had stored part of its trace.
    partial: usize,
    /// The sync had finished before the kill.
    finished: usize,
}

/// `KILLS / ROUNDS` kills of syncs into a fresh directory, then a last sync. The delays
/// (fixed seed) spread over 1.1 times how long this run's sync should take: a whole sync
/// while the store is far behind, a resumed one once it has caught up.
fn kill_round(
    round: usize,
    rng: &mut Rng,
    config: &Path,
    dir: &Path,
    chain: &devnet::Chain,
    (full_sync, resumed_sync): (Duration, Duration),
    tally: &mut Tally,
) -> u64 {
    let mut stored = None;
    for i in 0..KILLS / ROUNDS {
        let behind = chain.latest_height() - stored.unwrap_or(0);
        let far = behind > 200;
        let span = if far { full_sync } else { resumed_sync };
        let delay = span.mul_f64(rng.next() * 1.1);
        let mut child = args(&mut cli(), "sync", config, dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the CLI starts");
        std::thread::sleep(delay);
        let killed = match child.try_wait().expect("child state") {
            Some(_) => false,
            None => {
                child.kill().expect("SIGKILL");
                true
            }
        };
        child.wait().expect("reaped");
        let after = format!("round {round}, kill {i} at {delay:?}");
        let now = assert_consistent(config, dir, &after);
        match (killed, far) {
            (false, _) => tally.finished += 1,
            (true, true) => tally.long += 1,
            (true, false) => tally.resumed += 1,
        }
        if killed && now > stored && now.is_some_and(|h| h > 1) {
            tally.partial += 1;
        }
        stored = now;
    }
    let last = run("sync", config, dir);
    assert_eq!(last.code, 0, "the last sync: {} {}", last.json, last.stderr);
    assert_eq!(last.json["status"], "synced", "{}", last.json);
    let height = assert_consistent(config, dir, "the last sync").expect("a stored head");
    assert!(height >= HISTORY, "synced to {height}");
    height
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_killed_at_random_points_leaves_a_consistent_store() {
    let started = Instant::now();
    let net = Devnet::start(DevnetConfig {
        app: AppKind::Kv,
        history_blocks: HISTORY,
        rotate_every: ROTATE_EVERY,
        block_interval: Duration::from_millis(250),
        ..DevnetConfig::for_tests()
    })
    .await
    .expect("devnet starts");
    let made = started.elapsed();
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("chain-config.json");
    std::fs::write(&config, chain_config(&net).to_json()).unwrap();
    let root = tmp.path().to_owned();
    let chain = net.chain().clone();

    let (spans, tally, heights) = tokio::task::spawn_blocking(move || {
        // How long a whole sync from the checkpoint takes, and a resumed one a few blocks
        // later (in a directory of their own).
        let measure = root.join("measure");
        let t0 = Instant::now();
        let full = run("sync", &config, &measure);
        let full_sync = t0.elapsed();
        assert_eq!(full.code, 0, "{} {}", full.json, full.stderr);
        assert_eq!(full.json["status"], "synced", "{}", full.json);
        // The shortest of three: on a loaded machine one run can take twice as long.
        let mut resumed_sync = Duration::MAX;
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(600));
            let t0 = Instant::now();
            let again = run("sync", &config, &measure);
            resumed_sync = resumed_sync.min(t0.elapsed());
            assert_eq!(again.json["status"], "synced", "{}", again.json);
        }

        let mut rng = Rng(0x7AD3_5EA1_2026_0001);
        let mut tally = Tally::default();
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut heights = Vec::new();
        for round in 0..ROUNDS {
            let dir = root.join(format!("killed-{round}"));
            heights.push(kill_round(
                round,
                &mut rng,
                &config,
                &dir,
                &chain,
                (full_sync, resumed_sync),
                &mut tally,
            ));
            assert!(Instant::now() < deadline, "the kills took too long");
        }
        ((full_sync, resumed_sync), tally, heights)
    })
    .await
    .unwrap();
    let mid_sync = tally.long + tally.resumed;
    println!(
        "devnet with {HISTORY} blocks of history (a third of the validators replaced every \
         {ROTATE_EVERY}) made in {made:?}; a whole sync takes {:?}, a resumed one {:?}; \
         {KILLS} SIGKILLs in {ROUNDS} stores: {mid_sync} mid-sync ({} of a whole sync, {} of \
         a resumed one; {} left part of the trace stored), {} after the sync had finished; \
         every status consistent; last syncs synced to {heights:?}; {:?} in all",
        spans.0,
        spans.1,
        tally.long,
        tally.resumed,
        tally.partial,
        tally.finished,
        started.elapsed()
    );
    assert!(
        mid_sync >= KILLS / 2 && tally.long >= ROUNDS,
        "too few kills landed mid-sync: {tally:?}"
    );
    net.shutdown().await;
}
