//! The wallet's services, Tauri-free: the composition root that the app (`src-tauri`) and
//! the CLI both open. It owns the data directory and starts the services: settings, the
//! chain config (root of trust) and the light node with its status.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tradeseal_wallet::WalletError> {
//! let wallet = tradeseal_wallet::Wallet::open(tradeseal_wallet::WalletConfig::new(
//!     "/tmp/tradeseal/config".into(),
//!     "/tmp/tradeseal/data".into(),
//! ))
//! .await?;
//! wallet.start_node(true).await?;
//! let mut status = wallet.watch_status();
//! status.changed().await.ok();
//! println!("{:?}", status.borrow().state);
//! # Ok(()) }
//! ```

pub mod audit;
mod chain;
mod db;
mod error;
pub mod history;
pub mod issuance;
pub mod keystore;
mod node;
pub mod offline;
pub mod outbox;
mod proofs;
mod settings;
pub mod signing;
pub mod verify;

use std::path::PathBuf;
use std::sync::Arc;

use light_node::{Clock, Proven, QueryRequest, SystemClock};
use tokio::sync::watch;
use tradeseal_api::{
    AppInfo, CannotVerify, ChainPreview, HistoryQuery, Mode, NodeStatus, OfflineStatus,
    OfflineSync, Recheck, Settings, VerifyReport, VerifyRequest,
};

pub use chain::{
    fingerprint, parse_image, parse_text, read_config_file, same_root, summary, ChainFiles,
    ChainSource, CHAIN_CONFIG_ENV,
};
pub use error::WalletError;
pub use history::History;
pub use node::{to_api, NodeService, NodeServiceConfig};
pub use proofs::{registry_query, RegistryProofs};
pub use settings::SettingsStore;

/// Where the wallet keeps its files and how it runs.
#[derive(Debug, Clone)]
pub struct WalletConfig {
    /// Settings, the chain config and the node list.
    pub config_dir: PathBuf,
    /// The header store and evidence.
    pub data_dir: PathBuf,
    /// The chain config file, when fixed from outside (the CLI's `--chain-config`); else
    /// `TRADESEAL_CHAIN_CONFIG` or `chain-config.json` in `config_dir`.
    pub chain_config: Option<PathBuf>,
    /// The light node's settings.
    pub node: NodeServiceConfig,
    /// The clock (the system clock unless a test drives one).
    pub clock: Arc<dyn Clock>,
}

