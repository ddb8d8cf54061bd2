//! [`LightNode`]: sync from the checkpoint with skipping verification, cross-check every
//! newly trusted header with the witnesses, detect forks, replace failing primaries, and
//! publish the status.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use light_client::{
    validate_light_block, Bisection, ChainConfig, Header, Height, LightBlock, Options,
    SignedHeader, Step, Time, TrustedState, ValidatorSet, Verdict, VerificationError, Verifier,
};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::evidence::AttackEvidence;
use crate::provider::{complete_light_block, Provider, ProviderError};
use crate::status::{ForkReport, Head, Health, NodeView, Status, SyncState};
use crate::store::{SqliteStore, StoreError};
use crate::subscribe::{NewBlocks, SubscribeConfig};

/// How the light node behaves beyond the chain config.
#[derive(Debug, Clone)]
pub struct NodeOptions {
    /// A head older than this many block intervals is stale.
    pub stale_after_blocks: u32,
    /// The wait between two syncs while following the chain without a live new-block
    /// subscription (with one, a new block wakes the node and this is multiplied by 5).
    pub poll_interval: Duration,
    /// The most headers walked back by hash to prove an old height.
    pub max_backward: u64,
    /// Where evidence files are written (`None`: only in the store).
    pub evidence_dir: Option<PathBuf>,
    /// How long a witness may take to answer a cross-check or a status question before it
    /// counts as silent for this round (a silent witness must not hold up the sync).
    pub witness_deadline: Duration,
    /// The new-block subscription's limits and keep-alive.
    pub subscribe: SubscribeConfig,
}

impl Default for NodeOptions {
    fn default() -> Self {
        NodeOptions {
            stale_after_blocks: 10,
            poll_interval: Duration::from_secs(1),
            max_backward: 10_000,
            evidence_dir: None,
            witness_deadline: Duration::from_secs(3),
            subscribe: SubscribeConfig::default(),
        }
    }
}

/// Why a sync did not reach a verified head.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    /// The newest trusted header is older than the trusting period.
    #[error("the last trusted header (height {height}) expired at {expired_at}: obtain a fresh checkpoint (a new chain config) from the network's operator")]
    TrustExpired {
        /// The trusted height.
        height: Height,
        /// When trust ended.
        expired_at: Time,
    },
    /// A fork was detected (now or before): nothing new is trusted.
    #[error("a fork was detected at height {}: {} conflicts with the verified chain", .0.conflict_height, .0.witness)]
    ForkDetected(Box<ForkReport>),
    /// No full node gave a usable answer.
    #[error("no full node gave a usable answer: {0}")]
    NoUsableNode(String),
    /// The checkpoint's header could not be established.
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    /// The store failed.
    #[error("header store: {0}")]
    Store(String),
    /// The height asked for is not on the chain yet.
    #[error("height {height} is not produced yet (latest verified {latest})")]
    NotYetAvailable {
        /// Asked for.
        height: Height,
        /// The newest verified.
        latest: Height,
    },
    /// The height asked for is older than what can be proven (before the checkpoint by more
    /// than the backward limit).
    #[error("height {0} is too far below the verified headers to prove")]
    TooOld(Height),
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> Self {
        SyncError::Store(e.to_string())
    }
}

/// Why verifying a chain of headers from one provider failed.
#[derive(Debug)]
enum TraceError {
    Provider(ProviderError),
    Invalid {
        height: Height,
        error: VerificationError,
    },
    Expired {
        height: Height,
        expired_at: Time,
    },
    Stuck(String),
}

impl TraceError {
    fn describe(&self) -> String {
        match self {
            TraceError::Provider(e) => e.to_string(),
            TraceError::Invalid { height, error } => {
                format!("served an invalid header at height {height}: {error}")
            }
            TraceError::Expired { expired_at, .. } => format!("trust expired at {expired_at}"),
            TraceError::Stuck(why) => why.clone(),
        }
    }

    fn health(&self) -> Health {
        match self {
            TraceError::Provider(e) if e.is_silence() => Health::Silent,
            TraceError::Provider(ProviderError::HeightUnavailable(_)) => Health::Lagging,
            _ => Health::Faulty,
        }
    }
}

/// A primary's latest commit asked for early, with the URL it was asked of.
type EarlyCommit = (String, Result<SignedHeader, ProviderError>);

/// Witness header requests in flight for one height (dropping it cancels them).
#[derive(Debug, Default)]
struct WitnessChecks {
    height: Height,
    asks: tokio::task::JoinSet<(Arc<dyn Provider>, Result<Header, ProviderError>)>,
}

#[derive(Debug)]
struct Slot {
    provider: Arc<dyn Provider>,
    view: NodeView,
}

const FORK_META: &str = "fork_report";

/// The light node of one chain.
#[derive(Debug, Clone)]
pub struct LightNode {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    chain: ChainConfig,
    verify: Options,
    options: NodeOptions,
    store: SqliteStore,
    clock: Arc<dyn Clock>,
    /// Primary first, then the witnesses.
    nodes: Mutex<Vec<Slot>>,
    /// Serialises verification and trusted writes; holds the key cache.
    verifier: tokio::sync::Mutex<Verifier>,
    status: watch::Sender<Status>,
}

