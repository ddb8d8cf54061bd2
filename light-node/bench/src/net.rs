//! The chain under test: a devnet started in-process with a generated history (validly signed
//! blocks with past times, `block_interval` apart, ending now), and chain configs whose
//! checkpoint is any height of it.

use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use devnet::{Devnet, DevnetConfig};
use light_client::{ChainConfig, ChainId, Checkpoint, Hash, Height, TrustLevel};

/// What chain to make.
#[derive(Debug, Clone, Copy)]
pub struct ChainSpec {
    /// Blocks of history.
    pub history: u64,
    /// Genesis validators.
    pub validators: usize,
    /// A third of the set replaced every this many blocks (0: never).
    pub rotate_every: u64,
    /// Block interval (history spacing and live production).
    pub block_interval: Duration,
}

/// A running devnet and how long its history took to make.
#[derive(Debug)]
pub struct Net {
    /// The network.
    pub devnet: Devnet,
    /// What it was made from.
    pub spec: ChainSpec,
    /// Seconds spent starting it (history generation included).
    pub start_secs: f64,
    /// Trusting period of its chain configs.
    pub trusting_period: Duration,
}

/// Trusting period written in every chain config (the devnet's default).
pub const TRUSTING_PERIOD: Duration = Duration::from_secs(14 * 24 * 3600);

impl Net {
    /// Starts a devnet (in memory, ephemeral loopback ports, three full nodes).
    pub async fn start(spec: ChainSpec) -> anyhow::Result<Net> {
        let started = Instant::now();
        let devnet = Devnet::start(DevnetConfig {
            validators: spec.validators,
            block_interval: spec.block_interval,
            history_blocks: spec.history,
            rotate_every: spec.rotate_every,
            trusting_period: TRUSTING_PERIOD,
            ..DevnetConfig::for_tests()
        })
        .await
        .map_err(|e| anyhow!("devnet: {e}"))?;
        Ok(Net {
            devnet,
            spec,
            start_secs: started.elapsed().as_secs_f64(),
            trusting_period: TRUSTING_PERIOD,
        })
    }

    /// The latest height.
    pub fn head(&self) -> u64 {
        self.devnet.chain().latest_height()
    }

    /// The header hash at `height`.
    pub fn hash(&self, height: u64) -> anyhow::Result<[u8; 32]> {
        let blocks = self.devnet.chain().blocks();
        let block = blocks
            .get(height)
            .with_context(|| format!("no block {height}"))?;
        Ok(*block.block_id.hash.as_bytes())
    }

    /// The time of block `height`, seconds since the epoch.
    pub fn time_secs(&self, height: u64) -> anyhow::Result<i64> {
        let blocks = self.devnet.chain().blocks();
        Ok(blocks
            .get(height)
            .with_context(|| format!("no block {height}"))?
            .header
            .time
            .unix_seconds())
    }

    /// The full nodes' URLs.
    pub fn urls(&self) -> Vec<String> {
        self.devnet.rpc_urls().to_vec()
    }

    /// A chain config trusting block `height`, primary `urls[0]`, the rest witnesses.
    pub fn chain_config(&self, height: u64, urls: &[String]) -> anyhow::Result<ChainConfig> {
        let config = ChainConfig {
            chain_id: ChainId::new(self.devnet.chain().chain_id()),
            checkpoint: Checkpoint {
                height: Height(height),
                hash: Hash::from_slice(&self.hash(height)?)
                    .map_err(|e| anyhow!("checkpoint hash: {e}"))?,
            },
            trusting_period: self.trusting_period,
            trust_level: TrustLevel::ONE_THIRD,
            max_clock_drift: light_client::config::DEFAULT_MAX_CLOCK_DRIFT,
            primary: urls[0].clone(),
            witnesses: urls[1..].to_vec(),
        };
        config
            .validate()
            .map_err(|e| anyhow!("chain config: {e}"))?;
        Ok(config)
    }

    /// Waits until the chain is past `height`.
    pub async fn wait_past(&self, height: u64) -> anyhow::Result<()> {
        let limit = self.spec.block_interval * 4 + Duration::from_secs(10);
        if self.devnet.wait_for_height(height + 1, limit).await {
            Ok(())
        } else {
            Err(anyhow!("no block above {height} within {limit:?}"))
        }
    }
}
