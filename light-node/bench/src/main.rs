//! End-to-end benchmarks of the light node against tendermint-rs's light client
//! (`tendermint-light-client` 0.41 over `tendermint-rpc`'s HTTP client), both syncing the
//! same devnet chain in the same run, on loopback.
//!
//! ```sh
//! cargo run -p light-node-bench --release -- all
//! cargo run -p light-node-bench --release -- sync --behind 20000
//! ```
//!
//! Scenarios (see `docs/benchmarks.md`): `sync` (from a checkpoint far behind, stable and
//! rotating validator sets, against the fewest light blocks any schedule needs), `latency`
//! (the same through a proxy adding round-trip time), `resume` (a store days behind),
//! `query` (proven queries), `memory` (peak resident memory of a sync in a child process),
//! `follow` (bytes per followed block). Nothing is hard-coded: every number printed is
//! measured in the run.

mod anchor;
mod fewest;
mod net;
mod ours;
mod proxy;
mod report;
mod scenarios;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// Which validator-set histories to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Sets {
    /// Both: a stable set and one that changes by a third every `--rotate-every` blocks.
    Both,
    /// The stable set only.
    Stable,
    /// The rotating set only.
    Rotating,
}

#[derive(Debug, Parser)]
#[command(about = "Light-node benchmarks against tendermint-light-client 0.41 on a devnet")]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
    /// Blocks between the checkpoint and the head for the syncs.
    #[arg(long, global = true, default_value_t = 100_000)]
    behind: u64,
    /// Validators of the devnet.
    #[arg(long, global = true, default_value_t = 9)]
    validators: usize,
    /// Rotation period of the rotating set (a third replaced each time).
    #[arg(long, global = true, default_value_t = 1_000)]
    rotate_every: u64,
    /// Block interval (also the history's spacing), milliseconds.
    #[arg(long, global = true, default_value_t = 3_000)]
    block_ms: u64,
    /// Repetitions of each loopback sync (the median is reported).
    #[arg(long, global = true, default_value_t = 5)]
    reps: usize,
    /// Repetitions of each sync with added latency.
    #[arg(long, global = true, default_value_t = 1)]
    latency_reps: usize,
    /// Added round-trip time, milliseconds.
    #[arg(long, global = true, default_value_t = 100)]
    rtt_ms: u64,
    /// Days without syncing for `resume`.
    #[arg(long, global = true, default_value_t = 3.0)]
    resume_days: f64,
    /// Proven queries for `query`.
    #[arg(long, global = true, default_value_t = 200)]
    queries: usize,
    /// Blocks followed for `follow`.
    #[arg(long, global = true, default_value_t = 6)]
    follow_blocks: u64,
    /// Validator-set histories.
    #[arg(long, global = true, value_enum, default_value_t = Sets::Both)]
    sets: Sets,
    /// With `all`: only these scenarios (numbers 1-6, comma-separated).
    #[arg(long, global = true, value_delimiter = ',')]
    only: Vec<usize>,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Every scenario, one devnet per validator-set history.
    All,
    /// 1: sync from a checkpoint `--behind` blocks behind, loopback.
    Sync,
    /// 2: the same with `--rtt-ms` of added round-trip time.
    Latency,
    /// 3: resume a store `--resume-days` of blocks behind, with added round-trip time.
    Resume,
    /// 4: proven queries (stable set).
    Query,
    /// 5: peak resident memory of a sync in a child process.
    Memory,
    /// 6: bytes per followed block (stable set).
    Follow,
    /// (internal) a child process for `memory`: our wallet syncs once, reports, waits.
    #[command(hide = true)]
    ChildSync {
        /// The chain config.
        #[arg(long)]
        chain_config: PathBuf,
        /// The wallet's data directory.
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// (internal) a child process for `memory`: the anchor syncs once, reports, waits.
    #[command(hide = true)]
    ChildAnchor {
        /// The primary's URL.
        #[arg(long)]
        url: String,
        /// Checkpoint height.
        #[arg(long)]
        height: u64,
        /// Checkpoint hash (hex).
        #[arg(long)]
        hash: String,
    },
}

impl Cli {
    fn settings(&self) -> scenarios::Settings {
        scenarios::Settings {
            behind: self.behind,
            validators: self.validators,
            rotate_every: self.rotate_every,
            block_interval: Duration::from_millis(self.block_ms),
            reps: self.reps.max(1),
            latency_reps: self.latency_reps.max(1),
            rtt: Duration::from_millis(self.rtt_ms),
            resume: Duration::from_secs_f64(self.resume_days * 24.0 * 3600.0),
            queries: self.queries.max(1),
            follow_blocks: self.follow_blocks.max(1),
            stable: matches!(self.sets, Sets::Both | Sets::Stable),
            rotating: matches!(self.sets, Sets::Both | Sets::Rotating),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let settings = cli.settings();
    runtime.block_on(async move {
        use scenarios::Which;
        match cli.scenario {
            Scenario::ChildSync {
                chain_config,
                data_dir,
            } => scenarios::child_sync(&chain_config, &data_dir, started).await,
            Scenario::ChildAnchor { url, height, hash } => {
                scenarios::child_anchor(url, height, &hash).await
            }
            Scenario::All if cli.only.is_empty() => scenarios::run(&settings, Which::all()).await,
            Scenario::All => scenarios::run(&settings, Which::list(&cli.only)?).await,
            Scenario::Sync => scenarios::run(&settings, Which::only(1)).await,
            Scenario::Latency => scenarios::run(&settings, Which::only(2)).await,
            Scenario::Resume => scenarios::run(&settings, Which::only(3)).await,
            Scenario::Query => scenarios::run(&settings, Which::only(4)).await,
            Scenario::Memory => scenarios::run(&settings, Which::only(5)).await,
            Scenario::Follow => scenarios::run(&settings, Which::only(6)).await,
        }
    })
}