impl LightNode {
    /// A light node for `chain` over `store`, asking `primary` and `witnesses`. It does
    /// nothing until [`LightNode::sync`] or [`LightNode::follow`].
    pub async fn new(
        chain: ChainConfig,
        store: SqliteStore,
        primary: Arc<dyn Provider>,
        witnesses: Vec<Arc<dyn Provider>>,
        clock: Arc<dyn Clock>,
        options: NodeOptions,
        notices: Vec<String>,
    ) -> Result<LightNode, SyncError> {
        let verify = Options {
            trust_level: chain.trust_level,
            trusting_period: chain.trusting_period,
            max_clock_drift: chain.max_clock_drift,
        };
        let slot = |p: Arc<dyn Provider>, primary: bool| Slot {
            view: NodeView {
                url: p.url().to_owned(),
                primary,
                health: Health::Unknown,
                latest_height: None,
                detail: None,
            },
            provider: p,
        };
        let mut nodes = vec![slot(primary, true)];
        nodes.extend(witnesses.into_iter().map(|w| slot(w, false)));
        let head = store.latest().await?.map(|b| head_of(&b));
        let fork: Option<ForkReport> = match store.meta(FORK_META).await? {
            Some(json) => serde_json::from_str(&json).ok(),
            None => None,
        };
        let state = match fork {
            Some(fork) => SyncState::ForkDetected {
                fork: Box::new(fork),
            },
            None => SyncState::Starting,
        };
        let status = Status {
            state,
            head,
            nodes: nodes.iter().map(|s| s.view.clone()).collect(),
            notices,
        };
        let node = LightNode {
            inner: Arc::new(Inner {
                chain,
                verify,
                options,
                store,
                clock,
                nodes: Mutex::new(nodes),
                verifier: tokio::sync::Mutex::new(Verifier::new()),
                status: watch::channel(status).0,
            }),
        };
        if let Some(head) = node.status().head.as_ref() {
            // An expired store still opens, to say so (the status is TrustExpired); the node
            // itself will not sync from it.
            let _ = node.check_expiry(head.height, head.time);
        }
        Ok(node)
    }

    /// The chain config this node trusts.
    pub fn chain(&self) -> &ChainConfig {
        &self.inner.chain
    }

