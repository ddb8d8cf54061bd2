//! Following the chain against the devnet (in-process, on loopback): the `/websocket`
//! subscription wakes the node on each block without polling; a garbage or silent primary is
//! replaced and the next one wakes it; a silent, broken or garbage subscription (served by a
//! stand-in WebSocket server in front of an honest node) falls back to polling and is made
//! again with backoff; frames that are not events are ignored and counted; polling a quiet
//! chain asks the primary's height, not a light block.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use devnet::{AppKind, Behaviour, Devnet, DevnetConfig};
use futures_util::{SinkExt as _, StreamExt as _};
use light_client::{
    ChainConfig, ChainId, Checkpoint, Hash, Header, Height, SignedHeader, TrustLevel, ValidatorSet,
};
use light_node::{
    BoxFuture, BroadcastAnswer, Health, LightNode, NewBlockSubscription, NodeInfo, NodeOptions,
    Provider, ProviderError, PruneWindow, QueryAnswer, RpcConfig, RpcProvider, SqliteStore,
    StoreIdentity, SubscribeConfig, SubscribeError, SystemClock, TxAnswer,
};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

const BLOCK_MS: u64 = 200;

async fn start_net(behaviours: Vec<(usize, Behaviour)>) -> Devnet {
    let net = Devnet::start(DevnetConfig {
        behaviours,
        app: AppKind::Kv,
        block_interval: Duration::from_millis(BLOCK_MS),
        ..DevnetConfig::for_tests()
    })
    .await
    .expect("devnet starts");
    assert!(net.wait_for_height(2, Duration::from_secs(20)).await);
    net
}

fn chain_config(net: &Devnet, primary: &str, witnesses: &[String]) -> ChainConfig {
    let latest = net.chain().blocks().latest().cloned().expect("a block");
    ChainConfig {
        chain_id: ChainId::new(net.chain().chain_id()),
        checkpoint: Checkpoint {
            height: Height(latest.height()),
            hash: latest.block_id.hash,
        },
        trusting_period: Duration::from_secs(14 * 24 * 3600),
        trust_level: TrustLevel::ONE_THIRD,
        max_clock_drift: Duration::from_secs(10),
        primary: primary.to_owned(),
        witnesses: witnesses.to_vec(),
    }
}

fn quick_rpc() -> RpcConfig {
    RpcConfig {
        timeout: Duration::from_millis(600),
        connect_timeout: Duration::from_millis(600),
        retries: 0,
        ..RpcConfig::default()
    }
}

fn rpc(url: &str) -> Arc<dyn Provider> {
    Arc::new(RpcProvider::new(url, quick_rpc()).unwrap())
}

/// A light node over `primary` and `witnesses`, following until the returned sender fires.
async fn follow(
    net: &Devnet,
    primary: Arc<dyn Provider>,
    witnesses: Vec<Arc<dyn Provider>>,
    poll: Duration,
) -> (LightNode, watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    follow_subscribed(net, primary, witnesses, poll, SubscribeConfig::default()).await
}

/// [`follow`] with the subscription's limits and keep-alive given.
async fn follow_subscribed(
    net: &Devnet,
    primary: Arc<dyn Provider>,
    witnesses: Vec<Arc<dyn Provider>>,
    poll: Duration,
    subscribe: SubscribeConfig,
) -> (LightNode, watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let urls: Vec<String> = witnesses.iter().map(|w| w.url().to_owned()).collect();
    let config = chain_config(net, primary.url(), &urls);
    let identity = StoreIdentity {
        chain_id: config.chain_id.as_str().to_owned(),
        checkpoint_height: config.checkpoint.height,
        checkpoint_hash: config.checkpoint.hash,
    };
    let store = SqliteStore::in_memory(identity, PruneWindow::default())
        .await
        .unwrap();
    let options = NodeOptions {
        poll_interval: poll,
        // A loaded machine must not make a fresh head look stale.
        stale_after_blocks: 1000,
        subscribe,
        ..NodeOptions::default()
    };
    let node = LightNode::new(
        config,
        store,
        primary,
        witnesses,
        Arc::new(SystemClock),
        options,
        vec![],
    )
    .await
    .unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let n = node.clone();
    let task = tokio::spawn(async move { n.follow(stop_rx).await });
    (node, stop, task)
}

