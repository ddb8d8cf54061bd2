//! Starting and stopping a whole local network in-process: the chain, the block producer
//! thread, one RPC server per full node and the admin server.

use std::net::SocketAddr;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::{Application, KvApp};
use crate::behaviour::Behaviour;
use crate::chain::{Chain, ChainError, ChainParams, HistoryPlan, MAX_VALIDATORS};
use crate::config::{AppKind, DevnetConfig};
use crate::output::{self, OutputError, OutputFiles};
use crate::registry_app::{self, RegistryApp};
use crate::rpc::{self, Node};
use crate::seal::now;
use crate::store::{Store, StoreError};

/// Errors starting the network.
#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The chain could not be opened or a block not made.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A socket or file operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// The registry refused the development genesis (e.g. a chain id out of its limits).
    #[error("invalid registry genesis: {0}")]
    Genesis(#[from] registry::GenesisError),
    /// Seeding the registry failed.
    #[error(transparent)]
    Seed(#[from] registry_app::SeedError),
    /// Writing the wallet's files failed.
    #[error(transparent)]
    Output(#[from] OutputError),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DevnetError {
    let context = context.into();
    move |source| DevnetError::Io { context, source }
}

enum ProducerMsg {
    Stop,
}

/// A running local network. Stop it with [`Devnet::shutdown`] (dropping it also stops it).
#[derive(Debug)]
pub struct Devnet {
    chain: Arc<Chain>,
    nodes: Vec<Arc<Node>>,
    rpc_urls: Vec<String>,
    admin_url: String,
    shutdown: watch::Sender<bool>,
    producer_tx: mpsc::Sender<ProducerMsg>,
    producer: Option<JoinHandle<()>>,
    servers: Vec<tokio::task::JoinHandle<()>>,
    files: Option<OutputFiles>,
    samples: Option<registry_app::Samples>,
}

impl std::fmt::Debug for ProducerMsg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stop")
    }
}

impl Devnet {
    /// Starts a network: opens (or creates) the chain, makes the first blocks (with the seed
    /// data), starts the block producer and the servers. Must run inside a multi-threaded
    /// tokio runtime.
    pub async fn start(config: DevnetConfig) -> Result<Devnet, DevnetError> {
        if config.validators == 0 || config.validators > MAX_VALIDATORS {
            return Err(DevnetError::Config(format!(
                "validators must be between 1 and {MAX_VALIDATORS}, got {}",
                config.validators
            )));
        }
        if config.nodes == 0 || config.nodes > 64 {
            return Err(DevnetError::Config(format!(
                "nodes must be between 1 and 64, got {}",
                config.nodes
            )));
        }
        if let Some((i, _)) = config.behaviours.iter().find(|(i, _)| *i >= config.nodes) {
            return Err(DevnetError::Config(format!(
                "no node {i}: there are {} nodes",
                config.nodes
            )));
        }
        let config_for_blocking = config.clone();
        let (chain, samples) =
            tokio::task::spawn_blocking(move || open_chain(&config_for_blocking))
                .await
                .map_err(|e| DevnetError::Config(format!("startup task failed: {e}")))??;
        let chain = Arc::new(chain);

        let (shutdown, shutdown_rx) = watch::channel(false);
        let mut nodes = Vec::new();
        let mut rpc_urls = Vec::new();
        let mut servers = Vec::new();
        for i in 0..config.nodes {
            let port = if config.rpc_port == 0 {
                0
            } else {
                config
                    .rpc_port
                    .checked_add(u16::try_from(i).unwrap_or(u16::MAX))
                    .ok_or_else(|| DevnetError::Config("rpc port + node index overflows".into()))?
            };
            let listener = TcpListener::bind(SocketAddr::new(config.host, port))
                .await
                .map_err(io(format!("binding node {i} to {}:{port}", config.host)))?;
            let addr = listener.local_addr().map_err(io("reading bound address"))?;
            let behaviour = config
                .behaviours
                .iter()
                .rev()
                .find(|(n, _)| *n == i)
                .map(|(_, b)| b.clone())
                .unwrap_or_default();
            let mut node = Node::new(
                i,
                chain.clone(),
                addr,
                config.max_body_bytes,
                behaviour,
                shutdown_rx.clone(),
            );
            node.max_batch = config.max_request_batch_size;
            let node = Arc::new(node);
            rpc_urls.push(format!("http://{addr}"));
            servers.push(serve(
                listener,
                rpc::router(node.clone()),
                shutdown_rx.clone(),
            ));
            nodes.push(node);
        }

        let admin_listener = TcpListener::bind(SocketAddr::new(config.host, config.admin_port))
            .await
            .map_err(io(format!(
                "binding admin server to {}:{}",
                config.host, config.admin_port
            )))?;
        let admin_addr = admin_listener
            .local_addr()
            .map_err(io("reading bound address"))?;
        let admin_url = format!("http://{admin_addr}");
        let admin_state = Arc::new(AdminState {
            chain: chain.clone(),
            nodes: nodes.clone(),
            urls: rpc_urls.clone(),
        });
        servers.push(serve(
            admin_listener,
            admin_router(admin_state),
            shutdown_rx.clone(),
        ));

        let files = match &config.data_dir {
            Some(dir) => Some(output::write_files(
                dir,
                &config,
                &chain,
                &rpc_urls,
                samples.as_ref(),
            )?),
            None => None,
        };

        let (producer_tx, producer_rx) = mpsc::channel();
        let producer = {
            let chain = chain.clone();
            let interval = config.block_interval;
            std::thread::Builder::new()
                .name("devnet-producer".into())
                .spawn(move || produce_blocks(&chain, interval, &producer_rx))
                .map_err(io("starting the block producer"))?
        };
        tracing::info!(chain_id = chain.chain_id(), nodes = ?rpc_urls, admin = %admin_url, "devnet started");
        Ok(Devnet {
            chain,
            nodes,
            rpc_urls,
            admin_url,
            shutdown,
            producer_tx,
            producer: Some(producer),
            servers,
            files,
            samples,
        })
    }

