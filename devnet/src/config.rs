//! Configuration of a local network: sizes, timing, ports, data directory, node behaviours.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use crate::behaviour::Behaviour;

/// The seed every development key derives from unless another is given. Public: the keys it
/// gives are development keys.
pub const DEFAULT_SEED: &str = "tradeseal-devnet-insecure-dev-seed";
/// The default chain id.
pub const DEFAULT_CHAIN_ID: &str = "tradeseal-devnet-1";
/// CometBFT v0.38's default `rpc.max_request_batch_size`: the most calls a stock node takes
/// in one JSON-RPC batch.
pub const MAX_REQUEST_BATCH_SIZE: usize = 10;

/// Which application the chain runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppKind {
    /// The trade registry, seeded with governance, issuers and sample certificates when
    /// `seed_samples` is set.
    Registry {
        /// Write the sample issuers and certificates in the first blocks.
        seed_samples: bool,
    },
    /// A key-value store (`key=value` transactions) for testing the network layer.
    Kv,
}

/// Everything [`crate::Devnet::start`] needs.
#[derive(Debug, Clone)]
pub struct DevnetConfig {
    /// Chain id.
    pub chain_id: String,
    /// Seed of all development keys (validators, governance, issuers).
    pub seed: String,
    /// Number of genesis validators (1..=150).
    pub validators: usize,
    /// Voting power of each genesis validator.
    pub validator_power: i64,
    /// Number of full nodes serving RPC.
    pub nodes: usize,
    /// Time between blocks.
    pub block_interval: Duration,
    /// Address to listen on (loopback by default).
    pub host: IpAddr,
    /// RPC port of node 0; node i listens on `rpc_port + i`. 0: ephemeral ports.
    pub rpc_port: u16,
    /// Admin port. 0: ephemeral.
    pub admin_port: u16,
    /// Where the chain database and the generated files go; `None`: in memory, no files.
    pub data_dir: Option<PathBuf>,
    /// Delete the chain in `data_dir` and start a new one.
    pub fresh: bool,
    /// Initial misbehaviour per node index.
    pub behaviours: Vec<(usize, Behaviour)>,
    /// Largest RPC request body, bytes.
    pub max_body_bytes: usize,
    /// Most calls in one JSON-RPC batch (0: no limit); a larger batch is refused whole, as
    /// CometBFT's `rpc.max_request_batch_size` does (default 10 there and here).
    pub max_request_batch_size: usize,
    /// Most transactions per block.
    pub max_block_txs: usize,
    /// Most transactions waiting in the mempool.
    pub mempool_limit: usize,
    /// Largest transaction, bytes.
    pub max_tx_bytes: usize,
    /// Trusting period written in the wallet's chain config.
    pub trusting_period: Duration,
    /// The application.
    pub app: AppKind,
    /// Blocks to generate before serving, on a new chain: validly signed, with past times
    /// `block_interval` apart ending about now, stored like any block (0: none).
    pub history_blocks: u64,
    /// Every this many blocks (of the history and of live production), replace a third of
    /// the validator set with other development keys (0: never).
    pub rotate_every: u64,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self {
            chain_id: DEFAULT_CHAIN_ID.to_string(),
            seed: DEFAULT_SEED.to_string(),
            validators: 4,
            validator_power: 10,
            nodes: 3,
            block_interval: Duration::from_secs(1),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rpc_port: 26657,
            admin_port: 26650,
            data_dir: Some(PathBuf::from("target/devnet")),
            fresh: false,
            behaviours: Vec::new(),
            max_body_bytes: 1_000_000,
            max_request_batch_size: MAX_REQUEST_BATCH_SIZE,
            max_block_txs: 5_000,
            mempool_limit: 100_000,
            max_tx_bytes: 1_048_576,
            trusting_period: Duration::from_secs(14 * 24 * 3600),
            app: AppKind::Registry { seed_samples: true },
            history_blocks: 0,
            rotate_every: 0,
        }
    }
}

impl DevnetConfig {
    /// A configuration for tests: ephemeral loopback ports, no files, fast blocks.
    pub fn for_tests() -> Self {
        Self {
            rpc_port: 0,
            admin_port: 0,
            data_dir: None,
            block_interval: Duration::from_millis(100),
            ..Self::default()
        }
    }
}
