//! The anchor: tendermint-rs's own light client (`tendermint-light-client` 0.41, its
//! production io over `tendermint-rpc`'s HTTP client, its verifier, predicates and basic
//! bisecting scheduler, an in-memory light store), driven the way its documentation shows.
//! Its calls block (its io runs every request on a fresh thread and runtime), so it runs on
//! a blocking thread of its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use tendermint_light_client::builder::LightClientBuilder;
use tendermint_light_client::components::clock::SystemClock;
use tendermint_light_client::components::io::{AtHeight, Io, IoError, ProdIo};
use tendermint_light_client::components::scheduler::basic_bisecting_schedule;
use tendermint_light_client::instance::Instance;
use tendermint_light_client::predicates::ProdPredicates;
use tendermint_light_client::store::memory::MemoryStore;
use tendermint_light_client::verifier::options::Options;
use tendermint_light_client::verifier::types::{LightBlock, PeerId, Status, TrustThreshold};
use tendermint_light_client::verifier::ProdVerifier;
use tendermint_rpc::HttpClient;

/// Counts the light blocks the io fetches.
struct CountingIo {
    inner: ProdIo,
    fetched: Arc<AtomicU64>,
}

impl Io for CountingIo {
    fn fetch_light_block(&self, height: AtHeight) -> Result<LightBlock, IoError> {
        self.fetched.fetch_add(1, Ordering::Relaxed);
        self.inner.fetch_light_block(height)
    }
}

/// Where the anchor starts from.
#[derive(Debug, Clone)]
pub enum Trust {
    /// A height and header hash (a checkpoint): the block is fetched and checked.
    Checkpoint {
        /// The height.
        height: u64,
        /// The header hash.
        hash: [u8; 32],
    },
    /// A light block kept from an earlier sync (a resumed store).
    Stored(Box<LightBlock>),
}

/// One sync by the anchor.
#[derive(Debug, Clone)]
pub struct AnchorRun {
    /// Wall time from building the client to the verified head.
    pub secs: f64,
    /// Of which building the HTTP client.
    pub open_secs: f64,
    /// The verified head.
    pub height: u64,
    /// Light blocks fetched (each `/commit` and two `/validators`).
    pub light_blocks: u64,
    /// Blocks verified (in the light store as verified).
    pub verified: u64,
}

/// The anchor's settings.
#[derive(Debug, Clone)]
pub struct AnchorConfig {
    /// The primary's URL.
    pub url: String,
    /// Trusting period.
    pub trusting_period: Duration,
    /// Clock drift allowed.
    pub clock_drift: Duration,
    /// Timeout of each light-block fetch.
    pub timeout: Duration,
}

fn options(config: &AnchorConfig) -> Options {
    Options {
        trust_threshold: TrustThreshold::ONE_THIRD,
        trusting_period: config.trusting_period,
        clock_drift: config.clock_drift,
    }
}

fn peer() -> PeerId {
    PeerId::new([0xBE; 20])
}

fn build(config: &AnchorConfig, trust: Trust, fetched: Arc<AtomicU64>) -> anyhow::Result<Instance> {
    let client = HttpClient::new(config.url.as_str()).map_err(|e| anyhow!("{e}"))?;
    build_with(config, client, trust, fetched)
}

fn build_with(
    config: &AnchorConfig,
    client: HttpClient,
    trust: Trust,
    fetched: Arc<AtomicU64>,
) -> anyhow::Result<Instance> {
    let io = CountingIo {
        inner: ProdIo::new(peer(), client, Some(config.timeout)),
        fetched,
    };
    let builder = LightClientBuilder::custom(
        peer(),
        options(config),
        Box::new(MemoryStore::new()),
        Box::new(io),
        Box::new(SystemClock),
        Box::new(ProdVerifier::default()),
        Box::new(basic_bisecting_schedule),
        Box::new(ProdPredicates),
    );
    let builder = match trust {
        Trust::Checkpoint { height, hash } => builder.trust_primary_at(
            tendermint::block::Height::try_from(height)?,
            tendermint::Hash::from_bytes(tendermint::hash::Algorithm::Sha256, &hash)?,
        ),
        Trust::Stored(block) => builder.trust_light_block(*block),
    }
    .map_err(|e| anyhow!("anchor: trusted state: {e}"))?;
    Ok(builder.build())
}

/// Builds the client from `trust` and verifies to the primary's latest block (blocking).
pub fn sync(config: &AnchorConfig, trust: Trust) -> anyhow::Result<AnchorRun> {
    let fetched = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let client = HttpClient::new(config.url.as_str()).map_err(|e| anyhow!("{e}"))?;
    let open_secs = started.elapsed().as_secs_f64();
    let mut instance = build_with(config, client, trust, fetched.clone())?;
    let head = instance
        .light_client
        .verify_to_highest(&mut instance.state)
        .map_err(|e| anyhow!("anchor: verify_to_highest: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    let verified = instance.state.light_store.all(Status::Verified).count() as u64;
    Ok(AnchorRun {
        secs,
        open_secs,
        height: head.height().value(),
        light_blocks: fetched.load(Ordering::Relaxed),
        verified,
    })
}

/// A light block as the anchor fetches it (for a resumed store), from `url` at `height`.
pub fn fetch(config: &AnchorConfig, height: u64) -> anyhow::Result<LightBlock> {
    let client = HttpClient::new(config.url.as_str()).map_err(|e| anyhow!("{e}"))?;
    ProdIo::new(peer(), client, Some(config.timeout))
        .fetch_light_block(AtHeight::At(tendermint::block::Height::try_from(height)?))
        .map_err(|e| anyhow!("anchor: fetching {height}: {e}"))
}

/// A client that keeps following: built once, then each call verifies to the latest block.
pub struct Follower {
    instance: Instance,
    fetched: Arc<AtomicU64>,
}

impl std::fmt::Debug for Follower {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Follower").finish_non_exhaustive()
    }
}

impl Follower {
    /// A follower trusting `trust`.
    pub fn new(config: &AnchorConfig, trust: Trust) -> anyhow::Result<Follower> {
        let fetched = Arc::new(AtomicU64::new(0));
        let instance = build(config, trust, fetched.clone())?;
        Ok(Follower { instance, fetched })
    }

    /// Verifies to the latest block; answers its height.
    pub fn step(&mut self) -> anyhow::Result<u64> {
        let head = self
            .instance
            .light_client
            .verify_to_highest(&mut self.instance.state)
            .map_err(|e| anyhow!("anchor: verify_to_highest: {e}"))
            .context("following")?;
        Ok(head.height().value())
    }

    /// Light blocks fetched so far.
    pub fn light_blocks(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }
}