    /// The store.
    pub fn store(&self) -> &SqliteStore {
        &self.inner.store
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The current status.
    pub fn status(&self) -> Status {
        self.inner.status.borrow().clone()
    }

    /// A receiver that sees every status change.
    pub fn watch(&self) -> watch::Receiver<Status> {
        self.inner.status.subscribe()
    }

    fn publish(&self, change: impl FnOnce(&mut Status)) {
        let nodes: Vec<NodeView> = self.lock_nodes().iter().map(|s| s.view.clone()).collect();
        self.inner.status.send_modify(|s| {
            change(s);
            s.nodes = nodes;
        });
    }

    fn lock_nodes(&self) -> std::sync::MutexGuard<'_, Vec<Slot>> {
        self.inner.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn providers(&self) -> Vec<Arc<dyn Provider>> {
        self.lock_nodes()
            .iter()
            .map(|s| s.provider.clone())
            .collect()
    }

    fn mark(&self, url: &str, health: Health, latest: Option<Height>, detail: Option<String>) {
        let mut nodes = self.lock_nodes();
        if let Some(slot) = nodes.iter_mut().find(|s| s.view.url == url) {
            // A forked node stays marked as such.
            if slot.view.health != Health::Forked || health == Health::Forked {
                slot.view.health = health;
                slot.view.detail = detail;
            }
            if latest.is_some() {
                slot.view.latest_height = latest;
            }
        }
    }

    fn note_height(&self, url: &str, latest: Height) {
        if let Some(slot) = self.lock_nodes().iter_mut().find(|s| s.view.url == url) {
            slot.view.latest_height = Some(latest);
        }
    }

    /// Makes the first usable witness the primary; the old primary becomes a witness (still
    /// marked with what it did). Returns `false` when there is no witness to promote.
    fn replace_primary(&self) -> bool {
        let mut nodes = self.lock_nodes();
        let Some(index) = nodes.iter().enumerate().skip(1).find_map(|(i, s)| {
            matches!(
                s.view.health,
                Health::Unknown | Health::Ok | Health::Lagging
            )
            .then_some(i)
        }) else {
            return false;
        };
        nodes.swap(0, index);
        for (i, slot) in nodes.iter_mut().enumerate() {
            slot.view.primary = i == 0;
        }
        tracing::warn!(primary = %nodes[0].view.url, "primary replaced");
        true
    }

    fn check_expiry(&self, height: Height, time: Time) -> Result<(), SyncError> {
        let now = self.inner.clock.now();
        if let Some(expired_at) = time.checked_add(self.inner.chain.trusting_period) {
            if expired_at <= now {
                self.publish(|s| s.state = SyncState::TrustExpired { expired_at });
                return Err(SyncError::TrustExpired { height, expired_at });
            }
        }
        Ok(())
    }

    fn fork_state(&self) -> Option<Box<ForkReport>> {
        match &self.inner.status.borrow().state {
            SyncState::ForkDetected { fork } => Some(fork.clone()),
            _ => None,
        }
    }

    /// Verifies up to the primary's latest header and cross-checks it with every witness.
    /// Replaces a primary that is silent or serves bad data. Answers the verified head.
    pub async fn sync(&self) -> Result<Head, SyncError> {
        let mut verifier = self.inner.verifier.lock().await;
        self.sync_locked(&mut verifier, None).await
    }

    async fn sync_locked(
        &self,
        verifier: &mut Verifier,
        target: Option<Height>,
    ) -> Result<Head, SyncError> {
        if let Some(fork) = self.fork_state() {
            return Err(SyncError::ForkDetected(fork));
        }
        let (anchor, mut early) = self.anchor(verifier, target).await?;
        self.check_expiry(anchor.height(), anchor.time())?;
        let mut failures = Vec::new();
        loop {
            let primary = self.providers()[0].clone();
            // The latest commit asked for together with the checkpoint, if this primary was
            // the one asked.
            let early_latest = early
                .take()
                .and_then(|(url, answer)| (url == primary.url()).then_some(answer));
            match self
                .sync_from(verifier, &primary, &anchor, target, early_latest)
                .await
            {
                Ok((trace, answered_at, checks)) => {
                    let head = self.accept(verifier, trace, answered_at, checks).await?;
                    return Ok(head);
                }
                // A height asked for that the chain has not produced is no fault of the node.
                Err(TraceError::Provider(ProviderError::HeightUnavailable(h)))
                    if target == Some(h) =>
                {
                    return Err(SyncError::NotYetAvailable {
                        height: h,
                        latest: anchor.height(),
                    });
                }
                Err(TraceError::Expired { height, expired_at }) => {
                    self.publish(|s| s.state = SyncState::TrustExpired { expired_at });
                    return Err(SyncError::TrustExpired { height, expired_at });
                }
                Err(e) => {
                    let why = e.describe();
                    tracing::warn!(node = primary.url(), error = %why, "primary failed");
                    self.mark(primary.url(), e.health(), None, Some(why.clone()));
                    failures.push(format!("{}: {why}", primary.url()));
                    if !self.replace_primary() {
                        let reason = failures.join("; ");
                        self.publish(|s| {
                            s.state = SyncState::Offline {
                                reason: reason.clone(),
                            }
                        });
                        return Err(SyncError::NoUsableNode(reason));
                    }
                }
            }
        }
    }

    /// The newest trusted block, or the checkpoint's block, fetched and checked, when the
    /// store is empty. A sync to the latest block from an empty store asks the primary for
    /// its latest commit at the same time (one round trip instead of two), answered with the
    /// primary's URL.
    async fn anchor(
        &self,
        verifier: &mut Verifier,
        target: Option<Height>,
    ) -> Result<(LightBlock, Option<EarlyCommit>), SyncError> {
        if let Some(block) = self.inner.store.latest().await? {
            return Ok((block, None));
        }
        if target.is_some() {
            return Ok((self.checkpoint_block(verifier).await?, None));
        }
        let primary = self.providers()[0].clone();
        let (anchor, latest) = tokio::join!(self.checkpoint_block(verifier), async {
            (primary.url().to_owned(), primary.signed_header(None).await)
        });
        Ok((anchor?, Some(latest)))
    }

    /// The checkpoint's block from the first node that serves it correctly, stored.
    async fn checkpoint_block(&self, verifier: &mut Verifier) -> Result<LightBlock, SyncError> {
        let checkpoint = &self.inner.chain.checkpoint;
        let mut failures = Vec::new();
        for provider in self.providers() {
            match provider.light_block(Some(checkpoint.height)).await {
                Ok(block) => match self.check_checkpoint(verifier, &block) {
                    Ok(()) => {
                        self.mark(provider.url(), Health::Ok, None, None);
                        self.check_expiry(block.height(), block.time())?;
                        self.inner.store.insert(&block).await?;
                        self.publish(|s| s.head = Some(head_of(&block)));
                        return Ok(block);
                    }
                    Err(why) => {
                        self.mark(provider.url(), Health::Faulty, None, Some(why.clone()));
                        failures.push(format!("{}: {why}", provider.url()));
                    }
                },
                Err(e) => {
                    let health = if e.is_silence() {
                        Health::Silent
                    } else {
                        Health::Faulty
                    };
                    self.mark(provider.url(), health, None, Some(e.to_string()));
                    failures.push(format!("{}: {e}", provider.url()));
                }
            }
        }
        let reason = failures.join("; ");
        self.publish(|s| {
            s.state = SyncState::Offline {
                reason: reason.clone(),
            }
        });
        Err(SyncError::NoUsableNode(reason))
    }

    fn check_checkpoint(&self, verifier: &mut Verifier, block: &LightBlock) -> Result<(), String> {
        let chain = &self.inner.chain;
        let header = &block.signed_header.header;
        let hash = header.hash();
        if hash != chain.checkpoint.hash {
            return Err(format!(
                "header {} at the checkpoint height hashes to {hash}, not the checkpoint's {}",
                header.height, chain.checkpoint.hash
            ));
        }
        if header.chain_id != chain.chain_id {
            return Err(format!(
                "chain id {:?} is not {:?}",
                header.chain_id, chain.chain_id
            ));
        }
        validate_light_block(block).map_err(|e| e.to_string())?;
        verifier
            .verify_commit(&block.signed_header, &block.validators)
            .map_err(|e| e.to_string())?;
        if block.trusted_next_validators().is_none() {
            return Err("no next validator set".into());
        }
        Ok(())
    }

    /// Skipping verification from `anchor` to `target` (the provider's latest when `None`),
    /// driven by the bisection scheduler. Answers the verified trace, anchor first.
    async fn sync_from(
        &self,
        verifier: &mut Verifier,
        provider: &Arc<dyn Provider>,
        anchor: &LightBlock,
        target: Option<Height>,
        early: Option<Result<SignedHeader, ProviderError>>,
    ) -> Result<(Vec<LightBlock>, Time, WitnessChecks), TraceError> {
        // The set the next block is signed by when nothing changes: a stable chain's latest
        // block needs no `/validators` request.
        let known: Vec<ValidatorSet> = anchor
            .trusted_next_validators()
            .into_iter()
            .cloned()
            .collect();
        let latest = match (early, target) {
            (Some(Ok(sh)), _) => complete_light_block(&**provider, sh, None, &known).await,
            (Some(Err(e)), _) => Err(e),
            (None, Some(h)) => provider.light_block(Some(h)).await,
            (None, None) => provider.light_block_known(None, &known).await,
        }
        .map_err(TraceError::Provider)?;
        // The head's age counts from when the primary answered, not from after the checks.
        let answered_at = self.inner.clock.now();
        self.mark(provider.url(), Health::Ok, Some(latest.height()), None);
        if latest.height() <= anchor.height() {
            if latest.height() == anchor.height()
                && latest.signed_header.header.hash() != anchor.signed_header.header.hash()
            {
                return Err(TraceError::Stuck(format!(
                    "serves another header at the trusted height {}",
                    anchor.height()
                )));
            }
            return Ok((vec![anchor.clone()], answered_at, WitnessChecks::default()));
        }
        let from = anchor.height();
        let to = latest.height();
        // The witnesses are asked for their header at the target while it is verified.
        let checks = self.ask_witnesses(to);
        // Following block by block is not "syncing": only a catch-up shows progress.
        let catching_up = to.value() - from.value() > 1;
        if catching_up {
            self.publish(|s| {
                s.state = SyncState::Syncing {
                    from,
                    to,
                    current: from,
                }
            });
        }
        let progress = |current: Height| {
            if catching_up {
                self.publish(|s| s.state = SyncState::Syncing { from, to, current });
            }
        };
        let trace = self
            .verify_trace(verifier, provider, anchor, latest, progress)
            .await?;
        Ok((trace, answered_at, checks))
    }

    /// Bisection from `anchor` to `target` with blocks from `provider`.
    async fn verify_trace(
        &self,
        verifier: &mut Verifier,
        provider: &Arc<dyn Provider>,
        anchor: &LightBlock,
        target: LightBlock,
        progress: impl Fn(Height),
    ) -> Result<Vec<LightBlock>, TraceError> {
        let now = self.inner.clock.now();
        let mut fetched: HashMap<Height, LightBlock> = HashMap::new();
        let target_height = target.height();
        fetched.insert(target_height, target);
        let mut trace = vec![anchor.clone()];
        // Planned once, when the target is out of the anchor's reach.
        let mut planned = false;
        'bisect: loop {
            let from = trace
                .last()
                .expect("the trace starts with the anchor")
                .height();
            if from >= target_height {
                break;
            }
            let mut bisection = Bisection::new(from, target_height)
                .map_err(|e| TraceError::Stuck(e.to_string()))?;
            while let Step::Verify { height, .. } = bisection.next() {
                let trusted = trace.last().expect("the trace starts with the anchor");
                let untrusted = match fetched.remove(&height) {
                    Some(b) => Ok(b),
                    // The block after a trusted one is signed by the trusted next set: only its
                    // commit is fetched when it names that set.
                    None if Some(height) == trusted.height().increment() => {
                        let known: Vec<ValidatorSet> = trusted
                            .trusted_next_validators()
                            .into_iter()
                            .cloned()
                            .collect();
                        provider.light_block_known(Some(height), &known).await
                    }
                    None => provider.light_block(Some(height)).await,
                }
                .map_err(TraceError::Provider)?;
                let Some(state) = TrustedState::from_light_block(trusted) else {
                    return Err(TraceError::Stuck(format!(
                        "trusted block {} has no next validator set",
                        trusted.height()
                    )));
                };
                let verdict =
                    verifier.verify_update_header(&untrusted, state, &self.inner.verify, now);
                match &verdict {
                    Verdict::Invalid(VerificationError::TrustedHeaderExpired {
                        expires_at,
                        ..
                    }) => {
                        return Err(TraceError::Expired {
                            height: trusted.height(),
                            expired_at: *expires_at,
                        });
                    }
                    Verdict::Invalid(error) => {
                        return Err(TraceError::Invalid {
                            height,
                            error: error.clone(),
                        });
                    }
                    Verdict::NotEnoughTrust(_) => {
                        fetched.insert(height, untrusted);
                        if !planned && height == target_height {
                            planned = true;
                            let before = trace.len();
                            self.follow_plan(
                                verifier,
                                provider,
                                &mut trace,
                                &mut fetched,
                                target_height,
                                now,
                                &progress,
                            )
                            .await?;
                            if trace.len() > before {
                                let trusted_height = trace.last().expect("trace").height();
                                fetched.retain(|h, _| *h > trusted_height);
                                continue 'bisect;
                            }
                        }
                    }
                    Verdict::Success => {
                        progress(height);
                        trace.push(untrusted);
                    }
                }
                bisection
                    .record(height, &verdict)
                    .map_err(|e| TraceError::Stuck(e.to_string()))?;
                // Keep only blocks still ahead of the trusted height.
                let trusted_height = bisection.trusted();
                fetched.retain(|h, _| *h > trusted_height);
            }
            break;
        }
        Ok(trace)
    }

