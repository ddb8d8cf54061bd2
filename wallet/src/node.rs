//! The node service: runs the light node for the chain config in use, restarts it when the
//! config or the node list changes, and turns its status into the UI's `NodeStatus`.

use std::path::PathBuf;
use std::sync::Arc;

use light_client::ChainConfig;
use light_node::{
    Clock, Health, LightNode, NodeOptions, Provider, PruneWindow, RpcConfig, RpcProvider,
    SqliteStore, Status, StoreIdentity, SyncState,
};
use tokio::sync::{watch, Mutex};
use tradeseal_api::{
    ForkReport as ApiFork, NodeHealth, NodeReport, NodeState, NodeStatus, TrustedHead,
};

use crate::chain::{summary, ChainFiles, ChainSource};
use crate::WalletError;

/// How the node service runs the light node.
#[derive(Debug, Clone, Default)]
pub struct NodeServiceConfig {
    /// The JSON-RPC client's limits.
    pub rpc: RpcConfig,
    /// The light node's behaviour.
    pub node: NodeOptions,
    /// How many headers the store keeps.
    pub prune: PruneWindow,
    /// Keep the store in memory (nothing on disk).
    pub in_memory: bool,
}

#[derive(Debug)]
struct Running {
    node: LightNode,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Runs the light node and publishes its status.
#[derive(Debug)]
pub struct NodeService {
    files: ChainFiles,
    data_dir: PathBuf,
    clock: Arc<dyn Clock>,
    config: NodeServiceConfig,
    status: watch::Sender<NodeStatus>,
    running: Mutex<Option<Running>>,
    source: std::sync::Mutex<ChainSource>,
    /// The running node and its config, for reading the status without waiting.
    current: std::sync::Mutex<Option<(LightNode, ChainConfig)>>,
}

impl NodeService {
    /// A service over the chain config in `files` and the store in `data_dir`. Call
    /// [`NodeService::start`] to begin syncing.
    pub fn new(
        files: ChainFiles,
        data_dir: PathBuf,
        clock: Arc<dyn Clock>,
        config: NodeServiceConfig,
    ) -> NodeService {
        let source = files.load();
        let status = watch::channel(initial_status(&source)).0;
        NodeService {
            files,
            data_dir,
            clock,
            config,
            status,
            running: Mutex::new(None),
            source: std::sync::Mutex::new(source),
            current: std::sync::Mutex::new(None),
        }
    }

    /// The JSON-RPC client's limits (for broadcasting to the same nodes).
    pub fn rpc_config(&self) -> &RpcConfig {
        &self.config.rpc
    }

    /// The chain files.
    pub fn files(&self) -> &ChainFiles {
        &self.files
    }

    /// The chain config in use, if valid.
    pub fn chain_config(&self) -> Option<ChainConfig> {
        match &*self.source.lock().unwrap_or_else(|p| p.into_inner()) {
            ChainSource::Valid { config, .. } => Some(config.clone()),
            _ => None,
        }
    }

    /// The status now (the head's age as of now).
    pub fn status(&self) -> NodeStatus {
        if let Some((node, config)) = &*self.current.lock().unwrap_or_else(|p| p.into_inner()) {
            return to_api(&node.status(), config, &*self.clock);
        }
        let mut s = self.status.borrow().clone();
        if let Some(head) = s.head.as_mut() {
            if let Ok(t) = light_client::Time::parse_rfc3339(&head.time) {
                head.age_secs = age(&*self.clock, t);
            }
        }
        s
    }

    /// Every status change.
    pub fn watch(&self) -> watch::Receiver<NodeStatus> {
        self.status.subscribe()
    }

    /// The running light node, if any.
    pub async fn light_node(&self) -> Option<LightNode> {
        self.running.lock().await.as_ref().map(|r| r.node.clone())
    }

    /// (Re)starts the light node for the chain config on disk. `follow`: keep syncing in the
    /// background (the app); otherwise the caller drives `sync` (the CLI).
    pub async fn start(&self, follow: bool) -> Result<Option<LightNode>, WalletError> {
        let mut running = self.running.lock().await;
        if let Some(old) = running.take() {
            let _ = old.stop.send(true);
            for task in old.tasks {
                task.abort();
            }
            old.node.store().close().await;
        }
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let source = self.files.load();
        *self.source.lock().unwrap_or_else(|p| p.into_inner()) = source.clone();
        let ChainSource::Valid { config, .. } = source else {
            self.status.send_replace(initial_status(&source));
            return Ok(None);
        };
        let node = self.open_node(&config).await?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let forward = {
            let mut rx = node.watch();
            let tx = self.status.clone();
            let clock = self.clock.clone();
            let config = config.clone();
            tx.send_replace(to_api(&rx.borrow(), &config, &*clock));
            tokio::spawn(async move {
                while rx.changed().await.is_ok() {
                    let status = to_api(&rx.borrow_and_update(), &config, &*clock);
                    tx.send_replace(status);
                }
            })
        };
        tasks.push(forward);
        if follow {
            let n = node.clone();
            tasks.push(tokio::spawn(async move { n.follow(stop_rx).await }));
        }
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((node.clone(), config.clone()));
        *running = Some(Running {
            node: node.clone(),
            stop,
            tasks,
        });
        Ok(Some(node))
    }

