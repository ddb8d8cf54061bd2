//! The network drives its application as CometBFT does: the requests arrive in CometBFT's
//! order, the application's validator updates sign from two heights later, and what the
//! headers commit to (results, transactions) hashes as tendermint-rs hashes it.

use std::sync::{Arc, Mutex};

use devnet::{
    after_millis, now, request, response, AppError, AppGenesis, Application, Chain, ChainParams,
    KeyRing, KvApp, ValidatorUpdate,
};
use light_client::types::{data_hash, results_hash, LightBlock, ResultLeaf};
use light_client::verify::{verify, Options, Verdict};
use prost_014::Message as _;
use tendermint_proto::v0_38::abci::ExecTxResult as PbResult;

/// What the application saw, in order.
type Calls = Arc<Mutex<Vec<String>>>;

/// The key-value application, recording each call, and answering a transaction
/// `validator:<key index>=<power>` with that validator update.
struct Recording {
    inner: KvApp,
    calls: Calls,
    keys: KeyRing,
}

impl Recording {
    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

impl Application for Recording {
    fn genesis(&self) -> AppGenesis {
        self.inner.genesis()
    }
    fn info(&self, req: &request::Info) -> response::Info {
        self.log("Info".into());
        self.inner.info(req)
    }
    fn init_chain(&mut self, req: request::InitChain) -> Result<response::InitChain, AppError> {
        self.log(format!("InitChain validators={}", req.validators.len()));
        self.inner.init_chain(req)
    }
    fn check_tx(&mut self, req: request::CheckTx) -> response::CheckTx {
        self.log(format!("CheckTx {:?}", req.kind));
        self.inner.check_tx(req)
    }
    fn prepare_proposal(
        &mut self,
        req: request::PrepareProposal,
    ) -> Result<response::PrepareProposal, AppError> {
        self.log(format!("PrepareProposal {}", req.height));
        self.inner.prepare_proposal(req)
    }
    fn process_proposal(&mut self, req: request::ProcessProposal) -> response::ProcessProposal {
        self.log(format!("ProcessProposal {}", req.height));
        self.inner.process_proposal(req)
    }
    fn finalize_block(
        &mut self,
        req: request::FinalizeBlock,
    ) -> Result<response::FinalizeBlock, AppError> {
        self.log(format!(
            "FinalizeBlock {} votes={}",
            req.height,
            req.decided_last_commit.votes.len()
        ));
        let updates: Vec<ValidatorUpdate> = req
            .txs
            .iter()
            .filter_map(|tx| {
                let text = std::str::from_utf8(tx).ok()?;
                let (index, power) = text.strip_prefix("validator:")?.split_once('=')?;
                let key = self.keys.key(false, index.parse().ok()?);
                Some(ValidatorUpdate {
                    pub_key: tradeseal_node::tendermint::PublicKey::from_raw_ed25519(&key.pub_key)?,
                    power: power.parse::<u32>().ok()?.into(),
                })
            })
            .collect();
        let mut answer = self.inner.finalize_block(req)?;
        answer.validator_updates = updates;
        Ok(answer)
    }
    fn commit(&mut self, height: u64) -> Result<response::Commit, AppError> {
        self.log(format!("Commit {height}"));
        self.inner.commit(height)
    }
    fn query(&self, req: &request::Query) -> response::Query {
        self.inner.query(req)
    }
}

fn params() -> ChainParams {
    ChainParams {
        chain_id: "abci-chain".into(),
        seed: "abci-seed".into(),
        genesis_powers: vec![10; 4],
        max_block_txs: 10,
        mempool_limit: 10,
        max_tx_bytes: 64,
        rotate_every: 0,
    }
}

fn recording(calls: &Calls) -> Box<Recording> {
    Box::new(Recording {
        inner: KvApp::default(),
        calls: calls.clone(),
        keys: KeyRing::new(&params().seed),
    })
}

fn light(chain: &Chain, h: u64) -> LightBlock {
    chain.blocks().get(h).unwrap().light_block()
}

#[test]
fn requests_come_in_cometbft_order() {
    let calls = Calls::default();
    let chain = Chain::open(params(), recording(&calls), None).unwrap();
    chain.submit_tx(b"a=1".to_vec()).unwrap();
    chain.submit_tx(b"b=2".to_vec()).unwrap();
    let t = now();
    chain.produce_block(t).unwrap();
    chain.produce_block(after_millis(t, 1)).unwrap();
    let seen = calls.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            "Info",
            "InitChain validators=4",
            "CheckTx New",
            "CheckTx New",
            "PrepareProposal 1",
            "ProcessProposal 1",
            "FinalizeBlock 1 votes=0",
            "Commit 1",
            "PrepareProposal 2",
            "ProcessProposal 2",
            "FinalizeBlock 2 votes=4",
            "Commit 2",
        ]
    );
}

#[test]
fn queued_transactions_are_rechecked_after_a_commit() {
    let calls = Calls::default();
    let mut p = params();
    p.max_block_txs = 1;
    let chain = Chain::open(p, recording(&calls), None).unwrap();
    chain.submit_tx(b"a=1".to_vec()).unwrap();
    chain.submit_tx(b"b=2".to_vec()).unwrap();
    chain.produce_block(now()).unwrap();
    assert_eq!(chain.mempool_size(), 1, "one left for the next block");
    assert!(calls.lock().unwrap().iter().any(|c| c == "CheckTx Recheck"));
    let b2 = chain.produce_block(now()).unwrap();
    assert_eq!(b2.txs, vec![b"b=2".to_vec()]);
    assert_eq!(chain.mempool_size(), 0);
}