    /// Plans a path from the trace's last block to `target` ([`crate::plan`]), fetches the
    /// path's commits in one batch (its validator sets were fetched while planning) and
    /// verifies the path in order, each block against the last verified one, as bisection
    /// would. Stops at the first block that does not verify from there or could not be
    /// fetched (bisection goes on from the last verified block); an invalid block or an
    /// expired trusted block ends the trace as in bisection.
    #[allow(clippy::too_many_arguments)]
    async fn follow_plan(
        &self,
        verifier: &mut Verifier,
        provider: &Arc<dyn Provider>,
        trace: &mut Vec<LightBlock>,
        fetched: &mut HashMap<Height, LightBlock>,
        target: Height,
        now: Time,
        progress: &impl Fn(Height),
    ) -> Result<(), TraceError> {
        let trusted = trace.last().expect("the trace starts with the anchor");
        let Some(goal) = fetched.get(&target) else {
            return Ok(());
        };
        let Some(plan) =
            crate::plan::plan(&**provider, trusted, goal, self.inner.verify.trust_level).await
        else {
            return Ok(());
        };
        let mut known = plan.sets;
        known.push(trusted.validators.clone());
        known.extend(trusted.next_validators.clone());
        let wanted: Vec<Height> = plan
            .path
            .iter()
            .copied()
            .filter(|h| !fetched.contains_key(h))
            .collect();
        let commits = provider.signed_headers(&wanted).await;
        let blocks = futures_util::future::join_all(commits.into_iter().map(|commit| async {
            match commit {
                Ok(sh) => complete_light_block(&**provider, sh, None, &known).await,
                Err(e) => Err(e),
            }
        }))
        .await;
        for (h, block) in wanted.iter().zip(blocks) {
            match block {
                Ok(block) => {
                    fetched.insert(*h, block);
                }
                Err(e) => tracing::debug!(height = %h, error = %e, "planned block not fetched"),
            }
        }
        for height in plan.path {
            let Some(untrusted) = fetched.remove(&height) else {
                break;
            };
            let trusted = trace.last().expect("the trace starts with the anchor");
            let Some(state) = TrustedState::from_light_block(trusted) else {
                break;
            };
            let verdict = verifier.verify_update_header(&untrusted, state, &self.inner.verify, now);
            match verdict {
                Verdict::Success => {
                    progress(height);
                    trace.push(untrusted);
                }
                Verdict::Invalid(VerificationError::TrustedHeaderExpired {
                    expires_at, ..
                }) => {
                    return Err(TraceError::Expired {
                        height: trusted.height(),
                        expired_at: expires_at,
                    });
                }
                Verdict::Invalid(error) => return Err(TraceError::Invalid { height, error }),
                Verdict::NotEnoughTrust(_) => {
                    fetched.insert(height, untrusted);
                    break;
                }
            }
        }
        Ok(())
    }

