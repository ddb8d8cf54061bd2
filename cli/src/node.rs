//! `tradeseal-cli sync`, `status` and `query`: the light node, headless, over the same wallet
//! services as the app. JSON on stdout; exit 0 when the answer is verified, 1 when it is
//! not (fork, expired trust, no usable node, unproven), 2 for bad input.

use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::output::{default_data_dir, print, runtime, BAD_INPUT};
use tradeseal_api::{NodeState, NodeStatus};
use tradeseal_wallet::{Wallet, WalletConfig, WalletError};

/// Where the light node keeps its headers, and which chain it trusts.
#[derive(Debug, clap::Args)]
pub struct ChainArgs {
    /// The chain config (root of trust: chain id, checkpoint, trusting period, nodes): its
    /// JSON file, or an image (PNG, JPEG, WebP) of its QR code.
    #[arg(long, value_name = "FILE")]
    chain_config: PathBuf,
    /// Where verified headers and evidence are kept (default: the user's data directory,
    /// `tradeseal-cli/<chain id>` in it). Reused across runs: a later sync resumes.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Keep nothing on disk (every run starts from the checkpoint).
    #[arg(long)]
    in_memory: bool,
}

impl ChainArgs {
    /// The directory given with --data-dir.
    pub(crate) fn data_dir(&self) -> Option<&PathBuf> {
        self.data_dir.as_ref()
    }
}

/// Arguments of `query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    chain: ChainArgs,
    /// A registry query path (`/store/<key>`) or the state key itself
    /// (`cert/KE-KEPHIS/PH-2026-0001`).
    #[arg(value_name = "PATH_OR_KEY")]
    path_or_key: String,
    /// The state height to read (default: the state of the newest verified header).
    #[arg(long, value_name = "H")]
    height: Option<u64>,
}

/// Exit codes.
const NOT_VERIFIED: u8 = 1;
pub(crate) fn error(kind: &str, message: &str, code: u8) -> ExitCode {
    print(&json!({"error": {"kind": kind, "message": message}}));
    eprintln!("error: {message}");
    ExitCode::from(code)
}

pub(crate) fn wallet_error(e: &WalletError) -> ExitCode {
    let (kind, code) = match e {
        WalletError::InvalidRequest(_) => ("invalid_request", BAD_INPUT),
        WalletError::NotConfigured => ("not_configured", BAD_INPUT),
        WalletError::Storage(_) => ("storage", NOT_VERIFIED),
        WalletError::Internal(_) => ("internal", NOT_VERIFIED),
        WalletError::ConfirmationRequired(_) => ("confirmation_required", BAD_INPUT),
        WalletError::Sync(s) => (sync_kind(s), NOT_VERIFIED),
        WalletError::Query(q) => match q {
            light_node::QueryError::Sync(s) => (sync_kind(s), NOT_VERIFIED),
            light_node::QueryError::NoState => ("invalid_request", BAD_INPUT),
            light_node::QueryError::TxNotFound(_) => ("not_found", NOT_VERIFIED),
            light_node::QueryError::Unproven { .. } => ("unproven", NOT_VERIFIED),
        },
    };
    error(kind, &e.to_string(), code)
}

fn sync_kind(e: &light_node::SyncError) -> &'static str {
    use light_node::SyncError as S;
    match e {
        S::TrustExpired { .. } => "trust_expired",
        S::ForkDetected(_) => "fork_detected",
        S::NoUsableNode(_) => "no_usable_node",
        S::Checkpoint(_) => "checkpoint",
        S::Store(_) => "storage",
        S::NotYetAvailable { .. } => "not_yet_available",
        S::TooOld(_) => "too_old",
    }
}

/// Opens the wallet over the chain config and starts its light node (not following).
pub(crate) async fn open(args: &ChainArgs) -> Result<Wallet, ExitCode> {
    let wallet = open_only(args).await?;
    wallet
        .start_node(false)
        .await
        .map_err(|e| wallet_error(&e))?;
    Ok(wallet)
}

