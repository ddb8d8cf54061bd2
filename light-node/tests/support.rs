//! Chains of signed light blocks and a light node over in-memory providers.

use std::sync::Arc;
use std::time::Duration;

use light_client::test_utils::{light_block, validators, BlockSpec, TestValidator};
use light_client::{ChainConfig, ChainId, Checkpoint, LightBlock, Time, TrustLevel};
use light_node::testing::MemoryProvider;
use light_node::{
    LightNode, ManualClock, NodeOptions, Provider, PruneWindow, SqliteStore, StoreIdentity,
};

pub const CHAIN: &str = "test-chain";

pub fn t(secs: u64) -> Time {
    Time::from_unix(1_700_000_000 + secs as i64, 0).unwrap()
}

/// `n` linked blocks, one every 5 s from t(5); `set(h)` signs height h.
pub fn chain_with(
    n: u64,
    set: impl Fn(u64) -> Vec<TestValidator>,
    time: impl Fn(u64) -> Time,
) -> Vec<LightBlock> {
    let mut blocks: Vec<LightBlock> = Vec::new();
    for h in 1..=n {
        let vals = set(h);
        let next = set(h + 1);
        let mut spec = BlockSpec::new(CHAIN, h, time(h), &vals);
        spec.next_validators = &next;
        spec.last_block_id = blocks.last().map(|b| b.signed_header.commit.block_id);
        blocks.push(light_block(&spec));
    }
    blocks
}

/// A chain with one stable set of 4 validators.
pub fn stable_chain(n: u64) -> Vec<LightBlock> {
    let vals = validators("v", 4, 10);
    chain_with(n, |_| vals.clone(), |h| t(h * 5))
}

/// A chain whose set of 4 is replaced one validator per height (skips need bisection).
pub fn rotating_chain(n: u64) -> Vec<LightBlock> {
    let pool = validators("r", n as usize + 8, 10);
    chain_with(
        n,
        |h| pool[(h as usize - 1)..(h as usize + 3)].to_vec(),
        |h| t(h * 5),
    )
}

pub fn config(checkpoint: &LightBlock) -> ChainConfig {
    ChainConfig {
        chain_id: ChainId::new(CHAIN),
        checkpoint: Checkpoint {
            height: checkpoint.height(),
            hash: checkpoint.signed_header.header.hash(),
        },
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        trust_level: TrustLevel::ONE_THIRD,
        max_clock_drift: Duration::from_secs(10),
        primary: "mem://primary".into(),
        witnesses: vec![],
    }
}

pub fn identity(config: &ChainConfig) -> StoreIdentity {
    StoreIdentity {
        chain_id: config.chain_id.as_str().to_owned(),
        checkpoint_height: config.checkpoint.height,
        checkpoint_hash: config.checkpoint.hash,
    }
}

pub struct Setup {
    pub node: LightNode,
    pub primary: Arc<MemoryProvider>,
    pub witnesses: Vec<Arc<MemoryProvider>>,
    pub clock: Arc<ManualClock>,
}

/// A node trusting `blocks[0]`, the primary serving `primary`, one witness per `witnesses`
/// entry; the clock just after the last primary block.
pub async fn setup(primary: Vec<LightBlock>, witnesses: Vec<Vec<LightBlock>>) -> Setup {
    let config = config(&primary[0]);
    let store = SqliteStore::in_memory(identity(&config), PruneWindow::default())
        .await
        .unwrap();
    setup_with_store(primary, witnesses, store).await
}

pub async fn setup_with_store(
    primary: Vec<LightBlock>,
    witnesses: Vec<Vec<LightBlock>>,
    store: SqliteStore,
) -> Setup {
    let config = config(&primary[0]);
    let last = primary.last().unwrap().time();
    let clock = Arc::new(ManualClock::new(
        last.checked_add(Duration::from_secs(1)).unwrap(),
    ));
    let p = Arc::new(MemoryProvider::new("mem://primary", primary));
    let ws: Vec<Arc<MemoryProvider>> = witnesses
        .into_iter()
        .enumerate()
        .map(|(i, blocks)| Arc::new(MemoryProvider::new(&format!("mem://witness-{i}"), blocks)))
        .collect();
    let node = LightNode::new(
        config,
        store,
        p.clone() as Arc<dyn Provider>,
        ws.iter().map(|w| w.clone() as Arc<dyn Provider>).collect(),
        clock.clone(),
        NodeOptions::default(),
        Vec::new(),
    )
    .await
    .unwrap();
    Setup {
        node,
        primary: p,
        witnesses: ws,
        clock,
    }
}