    /// Cross-checks the trace's last block with every witness; stores the trace when no
    /// witness proves a fork.
    async fn accept(
        &self,
        verifier: &mut Verifier,
        trace: Vec<LightBlock>,
        answered_at: Time,
        checks: WitnessChecks,
    ) -> Result<Head, SyncError> {
        let last = trace.last().expect("a trace has its anchor").clone();
        if trace.len() > 1 {
            self.cross_check(verifier, &trace, checks).await?;
            for block in &trace[1..] {
                self.inner.store.insert(block).await?;
            }
        }
        let head = head_of(&last);
        let age = answered_at.duration_since(last.time()).unwrap_or_default();
        let state = if age > self.stale_limit(&last).await {
            let ahead = self.witness_ahead_of(last.height()).await;
            if let Some((url, height)) = &ahead {
                // The primary stopped while the chain went on: let the witness serve next.
                let primary = self.providers()[0].url().to_owned();
                self.mark(
                    &primary,
                    Health::Lagging,
                    Some(last.height()),
                    Some(format!(
                        "stuck at height {} while {url} is at {height}",
                        last.height()
                    )),
                );
                self.replace_primary();
            }
            SyncState::Stale {
                reason: match ahead {
                    Some((url, height)) => format!(
                        "the primary's newest header is {} s old while {url} reports height {height}: switching to it",
                        age.as_secs()
                    ),
                    None => format!(
                        "the newest header is {} s old and no node reports a newer one: the chain may have halted",
                        age.as_secs()
                    ),
                },
            }
        } else {
            SyncState::Synced
        };
        let h = head.clone();
        self.publish(move |s| {
            s.state = state;
            s.head = Some(h);
        });
        Ok(head)
    }

    /// A witness that reports a latest height above `height` (asked concurrently, `/status`).
    async fn witness_ahead_of(&self, height: Height) -> Option<(String, Height)> {
        let mut asks = tokio::task::JoinSet::new();
        for w in self.providers().into_iter().skip(1) {
            let deadline = self.inner.options.witness_deadline;
            asks.spawn(async move {
                let answer = tokio::time::timeout(deadline, w.status()).await;
                (
                    w.url().to_owned(),
                    answer.unwrap_or(Err(ProviderError::Timeout {
                        secs: deadline.as_secs().max(1),
                    })),
                )
            });
        }
        let mut best: Option<(String, Height)> = None;
        while let Some(Ok((url, answer))) = asks.join_next().await {
            if let Ok(info) = answer {
                self.note_height(&url, info.latest_height);
                if info.latest_height > height
                    && best.as_ref().is_none_or(|b| info.latest_height > b.1)
                {
                    best = Some((url, info.latest_height));
                }
            }
        }
        best
    }

    /// How old the head may get before it is stale: `stale_after_blocks` block intervals,
    /// the interval measured from the stored headers (at least 100 ms).
    async fn stale_limit(&self, last: &LightBlock) -> Duration {
        let blocks = u64::from(self.inner.options.stale_after_blocks.max(1));
        let interval = match self
            .inner
            .store
            .at_or_below(Height(last.height().value().saturating_sub(1)))
            .await
        {
            Ok(Some(earlier)) if earlier.height() < last.height() => {
                let span = last
                    .time()
                    .duration_since(earlier.time())
                    .unwrap_or_default();
                span / (last.height().value() - earlier.height().value()).max(1) as u32
            }
            _ => Duration::from_secs(1),
        };
        interval.max(Duration::from_millis(100)) * blocks as u32
    }