/// Opens the wallet's directories over the chain config, without starting the light node.
pub(crate) async fn open_only(args: &ChainArgs) -> Result<Wallet, ExitCode> {
    // The file's JSON text, or an image of its QR code (the devnet's chain-config.png).
    let config = tradeseal_wallet::read_config_file(&args.chain_config).map_err(|e| match e {
        WalletError::InvalidRequest(why) => error(
            "invalid_request",
            &format!(
                "cannot read the chain config {}: {why}",
                args.chain_config.display()
            ),
            BAD_INPUT,
        ),
        other => wallet_error(&other),
    })?;
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| default_data_dir().join(config.chain_id.as_str()));
    let mut wc = WalletConfig::new(dir.clone(), dir);
    wc.chain_config = Some(args.chain_config.clone());
    wc.node.in_memory = args.in_memory;
    Wallet::open(wc).await.map_err(|e| wallet_error(&e))
}

/// The status as scripts read it.
fn status_json(s: &NodeStatus, offline: bool) -> Value {
    let (status, reason) = match &s.state {
        NodeState::NotConfigured => ("not_configured", Value::Null),
        NodeState::ConfigInvalid { reason, .. } => ("config_invalid", json!(reason)),
        NodeState::Starting if offline && s.head.is_some() => ("stored", Value::Null),
        NodeState::Starting if offline => ("empty", Value::Null),
        NodeState::Starting => ("starting", Value::Null),
        NodeState::Syncing { .. } => ("syncing", Value::Null),
        NodeState::Synced => ("synced", Value::Null),
        NodeState::Stale { reason } => ("stale", json!(reason)),
        NodeState::Offline { reason } => ("offline", json!(reason)),
        NodeState::TrustExpired { expired_at } => (
            "trust_expired",
            json!(format!(
                "the last trusted header expired at {expired_at}: obtain a fresh chain config from the network's operator"
            )),
        ),
        NodeState::ForkDetected { .. } => ("fork_detected", Value::Null),
    };
    let fork = match &s.state {
        NodeState::ForkDetected { fork } => serde_json::to_value(fork).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    json!({
        "status": status,
        "height": s.head.as_ref().map(|h| h.height),
        "time": s.head.as_ref().map(|h| h.time.clone()),
        "age_secs": s.head.as_ref().map(|h| h.age_secs),
        "hash": s.head.as_ref().map(|h| h.hash.clone()),
        "chain_id": s.chain.as_ref().map(|c| c.chain_id.clone()),
        "reason": reason,
        "fork": fork,
        "nodes": s.nodes,
        "notices": s.notices,
    })
}

/// `sync`: verify to the latest header; exit 0 only when synced.
pub fn sync(args: &ChainArgs) -> ExitCode {
    runtime().block_on(async {
        let wallet = match open(args).await {
            Ok(w) => w,
            Err(code) => return code,
        };
        match wallet.sync_once().await {
            Ok(status) => {
                print(&status_json(&status, false));
                if status.state == NodeState::Synced {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(NOT_VERIFIED)
                }
            }
            Err(e) => wallet_error(&e),
        }
    })
}

/// `status`: what is stored, without the network.
pub fn status(args: &ChainArgs) -> ExitCode {
    runtime().block_on(async {
        match open(args).await {
            Ok(wallet) => {
                let status = wallet.node_status();
                print(&status_json(&status, true));
                ExitCode::SUCCESS
            }
            Err(code) => code,
        }
    })
}

/// `query`: a proven registry value.
pub fn query(args: &QueryArgs) -> ExitCode {
    runtime().block_on(async {
        let wallet = match open(&args.chain).await {
            Ok(w) => w,
            Err(code) => return code,
        };
        if args.height.is_none() {
            if let Err(e) = wallet.sync_once().await {
                return wallet_error(&e);
            }
        }
        let height = args.height.map(light_client::Height);
        match wallet.query(&args.path_or_key, height).await {
            Ok(p) => {
                let b64 = base64::engine::general_purpose::STANDARD;
                print(&json!({
                    "key": String::from_utf8_lossy(&p.key),
                    "key_hex": hex::encode(&p.key),
                    "exists": p.value.is_some(),
                    "value_hex": p.value.as_ref().map(hex::encode),
                    "value_base64": p.value.as_ref().map(|v| b64.encode(v)),
                    "height": p.height.value(),
                    "header_height": p.header_height.value(),
                    "header_time": p.header_time.to_rfc3339(),
                    "app_hash": hex::encode_upper(&p.app_hash),
                    "node": p.node,
                }));
                ExitCode::SUCCESS
            }
            Err(e) => wallet_error(&e),
        }
    })
}