fn head(node: &LightNode) -> u64 {
    node.status().head.map_or(0, |h| h.height.value())
}

/// Waits until the node's head is at least `height`; answers how long it took.
async fn head_reaches(node: &LightNode, height: u64, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut rx = node.watch();
    let reached = tokio::time::timeout(
        within,
        rx.wait_for(|s| s.head.as_ref().is_some_and(|h| h.height.value() >= height)),
    )
    .await;
    matches!(reached, Ok(Ok(_))).then(|| start.elapsed())
}

/// For `blocks` blocks in turn: the node's head reaches each new height within a second of
/// the devnet making it. Answers the slowest.
async fn follows_each_block(net: &Devnet, node: &LightNode, blocks: u64) -> Duration {
    let mut slowest = Duration::ZERO;
    let first = net.chain().latest_height() + 1;
    for h in first..first + blocks {
        assert!(net.wait_for_height(h, Duration::from_secs(10)).await);
        let took = head_reaches(node, h, Duration::from_secs(1))
            .await
            .unwrap_or_else(|| {
                panic!(
                    "height {h} not followed within 1 s (head {}): {:?}",
                    head(node),
                    node.status()
                )
            });
        slowest = slowest.max(took);
    }
    slowest
}

async fn stop(stop: watch::Sender<bool>, task: tokio::task::JoinHandle<()>) {
    stop.send_replace(true);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("follow stops")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn each_block_wakes_the_node_without_polling() {
    let net = start_net(vec![]).await;
    let urls = net.rpc_urls().to_vec();
    // A minute between polls: every head after the first sync comes by the subscription.
    let (node, stopper, task) = follow(
        &net,
        rpc(&urls[0]),
        vec![rpc(&urls[1]), rpc(&urls[2])],
        Duration::from_secs(60),
    )
    .await;
    assert!(head_reaches(&node, 1, Duration::from_secs(10))
        .await
        .is_some());
    let slowest = follows_each_block(&net, &node, 15).await;
    println!("15 blocks followed by the subscription, slowest {slowest:?} after the block");
    let status = node.status();
    assert!(
        status.nodes.iter().all(|n| n.health == Health::Ok),
        "{:?}",
        status.nodes
    );
    stop(stopper, task).await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_garbage_primary_is_replaced_and_the_next_one_wakes_the_node() {
    let net = start_net(vec![(0, Behaviour::Garbage)]).await;
    let urls = net.rpc_urls().to_vec();
    let (node, stopper, task) = follow(
        &net,
        rpc(&urls[0]),
        vec![rpc(&urls[1]), rpc(&urls[2])],
        Duration::from_secs(60),
    )
    .await;
    assert!(head_reaches(&node, 1, Duration::from_secs(10))
        .await
        .is_some());
    let slowest = follows_each_block(&net, &node, 8).await;
    let status = node.status();
    let garbage = status.nodes.iter().find(|n| n.url == urls[0]).unwrap();
    assert!(!garbage.primary, "{:?}", status.nodes);
    assert_eq!(garbage.health, Health::Faulty, "{garbage:?}");
    println!(
        "garbage primary replaced ({:?}); then followed by {}'s subscription, slowest {slowest:?}",
        garbage.detail, status.nodes[0].url
    );
    stop(stopper, task).await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_primary_is_replaced_and_the_next_one_wakes_the_node() {
    let net = start_net(vec![(0, Behaviour::Timeout)]).await;
    let urls = net.rpc_urls().to_vec();
    let (node, stopper, task) = follow(
        &net,
        rpc(&urls[0]),
        vec![rpc(&urls[1]), rpc(&urls[2])],
        Duration::from_secs(60),
    )
    .await;
    assert!(head_reaches(&node, 1, Duration::from_secs(10))
        .await
        .is_some());
    // Every sync waits out the silent witness (600 ms), so blocks are followed in steps.
    let target = net.chain().latest_height() + 10;
    let took = head_reaches(&node, target, Duration::from_secs(10))
        .await
        .unwrap_or_else(|| {
            panic!(
                "head {} short of {target}: {:?}",
                head(&node),
                node.status()
            )
        });
    let status = node.status();
    let silent = status.nodes.iter().find(|n| n.url == urls[0]).unwrap();
    assert!(!silent.primary, "{:?}", status.nodes);
    assert_eq!(silent.health, Health::Silent, "{silent:?}");
    println!(
        "silent primary replaced ({:?}); 10 blocks followed in {took:?}",
        silent.detail
    );
    stop(stopper, task).await;
    net.shutdown().await;
}

/// What the stand-in WebSocket server does after a `subscribe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Acknowledges, then says nothing.
    Silent,
    /// Acknowledges, then closes the connection.
    Close,
    /// Acknowledges, then sends frames that are not events (and a few events in between).
    Garbage,
    /// Acknowledges, then sends a frame over 1 MB.
    Huge,
    /// Answers the subscription with an error.
    Refuse,
    /// Acknowledges, then neither reads nor writes: pings go unanswered (a connection
    /// dropped on the way without a close).
    Deaf,
    /// Acknowledges, answers pings (by reading), and after this many pings sends an event
    /// at height 7.
    EventAfterPings(usize),
    /// Acknowledges, pushes the devnet's next `events` heights, then says nothing.
    Quiet {
        /// Events pushed per connection.
        events: usize,
    },
}

struct StandIn {
    /// `http://127.0.0.1:PORT`: its `/websocket` is this server.
    url: String,
    subscriptions: Arc<AtomicUsize>,
}

fn event(id: &Value, height: u64) -> Message {
    let frame = json!({"jsonrpc":"2.0","id":id,"result":{
        "query":"tm.event='NewBlockHeader'",
        "data":{"type":"tendermint/event/NewBlockHeader","value":{"header":{"height":height.to_string()}}},
        "events":{"tm.event":["NewBlockHeader"]}}});
    Message::text(frame.to_string())
}

/// Garbage frames and events: 3 garbage, event 10, 2 garbage, event 11, then 40 garbage.
fn garbage_script(id: &Value) -> Vec<Message> {
    let text = |t: &str| Message::text(t.to_owned());
    let mut out = vec![
        text("\u{0}<html>definitely not json"),
        Message::Binary(vec![0xff, 0xfe, 0x00, 0x7b].into()),
        text(r#"{"jsonrpc":"2.0","id":0,"result":{"query":5,"data":"nope"}}"#),
        event(id, 10),
        text(
            r#"{"jsonrpc":"2.0","id":"x","result":{"data":{"type":"tendermint/event/NewBlockHeader","value":{"header":{"ver"#,
        ),
        Message::Ping(vec![1, 2, 3].into()),
        text("[]"),
        event(id, 11),
    ];
    out.extend((0..40).map(|i| text(&format!("noise {i}"))));
    out
}

async fn stand_in(mode: Mode) -> StandIn {
    stand_in_over(mode, None).await
}

/// A stand-in whose events (in [`Mode::Quiet`]) follow `heights`.
async fn stand_in_over(mode: Mode, heights: Option<watch::Receiver<u64>>) -> StandIn {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let subscriptions = Arc::new(AtomicUsize::new(0));
    let count = subscriptions.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let count = count.clone();
            let mut heights = heights.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let Some(Ok(Message::Text(request))) = ws.next().await else {
                    return;
                };
                let request: Value = serde_json::from_str(request.as_str()).unwrap();
                assert_eq!(request["method"], "subscribe");
                assert_eq!(request["params"]["query"], "tm.event='NewBlockHeader'");
                let id = request["id"].clone();
                count.fetch_add(1, Ordering::SeqCst);
                if mode == Mode::Refuse {
                    let error = json!({"jsonrpc":"2.0","id":id,"error":{"code":-32603,"message":"max_subscriptions_per_client 5 reached"}});
                    let _ = ws.send(Message::text(error.to_string())).await;
                    return;
                }
                let ack = json!({"jsonrpc":"2.0","id":id,"result":{}});
                let _ = ws.send(Message::text(ack.to_string())).await;
                match mode {
                    Mode::Close => {
                        let _ = ws.close(None).await;
                        return;
                    }
                    Mode::Garbage => {
                        for m in garbage_script(&id) {
                            let _ = ws.send(m).await;
                        }
                    }
                    Mode::Huge => {
                        let _ = ws.send(Message::text("x".repeat(2 << 20))).await;
                    }
                    Mode::Quiet { events } => {
                        let heights = heights.as_mut().expect("heights to push");
                        heights.borrow_and_update();
                        for _ in 0..events {
                            if heights.changed().await.is_err() {
                                return;
                            }
                            let h = *heights.borrow_and_update();
                            if ws.send(event(&id, h)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Mode::Deaf => {
                        // Holds the connection without reading it (so without pongs).
                        std::future::pending::<()>().await;
                    }
                    Mode::EventAfterPings(pings) => {
                        let mut seen = 0;
                        while let Some(Ok(m)) = ws.next().await {
                            if matches!(m, Message::Ping(_)) {
                                seen += 1;
                                if seen == pings {
                                    let _ = ws.send(event(&id, 7)).await;
                                }
                            }
                        }
                        return;
                    }
                    Mode::Silent | Mode::Refuse => {}
                }
                // Keep the connection open, reading (and answering pings), until the client goes.
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    StandIn { url, subscriptions }
}

/// An honest devnet node over JSON-RPC that says it is at `url` (whose `/websocket` is a
/// stand-in).
#[derive(Debug)]
struct Relay {
    url: String,
    inner: RpcProvider,
}

impl Provider for Relay {
    fn url(&self) -> &str {
        &self.url
    }
    fn status(&self) -> BoxFuture<'_, Result<NodeInfo, ProviderError>> {
        self.inner.status()
    }
    fn signed_header(
        &self,
        height: Option<Height>,
    ) -> BoxFuture<'_, Result<SignedHeader, ProviderError>> {
        self.inner.signed_header(height)
    }
    fn header(&self, height: Height) -> BoxFuture<'_, Result<Header, ProviderError>> {
        self.inner.header(height)
    }
    fn validators(&self, height: Height) -> BoxFuture<'_, Result<ValidatorSet, ProviderError>> {
        self.inner.validators(height)
    }
    fn abci_query<'a>(
        &'a self,
        path: &'a str,
        data: &'a [u8],
        height: Height,
    ) -> BoxFuture<'a, Result<QueryAnswer, ProviderError>> {
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
        evidence: &'a Value,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        self.inner.broadcast_evidence(evidence)
    }
}