    /// Compares the new head with each witness's header at that height (hash only). A
    /// different, validly signed header is a fork; a silent or wrong witness is marked and
    /// not trusted.
    /// Asks every witness for its header at `height` (each within the witness deadline),
    /// in the background; [`LightNode::cross_check`] collects the answers.
    fn ask_witnesses(&self, height: Height) -> WitnessChecks {
        let mut asks = tokio::task::JoinSet::new();
        let deadline = self.inner.options.witness_deadline;
        for w in self.providers().into_iter().skip(1) {
            asks.spawn(async move {
                let answer = match tokio::time::timeout(deadline, w.header(height)).await {
                    Ok(answer) => answer,
                    Err(_) => Err(ProviderError::Timeout {
                        secs: deadline.as_secs().max(1),
                    }),
                };
                (w, answer)
            });
        }
        WitnessChecks { height, asks }
    }

    async fn cross_check(
        &self,
        verifier: &mut Verifier,
        trace: &[LightBlock],
        checks: WitnessChecks,
    ) -> Result<(), SyncError> {
        let last = trace.last().expect("non-empty trace");
        let height = last.height();
        let hash = last.signed_header.header.hash();
        // Asked while the trace was verified, for the trace's last height.
        let mut checks = if checks.height == height {
            checks.asks
        } else {
            self.ask_witnesses(height).asks
        };
        let mut conflicts = Vec::new();
        while let Some(joined) = checks.join_next().await {
            let Ok((witness, answer)) = joined else {
                continue;
            };
            match answer {
                Ok(header) if header.hash() == hash => {
                    self.mark(witness.url(), Health::Ok, Some(height), None);
                }
                Ok(header) => conflicts.push((witness, header)),
                Err(ProviderError::HeightUnavailable(_)) => self.mark(
                    witness.url(),
                    Health::Lagging,
                    None,
                    Some(format!("does not have height {height} yet")),
                ),
                Err(e) => {
                    let health = if e.is_silence() {
                        Health::Silent
                    } else {
                        Health::Faulty
                    };
                    tracing::warn!(node = witness.url(), error = %e, "witness dropped for this round");
                    self.mark(witness.url(), health, None, Some(e.to_string()));
                }
            }
        }
        for (witness, header) in conflicts {
            self.examine(verifier, trace, &witness, &header).await?;
        }
        Ok(())
    }

    /// CometBFT's `examineConflictingHeaderAgainstTrace` and `handleConflictingHeaders`: find
    /// where the witness's chain leaves the trace, verify the witness's chain from there; if it
    /// verifies, it is an attack: keep and send the evidence, stop.
    async fn examine(
        &self,
        verifier: &mut Verifier,
        trace: &[LightBlock],
        witness: &Arc<dyn Provider>,
        conflicting: &Header,
    ) -> Result<(), SyncError> {
        let faulty = |why: String| {
            tracing::warn!(node = witness.url(), why = %why, "witness faulty");
            self.mark(witness.url(), Health::Faulty, None, Some(why));
            Ok(())
        };
        let first = &trace[0];
        match witness.header(first.height()).await {
            Ok(h) if h.hash() == first.signed_header.header.hash() => {}
            Ok(_) => {
                return faulty(format!(
                    "disagrees with the trusted header at height {}",
                    first.height()
                ))
            }
            Err(e) => return faulty(format!("could not be examined: {e}")),
        }
        let mut common = first.clone();
        for block in &trace[1..] {
            let witness_block = match witness.light_block(Some(block.height())).await {
                Ok(b) => b,
                Err(e) => return faulty(format!("could not be examined: {e}")),
            };
            let witness_trace = match self
                .verify_trace(verifier, witness, &common, witness_block, |_| {})
                .await
            {
                Ok(t) => t,
                Err(e) => {
                    return faulty(format!(
                        "served a conflicting header at height {} that does not verify: {}",
                        conflicting.height,
                        e.describe()
                    ))
                }
            };
            let witness_block = witness_trace.last().expect("trace").clone();
            if witness_block.signed_header.header.hash() != block.signed_header.header.hash() {
                return Err(self
                    .fork_found(&common, block, &witness_block, witness, trace)
                    .await);
            }
            common = witness_block;
        }
        faulty(format!(
            "served header {} at height {} but then agreed with the trace",
            conflicting.hash(),
            conflicting.height
        ))
    }

