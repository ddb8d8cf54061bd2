//! The `devnet` command: starts a local Tradeseal network and runs until Ctrl-C.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::{Parser, Subcommand};
use devnet::{AppKind, Behaviour, Devnet, DevnetConfig};

/// Local development network for Tradeseal (DEVELOPMENT ONLY: all keys derive from a public
/// seed).
#[derive(Debug, Parser)]
#[command(name = "devnet", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    start: StartArgs,
}

#[derive(Debug, clap::Args)]
struct StartArgs {
    /// Number of validators (1-150).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Voting power of each validator.
    #[arg(long, default_value_t = 10)]
    validator_power: i64,
    /// Number of full nodes serving RPC.
    #[arg(long, default_value_t = 3)]
    nodes: usize,
    /// Time between blocks in milliseconds.
    #[arg(long, default_value_t = 1000)]
    block_ms: u64,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// RPC port of node 0 (node i uses port + i); 0 for ephemeral ports.
    #[arg(long, default_value_t = 26657)]
    port: u16,
    /// Admin server port; 0 for an ephemeral port.
    #[arg(long, default_value_t = 26650)]
    admin_port: u16,
    /// Data directory (chain database, chain config, dev keys, QR codes).
    #[arg(long, default_value = "target/devnet")]
    data_dir: PathBuf,
    /// Keep everything in memory and write no files.
    #[arg(long, conflicts_with = "fresh")]
    in_memory: bool,
    /// Delete the stored chain and start a new one.
    #[arg(long)]
    fresh: bool,
    /// Chain id.
    #[arg(long, default_value = devnet::DEFAULT_CHAIN_ID)]
    chain_id: String,
    /// Seed of every development key.
    #[arg(long, default_value = devnet::DEFAULT_SEED)]
    seed: String,
    /// Misbehaviour of a node at start: INDEX=MODE, MODE one of honest, fork[:H], lunatic[:H],
    /// lie-value, lie-proof, stale[:H], timeout, garbage (see `devnet set-mode --help`).
    /// Repeatable.
    #[arg(long = "node-mode", value_name = "INDEX=MODE")]
    node_modes: Vec<String>,
    /// Run the key-value test application instead of the registry.
    #[arg(long)]
    kv_app: bool,
    /// Do not write the sample issuers and certificates.
    #[arg(long)]
    no_samples: bool,
    /// Trusting period written in the chain config, in days.
    #[arg(long, default_value_t = 14)]
    trusting_period_days: u64,
    /// Largest RPC request body in bytes.
    #[arg(long, default_value_t = 1_000_000)]
    max_body_bytes: usize,
    /// Most calls in one JSON-RPC batch, 0 for no limit (CometBFT's default is 10).
    #[arg(long, default_value_t = devnet::MAX_REQUEST_BATCH_SIZE)]
    max_request_batch_size: usize,
    /// On a new chain, generate this many validly signed blocks with past times (spaced by
    /// the block interval, ending about now) before serving.
    #[arg(long, default_value_t = 0)]
    history_blocks: u64,
    /// Every K blocks (history and live), replace a third of the validators with other
    /// development keys; 0 never.
    #[arg(long, value_name = "K", default_value_t = 0)]
    rotate_every: u64,
}

/// The node modes, for `set-mode --help`.
const MODES_HELP: &str = "\
Modes (a height H of 0 or none: from the next block for fork and lunatic, the latest block for stale):
  honest        serves the canonical chain
  fork[:H]      from H, a conflicting chain validly signed by the real validators
  lunatic[:H]   from H, headers signed by a made-up validator set
  lie-value     alters abci_query values (proofs unchanged)
  lie-proof     corrupts abci_query proofs
  stale[:H]     pretends the chain stopped at H
  timeout       accepts requests and never answers
  garbage       answers with bytes that are not JSON-RPC

Examples:
  devnet set-mode 1=fork
  devnet set-mode 2=stale:40
  devnet set-mode 1=honest";

