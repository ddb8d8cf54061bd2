//! In-memory full nodes for tests (feature `test-utils`): a [`MemoryProvider`] serves the
//! light blocks it is given and can be told to stay silent, answer garbage, or lie.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use light_client::{Hash, Header, Height, LightBlock, SignedHeader, ValidatorSet};

use crate::provider::{
    BoxFuture, BroadcastAnswer, NodeInfo, Provider, ProviderError, QueryAnswer, TxAnswer,
};

/// How a [`MemoryProvider`] behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Serves what it holds.
    Honest,
    /// Never answers (times out).
    Silent,
    /// Answers with something that is not a CometBFT answer.
    Garbage,
    /// Accepts the request and never answers (the caller's deadline must end the wait).
    Hang,
    /// Serves its blocks honestly, but `header` answers claim that the validator set never
    /// changes (the lowest block's hashes): a primary misleading the path planner.
    MisleadingHeaders,
}

#[derive(Debug, Default)]
struct State {
    blocks: BTreeMap<u64, LightBlock>,
    queries: HashMap<(Vec<u8>, u64), QueryAnswer>,
    txs: HashMap<Hash, TxAnswer>,
    evidence: Vec<serde_json::Value>,
    requests: u64,
    light_blocks_served: u64,
    validator_sets_served: u64,
    headers_served: u64,
}

/// A full node in memory.
#[derive(Debug)]
pub struct MemoryProvider {
    url: String,
    behaviour: Mutex<Behaviour>,
    state: Mutex<State>,
}

impl MemoryProvider {
    /// An honest node at `url` holding `blocks`.
    pub fn new(url: &str, blocks: impl IntoIterator<Item = LightBlock>) -> MemoryProvider {
        let node = MemoryProvider {
            url: url.to_owned(),
            behaviour: Mutex::new(Behaviour::Honest),
            state: Mutex::default(),
        };
        for b in blocks {
            node.put(b);
        }
        node
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("state lock")
    }

    /// Adds (or replaces) a block.
    pub fn put(&self, block: LightBlock) {
        self.state().blocks.insert(block.height().value(), block);
    }

    /// Forgets every block above `height` (a node that stopped there).
    pub fn truncate(&self, height: u64) {
        self.state().blocks.retain(|h, _| *h <= height);
    }

    /// Sets the answer to `abci_query` for `key` at `height`.
    pub fn set_query(&self, key: &[u8], height: u64, answer: QueryAnswer) {
        self.state().queries.insert((key.to_vec(), height), answer);
    }

    /// Sets the answer to `tx` for `hash`.
    pub fn set_tx(&self, answer: TxAnswer) {
        self.state().txs.insert(answer.hash, answer);
    }

    /// Changes the behaviour.
    pub fn set_behaviour(&self, b: Behaviour) {
        *self.behaviour.lock().expect("behaviour lock") = b;
    }

    /// Evidence received by `broadcast_evidence`.
    pub fn evidence(&self) -> Vec<serde_json::Value> {
        self.state().evidence.clone()
    }

    /// Requests answered so far.
    pub fn requests(&self) -> u64 {
        self.state().requests
    }

    /// Signed headers served so far (each light block fetch counts once).
    pub fn light_blocks_served(&self) -> u64 {
        self.state().light_blocks_served
    }

    /// Headers served so far (`header` answers).
    pub fn headers_served(&self) -> u64 {
        self.state().headers_served
    }

    /// Validator sets served so far (`validators` answers).
    pub fn validator_sets_served(&self) -> u64 {
        self.state().validator_sets_served
    }

    fn gate(&self) -> Result<(), ProviderError> {
        self.state().requests += 1;
        match *self.behaviour.lock().expect("behaviour lock") {
            Behaviour::Honest | Behaviour::Hang | Behaviour::MisleadingHeaders => Ok(()),
            Behaviour::Silent => Err(ProviderError::Timeout { secs: 1 }),
            Behaviour::Garbage => Err(ProviderError::Malformed("not JSON".into())),
        }
    }

