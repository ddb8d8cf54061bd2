//! Conformance: a CometBFT v0.38 session replayed over the ABCI socket, request by request in
//! the order CometBFT sends them (handshake, InitChain, heights of PrepareProposal /
//! ProcessProposal / FinalizeBlock / Commit with CheckTx between, queries), the answers
//! checked with the wallet's proof checker, then restarts: clean, and with the block log cut
//! in its last record as a crash leaves it.

mod abci;

use std::path::{Path, PathBuf};
use std::time::Duration;

use abci::Conn;
use ed25519_dalek::SigningKey;
use prost::bytes::Bytes;
use registry::devkit::{demo_genesis, dev_key};
use registry::online::{judge_record, OnlineVerdict};
use registry::state::{CertRecord, IssuerRecord};
use registry::{sample_certificate, Canonical, QueryResult, Serial, TxBuilder};
use sha2::{Digest, Sha256};
use tendermint_proto::google::protobuf::{Duration as PbDuration, Timestamp};
use tendermint_proto::v0_38::abci::{
    request::Value as Req, response::Value as Resp, response_process_proposal::ProposalStatus,
    CheckTxType, CommitInfo, ExecTxResult, RequestCheckTx, RequestEcho, RequestFinalizeBlock,
    RequestInfo, RequestInitChain, RequestPrepareProposal, RequestProcessProposal, RequestQuery,
    ResponseQuery, ValidatorUpdate,
};
use tendermint_proto::v0_38::crypto::{public_key::Sum, PublicKey};
use tendermint_proto::v0_38::types::{
    AbciParams, BlockParams, ConsensusParams, EvidenceParams, ValidatorParams, VersionParams,
};
use tokio::net::{TcpStream, UnixStream};
use tokio::task::JoinHandle;
use tradeseal_node::app::codes;
use tradeseal_node::{AppState, ChainLimits, Listen, NodeApp, NodeConfig};

const CHAIN_ID: &str = "tradeseal-conformance";
const GENESIS_TIME: u64 = 1_767_225_600;
const ISSUER_KEY: &str = "issuer-ke-kephis";

fn config() -> NodeConfig {
    NodeConfig {
        retain_blocks: 2,
        ..NodeConfig::default()
    }
}

/// Opens the data directory, waiting (boundedly) for a stopped server to let go of it.
async fn open(data: &Path) -> NodeApp {
    for _ in 0..200 {
        match NodeApp::open(data, config()) {
            Ok(app) => return app,
            Err(tradeseal_node::NodeError::Store(tradeseal_node::blocklog::StoreError::InUse(
                _,
            ))) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => panic!("open: {e}"),
        }
    }
    panic!("the data directory stayed in use");
}

/// Where the application runs: a task of this test, or the `tradeseal-node` binary.
enum Server {
    Task(JoinHandle<()>),
    Process(std::process::Child),
}

/// A server on a Unix socket and CometBFT's connections to it.
struct Node {
    server: Server,
    consensus: Conn<UnixStream>,
    mempool: Conn<UnixStream>,
    query: Conn<UnixStream>,
}

impl Node {
    async fn start(data: &Path, socket: &Path) -> Self {
        let app = open(data).await;
        let listen = Listen::Unix(socket.to_path_buf());
        let server = tokio::spawn(async move {
            tradeseal_node::serve(app, &listen).await.unwrap();
        });
        Self::connect(Server::Task(server), socket).await
    }

    /// The binary, as an operator starts it.
    async fn spawn(data: &Path, socket: &Path) -> Self {
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tradeseal-node"))
            .arg("start")
            .arg("--home")
            .arg(data)
            .arg("--addr")
            .arg(format!("unix://{}", socket.display()))
            .arg("--retain-blocks=2")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Self::connect(Server::Process(child), socket).await
    }

