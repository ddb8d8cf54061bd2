//! Measurements behind docs/ARCHITECTURE.md's choice of ABCI server and docs/benchmarks.md's
//! node throughput (`cargo run --release -p tradeseal-node --example bench -- servers|blocks`).
//!
//! - `servers`: requests per second through tower-abci 0.19 and tendermint-abci 0.41, each
//!   serving a trivial application on loopback TCP, one request + `Flush` at a time (how
//!   CometBFT's consensus connection talks) and 256 `CheckTx` per `Flush` (how its mempool
//!   connection does).
//! - `checktx`: `CheckTx` per second for a transaction from a key the chain does not know,
//!   refused by the node before the signature check, against the registry's full check.
//! - `blocks`: transactions per second of blocks of certificate registrations through the
//!   registry in process (the devnet's path), through `NodeApp` in process (adds the block
//!   log's fsync and the proposal check), and through the ABCI socket (adds the protocol).

use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use prost::Message;
use registry::devkit::{demo_genesis, dev_key};
use registry::{sample_certificate, Registry, Serial, TxBuilder};
use tendermint_proto::google::protobuf::{Duration as PbDuration, Timestamp};
use tendermint_proto::v0_38::abci::{
    request, response, CommitInfo, Request as PbRequest, RequestCheckTx, RequestFinalizeBlock,
    RequestInitChain, RequestProcessProposal, Response as PbResponse,
};
use tendermint_proto::v0_38::types::{
    AbciParams, BlockParams, ConsensusParams, EvidenceParams, ValidatorParams, VersionParams,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tradeseal_node::{AppState, ChainLimits, Listen, NodeApp, NodeConfig};

const CHAIN_ID: &str = "bench";
const GENESIS_TIME: u64 = 1_767_225_600;

fn main() {
    let what = std::env::args().nth(1).unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match what.as_str() {
        "servers" => rt.block_on(servers()),
        "blocks" => rt.block_on(blocks()),
        "checktx" => checktx(),
        _ => eprintln!("usage: bench servers|blocks|checktx"),
    }
}

/// A client that writes requests and reads answers (varint-length-delimited protobuf).
struct Client<S> {
    s: S,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Sends `values` then one `Flush`; returns the answers before the `Flush` answer.
    async fn batch(&mut self, values: Vec<request::Value>) -> Vec<response::Value> {
        let n = values.len();
        let mut out = Vec::new();
        for v in values
            .into_iter()
            .chain([request::Value::Flush(Default::default())])
        {
            PbRequest { value: Some(v) }
                .encode_length_delimited(&mut out)
                .unwrap();
        }
        self.s.write_all(&out).await.unwrap();
        let mut answers = Vec::with_capacity(n);
        loop {
            let mut len = 0u64;
            for shift in (0..64).step_by(7) {
                let b = self.s.read_u8().await.unwrap();
                len |= u64::from(b & 0x7f) << shift;
                if b & 0x80 == 0 {
                    break;
                }
            }
            let mut body = vec![0u8; len as usize];
            self.s.read_exact(&mut body).await.unwrap();
            match PbResponse::decode(body.as_slice()).unwrap().value.unwrap() {
                response::Value::Flush(_) => break,
                response::Value::Exception(e) => panic!("{}", e.error),
                v => answers.push(v),
            }
        }
        assert_eq!(answers.len(), n);
        answers
    }
}

/// The trivial application behind tower-abci.
#[derive(Debug, Clone)]
struct TowerTrivial;

impl tower::Service<tendermint::v0_38::abci::Request> for TowerTrivial {
    type Response = tendermint::v0_38::abci::Response;
    type Error = tower_abci::BoxError;
    type Future = Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: tendermint::v0_38::abci::Request) -> Self::Future {
        use tendermint::abci::response as r;
        use tendermint::v0_38::abci::{Request as Q, Response as A};
        ready(Ok(match req {
            Q::Echo(e) => A::Echo(r::Echo { message: e.message }),
            Q::CheckTx(_) => A::CheckTx(Default::default()),
            _ => A::Info(Default::default()),
        }))
    }
}

/// The trivial application behind tendermint-abci (its defaults answer everything).
#[derive(Debug, Clone)]
struct AbciTrivial;

impl tendermint_abci::Application for AbciTrivial {}

fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

async fn connect(addr: SocketAddr) -> Client<tokio::net::TcpStream> {
    for _ in 0..200 {
        if let Ok(s) = tokio::net::TcpStream::connect(addr).await {
            s.set_nodelay(true).unwrap();
            return Client { s };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no server at {addr}");
}

fn check_tx() -> request::Value {
    request::Value::CheckTx(RequestCheckTx {
        tx: vec![7u8; 300].into(),
        r#type: 0,
    })
}

async fn measure(name: &str, addr: SocketAddr) {
    measure_on(name, connect(addr).await).await;
}

async fn measure_on<S: AsyncRead + AsyncWrite + Unpin>(name: &str, mut c: Client<S>) {
    // Warm up, then one request + Flush at a time (for at most about ten seconds).
    let t = Instant::now();
    for _ in 0..20 {
        c.batch(vec![check_tx()]).await;
    }
    let per = t.elapsed().as_secs_f64() / 20.0;
    let n = ((10.0 / per) as u32).clamp(20, 20_000);
    let t = Instant::now();
    for _ in 0..n {
        c.batch(vec![check_tx()]).await;
    }
    let one = f64::from(n) / t.elapsed().as_secs_f64();
    let batches = 200;
    let t = Instant::now();
    for _ in 0..batches {
        c.batch((0..256).map(|_| check_tx()).collect()).await;
    }
    let piped = f64::from(batches * 256) / t.elapsed().as_secs_f64();
    println!("| {name} | {one:.0} | {piped:.0} |");
}

async fn servers() {
    println!("| server | request + Flush, per s | 256 CheckTx per Flush, per s |");
    println!("|---|---|---|");
    let tower_addr = free_port();
    tokio::spawn(async move {
        let (c, m, s, i) = tower_abci::v038::split::service(TowerTrivial, 64);
        let server = tower_abci::v038::Server::builder()
            .consensus(c)
            .mempool(m)
            .snapshot(s)
            .info(i)
            .finish()
            .unwrap();
        server.listen_tcp(tower_addr).await.unwrap();
    });
    measure("tower-abci 0.19.1, TCP", tower_addr).await;
    let server = tendermint_abci::ServerBuilder::default()
        .bind("127.0.0.1:0", AbciTrivial)
        .unwrap();
    let abci_addr: SocketAddr = server.local_addr().parse().unwrap();
    std::thread::spawn(move || {
        let _ = server.listen();
    });
    measure("tendermint-abci 0.41.0, TCP", abci_addr).await;
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("trivial.sock");
    let path = sock.clone();
    tokio::spawn(async move {
        let (c, m, s, i) = tower_abci::v038::split::service(TowerTrivial, 64);
        let server = tower_abci::v038::Server::builder()
            .consensus(c)
            .mempool(m)
            .snapshot(s)
            .info(i)
            .finish()
            .unwrap();
        server.listen_unix(path).await.unwrap();
    });
    measure_on("tower-abci 0.19.1, Unix socket", unix(&sock).await).await;
    // tradeseal-node itself (its CheckTx before InitChain answers at once): TCP through its
    // TCP_NODELAY relay, and the Unix socket.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let node_addr = listener.local_addr().unwrap();
    let app = NodeApp::open(&dir.path().join("tcp"), NodeConfig::default()).unwrap();
    tokio::spawn(async move {
        tradeseal_node::server::serve_tcp(app, listener)
            .await
            .unwrap()
    });
    measure("tradeseal-node, TCP (relay with TCP_NODELAY)", node_addr).await;
    let node_sock = dir.path().join("node.sock");
    let app = NodeApp::open(&dir.path().join("unix"), NodeConfig::default()).unwrap();
    let listen = Listen::Unix(node_sock.clone());
    tokio::spawn(async move { tradeseal_node::serve(app, &listen).await.unwrap() });
    measure_on(
        "tradeseal-node, Unix socket (relay)",
        unix(&node_sock).await,
    )
    .await;
}

async fn unix(path: &std::path::Path) -> Client<tokio::net::UnixStream> {
    for _ in 0..200 {
        if let Ok(s) = tokio::net::UnixStream::connect(path).await {
            return Client { s };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no server at {}", path.display());
}

/// `blocks` blocks of `per_block` certificate registrations, signed beforehand.
fn signed_blocks(blocks: u64, per_block: u64) -> Vec<Vec<Vec<u8>>> {
    let key = dev_key("issuer-ke-kephis");
    let b = TxBuilder::new(CHAIN_ID, &key);
    (0..blocks)
        .map(|h| {
            (0..per_block)
                .map(|i| {
                    let seq = h * per_block + i + 1;
                    let cert =
                        sample_certificate(Serial::new(format!("B-{seq}")).unwrap(), GENESIS_TIME);
                    b.issue(seq, &cert).unwrap()
                })
                .collect()
        })
        .collect()
}

fn time(h: u64) -> Timestamp {
    Timestamp {
        seconds: (GENESIS_TIME + h) as i64,
        nanos: 0,
    }
}

fn hash(h: u64) -> Vec<u8> {
    let mut v = vec![0u8; 32];
    v[..8].copy_from_slice(&h.to_be_bytes());
    v
}

fn process(h: u64, txs: &[Vec<u8>]) -> RequestProcessProposal {
    RequestProcessProposal {
        txs: txs.iter().map(|t| t.clone().into()).collect(),
        proposed_last_commit: Some(Default::default()),
        misbehavior: Vec::new(),
        hash: hash(h).into(),
        height: h as i64,
        time: Some(time(h)),
        next_validators_hash: vec![1u8; 32].into(),
        proposer_address: vec![2u8; 20].into(),
    }
}

fn finalize(h: u64, txs: &[Vec<u8>]) -> RequestFinalizeBlock {
    RequestFinalizeBlock {
        txs: txs.iter().map(|t| t.clone().into()).collect(),
        decided_last_commit: Some(CommitInfo::default()),
        misbehavior: Vec::new(),
        hash: hash(h).into(),
        height: h as i64,
        time: Some(time(h)),
        next_validators_hash: vec![1u8; 32].into(),
        proposer_address: vec![2u8; 20].into(),
    }
}

fn init_chain() -> RequestInitChain {
    let app_state = serde_json::to_vec(&AppState::from_genesis(
        &demo_genesis(CHAIN_ID, GENESIS_TIME),
        ChainLimits::default(),
    ))
    .unwrap();
    RequestInitChain {
        time: Some(time(0)),
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
            abci: Some(AbciParams::default()),
        }),
        validators: Vec::new(),
        app_state_bytes: app_state.into(),
        initial_height: 1,
    }
}

async fn blocks() {
    let (n, per_block) = (20, 100);
    let blocks = signed_blocks(n, per_block);
    let total = (n * per_block) as f64;
    println!("| path | tx/s | ms per block of {per_block} |");
    println!("|---|---|---|");
    let report = |name: &str, d: Duration| {
        println!(
            "| {name} | {:.0} | {:.1} |",
            total / d.as_secs_f64(),
            d.as_secs_f64() * 1000.0 / n as f64
        );
    };

    // 1. The registry alone, in process.
    let mut reg = Registry::new(&demo_genesis(CHAIN_ID, GENESIS_TIME)).unwrap();
    let t = Instant::now();
    for (h, txs) in (1u64..).zip(&blocks) {
        let out = reg.execute_block(h, GENESIS_TIME + h, txs).unwrap();
        assert!(out.tx_results.iter().all(|r| r.code == 0));
    }
    report("registry `execute_block`, in process", t.elapsed());
    let expected = reg.app_hash();

    // Empty blocks, the bulk of a chain's log when idle: what a restart replays per second.
    let mut idle = Registry::new(&demo_genesis(CHAIN_ID, GENESIS_TIME)).unwrap();
    let empty = 20_000u64;
    let t = Instant::now();
    for h in 1..=empty {
        idle.execute_block(h, GENESIS_TIME + h, &[]).unwrap();
    }
    println!(
        "| empty blocks replayed (`execute_block`), per s | {:.0} | |",
        empty as f64 / t.elapsed().as_secs_f64()
    );

    // 2. NodeApp in process: ProcessProposal, FinalizeBlock, Commit (fsync); and in memory,
    // as the development network drives it (no block log).
    let dir = tempfile::tempdir().unwrap();
    let in_process = |mut app: NodeApp| {
        app.init_chain(&init_chain().try_into().unwrap()).unwrap();
        let t = Instant::now();
        for (h, txs) in (1u64..).zip(&blocks) {
            app.process_proposal(&process(h, txs).try_into().unwrap());
            app.finalize_block(&finalize(h, txs).try_into().unwrap())
                .unwrap();
            app.commit().unwrap();
        }
        let took = t.elapsed();
        assert_eq!(app.committed_app_hash(), Some(expected));
        took
    };
    let on_disk = NodeApp::open(&dir.path().join("a"), NodeConfig::default()).unwrap();
    report(
        "`NodeApp` in process (+ proposal check, block log fsync)",
        in_process(on_disk),
    );
    report(
        "`NodeApp` in memory (the devnet's path: + proposal check, no log)",
        in_process(NodeApp::in_memory(NodeConfig::default())),
    );

    // 3. Over the ABCI socket: a Unix socket, and TCP through the node's relay.
    let app = NodeApp::open(&dir.path().join("b"), NodeConfig::default()).unwrap();
    let sock = dir.path().join("abci.sock");
    let listen = Listen::Unix(sock.clone());
    tokio::spawn(async move { tradeseal_node::serve(app, &listen).await.unwrap() });
    let (d, last) = over_socket(unix(&sock).await, &blocks).await;
    report("ABCI over a Unix socket (relay, tower-abci)", d);
    assert_eq!(last, expected.to_vec());
    let app = NodeApp::open(&dir.path().join("c"), NodeConfig::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        tradeseal_node::server::serve_tcp(app, listener)
            .await
            .unwrap()
    });
    let (d, last) = over_socket(connect(addr).await, &blocks).await;
    report("ABCI over loopback TCP (relay, tower-abci)", d);
    assert_eq!(last, expected.to_vec());
}

/// InitChain, then ProcessProposal, FinalizeBlock and Commit per block, one call at a time as
/// CometBFT's consensus connection makes them; the time of the blocks and the last app hash.
async fn over_socket<S: AsyncRead + AsyncWrite + Unpin>(
    mut c: Client<S>,
    blocks: &[Vec<Vec<u8>>],
) -> (Duration, Vec<u8>) {
    c.batch(vec![request::Value::InitChain(init_chain())]).await;
    let t = Instant::now();
    let mut last = Vec::new();
    for (h, txs) in (1u64..).zip(blocks) {
        c.batch(vec![request::Value::ProcessProposal(process(h, txs))])
            .await;
        let a = c
            .batch(vec![request::Value::FinalizeBlock(finalize(h, txs))])
            .await;
        if let Some(response::Value::FinalizeBlock(f)) = a.into_iter().next() {
            last = f.app_hash.to_vec();
        }
        c.batch(vec![request::Value::Commit(Default::default())])
            .await;
    }
    (t.elapsed(), last)
}

fn checktx() {
    use tendermint::abci::request::{CheckTx, CheckTxKind};
    let n = 20_000u64;
    let stranger = dev_key("stranger");
    let b = TxBuilder::new(CHAIN_ID, &stranger);
    let txs: Vec<Vec<u8>> = (1..=n)
        .map(|seq| {
            let cert = sample_certificate(Serial::new(format!("S-{seq}")).unwrap(), GENESIS_TIME);
            b.issue(seq, &cert).unwrap()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut app = NodeApp::open(dir.path(), NodeConfig::default()).unwrap();
    app.init_chain(&init_chain().try_into().unwrap()).unwrap();
    let reg = Registry::new(&demo_genesis(CHAIN_ID, GENESIS_TIME)).unwrap();
    println!("| unknown signer's transaction | CheckTx per s |");
    println!("|---|---|");
    let t = Instant::now();
    for tx in &txs {
        assert_eq!(reg.check_tx(tx).code, 5);
    }
    println!(
        "| registry `check_tx` (signature, then role) | {:.0} |",
        n as f64 / t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for tx in &txs {
        let r = app.check_tx(&CheckTx {
            tx: tx.clone().into(),
            kind: CheckTxKind::New,
        });
        assert_eq!(r.code.value(), 5);
    }
    println!(
        "| `NodeApp::check_tx` (role first) | {:.0} |",
        n as f64 / t.elapsed().as_secs_f64()
    );
}