    async fn fork_found(
        &self,
        common: &LightBlock,
        primary_block: &LightBlock,
        witness_block: &LightBlock,
        witness: &Arc<dyn Provider>,
        _trace: &[LightBlock],
    ) -> SyncError {
        let primary = self.providers()[0].clone();
        let against_primary = AttackEvidence::new(primary_block, witness_block, common);
        let against_witness = AttackEvidence::new(witness_block, primary_block, common);
        let detected_at = self.inner.clock.now();
        // Evidence against the primary goes to the witness, against the witness to the
        // primary (as CometBFT's detector sends it), and both to every other node.
        let mut sends: Vec<(&AttackEvidence, Arc<dyn Provider>)> = vec![
            (&against_primary, witness.clone()),
            (&against_witness, primary.clone()),
        ];
        for other in self.providers() {
            if other.url() != primary.url() && other.url() != witness.url() {
                sends.push((&against_primary, other.clone()));
                sends.push((&against_witness, other));
            }
        }
        let mut submitted_to = Vec::new();
        for (evidence, to) in sends {
            let json = evidence.to_json();
            match to.broadcast_evidence(&json).await {
                Ok(hash) => submitted_to.push(format!("{}: accepted {hash}", to.url())),
                Err(e) => submitted_to.push(format!("{}: {e}", to.url())),
            }
        }
        let evidence_json = serde_json::json!({
            "against_primary": against_primary.to_json(),
            "against_witness": against_witness.to_json(),
        });
        let mut report = ForkReport {
            common_height: common.height(),
            conflict_height: primary_block.height(),
            primary: primary.url().to_owned(),
            witness: witness.url().to_owned(),
            trusted_hash: primary_block.signed_header.header.hash(),
            conflicting_hash: witness_block.signed_header.header.hash(),
            attack: against_primary.kind,
            byzantine_validators: against_primary.byzantine_addresses(),
            evidence_file: None,
            submitted_to,
            detected_at,
        };
        if let Some(dir) = &self.inner.options.evidence_dir {
            let name = format!(
                "evidence-{}-{}.json",
                primary_block.height(),
                detected_at.unix_seconds()
            );
            let path = dir.join(name);
            let text = serde_json::to_string_pretty(&evidence_json).expect("evidence serialises");
            let written =
                std::fs::create_dir_all(dir).and_then(|()| write_atomically(&path, &text));
            match written {
                Ok(()) => report.evidence_file = Some(path.display().to_string()),
                Err(e) => tracing::error!(error = %e, "could not write the evidence file"),
            }
        }
        let report_json = serde_json::to_string(&report).expect("report serialises");
        let stored = async {
            self.inner
                .store
                .save_evidence(
                    &detected_at.to_rfc3339(),
                    &report_json,
                    &evidence_json.to_string(),
                )
                .await?;
            self.inner.store.set_meta(FORK_META, &report_json).await
        }
        .await;
        if let Err(e) = stored {
            tracing::error!(error = %e, "could not store the evidence");
        }
        // Both chains are validly signed: the evidence names the validators who signed both,
        // not which of the two nodes is honest. Neither is accused alone.
        let height = primary_block.height();
        self.mark(
            witness.url(),
            Health::Forked,
            None,
            Some(format!(
                "its header at height {height} conflicts with the primary's ({}): one of the two is lying",
                primary.url()
            )),
        );
        self.mark(
            primary.url(),
            Health::Forked,
            None,
            Some(format!(
                "its header at height {height} conflicts with the witness's ({}): one of the two is lying",
                witness.url()
            )),
        );
        tracing::error!(height = %primary_block.height(), witness = witness.url(), "fork detected");
        let boxed = Box::new(report);
        let fork = boxed.clone();
        self.publish(move |s| s.state = SyncState::ForkDetected { fork });
        SyncError::ForkDetected(boxed)
    }

    /// After a fork, once the user has chosen which nodes to trust: forget every header
    /// above the common height and the fork state, so the next sync starts from what both
    /// chains agreed on.
    pub async fn recover_from_fork(&self) -> Result<(), SyncError> {
        let _guard = self.inner.verifier.lock().await;
        let Some(fork) = self.fork_state() else {
            return Ok(());
        };
        self.inner.store.truncate_above(fork.common_height).await?;
        self.inner.store.delete_meta(FORK_META).await?;
        for slot in self.lock_nodes().iter_mut() {
            slot.view.health = Health::Unknown;
            slot.view.detail = None;
        }
        let head = self.inner.store.latest().await?.map(|b| head_of(&b));
        self.publish(|s| {
            s.state = SyncState::Starting;
            s.head = head;
        });
        Ok(())
    }

    /// A verified header at `height`: from the store, by syncing forward to it, or by walking
    /// back along the hash chain from the nearest stored header above it.
    pub async fn verified_header(&self, height: Height) -> Result<Header, SyncError> {
        if let Some(block) = self.inner.store.get(height).await? {
            return Ok(block.signed_header.header);
        }
        let mut verifier = self.inner.verifier.lock().await;
        let latest = match self.inner.store.latest().await? {
            Some(b) => b,
            None => {
                drop(verifier);
                self.sync().await?;
                verifier = self.inner.verifier.lock().await;
                self.inner
                    .store
                    .latest()
                    .await?
                    .ok_or_else(|| SyncError::Store("empty after sync".into()))?
            }
        };
        if height > latest.height() {
            let head = self.sync_locked(&mut verifier, Some(height)).await;
            return match head {
                Ok(_) => match self.inner.store.get(height).await? {
                    Some(b) => Ok(b.signed_header.header),
                    None => Err(SyncError::NotYetAvailable {
                        height,
                        latest: latest.height(),
                    }),
                },
                Err(e) => Err(e),
            };
        }
        if let Some(fork) = self.fork_state() {
            return Err(SyncError::ForkDetected(fork));
        }
        drop(verifier);
        self.walk_back(height).await
    }