fn relay(stand_in: &StandIn, rpc_url: &str) -> Arc<dyn Provider> {
    Arc::new(Relay {
        url: stand_in.url.clone(),
        inner: RpcProvider::new(rpc_url, quick_rpc()).unwrap(),
    })
}

/// For `seconds`: the head keeps reaching the chain's height within 1.5 s (polling every
/// 300 ms).
async fn follows_by_polling(net: &Devnet, node: &LightNode, seconds: u64) {
    follows_within(net, node, seconds, Duration::from_millis(1500)).await;
}

async fn follows_within(net: &Devnet, node: &LightNode, seconds: u64, within: Duration) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < deadline {
        let h = net.chain().latest_height();
        assert!(
            head_reaches(node, h, within).await.is_some(),
            "head {} short of {h} by polling: {:?}",
            head(node),
            node.status()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_subscription_falls_back_to_polling_and_is_made_again() {
    let net = start_net(vec![]).await;
    let urls = net.rpc_urls().to_vec();
    let silent = stand_in(Mode::Silent).await;
    let started = Instant::now();
    let (node, stopper, task) = follow(
        &net,
        relay(&silent, &urls[0]),
        vec![rpc(&urls[1])],
        Duration::from_millis(300),
    )
    .await;
    follows_by_polling(&net, &node, 3).await;
    // Silence is noticed after a poll interval behind the chain; then subscribed again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while silent.subscriptions.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let n = silent.subscriptions.load(Ordering::SeqCst);
    assert!(n >= 2, "subscribed {n} times");
    println!(
        "silent subscription: {n} subscriptions in {:?}, head {} by polling",
        started.elapsed(),
        head(&node)
    );
    stop(stopper, task).await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_that_goes_quiet_falls_back_to_polling_and_is_made_again() {
    let net = start_net(vec![]).await;
    let urls = net.rpc_urls().to_vec();
    let quiet = stand_in_over(
        Mode::Quiet { events: 8 },
        Some(net.chain().subscribe_heights()),
    )
    .await;
    let (node, stopper, task) = follow(
        &net,
        relay(&quiet, &urls[0]),
        vec![rpc(&urls[1])],
        Duration::from_millis(300),
    )
    .await;
    assert!(head_reaches(&node, 1, Duration::from_secs(10))
        .await
        .is_some());
    // Live: each block within a second.
    let slowest = follows_each_block(&net, &node, 4).await;
    // Then quiet: the slow poll (1.5 s) notices, the node polls every 300 ms and subscribes
    // again (whose 8 events make it live again, and so on).
    follows_within(&net, &node, 6, Duration::from_millis(2500)).await;
    let n = quiet.subscriptions.load(Ordering::SeqCst);
    assert!(n >= 2, "subscribed {n} times");
    println!("quiet subscription: live blocks within {slowest:?}, then {n} subscriptions");
    stop(stopper, task).await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_subscription_falls_back_to_polling_and_reconnects_with_backoff() {
    let net = start_net(vec![]).await;
    let urls = net.rpc_urls().to_vec();
    let closing = stand_in(Mode::Close).await;
    let (node, stopper, task) = follow(
        &net,
        relay(&closing, &urls[0]),
        vec![rpc(&urls[1])],
        Duration::from_millis(300),
    )
    .await;
    let started = Instant::now();
    follows_by_polling(&net, &node, 4).await;
    let n = closing.subscriptions.load(Ordering::SeqCst);
    // Pauses of 250, 500, 1000, 2000 ms: about 4 or 5 connections in 4 s, not hundreds.
    assert!(
        (3..=7).contains(&n),
        "{n} subscriptions in {:?}",
        started.elapsed()
    );
    println!(
        "closing subscription: {n} subscriptions in {:?}",
        started.elapsed()
    );
    stop(stopper, task).await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_frames_are_ignored_and_counted_and_polling_goes_on() {
    let config = SubscribeConfig::default();
    let garbage = stand_in(Mode::Garbage).await;
    let mut sub = NewBlockSubscription::connect(&garbage.url, &config)
        .await
        .unwrap();
    assert!(sub.url().ends_with("/websocket"), "{}", sub.url());
    assert_eq!(sub.next_height().await.unwrap(), Height(10));
    assert_eq!(sub.garbage_frames(), 3);
    assert_eq!(sub.next_height().await.unwrap(), Height(11));
    assert_eq!(sub.garbage_frames(), 5, "the ping is not garbage");
    // A stream of nothing but garbage gives the connection up.
    assert_eq!(
        sub.next_height().await.unwrap_err(),
        SubscribeError::Garbage(config.max_garbage_in_a_row)
    );
    assert_eq!(sub.garbage_frames(), 5 + 32);

    // Following through it still advances, by polling.
    let net = start_net(vec![]).await;
    let urls = net.rpc_urls().to_vec();
    let (node, stopper, task) = follow(
        &net,
        relay(&garbage, &urls[0]),
        vec![rpc(&urls[1])],
        Duration::from_millis(300),
    )
    .await;
    follows_by_polling(&net, &node, 2).await;
    stop(stopper, task).await;
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_refused_and_missing_subscriptions_fail_cleanly() {
    let config = SubscribeConfig {
        max_frame_bytes: 64 * 1024,
        connect_timeout: Duration::from_millis(1500),
        ..SubscribeConfig::default()
    };
    let huge = stand_in(Mode::Huge).await;
    let mut sub = NewBlockSubscription::connect(&huge.url, &config)
        .await
        .unwrap();
    let err = sub.next_height().await.unwrap_err();
    assert!(matches!(err, SubscribeError::Closed(_)), "{err:?}");

    let refuse = stand_in(Mode::Refuse).await;
    let err = NewBlockSubscription::connect(&refuse.url, &config)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SubscribeError::Refused(m) if m.contains("max_subscriptions")),
        "{err:?}"
    );

    // Nothing listening; not a WebSocket server; TLS to a plain server; no URL to map.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nobody = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    assert!(matches!(
        NewBlockSubscription::connect(&nobody, &config).await,
        Err(SubscribeError::Connect { .. })
    ));
    let net = start_net(vec![]).await;
    let plain = net.rpc_urls()[0].clone();
    let not_ws = format!("{plain}/status?");
    assert!(matches!(
        NewBlockSubscription::connect(&not_ws, &config).await,
        Err(SubscribeError::Unsupported(_))
    ));
    let tls = plain.replace("http://", "https://");
    let err = NewBlockSubscription::connect(&tls, &config)
        .await
        .unwrap_err();
    // The plain server answers the TLS hello with an HTTP error or waits for a request line;
    // on a loaded machine the connect deadline may end the wait first. Either way: no stream.
    assert!(
        matches!(
            err,
            SubscribeError::Connect { .. } | SubscribeError::Timeout(_)
        ),
        "{err:?}"
    );
    assert!(matches!(
        NewBlockSubscription::connect("mem://primary", &config).await,
        Err(SubscribeError::Unsupported(_))
    ));
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_devnet_pushes_each_height_and_a_garbage_node_gives_no_subscription() {
    let net = start_net(vec![(1, Behaviour::Garbage), (2, Behaviour::Timeout)]).await;
    let urls = net.rpc_urls().to_vec();
    let config = SubscribeConfig {
        connect_timeout: Duration::from_millis(1500),
        ..SubscribeConfig::default()
    };
    let mut sub = NewBlockSubscription::connect(&urls[0], &config)
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), sub.next_height())
        .await
        .unwrap()
        .unwrap();
    for i in 1..=5 {
        let next = tokio::time::timeout(Duration::from_secs(5), sub.next_height())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(next.value(), first.value() + i);
    }
    assert_eq!(sub.garbage_frames(), 0);
    // A garbage node never acknowledges (its frames are counted, then given up on or timed
    // out); a timeout node acknowledges and then says nothing.
    let err = NewBlockSubscription::connect(&urls[1], &config)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SubscribeError::Garbage(_) | SubscribeError::Timeout(_)),
        "{err:?}"
    );
    let mut silent = NewBlockSubscription::connect(&urls[2], &config)
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_secs(1), silent.next_height())
            .await
            .is_err(),
        "a timeout node pushes nothing"
    );
    net.shutdown().await;
}