    async fn connect(server: Server, socket: &Path) -> Self {
        let connect = || async {
            for _ in 0..500 {
                if let Ok(s) = UnixStream::connect(socket).await {
                    return Conn::new(s);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("the server did not listen");
        };
        // CometBFT's order: query, mempool, consensus (and snapshot, unused here).
        let query = connect().await;
        let mempool = connect().await;
        let consensus = connect().await;
        Self {
            server,
            consensus,
            mempool,
            query,
        }
    }

    /// CometBFT restarted while the node runs: new connections to the same server.
    async fn reconnect(self, socket: &Path) -> Self {
        let Self { server, .. } = self;
        Self::connect(server, socket).await
    }

    /// Stops as a killed CometBFT and node would: connections dropped, the server task gone
    /// or the process killed with SIGKILL.
    async fn stop(self) {
        let Self {
            server,
            consensus,
            mempool,
            query,
        } = self;
        drop((consensus, mempool, query));
        match server {
            Server::Task(task) => {
                task.abort();
                let _ = task.await;
            }
            Server::Process(mut child) => {
                child.kill().unwrap();
                child.wait().unwrap();
            }
        }
    }

    async fn info(&mut self) -> (i64, Vec<u8>) {
        let Resp::Info(i) = self
            .query
            .call(Req::Info(RequestInfo {
                version: "0.38.17".into(),
                block_version: 11,
                p2p_version: 8,
                abci_version: "2.0.0".into(),
            }))
            .await
        else {
            panic!("not an Info answer")
        };
        assert_eq!(i.app_version, 1);
        (i.last_block_height, i.last_block_app_hash.to_vec())
    }

    async fn check_tx(&mut self, tx: &[u8], kind: CheckTxType) -> (u32, String) {
        let Resp::CheckTx(r) = self
            .mempool
            .call(Req::CheckTx(RequestCheckTx {
                tx: Bytes::copy_from_slice(tx),
                r#type: kind as i32,
            }))
            .await
        else {
            panic!("not a CheckTx answer")
        };
        (r.code, r.codespace)
    }

    async fn prepare(&mut self, height: i64, txs: &[Vec<u8>], max_tx_bytes: i64) -> Vec<Vec<u8>> {
        let Resp::PrepareProposal(r) = self
            .consensus
            .call(Req::PrepareProposal(RequestPrepareProposal {
                max_tx_bytes,
                txs: txs.iter().map(|t| Bytes::copy_from_slice(t)).collect(),
                local_last_commit: Some(Default::default()),
                misbehavior: Vec::new(),
                height,
                time: Some(block_time(height)),
                next_validators_hash: Bytes::from(vec![7u8; 32]),
                proposer_address: Bytes::from(vec![9u8; 20]),
            }))
            .await
        else {
            panic!("not a PrepareProposal answer")
        };
        r.txs.iter().map(|t| t.to_vec()).collect()
    }

    async fn process(&mut self, height: i64, txs: &[Vec<u8>]) -> ProposalStatus {
        let Resp::ProcessProposal(r) = self
            .consensus
            .call(Req::ProcessProposal(RequestProcessProposal {
                txs: txs.iter().map(|t| Bytes::copy_from_slice(t)).collect(),
                proposed_last_commit: Some(Default::default()),
                misbehavior: Vec::new(),
                hash: block_hash(height, txs),
                height,
                time: Some(block_time(height)),
                next_validators_hash: Bytes::from(vec![7u8; 32]),
                proposer_address: Bytes::from(vec![9u8; 20]),
            }))
            .await
        else {
            panic!("not a ProcessProposal answer")
        };
        ProposalStatus::try_from(r.status).unwrap()
    }

    /// FinalizeBlock then Commit; returns the results, the app hash and the retain height.
    async fn finalize_and_commit(
        &mut self,
        height: i64,
        txs: &[Vec<u8>],
    ) -> (Vec<ExecTxResult>, [u8; 32], i64) {
        let (results, hash) = self.finalize(height, txs).await;
        let Resp::Commit(c) = self.consensus.call(Req::Commit(Default::default())).await else {
            panic!("not a Commit answer")
        };
        (results, hash, c.retain_height)
    }

    async fn finalize(&mut self, height: i64, txs: &[Vec<u8>]) -> (Vec<ExecTxResult>, [u8; 32]) {
        let (results, hash, updates) = self.finalize_with_updates(height, txs).await;
        assert!(updates.is_empty(), "these blocks change no validator");
        (results, hash)
    }

    /// FinalizeBlock; returns the results, the app hash and the validator updates.
    async fn finalize_with_updates(
        &mut self,
        height: i64,
        txs: &[Vec<u8>],
    ) -> (Vec<ExecTxResult>, [u8; 32], Vec<ValidatorUpdate>) {
        let Resp::FinalizeBlock(f) = self
            .consensus
            .call(Req::FinalizeBlock(RequestFinalizeBlock {
                txs: txs.iter().map(|t| Bytes::copy_from_slice(t)).collect(),
                decided_last_commit: Some(CommitInfo {
                    round: 0,
                    votes: Vec::new(),
                }),
                misbehavior: Vec::new(),
                hash: block_hash(height, txs),
                height,
                time: Some(block_time(height)),
                next_validators_hash: Bytes::from(vec![7u8; 32]),
                proposer_address: Bytes::from(vec![9u8; 20]),
            }))
            .await
        else {
            panic!("not a FinalizeBlock answer")
        };
        assert_eq!(f.tx_results.len(), txs.len());
        let hash: [u8; 32] = f.app_hash.to_vec().try_into().expect("32-byte app hash");
        (f.tx_results, hash, f.validator_updates)
    }

    async fn commit(&mut self) {
        let Resp::Commit(_) = self.consensus.call(Req::Commit(Default::default())).await else {
            panic!("not a Commit answer")
        };
    }

    async fn query(&mut self, path: &str, height: i64) -> ResponseQuery {
        let Resp::Query(q) = self
            .query
            .call(Req::Query(RequestQuery {
                data: Bytes::new(),
                path: path.into(),
                height,
                prove: true,
            }))
            .await
        else {
            panic!("not a Query answer")
        };
        q
    }
}

fn block_time(height: i64) -> Timestamp {
    Timestamp {
        seconds: i64::try_from(GENESIS_TIME).unwrap() + 5 * height,
        nanos: 123_456_789,
    }
}

fn block_hash(height: i64, txs: &[Vec<u8>]) -> Bytes {
    let mut h = Sha256::new();
    h.update(height.to_be_bytes());
    for tx in txs {
        h.update(Sha256::digest(tx));
    }
    Bytes::from(h.finalize().to_vec())
}

/// The development genesis with the default limits, as the `app_state` of CometBFT's genesis.
fn demo_app_state() -> Vec<u8> {
    serde_json::to_vec(&AppState::from_genesis(
        &demo_genesis(CHAIN_ID, GENESIS_TIME),
        ChainLimits::default(),
    ))
    .unwrap()
}

/// The ed25519 key of CometBFT validator `n` (the genesis has validator 0 only).
fn validator_key(n: u8) -> [u8; 32] {
    SigningKey::from_bytes(&[42 + n; 32])
        .verifying_key()
        .to_bytes()
}

/// A CometBFT validator update.
fn validator_update(key: [u8; 32], power: i64) -> ValidatorUpdate {
    ValidatorUpdate {
        pub_key: Some(PublicKey {
            sum: Some(Sum::Ed25519(key.to_vec())),
        }),
        power,
    }
}

/// The genesis validator as the registry records it.
fn genesis_validator() -> registry::state::Validator {
    registry::state::Validator {
        pub_key: registry::PublicKey(validator_key(0)),
        power: 10,
    }
}

fn init_chain(app_state: Vec<u8>) -> Req {
    init_chain_with(app_state, vec![validator_update(validator_key(0), 10)])
}

fn init_chain_with(app_state: Vec<u8>, validators: Vec<ValidatorUpdate>) -> Req {
    Req::InitChain(RequestInitChain {
        time: Some(Timestamp {
            seconds: i64::try_from(GENESIS_TIME).unwrap(),
            nanos: 0,
        }),
        chain_id: CHAIN_ID.into(),
        consensus_params: Some(ConsensusParams {
            block: Some(BlockParams {
                max_bytes: 22_020_096,
                max_gas: -1,
            }),
            evidence: Some(EvidenceParams {
                max_age_num_blocks: 100_000,
                max_age_duration: Some(PbDuration {
                    seconds: 172_800,
                    nanos: 0,
                }),
                max_bytes: 1_048_576,
            }),
            validator: Some(ValidatorParams {
                pub_key_types: vec!["ed25519".into()],
            }),
            version: Some(VersionParams { app: 0 }),
            abci: Some(AbciParams {
                vote_extensions_enable_height: 0,
            }),
        }),
        validators,
        app_state_bytes: app_state.into(),
        initial_height: 1,
    })
}

/// The issuer's transactions: one certificate each, sequences from `first`.
fn issue(first_seq: u64, serials: &[&str], height: i64) -> Vec<Vec<u8>> {
    let key = dev_key(ISSUER_KEY);
    let b = TxBuilder::new(CHAIN_ID, &key);
    let issued_at = u64::try_from(block_time(height).seconds).unwrap();
    serials
        .iter()
        .zip(first_seq..)
        .map(|(s, seq)| {
            let cert = sample_certificate(Serial::new(*s).unwrap(), issued_at);
            b.issue(seq, &cert).unwrap()
        })
        .collect()
}

/// Checks an answer as the wallet does: a proof for the key asked, against `app_hash` (that
/// of header `height + 1`, which FinalizeBlock of `height` returned).
fn proven(q: &ResponseQuery, key: &str, app_hash: &[u8; 32]) -> Option<Vec<u8>> {
    assert_eq!(q.code, 0, "{}", q.log);
    let ops = &q.proof_ops.as_ref().expect("proof ops").ops;
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].r#type, registry::PROOF_OP_TYPE);
    let answer = QueryResult {
        code: q.code,
        log: q.log.clone(),
        key: q.key.to_vec(),
        value: (!q.value.is_empty()).then(|| q.value.to_vec()),
        proof: Some(registry::ProofOp {
            kind: ops[0].r#type.clone(),
            key: ops[0].key.clone(),
            data: ops[0].data.clone(),
        }),
        height: u64::try_from(q.height).unwrap(),
    };
    assert_eq!(answer.key, key.as_bytes());
    registry::proof::verify_query(app_hash, &answer).expect("the proof verifies");
    answer.value
}

fn attribute<'a>(r: &'a ExecTxResult, kind: &str, key: &str) -> (&'a str, bool) {
    let e = r
        .events
        .iter()
        .find(|e| e.r#type == kind)
        .unwrap_or_else(|| panic!("no {kind} event"));
    let a = e
        .attributes
        .iter()
        .find(|a| a.key == key)
        .unwrap_or_else(|| panic!("no {key} attribute"));
    (a.value.as_str(), a.index)
}

fn paths(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("data"), dir.join("abci.sock"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cometbft_session_with_restarts_replays_to_the_same_app_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (data, socket) = paths(dir.path());
    let mut node = Node::start(&data, &socket).await;

    // Handshake: Echo and Info on the query connection; a new application is at height 0.
    let Resp::Echo(e) = node
        .query
        .call(Req::Echo(RequestEcho {
            message: "hello".into(),
        }))
        .await
    else {
        panic!("not an Echo answer")
    };
    assert_eq!(e.message, "hello");
    assert_eq!(node.info().await, (0, Vec::new()));

    // InitChain with the registry genesis as app_state (chain id and time from CometBFT).
    let genesis = demo_genesis(CHAIN_ID, GENESIS_TIME);
    let mut app_state = AppState::from_genesis(&genesis, ChainLimits::default());
    app_state.chain_id = None;
    app_state.genesis_time = None;
    // The chain's limits come with its genesis.
    app_state.limits = Some(ChainLimits {
        max_block_txs: 8,
        ..ChainLimits::default()
    });
    let Resp::InitChain(init) = node
        .consensus
        .call(init_chain(serde_json::to_vec(&app_state).unwrap()))
        .await
    else {
        panic!("not an InitChain answer")
    };
    // The registry's genesis holds CometBFT's validator.
    let mut with_validators = genesis.clone();
    with_validators.validators = vec![genesis_validator()];
    let genesis_hash = registry::Registry::new(&with_validators)
        .unwrap()
        .app_hash();
    assert_eq!(init.app_hash.to_vec(), genesis_hash.to_vec());
    assert!(init.validators.is_empty(), "CometBFT's validators are kept");

    // Height 1: two certificates; spam around them never reaches the block.
    let good = issue(1, &["PH-0001", "PH-0002"], 1);
    let stranger = dev_key("stranger");
    let unknown_signer = TxBuilder::new(CHAIN_ID, &stranger)
        .issue(
            1,
            &sample_certificate(Serial::new("PH-9999").unwrap(), GENESIS_TIME),
        )
        .unwrap();
    let oversized = vec![0u8; registry::MAX_TX_BYTES + 1];
    let same_sequence = issue(1, &["PH-0003"], 1).remove(0);
    for tx in &good {
        assert_eq!(
            node.check_tx(tx, CheckTxType::New).await,
            (0, String::new())
        );
    }
    assert_eq!(
        node.check_tx(&unknown_signer, CheckTxType::New).await,
        (5, "registry".into()),
        "unknown signers are refused at CheckTx"
    );
    assert_eq!(
        node.check_tx(&oversized, CheckTxType::New).await,
        (codes::TX_TOO_LARGE, "node".into())
    );
    assert_eq!(
        node.check_tx(&same_sequence, CheckTxType::New).await,
        (codes::SEQUENCE_PENDING, "node".into())
    );
    assert_eq!(
        node.check_tx(b"not a transaction", CheckTxType::New).await,
        (1, "registry".into())
    );
    // CometBFT v1.x sends a new transaction's CheckTx as type 2: checked as new (here the
    // sequence is already pending, so the node's own check answers).
    let Resp::CheckTx(v1) = node
        .mempool
        .call(Req::CheckTx(RequestCheckTx {
            tx: Bytes::copy_from_slice(&same_sequence),
            r#type: 2,
        }))
        .await
    else {
        panic!("not a CheckTx answer")
    };
    assert_eq!(v1.code, codes::SEQUENCE_PENDING);

    // A proposer's mempool may hold anything: PrepareProposal keeps only what executes.
    let offered = vec![
        good[0].clone(),
        unknown_signer.clone(),
        oversized.clone(),
        same_sequence.clone(),
        good[1].clone(),
    ];
    let proposal = node.prepare(1, &offered, 1 << 20).await;
    assert_eq!(proposal, good);
    // CometBFT's max_tx_bytes (each transaction counted with its protobuf framing).
    let one = i64::try_from(tradeseal_node::app::proto_size(good[0].len())).unwrap();
    assert_eq!(node.prepare(1, &offered, one).await, vec![good[0].clone()]);
    // ProcessProposal refuses blocks with invalid or oversized transactions, or too many.
    for bad in [
        vec![good[0].clone(), unknown_signer.clone()],
        vec![good[0].clone(), oversized.clone()],
        vec![good[0].clone(), same_sequence.clone()],
        vec![b"junk".to_vec()],
        issue(
            3,
            &[
                "PH-0101", "PH-0102", "PH-0103", "PH-0104", "PH-0105", "PH-0106", "PH-0107",
                "PH-0108", "PH-0109",
            ],
            1,
        ),
    ] {
        assert_eq!(node.process(1, &bad).await, ProposalStatus::Reject);
    }
    assert_eq!(node.process(1, &proposal).await, ProposalStatus::Accept);
    let (results, hash1, retain) = node.finalize_and_commit(1, &proposal).await;
    assert!(results.iter().all(|r| r.code == 0), "{results:?}");
    assert_eq!(
        attribute(&results[0], "certificate_issued", "id"),
        ("KE-KEPHIS/PH-0001", true)
    );
    assert_eq!(
        attribute(&results[0], "certificate_issued", "issuer"),
        ("KE-KEPHIS", true)
    );
    assert!(attribute(&results[1], "certificate_issued", "kind").1);
    assert_eq!(retain, 0);
    assert_eq!(node.info().await, (1, hash1.to_vec()));

    // After the commit CometBFT rechecks what is left in its mempool: the committed
    // sequence is now used, so the same-sequence transaction goes.
    assert_eq!(
        node.check_tx(&same_sequence, CheckTxType::Recheck).await,
        (4, "registry".into())
    );

    // Heights 2 and 3, with a failing transaction decided anyway (a block is executed as
    // decided: the failure is a result, not a halt).
    let block2 = issue(3, &["PH-0010"], 2);
    assert_eq!(node.check_tx(&block2[0], CheckTxType::New).await.0, 0);
    assert_eq!(node.prepare(2, &block2, 1 << 20).await, block2);
    assert_eq!(node.process(2, &block2).await, ProposalStatus::Accept);
    let (results, hash2, retain) = node.finalize_and_commit(2, &block2).await;
    assert_eq!(results[0].code, 0);
    assert_eq!(retain, 1);
    let block3 = vec![issue(4, &["PH-0020"], 3).remove(0), good[0].clone()];
    let (results, hash3, retain) = node.finalize_and_commit(3, &block3).await;
    assert_eq!((results[0].code, results[1].code), (0, 4));
    assert_eq!(results[1].codespace, "registry");
    assert_eq!(retain, 2);

    // Queries with proofs, checked as the wallet checks them, at the latest and an older
    // height; absence is proven too.
    let cert_key = "cert/KE-KEPHIS/PH-0001";
    let q = node.query(&format!("/store/{cert_key}"), 0).await;
    assert_eq!(q.height, 3);
    let record = proven(&q, cert_key, &hash3).expect("registered");
    let record = CertRecord::from_bytes(&record).unwrap();
    let issuer_key = "issuer/KE-KEPHIS";
    let issuer = proven(
        &node.query(&format!("/store/{issuer_key}"), 3).await,
        issuer_key,
        &hash3,
    )
    .expect("issuer registered");
    let issuer = IssuerRecord::from_bytes(&issuer).unwrap();
    assert_eq!(
        judge_record(Some(&record), Some(&issuer), GENESIS_TIME + 20),
        OnlineVerdict::Valid
    );
    let q = node.query("/store/cert/KE-KEPHIS/PH-0010", 1).await;
    assert_eq!(proven(&q, "cert/KE-KEPHIS/PH-0010", &hash1), None);
    assert!(proven(
        &node.query("/store/cert/KE-KEPHIS/PH-0010", 2).await,
        "cert/KE-KEPHIS/PH-0010",
        &hash2
    )
    .is_some());
    assert_eq!(
        node.query("/store/cert/KE-KEPHIS/PH-0001", 4).await.code,
        103
    );
    assert_eq!(node.query("/nowhere", 0).await.code, 101);

    // Restart: the log is replayed, Info reports the last commit, the chain goes on.
    node.stop().await;
    let mut node = Node::start(&data, &socket).await;
    assert_eq!(node.info().await, (3, hash3.to_vec()));
    // The chain's limits came back with the stored genesis: still 8 transactions a block.
    let nine: Vec<String> = (0..9).map(|i| format!("PH-02{i:02}")).collect();
    let nine: Vec<&str> = nine.iter().map(String::as_str).collect();
    assert_eq!(
        node.process(4, &issue(5, &nine, 4)).await,
        ProposalStatus::Reject
    );
    let block4 = issue(5, &["PH-0030", "PH-0031"], 4);
    assert_eq!(node.prepare(4, &block4, 1 << 20).await, block4);
    assert_eq!(node.process(4, &block4).await, ProposalStatus::Accept);
    let (_, hash4, _) = node.finalize_and_commit(4, &block4).await;
    node.stop().await;

    // A crash during the last append leaves its record cut: the node comes back at the
    // height before, and CometBFT's replay of block 4 gives the same app hash.
    let log = data.join(tradeseal_node::blocklog::LOG_FILE);
    let len = std::fs::metadata(&log).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    file.set_len(len - 40).unwrap();
    drop(file);
    let mut node = Node::start(&data, &socket).await;
    assert_eq!(node.info().await, (3, hash3.to_vec()));
    let (results, replayed, _) = node.finalize_and_commit(4, &block4).await;
    assert!(results.iter().all(|r| r.code == 0));
    assert_eq!(replayed, hash4);
    assert_eq!(node.info().await, (4, hash4.to_vec()));
    node.stop().await;

    let app = open(&data).await;
    assert_eq!(app.committed_height(), 4);
    assert_eq!(app.committed_app_hash(), Some(hash4));
}

/// The binary killed with SIGKILL between FinalizeBlock and Commit comes back one block
/// behind, and CometBFT's replay of that block gives the same app hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_killed_before_a_commit_replays_to_the_same_app_hash() {
    let dir = tempfile::tempdir().unwrap();
    let (data, socket) = paths(dir.path());
    let app_state = demo_app_state();
    let mut node = Node::spawn(&data, &socket).await;
    assert_eq!(node.info().await, (0, Vec::new()));
    let Resp::InitChain(_) = node.consensus.call(init_chain(app_state)).await else {
        panic!("not an InitChain answer")
    };
    node.finalize_and_commit(1, &issue(1, &["PH-0001"], 1))
        .await;
    let (_, hash2, retain) = node.finalize_and_commit(2, &[]).await;
    assert_eq!(retain, 1, "--retain-blocks=2");
    let block3 = issue(2, &["PH-0002", "PH-0003"], 3);
    let (_, hash3) = node.finalize(3, &block3).await;
    node.stop().await;

    let mut node = Node::spawn(&data, &socket).await;
    assert_eq!(node.info().await, (2, hash2.to_vec()));
    let (results, replayed, _) = node.finalize_and_commit(3, &block3).await;
    assert!(results.iter().all(|r| r.code == 0));
    assert_eq!(replayed, hash3);
    node.stop().await;

    let mut node = Node::spawn(&data, &socket).await;
    assert_eq!(node.info().await, (3, hash3.to_vec()));
    node.stop().await;
}

/// Four validators, each a node of its own fed what CometBFT gives it: every transaction
/// gossiped to every mempool, the proposer rotating, every node processing the proposal and
/// finalizing it. They agree on every answer and app hash, including through a governance
/// vote that registers an issuer whose key then passes every node's CheckTx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_validators_agree_on_every_block() {
    let dir = tempfile::tempdir().unwrap();
    let app_state = demo_app_state();
    let mut nodes = Vec::new();
    for i in 0..4 {
        let (data, socket) = paths(&dir.path().join(format!("v{i}")));
        let mut node = Node::start(&data, &socket).await;
        let Resp::InitChain(init) = node.consensus.call(init_chain(app_state.clone())).await else {
            panic!("not an InitChain answer")
        };
        assert_eq!(init.app_hash.len(), 32);
        nodes.push(node);
    }

    let new_issuer = registry::state::IssuerSpec {
        id: registry::IssuerId::new("GH-PPRSD").unwrap(),
        legal_name: "Plant Protection and Regulatory Services Directorate".into(),
        country: registry::Country::new("GH").unwrap(),
        keys: vec![registry::devkit::dev_public_key("issuer-gh")],
        kinds: registry::KindSet::of(&[registry::CertificateKind::Phytosanitary]),
        valid_from: GENESIS_TIME,
        valid_until: GENESIS_TIME + 365 * 24 * 3600,
    };
    let gh_key = dev_key("issuer-gh");
    let gh_cert = |serial: &str, height: i64| {
        let mut c = sample_certificate(
            Serial::new(serial).unwrap(),
            u64::try_from(block_time(height).seconds).unwrap(),
        );
        c.id = registry::CertId::new(new_issuer.id.clone(), Serial::new(serial).unwrap());
        TxBuilder::new(CHAIN_ID, &gh_key).issue(1, &c).unwrap()
    };
    // Before the vote the new issuer's key is unknown everywhere.
    for node in &mut nodes {
        assert_eq!(
            node.check_tx(&gh_cert("GH-1", 1), CheckTxType::New).await.0,
            5
        );
    }
    let gov0 = dev_key("gov-0");
    let gov1 = dev_key("gov-1");
    let expires = GENESIS_TIME + 3600;
    let submissions: Vec<Vec<Vec<u8>>> = vec![
        issue(1, &["PH-0001", "PH-0002"], 1),
        vec![TxBuilder::new(CHAIN_ID, &gov0)
            .register_issuer(1, new_issuer.clone(), expires)
            .unwrap()],
        vec![TxBuilder::new(CHAIN_ID, &gov1).approve(1, 0).unwrap()],
        vec![gh_cert("GH-1", 4), issue(3, &["PH-0003"], 4).remove(0)],
        Vec::new(),
    ];
    let mut last_hash = [0u8; 32];
    for (h, txs) in (1i64..).zip(&submissions) {
        // Gossip: every mempool checks every transaction.
        for node in &mut nodes {
            for tx in txs {
                assert_eq!(
                    node.check_tx(tx, CheckTxType::New).await,
                    (0, String::new())
                );
            }
        }
        let proposer = usize::try_from(h).unwrap() % 4;
        let mut offered = txs.clone();
        offered.push(b"junk".to_vec());
        let proposal = nodes[proposer].prepare(h, &offered, 1 << 20).await;
        assert_eq!(&proposal, txs, "height {h}");
        let mut answers = Vec::new();
        for node in &mut nodes {
            assert_eq!(node.process(h, &proposal).await, ProposalStatus::Accept);
        }
        for node in &mut nodes {
            answers.push(node.finalize_and_commit(h, &proposal).await);
        }
        assert!(
            answers.windows(2).all(|w| w[0] == w[1]),
            "height {h}: {answers:?}"
        );
        assert!(
            answers[0].0.iter().all(|r| r.code == 0),
            "{:?}",
            answers[0].0
        );
        last_hash = answers[0].1;
    }
    // Every node proves the same certificate of the new issuer against the agreed hash.
    let key = "cert/GH-PPRSD/GH-1";
    let mut values = Vec::new();
    for node in &mut nodes {
        let q = node.query(&format!("/store/{key}"), 0).await;
        values.push(proven(&q, key, &last_hash).expect("registered"));
    }
    assert!(values.windows(2).all(|w| w[0] == w[1]));
    for node in nodes {
        node.stop().await;
    }
}