    async fn open_node(&self, config: &ChainConfig) -> Result<LightNode, WalletError> {
        let identity = StoreIdentity {
            chain_id: config.chain_id.as_str().to_owned(),
            checkpoint_height: config.checkpoint.height,
            checkpoint_hash: config.checkpoint.hash,
        };
        let mut notices = Vec::new();
        let store = if self.config.in_memory {
            SqliteStore::in_memory(identity, self.config.prune).await?
        } else {
            let opened = SqliteStore::open(
                &self.data_dir.join("headers.sqlite"),
                identity,
                self.config.prune,
            )
            .await?;
            notices.extend(opened.moved_aside);
            opened.store
        };
        let provider = |url: &str| -> Result<Arc<dyn Provider>, WalletError> {
            RpcProvider::new(url, self.config.rpc.clone())
                .map(|p| Arc::new(p) as Arc<dyn Provider>)
                .map_err(|e| WalletError::InvalidRequest(format!("{url}: {e}")))
        };
        let primary = provider(&config.primary)?;
        let witnesses = config
            .witnesses
            .iter()
            .map(|w| provider(w))
            .collect::<Result<Vec<_>, _>>()?;
        let mut options = self.config.node.clone();
        if options.evidence_dir.is_none() && !self.config.in_memory {
            options.evidence_dir = Some(self.data_dir.join("evidence"));
        }
        let node = LightNode::new(
            config.clone(),
            store,
            primary,
            witnesses,
            self.clock.clone(),
            options,
            notices,
        )
        .await?;
        Ok(node)
    }

    /// After the node list changed: restart; when a fork had stopped the node, start again
    /// from the last height both chains agreed on.
    pub async fn restart_after_node_change(&self, follow: bool) -> Result<(), WalletError> {
        if let Some(node) = self.start(follow).await? {
            if node.status().state.is_fork() {
                node.recover_from_fork().await?;
                // Restart so the follow loop (which stopped at the fork) runs again.
                self.start(follow).await?;
            }
        }
        Ok(())
    }
}

trait IsFork {
    fn is_fork(&self) -> bool;
}

impl IsFork for SyncState {
    fn is_fork(&self) -> bool {
        matches!(self, SyncState::ForkDetected { .. })
    }
}

fn age(clock: &dyn Clock, t: light_client::Time) -> u64 {
    clock.now().duration_since(t).map_or(0, |d| d.as_secs())
}

fn initial_status(source: &ChainSource) -> NodeStatus {
    match source {
        ChainSource::Missing => NodeStatus::bare(NodeState::NotConfigured),
        ChainSource::Invalid { source, reason } => NodeStatus::bare(NodeState::ConfigInvalid {
            source: source.clone(),
            reason: reason.clone(),
        }),
        ChainSource::Valid { config, .. } => NodeStatus {
            chain: Some(summary(config)),
            ..NodeStatus::bare(NodeState::Starting)
        },
    }
}

fn health(h: Health) -> NodeHealth {
    match h {
        Health::Unknown => NodeHealth::Unknown,
        Health::Ok => NodeHealth::Ok,
        Health::Lagging => NodeHealth::Lagging,
        Health::Silent => NodeHealth::Silent,
        Health::Faulty => NodeHealth::Faulty,
        Health::Forked => NodeHealth::Forked,
    }
}

/// The light node's status as the UI and the CLI show it.
pub fn to_api(s: &Status, config: &ChainConfig, clock: &dyn Clock) -> NodeStatus {
    let state = match &s.state {
        SyncState::Starting => NodeState::Starting,
        SyncState::Syncing { from, to, current } => NodeState::Syncing {
            from: from.value(),
            to: to.value(),
            current: current.value(),
        },
        SyncState::Synced => NodeState::Synced,
        SyncState::Stale { reason } => NodeState::Stale {
            reason: reason.clone(),
        },
        SyncState::Offline { reason } => NodeState::Offline {
            reason: reason.clone(),
        },
        SyncState::TrustExpired { expired_at } => NodeState::TrustExpired {
            expired_at: expired_at.to_rfc3339(),
        },
        SyncState::ForkDetected { fork } => NodeState::ForkDetected {
            fork: ApiFork {
                common_height: fork.common_height.value(),
                conflict_height: fork.conflict_height.value(),
                witness: fork.witness.clone(),
                trusted_hash: fork.trusted_hash.to_string(),
                conflicting_hash: fork.conflicting_hash.to_string(),
                attack: fork.attack.as_str().to_owned(),
                byzantine_validators: fork
                    .byzantine_validators
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                evidence_file: fork.evidence_file.clone().unwrap_or_default(),
                submitted_to: fork.submitted_to.clone(),
                detected_at: fork.detected_at.to_rfc3339(),
            },
        },
    };
    NodeStatus {
        state,
        chain: Some(summary(config)),
        head: s.head.as_ref().map(|h| TrustedHead {
            height: h.height.value(),
            time: h.time.to_rfc3339(),
            age_secs: age(clock, h.time),
            hash: h.hash.to_string(),
        }),
        nodes: s
            .nodes
            .iter()
            .map(|n| NodeReport {
                url: n.url.clone(),
                primary: n.primary,
                health: health(n.health),
                latest_height: n.latest_height.map(|h| h.value()),
                detail: n.detail.clone(),
            })
            .collect(),
        notices: s.notices.clone(),
    }
}