fn keepalive_config() -> SubscribeConfig {
    SubscribeConfig {
        ping_after: Duration::from_millis(50),
        pong_timeout: Duration::from_millis(200),
        ..SubscribeConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_subscription_pings_and_stays_while_the_node_answers() {
    let node = stand_in(Mode::EventAfterPings(3)).await;
    let mut sub = NewBlockSubscription::connect(&node.url, &keepalive_config())
        .await
        .unwrap();
    // Nothing comes for three idle periods: the client pings each time, the node answers,
    // the connection stays, and the event after the third ping arrives on it.
    assert_eq!(sub.next_height().await.unwrap(), Height(7));
    assert!(sub.pings_sent() >= 3, "{} pings", sub.pings_sent());
    assert_eq!(node.subscriptions.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_whose_pongs_stop_is_given_up_and_made_again() {
    let node = stand_in(Mode::Deaf).await;
    let config = keepalive_config();
    let mut sub = NewBlockSubscription::connect(&node.url, &config)
        .await
        .unwrap();
    let err = sub.next_height().await.unwrap_err();
    assert_eq!(err, SubscribeError::NoPong(config.pong_timeout));
    assert_eq!(sub.pings_sent(), 1);

    // The follow loop's task reconnects after such a loss: the node sees new subscriptions.
    let net = start_net(vec![]).await;
    let urls = net.rpc_urls().to_vec();
    let (light, stopper, task) = follow_subscribed(
        &net,
        relay(&node, &urls[0]),
        vec![rpc(&urls[1])],
        Duration::from_millis(300),
        config,
    )
    .await;
    follows_by_polling(&net, &light, 2).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while node.subscriptions.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let n = node.subscriptions.load(Ordering::SeqCst);
    assert!(n >= 3, "subscribed {n} times");
    stop(stopper, task).await;
    net.shutdown().await;
}

/// Polling (no subscription: the in-memory node has no `/websocket`), a quiet chain costs a
/// `/status` per poll, not a light block: the primary's height is asked first, and a light
/// block is fetched once there is a new block.
#[tokio::test(flavor = "multi_thread")]
async fn a_quiet_chain_is_polled_by_status_not_by_light_blocks() {
    use crate::support::{config, identity, stable_chain};
    use light_node::testing::MemoryProvider;
    use light_node::ManualClock;

    let chain = stable_chain(11);
    let cfg = config(&chain[0]);
    let store = SqliteStore::in_memory(identity(&cfg), PruneWindow::default())
        .await
        .unwrap();
    let primary = Arc::new(MemoryProvider::new("mem://primary", chain.clone()));
    primary.truncate(10);
    let witness = Arc::new(MemoryProvider::new("mem://witness", chain.clone()));
    witness.truncate(10);
    // Block 10's time plus a second: far from stale (blocks are 5 s apart).
    let clock = Arc::new(ManualClock::new(
        chain[9].time().checked_add(Duration::from_secs(1)).unwrap(),
    ));
    let options = NodeOptions {
        poll_interval: Duration::from_millis(20),
        ..NodeOptions::default()
    };
    let node = LightNode::new(
        cfg,
        store,
        primary.clone() as Arc<dyn Provider>,
        vec![witness.clone() as Arc<dyn Provider>],
        clock.clone(),
        options,
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(node.sync().await.unwrap().height, Height(10));
    let (stop_tx, stop_rx) = watch::channel(false);
    let follower = node.clone();
    let task = tokio::spawn(async move { follower.follow(stop_rx).await });

    // Quiet: the first round syncs (one light block at most), then polls ask the height.
    let before = primary.requests();
    while primary.requests() < before + 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let quiet_blocks = primary.light_blocks_served();
    let quiet_requests = primary.requests();
    while primary.requests() < quiet_requests + 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        primary.light_blocks_served(),
        quiet_blocks,
        "20 polls of a quiet chain fetched light blocks"
    );

    // A new block: fetched and verified.
    primary.put(chain[10].clone());
    witness.put(chain[10].clone());
    assert!(
        head_reaches(&node, 11, Duration::from_secs(10))
            .await
            .is_some(),
        "the new block was not followed"
    );
    assert!(primary.light_blocks_served() > quiet_blocks);
    stop(stop_tx, task).await;
}