    /// Proves the header at `height` below a stored header by the hash chain
    /// (`last_block_id`), without signatures.
    async fn walk_back(&self, height: Height) -> Result<Header, SyncError> {
        let upper = self
            .inner
            .store
            .above(height)
            .await?
            .ok_or_else(|| SyncError::Store("no stored header above".into()))?;
        if upper.height().value() - height.value() > self.inner.options.max_backward {
            return Err(SyncError::TooOld(height));
        }
        let mut expected = upper
            .signed_header
            .header
            .last_block_id
            .as_ref()
            .map(|id| id.hash)
            .ok_or(SyncError::TooOld(height))?;
        let mut h = upper.height().value() - 1;
        let mut failures = Vec::new();
        'providers: for provider in self.providers() {
            loop {
                let header = match provider.header(Height(h)).await {
                    Ok(header) => header,
                    Err(e) => {
                        failures.push(format!("{}: {e}", provider.url()));
                        continue 'providers;
                    }
                };
                if header.hash() != expected || header.height != Height(h) {
                    self.mark(
                        provider.url(),
                        Health::Faulty,
                        None,
                        Some(format!(
                            "served a header at {h} that is not on the verified chain"
                        )),
                    );
                    failures.push(format!("{}: wrong header at {h}", provider.url()));
                    continue 'providers;
                }
                if h == height.value() {
                    return Ok(header);
                }
                expected = match header.last_block_id {
                    Some(id) => id.hash,
                    None => return Err(SyncError::TooOld(height)),
                };
                h -= 1;
            }
        }
        Err(SyncError::NoUsableNode(failures.join("; ")))
    }

    /// Follows the chain until the node stops (fork or expired trust) or `stop` fires:
    /// syncs, then waits for the next block. The primary's `/websocket` subscription to new
    /// block headers wakes it (the event's header is not trusted: it only triggers the
    /// sync); a slow poll (5x the interval) stays as a safety net. Without a subscription,
    /// or while it is broken or silent, it polls every `poll_interval`.
    pub async fn follow(&self, mut stop: watch::Receiver<bool>) {
        let poll = self.inner.options.poll_interval;
        let mut blocks = NewBlocks::new(poll, self.inner.options.subscribe.clone());
        // The head kept when the primary said it has nothing newer.
        let mut unchanged: Option<Head> = None;
        loop {
            let synced = if let Some(head) = unchanged.take() {
                Ok(head)
            } else {
                // While a sync waits on a slow node, the head keeps ageing: say so.
                let sync = self.sync();
                tokio::pin!(sync);
                loop {
                    tokio::select! {
                        r = &mut sync => break r,
                        () = tokio::time::sleep(poll * 2) => self.note_if_stale().await,
                    }
                }
            };
            blocks.track(self.providers()[0].url());
            let wait = match &synced {
                Ok(head) => {
                    blocks.synced(head.height);
                    blocks.poll_wait()
                }
                Err(SyncError::ForkDetected(_)) | Err(SyncError::TrustExpired { .. }) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "sync failed; retrying");
                    // Everyone failed: give the nodes a moment, and try them all again.
                    for slot in self.lock_nodes().iter_mut() {
                        if matches!(slot.view.health, Health::Silent | Health::Faulty) {
                            slot.view.health = Health::Unknown;
                        }
                    }
                    poll * 3
                }
            };
            let woken = async {
                if synced.is_ok() {
                    blocks.wait(wait).await
                } else {
                    // After a failed round, give the nodes the whole pause.
                    tokio::time::sleep(wait).await;
                    false
                }
            };
            let announced = tokio::select! {
                a = woken => a,
                _ = stop.changed() => return,
            };
            if *stop.borrow() {
                return;
            }
            // Woken by the clock rather than by a new block: the primary's height (a small
            // answer) before a light block (a commit, larger with every validator).
            if let (false, Ok(head)) = (announced, &synced) {
                if self.nothing_new(head).await {
                    unchanged = Some(head.clone());
                }
            }
        }
    }

    /// Whether the primary says it has no block after `head`, while `head` is not stale (a
    /// stale head takes a whole sync, which asks the witnesses whether the chain went on).
    async fn nothing_new(&self, head: &Head) -> bool {
        let Ok(Some(last)) = self.inner.store.latest().await else {
            return false;
        };
        if last.height() != head.height {
            return false;
        }
        let age = self
            .inner
            .clock
            .now()
            .duration_since(last.time())
            .unwrap_or_default();
        if age > self.stale_limit(&last).await {
            return false;
        }
        let primary = self.providers()[0].clone();
        match primary.status().await {
            Ok(info) => info.latest_height <= head.height,
            Err(_) => false,
        }
    }

    /// Marks the state stale when the head is older than the stale limit (called while a
    /// sync is held up; the sync itself sets the state when it ends).
    async fn note_if_stale(&self) {
        let Ok(Some(last)) = self.inner.store.latest().await else {
            return;
        };
        let age = self
            .inner
            .clock
            .now()
            .duration_since(last.time())
            .unwrap_or_default();
        if age <= self.stale_limit(&last).await {
            return;
        }
        let primary = self.providers()[0].url().to_owned();
        self.publish(|s| {
            if matches!(s.state, SyncState::Synced | SyncState::Syncing { .. }) {
                s.state = SyncState::Stale {
                    reason: format!(
                        "no new header for {} s: waiting for {primary}",
                        age.as_secs()
                    ),
                };
            }
        });
    }

    /// Any node that answers, primary first (for queries whose answers are verified).
    pub(crate) fn query_providers(&self) -> Vec<Arc<dyn Provider>> {
        let nodes = self.lock_nodes();
        let mut slots: Vec<_> = nodes
            .iter()
            .filter(|s| s.view.health != Health::Forked)
            .collect();
        // A node found faulty is asked last, after every other that may answer.
        slots.sort_by_key(|s| s.view.health == Health::Faulty);
        let mut out: Vec<_> = slots.iter().map(|s| s.provider.clone()).collect();
        if out.is_empty() {
            out = nodes.iter().map(|s| s.provider.clone()).collect();
        }
        out
    }

    pub(crate) fn mark_faulty(&self, url: &str, why: String) {
        self.mark(url, Health::Faulty, None, Some(why));
        self.publish(|_| {});
    }

    pub(crate) fn fork(&self) -> Option<Box<ForkReport>> {
        self.fork_state()
    }
}

fn head_of(block: &LightBlock) -> Head {
    Head {
        height: block.height(),
        time: block.time(),
        hash: block.signed_header.header.hash(),
    }
}

/// Writes a file by a temporary file and a rename.
pub(crate) fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app spawns sync on a multi-threaded runtime: its future must be `Send`.
    #[test]
    fn sync_future_is_send() {
        fn is_send<T: Send>(_: &T) {}
        fn check(node: &LightNode) {
            is_send(&node.sync());
            is_send(&node.verified_header(Height(1)));
        }
        let _ = check;
    }
}