    fn block(&self, height: Option<Height>) -> Result<LightBlock, ProviderError> {
        self.gate()?;
        let state = self.state();
        let found = match height {
            Some(h) => state.blocks.get(&h.value()),
            None => state.blocks.values().next_back(),
        };
        found.cloned().ok_or(ProviderError::HeightUnavailable(
            height.unwrap_or(Height(0)),
        ))
    }
}

impl Provider for MemoryProvider {
    fn url(&self) -> &str {
        &self.url
    }

    fn status(&self) -> BoxFuture<'_, Result<NodeInfo, ProviderError>> {
        Box::pin(async move {
            let b = self.block(None)?;
            Ok(NodeInfo {
                network: b.signed_header.header.chain_id.as_str().to_owned(),
                latest_height: b.height(),
            })
        })
    }

    fn signed_header(
        &self,
        height: Option<Height>,
    ) -> BoxFuture<'_, Result<SignedHeader, ProviderError>> {
        Box::pin(async move {
            let b = self.block(height)?;
            self.state().light_blocks_served += 1;
            Ok(b.signed_header)
        })
    }

    fn header(&self, height: Height) -> BoxFuture<'_, Result<Header, ProviderError>> {
        Box::pin(async move {
            let behaviour = *self.behaviour.lock().expect("behaviour lock");
            if behaviour == Behaviour::Hang {
                std::future::pending::<()>().await;
            }
            let mut header = self.block(Some(height))?.signed_header.header;
            if behaviour == Behaviour::MisleadingHeaders {
                if let Some(first) = self.state().blocks.values().next() {
                    header.validators_hash = first.signed_header.header.validators_hash;
                    header.next_validators_hash = first.signed_header.header.validators_hash;
                }
            }
            self.state().headers_served += 1;
            Ok(header)
        })
    }

    fn validators(&self, height: Height) -> BoxFuture<'_, Result<ValidatorSet, ProviderError>> {
        Box::pin(async move {
            self.gate()?;
            let mut state = self.state();
            state.validator_sets_served += 1;
            if let Some(b) = state.blocks.get(&height.value()) {
                return Ok(b.validators.clone());
            }
            // The next set of the block below (the set of a height not produced yet).
            let below = height
                .value()
                .checked_sub(1)
                .and_then(|h| state.blocks.get(&h));
            below
                .and_then(|b| b.trusted_next_validators().cloned())
                .ok_or(ProviderError::HeightUnavailable(height))
        })
    }

    fn abci_query<'a>(
        &'a self,
        _path: &'a str,
        data: &'a [u8],
        height: Height,
    ) -> BoxFuture<'a, Result<QueryAnswer, ProviderError>> {
        Box::pin(async move {
            self.gate()?;
            self.state()
                .queries
                .get(&(data.to_vec(), height.value()))
                .cloned()
                .ok_or(ProviderError::HeightUnavailable(height))
        })
    }

    fn tx(&self, hash: Hash) -> BoxFuture<'_, Result<TxAnswer, ProviderError>> {
        Box::pin(async move {
            self.gate()?;
            self.state()
                .txs
                .get(&hash)
                .cloned()
                .ok_or_else(|| ProviderError::Rpc {
                    code: -32603,
                    message: format!("tx ({hash}) not found"),
                })
        })
    }

    fn broadcast_tx_sync<'a>(
        &'a self,
        tx: &'a [u8],
    ) -> BoxFuture<'a, Result<BroadcastAnswer, ProviderError>> {
        Box::pin(async move {
            self.gate()?;
            Ok(BroadcastAnswer {
                code: 0,
                log: String::new(),
                hash: Hash::sha256(tx),
            })
        })
    }

    fn broadcast_evidence<'a>(
        &'a self,
        evidence: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            self.gate()?;
            self.state().evidence.push(evidence.clone());
            Ok(Hash::sha256(evidence.to_string().as_bytes()).to_hex())
        })
    }
}