#[derive(Debug, Subcommand)]
enum Command {
    /// Change a running network's validator set: KEY_INDEX=POWER (power 0 removes).
    SetValidator {
        /// Admin URL of the running network.
        #[arg(long, default_value = "http://127.0.0.1:26650")]
        admin: String,
        /// KEY_INDEX=POWER (a development key index and a voting power; 0 removes),
        /// repeatable.
        #[arg(required = true, value_name = "KEY_INDEX=POWER")]
        updates: Vec<String>,
    },
    /// Change a running node's behaviour: INDEX=MODE (e.g. 1=fork, 1=honest).
    #[command(after_help = MODES_HELP)]
    SetMode {
        /// Admin URL of the running network.
        #[arg(long, default_value = "http://127.0.0.1:26650")]
        admin: String,
        /// INDEX=MODE: the node's index (0 is the first node) and one of the modes below.
        #[arg(value_name = "INDEX=MODE")]
        mode: String,
    },
}

/// Reads `INDEX=MODE` (`--node-mode`, `set-mode`) with an error that says what is wrong.
fn parse_node_mode(s: &str) -> anyhow::Result<(usize, Behaviour)> {
    let (i, mode) = s.split_once('=').with_context(|| {
        format!("expected INDEX=MODE such as 1=fork, got {s:?} (see devnet set-mode --help)")
    })?;
    let i: usize = i.trim().parse().map_err(|_| {
        anyhow::anyhow!("bad node index {i:?} in {s:?}: expected a number such as 0 or 1")
    })?;
    let b = mode
        .trim()
        .parse::<Behaviour>()
        .map_err(|e| anyhow::anyhow!("bad mode in {s:?}: {e}"))?;
    Ok((i, b))
}

/// Reads `KEY_INDEX=POWER` (`set-validator`) with an error that says what is wrong.
fn parse_validator_update(s: &str) -> anyhow::Result<(u32, i64)> {
    let (k, p) = s.split_once('=').with_context(|| {
        format!("expected KEY_INDEX=POWER such as 4=10 (or 0=0 to remove), got {s:?}")
    })?;
    let k: u32 = k.trim().parse().map_err(|_| {
        anyhow::anyhow!(
            "bad key index {k:?} in {s:?}: expected the number of a development key, such as 4"
        )
    })?;
    let p: i64 = p.trim().parse().map_err(|_| {
        anyhow::anyhow!(
            "bad power {p:?} in {s:?}: expected a whole number of at least 0 (0 removes the validator)"
        )
    })?;
    if p < 0 {
        bail!("bad power {p} in {s:?}: expected at least 0 (0 removes the validator)");
    }
    Ok((k, p))
}

fn config(args: StartArgs) -> anyhow::Result<DevnetConfig> {
    let mut behaviours = Vec::new();
    for m in &args.node_modes {
        behaviours.push(parse_node_mode(m)?);
    }
    Ok(DevnetConfig {
        chain_id: args.chain_id,
        seed: args.seed,
        validators: args.validators,
        validator_power: args.validator_power,
        nodes: args.nodes,
        block_interval: Duration::from_millis(args.block_ms.max(10)),
        host: args.host,
        rpc_port: args.port,
        admin_port: args.admin_port,
        data_dir: if args.in_memory {
            None
        } else {
            Some(args.data_dir)
        },
        fresh: args.fresh,
        behaviours,
        max_body_bytes: args.max_body_bytes,
        max_request_batch_size: args.max_request_batch_size,
        history_blocks: args.history_blocks,
        rotate_every: args.rotate_every,
        trusting_period: Duration::from_secs(args.trusting_period_days.max(1) * 24 * 3600),
        app: if args.kv_app {
            AppKind::Kv
        } else {
            AppKind::Registry {
                seed_samples: !args.no_samples,
            }
        },
        ..DevnetConfig::default()
    })
}

async fn post(admin: &str, path: &str, body: serde_json::Value) -> anyhow::Result<()> {
    devnet::install_tls_provider();
    let url = format!("{}{path}", admin.trim_end_matches('/'));
    let resp = reqwest::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot reach the devnet's admin server at {admin} ({e}): is the devnet running? \
                 (give its admin URL with --admin)"
            )
        })?;
    let status = resp.status();
    let text = resp.text().await?;
    if !status.is_success() {
        // The admin server says why in {"error": ...}.
        let why = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or(text);
        bail!("the devnet refused: {why} (HTTP {})", status.as_u16());
    }
    println!("{text}");
    Ok(())
}