/// CometBFT killed between FinalizeBlock and Commit while the node runs: its handshake sees
/// the node one block behind and replays that block, which gets the same answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cometbft_restarted_before_a_commit_replays_the_block_on_the_running_node() {
    let dir = tempfile::tempdir().unwrap();
    let (data, socket) = paths(dir.path());
    let app_state = demo_app_state();
    let mut node = Node::start(&data, &socket).await;
    let Resp::InitChain(_) = node.consensus.call(init_chain(app_state)).await else {
        panic!("not an InitChain answer")
    };
    let (_, hash1, _) = node.finalize_and_commit(1, &[]).await;
    let block2 = issue(1, &["PH-0001"], 2);
    let (results, hash2) = node.finalize(2, &block2).await;
    let mut node = node.reconnect(&socket).await;
    assert_eq!(node.info().await, (1, hash1.to_vec()));
    let (again, replayed, _) = node.finalize_and_commit(2, &block2).await;
    assert_eq!((again, replayed), (results, hash2));
    assert_eq!(node.info().await, (2, hash2.to_vec()));
    node.stop().await;
}

/// A request the application cannot answer (a block that is not the next) closes the
/// consensus connection, as CometBFT needs to stop; nothing is committed, and the node
/// still answers on its other connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_out_of_order_closes_the_consensus_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (data, socket) = paths(dir.path());
    let app_state = demo_app_state();
    let mut node = Node::start(&data, &socket).await;
    let Resp::InitChain(_) = node.consensus.call(init_chain(app_state)).await else {
        panic!("not an InitChain answer")
    };
    let answer = node
        .consensus
        .try_call(Req::FinalizeBlock(RequestFinalizeBlock {
            txs: Vec::new(),
            decided_last_commit: Some(CommitInfo::default()),
            misbehavior: Vec::new(),
            hash: block_hash(5, &[]),
            height: 5,
            time: Some(block_time(5)),
            next_validators_hash: Bytes::from(vec![7u8; 32]),
            proposer_address: Bytes::from(vec![9u8; 20]),
        }))
        .await;
    assert!(answer.is_none(), "answered {answer:?}");
    assert_eq!(node.info().await, (0, Vec::new()));
    node.stop().await;
}