    /// The full nodes' RPC URLs (`http://127.0.0.1:PORT`), by node index.
    pub fn rpc_urls(&self) -> &[String] {
        &self.rpc_urls
    }

    /// The admin server's URL.
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// The chain (for in-process inspection).
    pub fn chain(&self) -> &Arc<Chain> {
        &self.chain
    }

    /// The files written for the wallet (when a data directory is configured).
    pub fn files(&self) -> Option<&OutputFiles> {
        self.files.as_ref()
    }

    /// The seeded sample data (registry app with samples only).
    pub fn samples(&self) -> Option<&registry_app::Samples> {
        self.samples.as_ref()
    }

    /// Sets node `index`'s behaviour; returns it with heights resolved.
    pub fn set_behaviour(&self, index: usize, behaviour: Behaviour) -> Option<Behaviour> {
        self.nodes.get(index).map(|n| n.set_behaviour(behaviour))
    }

    /// The evidence node `index` received through `broadcast_evidence`.
    pub fn evidence(&self, index: usize) -> Vec<rpc::EvidenceRecord> {
        self.nodes
            .get(index)
            .map(|n| n.evidence())
            .unwrap_or_default()
    }

    /// Queues a validator-set change (see [`Chain::update_validator`]).
    pub fn update_validator(&self, key_index: u32, power: i64) -> Result<(), ChainError> {
        self.chain.update_validator(key_index, power)
    }

