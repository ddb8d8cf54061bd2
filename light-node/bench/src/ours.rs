//! Our light node as the wallet runs it (`LightNode` over `RpcProvider`s: a primary and
//! witnesses, SQLite store, system clock), with a counting wrapper around each provider so
//! the light blocks and calls it makes are known.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::anyhow;
use light_client::{ChainConfig, Hash, Header, Height, SignedHeader, ValidatorSet};
use light_node::{
    BoxFuture, BroadcastAnswer, LightNode, NodeInfo, NodeOptions, Provider, ProviderError,
    PruneWindow, QueryAnswer, RpcConfig, RpcProvider, SqliteStore, StoreIdentity, SystemClock,
    TxAnswer,
};

/// Calls made through one provider.
#[derive(Debug, Default)]
pub struct Calls {
    commits: AtomicU64,
    headers: AtomicU64,
    validators: AtomicU64,
    statuses: AtomicU64,
    queries: AtomicU64,
}

/// A copy of [`Calls`], summed over providers when asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// Light blocks fetched: every light block starts with its signed header (`/commit`);
    /// its validator sets are fetched only when the node does not hold them already.
    pub light_blocks: u64,
    /// `/commit` (the same count: the light node asks for commits only as light blocks).
    pub commits: u64,
    /// `/header`.
    pub headers: u64,
    /// `/validators` sets fetched (inside light blocks, or asked directly).
    pub validators: u64,
    /// `/status`.
    pub statuses: u64,
    /// `abci_query`.
    pub queries: u64,
}

impl Calls {
    fn counts(&self) -> CallCounts {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        CallCounts {
            light_blocks: l(&self.commits),
            commits: l(&self.commits),
            headers: l(&self.headers),
            validators: l(&self.validators),
            statuses: l(&self.statuses),
            queries: l(&self.queries),
        }
    }
}

fn bump(a: &AtomicU64) {
    a.fetch_add(1, Ordering::Relaxed);
}

fn add(a: &AtomicU64, n: usize) {
    a.fetch_add(n as u64, Ordering::Relaxed);
}

/// An [`RpcProvider`] whose calls are counted.
#[derive(Debug)]
pub struct Counted {
    inner: RpcProvider,
    calls: Calls,
}

impl Counted {
    /// A counted provider for `url`.
    pub fn new(url: &str, config: RpcConfig) -> anyhow::Result<Counted> {
        Ok(Counted {
            inner: RpcProvider::new(url, config).map_err(|e| anyhow!("{url}: {e}"))?,
            calls: Calls::default(),
        })
    }

    /// Calls made through this provider so far.
    pub fn counts(&self) -> CallCounts {
        self.calls.counts()
    }

    /// Light blocks asked of this provider so far.
    pub fn light_blocks(&self) -> u64 {
        self.calls.commits.load(Ordering::Relaxed)
    }
}

impl Provider for Counted {
    fn url(&self) -> &str {
        self.inner.url()
    }

    fn status(&self) -> BoxFuture<'_, Result<NodeInfo, ProviderError>> {
        bump(&self.calls.statuses);
        self.inner.status()
    }

    fn signed_header(
        &self,
        height: Option<Height>,
    ) -> BoxFuture<'_, Result<SignedHeader, ProviderError>> {
        bump(&self.calls.commits);
        self.inner.signed_header(height)
    }

    fn header(&self, height: Height) -> BoxFuture<'_, Result<Header, ProviderError>> {
        bump(&self.calls.headers);
        self.inner.header(height)
    }

    fn validators(&self, height: Height) -> BoxFuture<'_, Result<ValidatorSet, ProviderError>> {
        bump(&self.calls.validators);
        self.inner.validators(height)
    }

    fn headers<'a>(
        &'a self,
        heights: &'a [Height],
    ) -> BoxFuture<'a, Vec<Result<Header, ProviderError>>> {
        add(&self.calls.headers, heights.len());
        self.inner.headers(heights)
    }

    fn validator_sets<'a>(
        &'a self,
        heights: &'a [Height],
    ) -> BoxFuture<'a, Vec<Result<ValidatorSet, ProviderError>>> {
        add(&self.calls.validators, heights.len());
        self.inner.validator_sets(heights)
    }

    fn signed_headers<'a>(
        &'a self,
        heights: &'a [Height],
    ) -> BoxFuture<'a, Vec<Result<SignedHeader, ProviderError>>> {
        add(&self.calls.commits, heights.len());
        self.inner.signed_headers(heights)
    }

    fn abci_query<'a>(
        &'a self,
        path: &'a str,
        data: &'a [u8],
        height: Height,
    ) -> BoxFuture<'a, Result<QueryAnswer, ProviderError>> {
        bump(&self.calls.queries);
        self.inner.abci_query(path, data, height)
    }

    fn tx(&self, hash: Hash) -> BoxFuture<'_, Result<TxAnswer, ProviderError>> {
        self.inner.tx(hash)
    }

    fn broadcast_tx_sync<'a>(
        &'a self,
        tx: &'a [u8],
    ) -> BoxFuture<'a, Result<BroadcastAnswer, ProviderError>> {
        self.inner.broadcast_tx_sync(tx)
    }

    fn broadcast_evidence<'a>(
        &'a self,
        evidence: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        self.inner.broadcast_evidence(evidence)
    }
}