#[test]
fn the_applications_validator_updates_sign_from_two_heights_later() {
    let calls = Calls::default();
    let chain = Chain::open(params(), recording(&calls), None).unwrap();
    let t = now();
    chain.produce_block(t).unwrap();
    // Block 2 carries the update: key 7 joins with power 25.
    chain.submit_tx(b"validator:7=25".to_vec()).unwrap();
    for i in 1..=3 {
        chain.produce_block(after_millis(t, i)).unwrap();
    }
    let set = |h: u64| chain.blocks().get(h).unwrap().validators.clone();
    let joined = chain.keys().key(false, 7).address;
    let has = |h: u64| {
        set(h)
            .validators()
            .iter()
            .any(|v| *v.address.as_bytes() == joined)
    };
    assert!(
        !has(2) && !has(3),
        "not at the height of the update, nor the next"
    );
    assert!(has(4), "signing from height + 2, as in CometBFT");
    assert_eq!(set(4).len(), 5);
    let b2 = chain.blocks().get(2).cloned().unwrap();
    assert_eq!(b2.validator_updates.len(), 1);
    // Block 3 announces the change in its next_validators_hash; the chain verifies across it.
    let b3 = chain.blocks().get(3).cloned().unwrap();
    assert_ne!(b3.header.validators_hash, b3.header.next_validators_hash);
    let opts = Options::default();
    let at = after_millis(t, 1000);
    for h in 2..=4 {
        assert_eq!(
            verify(&light(&chain, h), &light(&chain, h - 1), &opts, at),
            Verdict::Success,
            "block {h}"
        );
    }
    // A removal the set cannot take (the last validators) is dropped, not applied.
    for i in 0..4 {
        chain
            .submit_tx(format!("validator:{i}=0").into_bytes())
            .unwrap();
    }
    chain.submit_tx(b"validator:7=0".to_vec()).unwrap();
    for i in 4..=6 {
        chain.produce_block(after_millis(t, i)).unwrap();
    }
    assert_eq!(set(7).len(), 5, "an update emptying the set is not applied");
}

#[test]
fn headers_commit_to_results_and_transactions_as_tendermint_rs_hashes_them() {
    let chain = Chain::open(params(), Box::new(KvApp::default()), None).unwrap();
    for tx in [&b"a=1"[..], b"malformed", b"b=22"] {
        chain.submit_tx(tx.to_vec()).unwrap();
    }
    let t = now();
    let b1 = chain.produce_block(t).unwrap();
    let b2 = chain.produce_block(after_millis(t, 1)).unwrap();
    assert_eq!(b1.txs.len(), 2, "the malformed one is refused by CheckTx");
    // tendermint-rs's protobuf encoding of each result and its Merkle tree.
    let leaves: Vec<Vec<u8>> = b1
        .tx_results
        .iter()
        .map(|r| {
            PbResult {
                code: r.code.value(),
                data: r.data.clone(),
                gas_wanted: r.gas_wanted,
                gas_used: r.gas_used,
                ..Default::default()
            }
            .encode_to_vec()
        })
        .collect();
    let theirs = tendermint::merkle::simple_hash_from_byte_vectors::<
        tendermint::crypto::default::Sha256,
    >(&leaves);
    let ours = b2.header.last_results_hash.unwrap();
    assert_eq!(ours.as_bytes(), &theirs);
    let leaves: Vec<ResultLeaf<'_>> = b1
        .tx_results
        .iter()
        .map(|r| ResultLeaf {
            code: r.code.value(),
            data: &r.data,
            gas_wanted: r.gas_wanted,
            gas_used: r.gas_used,
        })
        .collect();
    assert_eq!(results_hash(&leaves), ours);
    // Results with data and gas, and a failing code, hash the same both ways.
    let rich = [ResultLeaf {
        code: 7,
        data: b"payload",
        gas_wanted: 100,
        gas_used: 42,
    }];
    let theirs = tendermint::merkle::simple_hash_from_byte_vectors::<
        tendermint::crypto::default::Sha256,
    >(&[PbResult {
        code: 7,
        data: b"payload".to_vec().into(),
        gas_wanted: 100,
        gas_used: 42,
        ..Default::default()
    }
    .encode_to_vec()]);
    assert_eq!(results_hash(&rich).as_bytes(), &theirs);
    // The transactions: tendermint-rs's `data_hash` of the same bytes.
    let txs: Vec<Vec<u8>> = b1.txs.clone();
    let theirs =
        tendermint::merkle::simple_hash_from_byte_vectors::<tendermint::crypto::default::Sha256>(
            &txs.iter()
                .map(|t| {
                    tendermint::Hash::Sha256(devnet::tx_hash(t))
                        .as_bytes()
                        .to_vec()
                })
                .collect::<Vec<_>>(),
        );
    assert_eq!(b1.header.data_hash.unwrap().as_bytes(), &theirs);
    assert_eq!(data_hash(&txs), b1.header.data_hash.unwrap());
}