    /// Waits until the chain reaches `height`, up to `timeout`. Returns whether it did.
    pub async fn wait_for_height(&self, height: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.chain.latest_height() >= height {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.chain.latest_height() >= height
    }

    /// Stops the producer and the servers and waits for them.
    pub async fn shutdown(mut self) {
        self.stop();
        for s in self.servers.drain(..) {
            let _ = s.await;
        }
        if let Some(p) = self.producer.take() {
            let _ = tokio::task::spawn_blocking(move || p.join()).await;
        }
    }

    fn stop(&self) {
        let _ = self.shutdown.send(true);
        let _ = self.producer_tx.send(ProducerMsg::Stop);
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        self.stop();
    }
}

fn open_chain(
    config: &DevnetConfig,
) -> Result<(Chain, Option<registry_app::Samples>), DevnetError> {
    let store = match &config.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
            let db = dir.join(output::DB_FILE);
            if config.fresh {
                for suffix in ["", "-wal", "-shm"] {
                    let p = dir.join(format!("{}{suffix}", output::DB_FILE));
                    if p.exists() {
                        std::fs::remove_file(&p)
                            .map_err(io(format!("removing {}", p.display())))?;
                    }
                }
            }
            Some(Store::open(&db)?)
        }
        None => None,
    };
    let params = ChainParams {
        chain_id: config.chain_id.clone(),
        seed: config.seed.clone(),
        genesis_powers: vec![config.validator_power; config.validators],
        max_block_txs: config.max_block_txs,
        mempool_limit: config.mempool_limit,
        max_tx_bytes: config.max_tx_bytes,
        rotate_every: config.rotate_every,
    };
    let (app, seed_samples): (Box<dyn Application>, bool) = match config.app {
        AppKind::Kv => (Box::new(KvApp::default()), false),
        AppKind::Registry { seed_samples } => (
            Box::new(RegistryApp::with_limits(
                &config.chain_id,
                &config.seed,
                tradeseal_node::ChainLimits {
                    max_block_txs: config.max_block_txs,
                    ..tradeseal_node::ChainLimits::default()
                },
                config.mempool_limit,
            )?),
            seed_samples,
        ),
    };
    let chain = Chain::open(params, app, store)?;
    let history = history(&chain, config)?;
    // Nothing after the history yet: a new chain (or one whose start was interrupted).
    let fresh_chain = chain.latest_height() == history;
    // A block now, also on restart: the checkpoint written for the wallet is then current
    // even when the stored chain is older than the trusting period.
    chain.produce_block(now())?;
    let samples = if seed_samples {
        // The first block after the history anchors the samples' dates: a restarted chain
        // gets the same ones.
        let base = chain
            .blocks()
            .get(history + 1)
            .map(|b| b.header.time)
            .unwrap_or_else(now);
        let samples = registry_app::samples(&config.chain_id, &config.seed, base)?;
        if fresh_chain {
            registry_app::submit_samples(&chain, &samples)?;
        }
        Some(samples)
    } else {
        None
    };
    Ok((chain, samples))
}

/// Generates the configured history on a new chain, or finishes one a stopped start left
/// unfinished (its plan is in the store). Returns the history's length (0: none).
fn history(chain: &Chain, config: &DevnetConfig) -> Result<u64, DevnetError> {
    let plan = match chain.meta(HistoryPlan::META_KEY)? {
        Some(text) => Some(serde_json::from_str::<HistoryPlan>(&text).map_err(|e| {
            DevnetError::Config(format!("stored history plan {text:?} is unreadable: {e}"))
        })?),
        None if config.history_blocks > 0 && chain.latest_height() == 0 => {
            let plan = HistoryPlan::ending_at(now(), config.history_blocks, config.block_interval);
            let text = serde_json::to_string(&plan)
                .map_err(|e| DevnetError::Config(format!("history plan: {e}")))?;
            chain.set_meta(HistoryPlan::META_KEY, &text)?;
            Some(plan)
        }
        None => {
            if config.history_blocks > 0 {
                tracing::warn!(
                    height = chain.latest_height(),
                    "--history-blocks only applies to a new chain (start with --fresh): ignored"
                );
            }
            None
        }
    };
    let Some(plan) = plan else { return Ok(0) };
    if plan.blocks != config.history_blocks && config.history_blocks > 0 {
        tracing::warn!(
            stored = plan.blocks,
            configured = config.history_blocks,
            "the stored chain has a history of another length: kept"
        );
    }
    if chain.latest_height() < plan.blocks {
        tracing::info!(
            blocks = plan.blocks,
            from = chain.latest_height() + 1,
            "generating history"
        );
        chain.generate_history(&plan)?;
    }
    Ok(plan.blocks)
}

fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // CometBFT-style URIs with raw quotes in the query are repaired before hyper sees them.
        let listener = rpc::lenient::LenientListener(listener);
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|s| *s).await;
            })
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "server stopped");
        }
    })
}