/// A light node over counted providers (primary first), with its store in memory.
#[derive(Debug)]
pub struct Ours {
    /// The node.
    pub node: LightNode,
    /// Primary, then witnesses.
    pub providers: Vec<Arc<Counted>>,
}

/// What one of our syncs cost.
#[derive(Debug, Clone)]
pub struct OursRun {
    /// Wall time from opening the store to the verified head.
    pub secs: f64,
    /// Of which opening the store, the providers (HTTP clients) and the node.
    pub open_secs: f64,
    /// The verified head.
    pub height: u64,
    /// Light blocks fetched from the primary (checkpoint and target included).
    pub light_blocks: u64,
    /// Blocks verified and stored beyond the trusted one.
    pub verified: u64,
    /// Calls, primary only.
    pub primary: CallCounts,
    /// Calls, witnesses together.
    pub witnesses: CallCounts,
    /// HTTP requests sent (`RpcProvider::traffic`, all nodes).
    pub requests: u64,
    /// Of those, to the witnesses.
    pub witness_requests: u64,
    /// Answer bodies received (`RpcProvider::traffic`, all nodes).
    pub body_bytes: u64,
}

impl Ours {
    /// Opens a node for `chain` (its URLs are used as given) with a fresh in-memory store.
    pub async fn open(chain: &ChainConfig) -> anyhow::Result<Ours> {
        let identity = StoreIdentity {
            chain_id: chain.chain_id.as_str().to_owned(),
            checkpoint_height: chain.checkpoint.height,
            checkpoint_hash: chain.checkpoint.hash,
        };
        // A window larger than any trace, so the stored blocks count the verified ones.
        let store = SqliteStore::in_memory(identity, PruneWindow(1_000_000)).await?;
        let mut providers = vec![Arc::new(Counted::new(
            &chain.primary,
            RpcConfig::default(),
        )?)];
        for w in &chain.witnesses {
            providers.push(Arc::new(Counted::new(w, RpcConfig::default())?));
        }
        let as_dyn = |p: &Arc<Counted>| p.clone() as Arc<dyn Provider>;
        let node = LightNode::new(
            chain.clone(),
            store,
            as_dyn(&providers[0]),
            providers[1..].iter().map(as_dyn).collect(),
            Arc::new(SystemClock),
            NodeOptions::default(),
            Vec::new(),
        )
        .await?;
        Ok(Ours { node, providers })
    }

    /// Requests and body bytes so far, all providers.
    pub fn traffic(&self) -> (u64, u64) {
        self.providers.iter().fold((0, 0), |(r, b), p| {
            (
                r + p.inner.traffic().requests(),
                b + p.inner.traffic().bytes_received(),
            )
        })
    }

    fn calls(&self) -> (CallCounts, CallCounts) {
        let primary = self.providers[0].calls.counts();
        let mut w = CallCounts::default();
        for p in &self.providers[1..] {
            let c = p.calls.counts();
            w.light_blocks += c.light_blocks;
            w.commits += c.commits;
            w.headers += c.headers;
            w.validators += c.validators;
            w.statuses += c.statuses;
            w.queries += c.queries;
        }
        (primary, w)
    }

    /// One sync (to the primary's latest block); answers its height.
    pub async fn sync(&self) -> anyhow::Result<u64> {
        let head = self
            .node
            .sync()
            .await
            .map_err(|e| anyhow!("our sync: {e}"))?;
        Ok(head.height.value())
    }
}

/// Opens a fresh node for `chain` and syncs once, timed from the store's creation.
pub async fn sync_once(chain: &ChainConfig) -> anyhow::Result<OursRun> {
    let started = Instant::now();
    let ours = Ours::open(chain).await?;
    let open_secs = started.elapsed().as_secs_f64();
    let height = ours.sync().await?;
    let secs = started.elapsed().as_secs_f64();
    let verified = ours.node.store().len().await?.saturating_sub(1);
    let (primary, witnesses) = ours.calls();
    let (requests, body_bytes) = ours.traffic();
    let witness_requests = ours.providers[1..]
        .iter()
        .map(|p| p.inner.traffic().requests())
        .sum();
    ours.node.store().close().await;
    Ok(OursRun {
        secs,
        open_secs,
        height,
        light_blocks: primary.light_blocks,
        verified,
        primary,
        witnesses,
        requests,
        witness_requests,
        body_bytes,
    })
}