/// A Unix socket path holding something else is refused, never deleted.
#[tokio::test]
async fn a_file_at_the_socket_path_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (data, socket) = paths(dir.path());
    std::fs::write(&socket, b"not a socket").unwrap();
    let app = open(&data).await;
    let err = tradeseal_node::serve(app, &Listen::Unix(socket.clone()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a socket"), "{err}");
    assert_eq!(std::fs::read(&socket).unwrap(), b"not a socket");
}

/// A restart after InitChain but before the first block reports height 0, so CometBFT sends
/// InitChain again, which must give the same genesis app hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_chain_is_repeated_after_a_restart_before_the_first_block() {
    let dir = tempfile::tempdir().unwrap();
    let (data, socket) = paths(dir.path());
    let app_state = demo_app_state();
    let mut node = Node::start(&data, &socket).await;
    let Resp::InitChain(first) = node.consensus.call(init_chain(app_state.clone())).await else {
        panic!("not an InitChain answer")
    };
    node.stop().await;
    let mut node = Node::start(&data, &socket).await;
    assert_eq!(node.info().await, (0, Vec::new()));
    let Resp::InitChain(again) = node.consensus.call(init_chain(app_state)).await else {
        panic!("not an InitChain answer")
    };
    assert_eq!(again.app_hash, first.app_hash);
    let txs = issue(1, &["PH-0001"], 1);
    let (results, _, _) = node.finalize_and_commit(1, &txs).await;
    assert_eq!(results[0].code, 0);
    node.stop().await;
}