fn produce_blocks(chain: &Chain, interval: Duration, rx: &mpsc::Receiver<ProducerMsg>) {
    let mut next = Instant::now() + interval;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(ProducerMsg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        next = Instant::now() + interval;
        match chain.produce_block(now()) {
            Ok(b) => tracing::debug!(height = b.height(), txs = b.txs.len(), "block"),
            Err(e) => tracing::error!(error = %e, "block production failed"),
        }
    }
}

struct AdminState {
    chain: Arc<Chain>,
    nodes: Vec<Arc<Node>>,
    urls: Vec<String>,
}

fn admin_router(state: Arc<AdminState>) -> Router {
    Router::new()
        .route("/status", get(admin_status))
        .route("/validators", post(admin_validators))
        .route("/nodes/{index}/behaviour", post(admin_behaviour))
        .with_state(state)
}

fn admin_error(status: StatusCode, msg: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": msg.to_string() }))).into_response()
}

async fn admin_status(State(s): State<Arc<AdminState>>) -> Response {
    let latest = s.chain.latest_height();
    let next = s.chain.validators_at(latest + 1);
    let evidence: Vec<Value> = s
        .nodes
        .iter()
        .flat_map(|n| {
            n.evidence().into_iter().map(move |e| {
                let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("node".into(), json!(n.index));
                }
                v
            })
        })
        .collect();
    Json(json!({
        "chain_id": s.chain.chain_id(),
        "latest_height": latest,
        "mempool": s.chain.mempool_size(),
        "pending_validator_updates": s.chain.pending_updates().iter().map(|u| json!({
            "key_index": u.key.map(|k| k.index),
            "address": u.pub_key.address().to_hex(),
            "power": u.power
        })).collect::<Vec<_>>(),
        "next_validators": next.map(|set| set.validators().iter().map(|v| json!({
            "key_index": s.chain.keys().find(&v.address).map(|k| k.index),
            "address": v.address.to_hex(),
            "power": v.voting_power
        })).collect::<Vec<_>>()),
        "nodes": s.nodes.iter().zip(&s.urls).map(|(n, url)| json!({
            "index": n.index,
            "url": url,
            "behaviour": n.behaviour(),
            "evidence_count": n.evidence().len()
        })).collect::<Vec<_>>(),
        "evidence": {
            "count": evidence.len(),
            "received": evidence
        }
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct ValidatorUpdate {
    key_index: u32,
    power: i64,
}

#[derive(Debug, Deserialize)]
struct ValidatorUpdates {
    updates: Vec<ValidatorUpdate>,
}

async fn admin_validators(State(s): State<Arc<AdminState>>, body: axum::body::Bytes) -> Response {
    let updates: ValidatorUpdates = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"updates\":[{{\"key_index\":N,\"power\":P}}]}}: {e}"),
            )
        }
    };
    for u in &updates.updates {
        if let Err(e) = s.chain.update_validator(u.key_index, u.power) {
            return admin_error(StatusCode::BAD_REQUEST, e);
        }
    }
    let latest = s.chain.latest_height();
    Json(json!({ "queued": updates.updates.len(), "effective_height": latest + 2, "in_next_validators_hash_of": latest + 1 })).into_response()
}

async fn admin_behaviour(
    State(s): State<Arc<AdminState>>,
    Path(index): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Some(node) = index.parse::<usize>().ok().and_then(|i| s.nodes.get(i)) else {
        let have = match s.nodes.len() {
            0 => "this network has no nodes".to_string(),
            1 => "this network has node 0 only".to_string(),
            n => format!("this network has nodes 0 to {}", n - 1),
        };
        return admin_error(StatusCode::NOT_FOUND, format!("no node {index}: {have}"));
    };
    let behaviour: Behaviour = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return admin_error(
                StatusCode::BAD_REQUEST,
                format!("expected {{\"mode\":...}}: {e}"),
            )
        }
    };
    let resolved = node.set_behaviour(behaviour);
    Json(json!({ "index": node.index, "behaviour": resolved })).into_response()
}