impl WalletConfig {
    /// Defaults over these directories.
    pub fn new(config_dir: PathBuf, data_dir: PathBuf) -> WalletConfig {
        WalletConfig {
            config_dir,
            data_dir,
            chain_config: None,
            node: NodeServiceConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Every service the app and the CLI reach.
#[derive(Debug)]
pub struct Wallet {
    /// The user's settings.
    pub settings: SettingsStore,
    node: NodeService,
    history: History,
    offline: offline::OfflineStore,
    clock: Arc<dyn Clock>,
}

impl Wallet {
    /// Opens the wallet's directories (created if missing). The light node is not started:
    /// call [`Wallet::start_node`].
    pub async fn open(config: WalletConfig) -> Result<Wallet, WalletError> {
        for dir in [&config.config_dir, &config.data_dir] {
            std::fs::create_dir_all(dir)
                .map_err(|e| WalletError::Storage(format!("creating {}: {e}", dir.display())))?;
        }
        let files = match config.chain_config {
            Some(path) => ChainFiles::with_fixed(&config.config_dir, Some(path)),
            None => ChainFiles::new(&config.config_dir),
        };
        let history = History::open(&config.data_dir).await?;
        let offline = offline::OfflineStore::open(&config.data_dir).await?;
        Ok(Wallet {
            settings: SettingsStore::open(config.config_dir.join("settings.json")),
            node: NodeService::new(files, config.data_dir, config.clock.clone(), config.node),
            history,
            offline,
            clock: config.clock,
        })
    }

    /// Starts (or restarts) the light node; `follow` keeps it syncing in the background.
    pub async fn start_node(&self, follow: bool) -> Result<(), WalletError> {
        self.node.start(follow).await.map(|_| ())
    }

    /// The node service.
    pub fn node(&self) -> &NodeService {
        &self.node
    }

    /// The light node's status now.
    pub fn node_status(&self) -> NodeStatus {
        self.node.status()
    }

    /// Every change of the light node's status.
    pub fn watch_status(&self) -> watch::Receiver<NodeStatus> {
        self.node.watch()
    }

    /// Verifies up to the latest header once and answers the status (the CLI's `sync`).
    pub async fn sync_once(&self) -> Result<NodeStatus, WalletError> {
        let node = match self.node.light_node().await {
            Some(n) => n,
            None => match self.node.start(false).await? {
                Some(n) => n,
                None => return Err(WalletError::NotConfigured),
            },
        };
        // The status says what happened, errors included.
        let _ = node.sync().await;
        Ok(self.node.status())
    }

    /// What a chain config would trust; changes nothing.
    pub fn chain_preview(&self, text: &str) -> Result<ChainPreview, WalletError> {
        let config = parse_text(text)?;
        let replaces_current = self
            .node
            .chain_config()
            .is_some_and(|current| !same_root(&current, &config));
        Ok(ChainPreview {
            chain: summary(&config),
            replaces_current,
        })
    }

    /// Makes a chain config the root of trust and restarts the light node on it (a new root
    /// starts a fresh header store).
    pub async fn chain_import(&self, text: &str, confirm: bool) -> Result<NodeStatus, WalletError> {
        let current = self.node.chain_config();
        self.node.files().import(text, current.as_ref(), confirm)?;
        self.node.start(true).await?;
        Ok(self.node.status())
    }

    /// Adds a full node and restarts the light node with it.
    pub async fn node_add(&self, url: &str, primary: bool) -> Result<NodeStatus, WalletError> {
        let config = self.node.chain_config().ok_or(WalletError::NotConfigured)?;
        self.node.files().add_node(&config, url, primary)?;
        self.node.restart_after_node_change(true).await?;
        Ok(self.node.status())
    }

    /// Removes a full node and restarts the light node without it.
    pub async fn node_remove(&self, url: &str) -> Result<NodeStatus, WalletError> {
        let config = self.node.chain_config().ok_or(WalletError::NotConfigured)?;
        self.node.files().remove_node(&config, url)?;
        self.node.restart_after_node_change(true).await?;
        Ok(self.node.status())
    }

    /// A registry value proven against a verified header (`path_or_key`: `/store/<key>` or
    /// the key itself).
    pub async fn query(
        &self,
        path_or_key: &str,
        height: Option<light_client::Height>,
    ) -> Result<Proven, WalletError> {
        let node = match self.node.light_node().await {
            Some(n) => n,
            None => self
                .node
                .start(false)
                .await?
                .ok_or(WalletError::NotConfigured)?,
        };
        let (path, key) = registry_query(path_or_key);
        let request = QueryRequest {
            path,
            data: Vec::new(),
            key,
            height,
        };
        Ok(node.query(&request, &RegistryProofs).await?)
    }
}

impl Wallet {
    /// Verifies a certificate (and a document given with it) and keeps the report in the
    /// history; `offline` judges from local knowledge only. With the network unreachable
    /// (and only then: never when a node lied or a fork was seen) the offline knowledge is
    /// used too, and the verdict says so. Offline verdicts are checked again online by
    /// [`Wallet::recheck_offline`]. Errors are for input that could not be read (nothing was
    /// verified); every verification, CANNOT VERIFY included, answers a report.
    pub async fn verify(&self, request: &VerifyRequest) -> Result<VerifyReport, WalletError> {
        let (read, from) = verify::read_input(&request.input)?;
        let document = request
            .document
            .as_ref()
            .map(verify::document_sha256)
            .transpose()?;
        let judgement = self
            .judge(&read, document.as_ref(), request.offline)
            .await?;
        let now = self.now();
        let mut report = judgement.report(from, now);
        let recheck = match &read {
            verify::Read::Subject(subject) if report.evidence.mode == Mode::Offline => {
                Some((recheck_payload(subject), document.map(hex::encode)))
            }
            _ => None,
        };
        report.history_id = self.history.add_offline(&report, recheck).await?;
        Ok(report)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.clock.now().unix_seconds()).unwrap_or(0)
    }

    async fn judge(
        &self,
        read: &verify::Read,
        document: Option<&[u8; 32]>,
        offline: bool,
    ) -> Result<verify::Judgement, WalletError> {
        let now = self.now();
        let subject = match read {
            verify::Read::NotOurs { kind, detail } => {
                return Ok(verify::not_ours_judgement(*kind, detail))
            }
            verify::Read::Subject(subject) => subject,
        };
        if offline {
            return self.offline_judgement(subject, document, None).await;
        }
        Ok(match self.prove_certificate(subject.id()).await {
            Ok((chain_id, proven)) => {
                let verdict = verify::judge(subject, &proven, document, &chain_id, now);
                verify::online_judgement(subject, &proven, document, &verdict)
            }
            Err(e) => {
                let why = verify::unknowable(&e);
                if why.kind == CannotVerify::NoNetwork && self.offline_meta().await?.is_some() {
                    let detail = format!("the network cannot be reached ({})", why.detail);
                    self.offline_judgement(subject, document, Some(&detail))
                        .await?
                } else {
                    verify::cannot_verify_judgement(subject, document, &why, Mode::Online)
                }
            }
        })
    }

    /// The stored offline knowledge of the configured chain.
    async fn offline_meta(&self) -> Result<Option<offline::Meta>, WalletError> {
        let Some(config) = self.node.chain_config() else {
            return Ok(None);
        };
        Ok(self
            .offline
            .meta()
            .await?
            .filter(|m| m.chain_id == config.chain_id.as_str()))
    }

    /// The stored offline knowledge of the configured chain and issuer `id`'s record in it,
    /// when the knowledge is within the trusting period.
    pub(crate) async fn offline_issuer(
        &self,
        id: &registry::IssuerId,
    ) -> Result<Option<(offline::Meta, Option<registry::state::IssuerRecord>)>, WalletError> {
        let Some(meta) = self.offline_meta().await? else {
            return Ok(None);
        };
        let policy = self.offline_policy();
        if self.now().saturating_sub(meta.block_time) >= policy.trusting_period_secs {
            return Ok(None);
        }
        let record = self.offline.issuer(id).await?;
        Ok(Some((meta, record)))
    }

    fn offline_policy(&self) -> verify::OfflinePolicy {
        let warn_after_secs = u64::from(self.settings.get().offline_warn_after_hours) * 3600;
        let trusting_period_secs = self
            .node
            .chain_config()
            .map_or(0, |c| c.trusting_period.as_secs());
        verify::OfflinePolicy {
            warn_after_secs,
            trusting_period_secs,
        }
    }

    async fn offline_judgement(
        &self,
        subject: &verify::Subject,
        document: Option<&[u8; 32]>,
        why_offline: Option<&str>,
    ) -> Result<verify::Judgement, WalletError> {
        let knowledge = match self.offline_meta().await? {
            Some(_) => self.offline.knowledge(subject.id()).await?,
            None => None,
        };
        Ok(verify::offline_judgement(
            subject,
            knowledge.as_ref(),
            document,
            self.now(),
            self.offline_policy(),
            why_offline,
        ))
    }

    /// Syncs the offline knowledge (issuer registry and revocation log, proven) to the newest
    /// verified state.
    pub async fn offline_sync(&self) -> Result<OfflineSync, WalletError> {
        let config = self.node.chain_config().ok_or(WalletError::NotConfigured)?;
        let node = match self.node.light_node().await {
            Some(n) => n,
            None => self
                .node
                .start(false)
                .await?
                .ok_or(WalletError::NotConfigured)?,
        };
        let policy = self.offline_policy();
        offline::sync(
            &self.offline,
            &node,
            config.chain_id.as_str(),
            self.now(),
            policy.warn_after_secs,
            policy.trusting_period_secs,
        )
        .await
    }

    /// The offline knowledge on this device; `None` before the first sync.
    pub async fn offline_status(&self) -> Result<Option<OfflineStatus>, WalletError> {
        let Some(meta) = self.offline_meta().await? else {
            return Ok(None);
        };
        let policy = self.offline_policy();
        let counts = (
            self.offline.issuer_count().await?,
            meta.issuer_log_len,
            meta.revocation_log_len,
        );
        Ok(Some(offline::status(
            &meta,
            counts,
            self.now(),
            policy.warn_after_secs,
            policy.trusting_period_secs,
        )))
    }

    /// Checks every offline verdict again online, oldest first; answers the offline reports
    /// as updated, each with its [`Recheck`] (`changed` when the online verdict differs).
    /// Stops at the first that cannot be proven now (no network, a lying node): those stay
    /// to do, and nothing is marked changed on a failure to know.
    pub async fn recheck_offline(&self) -> Result<Vec<VerifyReport>, WalletError> {
        let mut out = Vec::new();
        for pending in self.history.pending_rechecks().await? {
            let read = match verify::read_input(&pending.input) {
                Ok((read, _)) => read,
                Err(_) => {
                    self.history.drop_recheck(pending.id).await?;
                    continue;
                }
            };
            let judgement = match &read {
                verify::Read::Subject(subject) => {
                    match self.prove_certificate(subject.id()).await {
                        Ok((chain_id, proven)) => {
                            let document = pending.document;
                            let verdict = verify::judge(
                                subject,
                                &proven,
                                document.as_ref(),
                                &chain_id,
                                self.now(),
                            );
                            verify::online_judgement(subject, &proven, document.as_ref(), &verdict)
                        }
                        Err(_) => break,
                    }
                }
                verify::Read::NotOurs { .. } => {
                    self.history.drop_recheck(pending.id).await?;
                    continue;
                }
            };
            let now = self.now();
            let mut online = judgement.report(pending.from.clone(), now);
            online.file = pending.report.file.clone();
            online.history_id = self.history.add(&online).await?;
            let mut offline = pending.report;
            offline.recheck = Some(Recheck {
                checked_at: now,
                verdict: online.verdict,
                changed: online.verdict != offline.verdict,
                history_id: online.history_id,
            });
            self.history.complete_recheck(&offline).await?;
            out.push(offline);
        }
        Ok(out)
    }

    /// Proves a certificate's record and its issuer's record at one state height.
    async fn prove_certificate(
        &self,
        id: &registry::CertId,
    ) -> Result<(String, verify::ProvenPair), WalletError> {
        let config = self.node.chain_config().ok_or(WalletError::NotConfigured)?;
        let (cert_key, issuer_key) = verify::keys_for(id);
        let cert = self.query(&cert_key, None).await?;
        let issuer = self.query(&issuer_key, Some(cert.height)).await?;
        let pair = verify::ProvenPair {
            record: verify::decode_proven(&cert, "certificate record")?,
            issuer: verify::decode_proven(&issuer, "issuer record")?,
            issuer_node: issuer.node,
            cert_proof: cert,
        };
        Ok((config.chain_id.as_str().to_owned(), pair))
    }

    /// The verification history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The history, newest first, filtered.
    pub async fn history_list(&self, q: &HistoryQuery) -> Result<Vec<VerifyReport>, WalletError> {
        self.history.list(q).await
    }
}

/// The app's name, version and platform.
pub fn app_info() -> AppInfo {
    AppInfo {
        name: "Tradeseal".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        platform: std::env::consts::OS.to_owned(),
    }
}

/// Settings as the UI sends them (re-exported for the shells).
pub type UserSettings = Settings;

/// What to keep to check an offline verdict again: the certificate's code, or its id.
fn recheck_payload(subject: &verify::Subject) -> String {
    match subject {
        verify::Subject::Certificate { signed, .. } => {
            registry::qr::encode(signed).unwrap_or_else(|_| signed.certificate.id.to_string())
        }
        verify::Subject::Serial(id) => id.to_string(),
    }
}