/// Waits for Ctrl-C (SIGINT) or, on Unix, SIGTERM (how scripts and test harnesses stop it).
async fn wait_for_stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::SetValidator { admin, updates }) => {
            let mut list = Vec::new();
            for u in &updates {
                let (k, p) = parse_validator_update(u)?;
                list.push(serde_json::json!({ "key_index": k, "power": p }));
            }
            post(
                &admin,
                "/validators",
                serde_json::json!({ "updates": list }),
            )
            .await
        }
        Some(Command::SetMode { admin, mode }) => {
            let (i, b) = parse_node_mode(&mode)?;
            post(
                &admin,
                &format!("/nodes/{i}/behaviour"),
                serde_json::to_value(b)?,
            )
            .await
        }
        None => {
            let net = Devnet::start(config(cli.start)?).await?;
            println!("chain id   {}", net.chain().chain_id());
            for (i, url) in net.rpc_urls().iter().enumerate() {
                println!("node {i}     {url}");
            }
            println!("admin      {}", net.admin_url());
            if let Some(f) = net.files() {
                println!("config     {}", f.chain_config.display());
                println!(
                    "dev keys   {} (DEVELOPMENT KEYS — never use on a real network)",
                    f.dev_keys.display()
                );
                if let Some(c) = &f.certificates {
                    println!("samples    {} ({} QR codes)", c.display(), f.qr_codes.len());
                }
            }
            wait_for_stop_signal().await?;
            println!("stopping");
            net.shutdown().await;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_builds_the_config() {
        let cli = Cli::try_parse_from([
            "devnet",
            "--validators",
            "7",
            "--port",
            "0",
            "--node-mode",
            "1=fork:5",
            "--node-mode",
            "2=timeout",
            "--in-memory",
            "--kv-app",
            "--history-blocks",
            "300",
            "--rotate-every",
            "50",
        ])
        .unwrap();
        let c = config(cli.start).unwrap();
        assert_eq!(c.validators, 7);
        assert_eq!((c.history_blocks, c.rotate_every), (300, 50));
        assert_eq!(c.rpc_port, 0);
        assert!(c.data_dir.is_none());
        assert_eq!(c.app, AppKind::Kv);
        assert_eq!(
            c.behaviours,
            vec![
                (1, Behaviour::Fork { from_height: 5 }),
                (2, Behaviour::Timeout)
            ]
        );
        let cli = Cli::try_parse_from(["devnet", "--node-mode", "x=fork"]).unwrap();
        assert!(config(cli.start).is_err());
        let cli = Cli::try_parse_from(["devnet", "--node-mode", "1=evil"]).unwrap();
        assert!(config(cli.start).is_err());
        assert!(Cli::try_parse_from(["devnet", "--in-memory", "--fresh"]).is_err());
        let cli = Cli::try_parse_from(["devnet", "set-validator", "4=10", "0=0"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::SetValidator { ref updates, .. }) if updates.len() == 2)
        );
    }

    #[test]
    fn bad_modes_and_updates_say_what_is_wrong() {
        assert_eq!(
            parse_node_mode("1=stale:40").unwrap(),
            (1, Behaviour::Stale { height: 40 })
        );
        let err =
            |r: anyhow::Result<_>| format!("{:#}", r.map(|_: (usize, Behaviour)| ()).unwrap_err());
        let e = err(parse_node_mode("1=abc"));
        assert!(e.contains("\"abc\"") && e.contains("fork[:H]"), "{e}");
        let e = err(parse_node_mode("x=honest"));
        assert!(e.contains("node index \"x\""), "{e}");
        let e = err(parse_node_mode("honest"));
        assert!(e.contains("INDEX=MODE"), "{e}");
        let e = err(parse_node_mode("1=fork:soon"));
        assert!(e.contains("fork:soon"), "{e}");
        assert_eq!(parse_validator_update("4=10").unwrap(), (4, 10));
        let e = format!("{:#}", parse_validator_update("1=abc").unwrap_err());
        assert!(
            e.contains("bad power \"abc\"") && !e.contains("invalid digit"),
            "{e}"
        );
        let e = format!("{:#}", parse_validator_update("k=1").unwrap_err());
        assert!(e.contains("bad key index \"k\""), "{e}");
        assert!(parse_validator_update("1=-5").is_err());
    }

    #[test]
    fn set_mode_help_lists_the_modes() {
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let help = cmd
            .find_subcommand_mut("set-mode")
            .unwrap()
            .render_long_help()
            .to_string();
        for mode in [
            "honest",
            "fork[:H]",
            "lunatic[:H]",
            "lie-value",
            "lie-proof",
            "stale[:H]",
            "timeout",
            "garbage",
        ] {
            assert!(help.contains(mode), "{mode} missing from:\n{help}");
        }
    }
}
