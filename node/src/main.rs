//! The `tradeseal-node` binary: serves the registry to CometBFT over the ABCI socket
//! (`start`), prints an `app_state` for a genesis file (`app-state`), and reports what a data
//! directory holds (`info`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use registry::RegistryConfig;
use tradeseal_node::{AppState, ChainLimits, Listen, NodeApp, NodeConfig};

/// The Tradeseal registry as an ABCI 2.0 application for CometBFT v0.38.
#[derive(Debug, Parser)]
#[command(name = "tradeseal-node", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the data directory (replaying its block log) and serve CometBFT on `--addr`.
    Start {
        /// The data directory (genesis.json and blocks.log).
        #[arg(long)]
        home: PathBuf,
        /// Where to listen: tcp://host:port or unix:///path (CometBFT's `proxy_app`).
        #[arg(long, default_value = "tcp://127.0.0.1:26658")]
        addr: Listen,
        /// Blocks CometBFT keeps (Commit's retain_height); 0 keeps every block.
        #[arg(long, default_value_t = 0)]
        retain_blocks: u64,
        /// State versions kept queryable with proofs; 0 keeps every version (archive).
        #[arg(long, default_value_t = 1000)]
        retain_versions: u64,
        /// Most mempool transactions of one signer between two blocks (local to this node).
        #[arg(long, default_value_t = tradeseal_node::app::DEFAULT_MAX_PENDING_PER_SIGNER)]
        max_pending_per_signer: usize,
    },
    /// Print an `app_state` JSON object for CometBFT's genesis file: the governance given
    /// and no issuers (add them to the file, or register them later by governance), or the
    /// development one with `--demo`.
    AppState {
        /// The chain id; left out, the node takes CometBFT's `chain_id`.
        #[arg(long)]
        chain_id: Option<String>,
        /// Genesis time, unix seconds; left out, the node takes CometBFT's `genesis_time`.
        #[arg(long)]
        genesis_time: Option<u64>,
        /// A governance member's ed25519 public key (64 hex digits); once per member.
        #[arg(long = "governance-key", value_name = "HEX", value_parser = parse_key)]
        governance_keys: Vec<registry::PublicKey>,
        /// Approvals a governance action needs.
        #[arg(long, default_value_t = 1)]
        threshold: u8,
        /// The development governance and issuers instead (keys derived from public labels:
        /// never for a real chain); needs --chain-id and --genesis-time.
        #[arg(long, conflicts_with_all = ["governance_keys", "threshold"])]
        demo: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Replay a data directory and print its height and app hash as JSON.
    Info {
        /// The data directory.
        #[arg(long)]
        home: PathBuf,
    },
}

/// The chain's limits, written into the `app_state` (every validator applies them alike).
#[derive(Debug, clap::Args)]
struct LimitArgs {
    /// Largest transaction, in bytes (at most the registry's 16384).
    #[arg(long, default_value_t = ChainLimits::default().max_tx_bytes)]
    max_tx_bytes: usize,
    /// Most transactions in a block.
    #[arg(long, default_value_t = ChainLimits::default().max_block_txs)]
    max_block_txs: usize,
    /// Most transaction bytes in a block.
    #[arg(long, default_value_t = ChainLimits::default().max_block_bytes)]
    max_block_bytes: u64,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Start {
            home,
            addr,
            retain_blocks,
            retain_versions,
            max_pending_per_signer,
        } => {
            let config = NodeConfig {
                max_pending_per_signer,
                registry: RegistryConfig {
                    retain_versions: (retain_versions > 0).then_some(retain_versions),
                },
                retain_blocks,
            };
            let app = open(&home, config)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                tracing::info!(%addr, "serving ABCI");
                tokio::select! {
                    r = tradeseal_node::serve(app, &addr) => {
                        r.map_err(|e| anyhow::anyhow!("ABCI server: {e}"))
                    }
                    _ = tokio::signal::ctrl_c() => {
                        tracing::info!("interrupted");
                        Ok(())
                    }
                }
            })
        }
        Command::AppState {
            chain_id,
            genesis_time,
            governance_keys,
            threshold,
            demo,
            limits,
        } => {
            let limits = ChainLimits {
                max_tx_bytes: limits.max_tx_bytes,
                max_block_txs: limits.max_block_txs,
                max_block_bytes: limits.max_block_bytes,
            };
            let mut state = if demo {
                let (Some(chain_id), Some(time)) = (chain_id, genesis_time) else {
                    anyhow::bail!("--demo needs --chain-id and --genesis-time");
                };
                AppState::from_genesis(&registry::devkit::demo_genesis(&chain_id, time), limits)
            } else {
                if governance_keys.is_empty() {
                    anyhow::bail!("give the governance with --governance-key (or use --demo)");
                }
                AppState {
                    chain_id,
                    genesis_time,
                    governance: registry::state::Governance {
                        threshold,
                        keys: governance_keys,
                    },
                    issuers: Vec::new(),
                    limits: None,
                    validators: Vec::new(),
                }
            };
            state.limits = Some(limits);
            // Checked as InitChain will check it.
            state
                .clone()
                .into_genesis(
                    state.chain_id.as_deref().unwrap_or("check"),
                    i64::try_from(state.genesis_time.unwrap_or(0)).unwrap_or(i64::MAX),
                    &[],
                )
                .context("the app_state would be refused")?;
            println!("{}", serde_json::to_string_pretty(&state)?);
            Ok(())
        }
        Command::Info { home } => {
            if !home.join(tradeseal_node::blocklog::LOG_FILE).exists() {
                anyhow::bail!("{} is not a node's data directory", home.display());
            }
            let app = open(&home, NodeConfig::default())?;
            let info = serde_json::json!({
                "chain_id": app.registry().map(|r| r.chain_id().to_owned()),
                "height": app.committed_height(),
                "app_hash": app.committed_app_hash().map(hex::encode),
                "dropped_log_bytes": app.dropped_log_bytes(),
            });
            println!("{}", serde_json::to_string_pretty(&info)?);
            Ok(())
        }
    }
}

fn parse_key(s: &str) -> Result<registry::PublicKey, String> {
    registry::PublicKey::from_hex(s).map_err(|e| e.to_string())
}

fn open(home: &std::path::Path, config: NodeConfig) -> Result<NodeApp> {
    let app = NodeApp::open(home, config)
        .with_context(|| format!("opening the data directory {}", home.display()))?;
    if app.dropped_log_bytes() > 0 {
        tracing::warn!(
            bytes = app.dropped_log_bytes(),
            "the block log ended in a torn record, cut; CometBFT replays that block"
        );
    }
    tracing::info!(
        height = app.committed_height(),
        app_hash = app
            .committed_app_hash()
            .map(hex::encode)
            .unwrap_or_default(),
        "state replayed"
    );
    Ok(app)
}