/// The same server on TCP, CometBFT's default `proxy_app`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_answers_on_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(&dir.path().join("data")).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        tradeseal_node::server::serve_tcp(app, listener)
            .await
            .unwrap();
    });
    let mut conn = None;
    for _ in 0..200 {
        if let Ok(s) = TcpStream::connect(addr).await {
            conn = Some(Conn::new(s));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut conn = conn.expect("the server listens");
    let Resp::Echo(e) = conn
        .call(Req::Echo(RequestEcho {
            message: "ping".into(),
        }))
        .await
    else {
        panic!("not an Echo answer")
    };
    assert_eq!(e.message, "ping");
    let Resp::InitChain(init) = conn.call(init_chain(demo_app_state())).await else {
        panic!("not an InitChain answer")
    };
    assert_eq!(init.app_hash.len(), 32);
    // Every call of a CometBFT session goes through the relay, in order.
    let block = issue(1, &["PH-0001"], 1);
    let Resp::FinalizeBlock(f) = conn
        .call(Req::FinalizeBlock(RequestFinalizeBlock {
            txs: block.iter().map(|t| Bytes::copy_from_slice(t)).collect(),
            decided_last_commit: Some(CommitInfo::default()),
            misbehavior: Vec::new(),
            hash: block_hash(1, &block),
            height: 1,
            time: Some(block_time(1)),
            next_validators_hash: Bytes::from(vec![7u8; 32]),
            proposer_address: Bytes::from(vec![9u8; 20]),
        }))
        .await
    else {
        panic!("not a FinalizeBlock answer")
    };
    assert_eq!(f.tx_results[0].code, 0);
    let Resp::Commit(_) = conn.call(Req::Commit(Default::default())).await else {
        panic!("not a Commit answer")
    };
    drop(conn);
    server.abort();
    let _ = server.await;
    // (That the relay's private socket directory goes with the server is checked in
    // server.rs's unit tests: other servers of this process make theirs meanwhile.)
}

/// A governance proposal signed without the builder's checks (as a hostile or hand-written
/// encoder could send it), for what the chain itself refuses.
fn raw_propose(
    key: &SigningKey,
    sequence: u64,
    action: registry::state::GovAction,
    expires_at: u64,
) -> Vec<u8> {
    use ed25519_dalek::Signer as _;
    let mut w = registry::codec::Writer::new();
    w.u8(registry::TX_VERSION).str(CHAIN_ID);
    registry::PublicKey::from(&key.verifying_key()).encode_to(&mut w);
    w.u64(sequence);
    registry::Message::Propose { action, expires_at }.encode_to(&mut w);
    let mut tx = w.into_bytes();
    let mut sign_bytes = registry::TX_SIGN_DOMAIN.to_vec();
    sign_bytes.extend_from_slice(&tx);
    tx.extend_from_slice(&key.sign(&sign_bytes).to_bytes());
    tx
}

/// Governance changes the validator set: the block whose approval executes `SetValidator`
/// answers FinalizeBlock with that update (CometBFT applies it from two blocks later);
/// refused changes (the last validator removed, a key that is not a valid ed25519 point)
/// report none; the state records the set; a restart replaying the block gives the same
/// answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn governance_changes_the_validator_set_through_finalize_block() {
    use registry::state::GovAction;
    let dir = tempfile::tempdir().unwrap();
    let (data, socket) = paths(dir.path());
    let mut node = Node::start(&data, &socket).await;
    let Resp::InitChain(_) = node.consensus.call(init_chain(demo_app_state())).await else {
        panic!("not an InitChain answer")
    };
    let (g0, g1) = (dev_key("gov-0"), dev_key("gov-1"));
    let (b0, b1) = (TxBuilder::new(CHAIN_ID, &g0), TxBuilder::new(CHAIN_ID, &g1));
    let expires = GENESIS_TIME + 3600;
    let v0 = registry::PublicKey(validator_key(0));
    let v1 = registry::PublicKey(validator_key(1));

    // Height 1: a proposal to add validator 1 (open: the threshold is 2); one to remove
    // validator 0, the only one (refused, 27); one with a key that is no curve point (24).
    let block1 = vec![
        b0.set_validator(1, v1, 5, expires).unwrap(),
        b0.set_validator(2, v0, 0, expires).unwrap(),
        raw_propose(
            &g0,
            2,
            GovAction::SetValidator {
                pub_key: registry::PublicKey([0; 32]),
                power: 5,
            },
            expires,
        ),
    ];
    let (results, _, updates) = node.finalize_with_updates(1, &block1).await;
    let codes: Vec<u32> = results.iter().map(|r| r.code).collect();
    assert_eq!(codes, [0, 27, 24]);
    assert!(updates.is_empty(), "{updates:?}");
    node.commit().await;

    // Height 2: the second approval executes it; this block's answer carries the update.
    let block2 = vec![b1.approve(1, 0).unwrap()];
    let (results, hash2, updates) = node.finalize_with_updates(2, &block2).await;
    assert_eq!(results[0].code, 0, "{}", results[0].log);
    assert_eq!(updates, vec![validator_update(validator_key(1), 5)]);
    assert_eq!(
        attribute(&results[0], "validator_updated", "pub_key").0,
        v1.to_hex()
    );
    assert_eq!(attribute(&results[0], "validator_updated", "power").0, "5");
    node.commit().await;
    let path = format!("/store/validator/{}", v1.to_hex());
    let key = format!("validator/{}", v1.to_hex());
    let q = node.query(&path, 0).await;
    assert_eq!(proven(&q, &key, &hash2), Some(5u64.to_be_bytes().to_vec()));

    // Heights 3 and 4: validator 0 is removed (two validators now, so it may be).
    let block3 = vec![b0.set_validator(2, v0, 0, expires).unwrap()];
    let (results, _, updates) = node.finalize_with_updates(3, &block3).await;
    assert_eq!(results[0].code, 0, "{}", results[0].log);
    assert!(updates.is_empty());
    node.commit().await;
    let block4 = vec![b1.approve(2, 1).unwrap()];
    let (results, hash4, updates) = node.finalize_with_updates(4, &block4).await;
    assert_eq!(results[0].code, 0, "{}", results[0].log);
    assert_eq!(updates, vec![validator_update(validator_key(0), 0)]);
    node.commit().await;
    // Removing validator 1 now would leave none: refused when proposed.
    let block5 = vec![b0.set_validator(3, v1, 0, expires).unwrap()];
    let (results, _, updates) = node.finalize_with_updates(5, &block5).await;
    assert_eq!(results[0].code, 27, "{}", results[0].log);
    assert!(updates.is_empty());
    node.stop().await;

    // Block 5 was finalized, not committed: the node comes back at 4 with the set it had.
    // Cutting block 4's record too, CometBFT's replay of it answers as the first time.
    let mut node = Node::start(&data, &socket).await;
    assert_eq!(node.info().await, (4, hash4.to_vec()));
    node.stop().await;
    let log = data.join(tradeseal_node::blocklog::LOG_FILE);
    let len = std::fs::metadata(&log).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    file.set_len(len - 10).unwrap();
    drop(file);
    let mut node = Node::start(&data, &socket).await;
    assert_eq!(node.info().await.0, 3);
    let (results, replayed, updates) = node.finalize_with_updates(4, &block4).await;
    assert_eq!(results[0].code, 0);
    assert_eq!(replayed, hash4);
    assert_eq!(updates, vec![validator_update(validator_key(0), 0)]);
    node.commit().await;
    node.stop().await;

    let app = open(&data).await;
    let reg = app.registry().unwrap();
    assert_eq!(reg.validator_power(&v0), Some(0));
    assert_eq!(reg.validator_power(&v1), Some(5));
}

/// The registry records ed25519 validators only: an `InitChain` with another key type is
/// refused (the connection closes), and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_chain_with_a_non_ed25519_validator_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (data, socket) = paths(dir.path());
    let mut node = Node::start(&data, &socket).await;
    let secp = ValidatorUpdate {
        pub_key: Some(PublicKey {
            sum: Some(Sum::Secp256k1(vec![2; 33])),
        }),
        power: 10,
    };
    let answer = node
        .consensus
        .try_call(init_chain_with(demo_app_state(), vec![secp]))
        .await;
    assert!(answer.is_none(), "answered {answer:?}");
    assert_eq!(node.info().await, (0, Vec::new()));
    node.stop().await;
    assert!(open(&data).await.registry().is_none());
}

/// A genesis whose validators CometBFT leaves to the application (none in its genesis file):
/// the `app_state`'s are the set, and `InitChain` answers with them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_chain_answers_the_app_states_validators_when_cometbft_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let (data, socket) = paths(dir.path());
    let mut node = Node::start(&data, &socket).await;
    let mut genesis = demo_genesis(CHAIN_ID, GENESIS_TIME);
    genesis.validators = vec![genesis_validator()];
    let app_state =
        serde_json::to_vec(&AppState::from_genesis(&genesis, ChainLimits::default())).unwrap();
    let Resp::InitChain(init) = node
        .consensus
        .call(init_chain_with(app_state.clone(), Vec::new()))
        .await
    else {
        panic!("not an InitChain answer")
    };
    assert_eq!(
        init.validators,
        vec![validator_update(validator_key(0), 10)]
    );
    // Given by both, they must agree.
    let other = vec![validator_update(validator_key(3), 10)];
    let answer = node
        .consensus
        .try_call(init_chain_with(app_state, other))
        .await;
    assert!(answer.is_none(), "answered {answer:?}");
    node.stop().await;
}
