//! [`NewBlockSubscription`]: a full node's `/websocket` subscription to
//! `tm.event='NewBlockHeader'`, used only as a wake-up: "height H is available". The header
//! in the event is never trusted; the node syncs and verifies as usual when it wakes.
//!
//! [`NewBlocks`] is what [`crate::LightNode::follow`] waits on: a background task that keeps
//! a subscription to the current primary (reconnecting with backoff), and the rules that
//! decide when the subscription is live (then the node only polls slowly, as a safety net)
//! and when it is broken or silent (then the node polls at its normal interval).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use light_client::Height;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

/// The query subscribed to.
pub const NEW_BLOCK_HEADER_QUERY: &str = "tm.event='NewBlockHeader'";

/// The JSON-RPC id of the `subscribe` request (CometBFT repeats it in every event).
const SUBSCRIBE_ID: &str = "tradeseal-new-block-header";

/// While subscribed, the node polls this many times less often (the safety net).
pub(crate) const SLOW_POLL_FACTOR: u32 = 5;

/// A subscription whose last event is more than this many blocks below the verified head is
/// behind (a block or two may be in flight while a sync runs).
const LAG_BLOCKS: u64 = 2;

/// The shortest time between two wake-ups by the subscription (a node pushing events in a
/// flood cannot make the light node sync without pause).
const MIN_WAKE_GAP: Duration = Duration::from_millis(50);

/// Limits and patience of the subscription client.
#[derive(Debug, Clone)]
pub struct SubscribeConfig {
    /// Time allowed to connect, upgrade and have the subscription acknowledged.
    pub connect_timeout: Duration,
    /// The largest frame (and message) read, in bytes; a larger one closes the connection.
    /// A `NewBlockHeader` event is about 2 KB.
    pub max_frame_bytes: usize,
    /// Pause before the first reconnection; doubled for each further one.
    pub backoff: Duration,
    /// The longest pause between reconnections.
    pub max_backoff: Duration,
    /// Frames in a row that are not events (ignored and counted) before the connection is
    /// given up as broken.
    pub max_garbage_in_a_row: u32,
    /// After this long without any frame from the node, a WebSocket ping is sent (a
    /// connection dropped by a NAT or a proxy without a close is otherwise never noticed).
    pub ping_after: Duration,
    /// After a ping, the time allowed for any frame (the pong, or anything else) before the
    /// connection is given up as dead and made again.
    pub pong_timeout: Duration,
}

impl Default for SubscribeConfig {
    fn default() -> Self {
        SubscribeConfig {
            connect_timeout: Duration::from_secs(3),
            max_frame_bytes: 256 * 1024,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            max_garbage_in_a_row: 32,
            ping_after: Duration::from_secs(20),
            pong_timeout: Duration::from_secs(10),
        }
    }
}

/// Why a subscription could not be made or kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    /// The node's URL has no WebSocket counterpart (not `http://` or `https://`).
    #[error("{0}: no WebSocket endpoint for this URL")]
    Unsupported(String),
    /// Connecting or the WebSocket upgrade failed (refused, TLS, HTTP status, no endpoint).
    #[error("connecting to {url}: {reason}")]
    Connect {
        /// The WebSocket URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// No acknowledgement of the subscription in time.
    #[error("no answer to subscribe within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The node answered the subscription with an error.
    #[error("the node refused the subscription: {0}")]
    Refused(String),
    /// The connection ended (closed, reset, a frame over the size limit).
    #[error("connection lost: {0}")]
    Closed(String),
    /// Too many frames in a row that are not events.
    #[error("{0} frames in a row were not events")]
    Garbage(u32),
    /// No frame, not even the pong, within the time allowed after a ping.
    #[error("no answer to a ping within {} ms", .0.as_millis())]
    NoPong(Duration),
}

/// The WebSocket endpoint of a JSON-RPC URL: `ws://` for `http://`, `wss://` for
/// `https://`, with `/websocket` appended to the path. `None` for other schemes.
pub fn websocket_url(rpc_url: &str) -> Option<String> {
    let trimmed = rpc_url.trim_end_matches('/');
    let (scheme, rest) = trimmed.split_once("://")?;
    let ws = match scheme.to_ascii_lowercase().as_str() {
        "http" => "ws",
        "https" => "wss",
        _ => return None,
    };
    if rest.is_empty() || rest.contains(['?', '#']) {
        return None;
    }
    Some(format!("{ws}://{rest}/websocket"))
}

/// What one text frame is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Frame {
    /// `{"result": {}}` for the subscribe request.
    Ack,
    /// An error answer to the subscribe request.
    Refused(String),
    /// A `NewBlockHeader` event (or `NewBlock`) claiming this height.
    Event(Height),
    /// Anything else: not JSON, not an event, a truncated or malformed one.
    Garbage,
}

fn ours(id: Option<&Value>) -> bool {
    // CometBFT before v0.34 appended "#event" to the id in events.
    id.and_then(Value::as_str)
        .is_some_and(|s| s == SUBSCRIBE_ID || s.strip_suffix("#event") == Some(SUBSCRIBE_ID))
}

fn height_of(value: &Value) -> Option<Height> {
    let h = value.get("height")?;
    let n = match h {
        Value::String(s) => s.parse::<u64>().ok()?,
        Value::Number(n) => n.as_u64()?,
        _ => return None,
    };
    (n > 0).then_some(Height(n))
}

fn classify(text: &str) -> Frame {
    let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(text) else {
        return Frame::Garbage;
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") || !ours(obj.get("id")) {
        return Frame::Garbage;
    }
    if let Some(err) = obj.get("error").filter(|e| !e.is_null()) {
        let message = err.get("message").and_then(Value::as_str).unwrap_or("");
        let data = err.get("data").and_then(Value::as_str).unwrap_or("");
        let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
        return Frame::Refused(format!("{code} {message} {data}").trim().to_owned());
    }
    let Some(Value::Object(result)) = obj.get("result") else {
        return Frame::Garbage;
    };
    if result.is_empty() {
        return Frame::Ack;
    }
    let Some(data) = result.get("data") else {
        return Frame::Garbage;
    };
    let value = data.get("value");
    let header = match data.get("type").and_then(Value::as_str) {
        Some("tendermint/event/NewBlockHeader") => value.and_then(|v| v.get("header")),
        Some("tendermint/event/NewBlock") => value
            .and_then(|v| v.get("block"))
            .and_then(|b| b.get("header")),
        _ => None,
    };
    match header.and_then(height_of) {
        Some(h) => Frame::Event(h),
        None => Frame::Garbage,
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// TLS for `wss://`: rustls with ring and the platform's verifier, as the JSON-RPC client.
fn tls_connector() -> Result<Connector, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        use rustls_platform_verifier::BuilderVerifierExt as _;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_platform_verifier())
            .map(|b| Arc::new(b.with_no_client_auth()))
            .map_err(|e| format!("TLS configuration: {e}"))
    });
    config.clone().map(Connector::Rustls)
}

/// A live `tm.event='NewBlockHeader'` subscription on one full node.
#[derive(Debug)]
pub struct NewBlockSubscription {
    url: String,
    socket: Socket,
    garbage: u64,
    garbage_in_a_row: u32,
    max_garbage_in_a_row: u32,
    ping_after: Duration,
    pong_timeout: Duration,
    /// When the ping still unanswered was sent.
    ping_sent: Option<Instant>,
    pings: u64,
}

impl NewBlockSubscription {
    /// Connects to the `/websocket` endpoint of the node at `rpc_url` (its JSON-RPC URL,
    /// `http://` or `https://`), subscribes, and waits for the acknowledgement, all within
    /// `config.connect_timeout`.
    pub async fn connect(
        rpc_url: &str,
        config: &SubscribeConfig,
    ) -> Result<NewBlockSubscription, SubscribeError> {
        let url = websocket_url(rpc_url)
            .ok_or_else(|| SubscribeError::Unsupported(rpc_url.to_owned()))?;
        match tokio::time::timeout(config.connect_timeout, Self::open(url, config)).await {
            Ok(result) => result,
            Err(_) => Err(SubscribeError::Timeout(config.connect_timeout)),
        }
    }

    async fn open(
        url: String,
        config: &SubscribeConfig,
    ) -> Result<NewBlockSubscription, SubscribeError> {
        let connect_error = |reason: String| SubscribeError::Connect {
            url: url.clone(),
            reason,
        };
        let connector = if url.starts_with("wss://") {
            Some(tls_connector().map_err(connect_error)?)
        } else {
            Some(Connector::Plain)
        };
        let limit = config.max_frame_bytes.max(1024);
        let ws_config = WebSocketConfig::default()
            .max_frame_size(Some(limit))
            .max_message_size(Some(limit))
            .read_buffer_size(limit.min(64 * 1024))
            .write_buffer_size(0)
            .max_write_buffer_size(64 * 1024);
        let (socket, _response) = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            Some(ws_config),
            true,
            connector,
        )
        .await
        .map_err(|e| connect_error(e.to_string()))?;
        let mut sub = NewBlockSubscription {
            url,
            socket,
            garbage: 0,
            garbage_in_a_row: 0,
            max_garbage_in_a_row: config.max_garbage_in_a_row.max(1),
            ping_after: config.ping_after.max(Duration::from_millis(10)),
            pong_timeout: config.pong_timeout.max(Duration::from_millis(10)),
            ping_sent: None,
            pings: 0,
        };
        let request = json!({
            "jsonrpc": "2.0",
            "id": SUBSCRIBE_ID,
            "method": "subscribe",
            "params": {"query": NEW_BLOCK_HEADER_QUERY},
        });
        sub.socket
            .send(Message::text(request.to_string()))
            .await
            .map_err(|e| SubscribeError::Closed(e.to_string()))?;
        loop {
            match sub.next_frame().await? {
                // An event before the answer also means the subscription is there.
                Frame::Ack | Frame::Event(_) => return Ok(sub),
                Frame::Refused(why) => return Err(SubscribeError::Refused(why)),
                Frame::Garbage => sub.count_garbage()?,
            }
        }
    }

    /// The WebSocket URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Frames ignored so far because they were not events (not JSON, binary, not an answer,
    /// truncated).
    pub fn garbage_frames(&self) -> u64 {
        self.garbage
    }

    /// Pings sent so far because the connection was idle.
    pub fn pings_sent(&self) -> u64 {
        self.pings
    }

    /// The height of the next event: "a block at this height is available". Unverified: it
    /// only says when to sync. Frames that are not events are ignored and counted.
    pub async fn next_height(&mut self) -> Result<Height, SubscribeError> {
        loop {
            match self.next_frame().await? {
                Frame::Event(h) => {
                    self.garbage_in_a_row = 0;
                    return Ok(h);
                }
                // A repeated answer or an error after the subscription: not an event.
                Frame::Ack | Frame::Refused(_) | Frame::Garbage => self.count_garbage()?,
            }
        }
    }

    fn count_garbage(&mut self) -> Result<(), SubscribeError> {
        self.garbage += 1;
        self.garbage_in_a_row += 1;
        if self.garbage_in_a_row == 1 {
            tracing::debug!(node = %self.url, total = self.garbage, "ignored a frame that is not an event");
        }
        if self.garbage_in_a_row >= self.max_garbage_in_a_row {
            return Err(SubscribeError::Garbage(self.garbage_in_a_row));
        }
        Ok(())
    }

    /// The next frame; pings the node when it has been idle for `ping_after`, and gives the
    /// connection up when nothing arrives within `pong_timeout` of a ping.
    async fn next_frame(&mut self) -> Result<Frame, SubscribeError> {
        loop {
            let wait = match self.ping_sent {
                Some(sent) => (sent + self.pong_timeout).saturating_duration_since(Instant::now()),
                None => self.ping_after,
            };
            let next = match tokio::time::timeout(wait, self.socket.next()).await {
                Ok(next) => next,
                Err(_) if self.ping_sent.is_some() => {
                    return Err(SubscribeError::NoPong(self.pong_timeout));
                }
                Err(_) => {
                    self.pings += 1;
                    let payload = self.pings.to_be_bytes().to_vec();
                    self.socket
                        .send(Message::Ping(payload.into()))
                        .await
                        .map_err(|e| SubscribeError::Closed(e.to_string()))?;
                    self.ping_sent = Some(Instant::now());
                    continue;
                }
            };
            let message = match next {
                None => return Err(SubscribeError::Closed("closed by the node".into())),
                Some(Err(e)) => return Err(SubscribeError::Closed(e.to_string())),
                Some(Ok(m)) => m,
            };
            // Any frame shows the connection is alive.
            self.ping_sent = None;
            return Ok(match message {
                Message::Text(text) => classify(text.as_str()),
                Message::Binary(_) => Frame::Garbage,
                // Pongs to pings are sent by the WebSocket layer.
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
                Message::Close(frame) => {
                    return Err(SubscribeError::Closed(match frame {
                        Some(f) => format!("closed by the node ({} {})", f.code, f.reason),
                        None => "closed by the node".into(),
                    }))
                }
            });
        }
    }
}

/// What the background task reports about the current connection.
#[derive(Debug, Clone, Default)]
struct Feed {
    /// Counts successful subscriptions; 0 before the first.
    generation: u64,
    /// A subscription is acknowledged and open.
    subscribed: bool,
    /// The highest height an event of this connection claimed.
    latest: Option<Height>,
}

/// The task that keeps a subscription to one node.
#[derive(Debug)]
struct Task {
    rpc_url: String,
    feed: watch::Receiver<Feed>,
    /// Tells the task to drop the connection of this generation (found silent).
    drop_generation: watch::Sender<u64>,
    handle: JoinHandle<()>,
}

impl Drop for Task {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// New-block wake-ups for [`crate::LightNode::follow`]: the subscription to the current
/// primary, when it has one, and whether to trust it enough to poll slowly.
#[derive(Debug)]
pub(crate) struct NewBlocks {
    config: SubscribeConfig,
    poll_interval: Duration,
    task: Option<Task>,
    /// The verified head after the last sync.
    head: Option<Height>,
    /// The connection the checks below are about, and the head when it was first seen.
    generation: u64,
    baseline: Option<Height>,
    /// Since when the subscription has been behind the verified head.
    behind_since: Option<Instant>,
    last_wake: Option<Instant>,
}

impl NewBlocks {
    pub(crate) fn new(poll_interval: Duration, config: SubscribeConfig) -> NewBlocks {
        NewBlocks {
            config,
            poll_interval,
            task: None,
            head: None,
            generation: 0,
            baseline: None,
            behind_since: None,
            last_wake: None,
        }
    }

    /// Subscribes to `rpc_url` (the primary) unless already; drops the subscription to a
    /// former primary.
    pub(crate) fn track(&mut self, rpc_url: &str) {
        if self.task.as_ref().is_some_and(|t| t.rpc_url == rpc_url) {
            return;
        }
        self.task = None;
        self.generation = 0;
        self.baseline = None;
        self.behind_since = None;
        if websocket_url(rpc_url).is_none() {
            return;
        }
        let (feed_tx, feed) = watch::channel(Feed::default());
        let (drop_generation, drop_rx) = watch::channel(0);
        let handle = tokio::spawn(keep_subscribed(
            rpc_url.to_owned(),
            self.config.clone(),
            feed_tx,
            drop_rx,
        ));
        self.task = Some(Task {
            rpc_url: rpc_url.to_owned(),
            feed,
            drop_generation,
            handle,
        });
    }

    /// After a sync that verified up to `head`: checks that the subscription keeps up with
    /// the chain. One that stays more than [`LAG_BLOCKS`] behind for a poll interval is
    /// silent: it is dropped (and made again after a pause) and the node polls meanwhile.
    pub(crate) fn synced(&mut self, head: Height) {
        self.head = Some(head);
        let Some(task) = &self.task else { return };
        let feed = task.feed.borrow().clone();
        if !feed.subscribed {
            self.behind_since = None;
            return;
        }
        if feed.generation != self.generation {
            self.generation = feed.generation;
            self.baseline = Some(head);
            self.behind_since = None;
        }
        let seen = feed.latest.max(self.baseline).unwrap_or(head);
        if head.value() <= seen.value().saturating_add(LAG_BLOCKS) {
            self.behind_since = None;
            return;
        }
        let now = Instant::now();
        let since = *self.behind_since.get_or_insert(now);
        if now.duration_since(since) >= self.poll_interval {
            tracing::warn!(
                node = %task.rpc_url,
                head = %head,
                last_event = ?feed.latest.map(|h| h.value()),
                "the new-block subscription is silent: polling, and subscribing again"
            );
            task.drop_generation.send_replace(feed.generation);
            self.behind_since = None;
        }
    }

    /// The subscription delivers events and keeps up: the node may poll slowly.
    pub(crate) fn is_live(&self) -> bool {
        self.task.as_ref().is_some_and(|t| {
            let feed = t.feed.borrow();
            feed.subscribed && feed.latest.is_some() && feed.generation == self.generation
        }) && self.behind_since.is_none()
    }

    /// How long to wait for the next sync when no event comes: the poll interval, times
    /// [`SLOW_POLL_FACTOR`] while the subscription is live.
    pub(crate) fn poll_wait(&self) -> Duration {
        if self.is_live() {
            self.poll_interval * SLOW_POLL_FACTOR
        } else {
            self.poll_interval
        }
    }

    /// Waits until an event claims a height above the verified head (answers `true`), or
    /// `timeout` (answers `false`).
    pub(crate) async fn wait(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let Some(task) = self.task.as_mut() else {
            tokio::time::sleep_until(deadline).await;
            return false;
        };
        loop {
            let announced = task.feed.borrow_and_update().latest;
            if announced.is_some_and(|h| self.head.is_none_or(|head| h > head)) {
                if let Some(last) = self.last_wake {
                    tokio::time::sleep_until((last + MIN_WAKE_GAP).min(deadline)).await;
                }
                self.last_wake = Some(Instant::now());
                return true;
            }
            match tokio::time::timeout_at(deadline, task.feed.changed()).await {
                Ok(Ok(())) => {}
                Err(_) => return false,
                // The task ended (it does not, but then: poll).
                Ok(Err(_)) => {
                    tokio::time::sleep_until(deadline).await;
                    return false;
                }
            }
        }
    }
}

/// Keeps a subscription to the node at `rpc_url`: connects, reports each event's height,
/// and after a failure (or when told the connection is silent) pauses with doubling backoff
/// and connects again. The pause starts over once a connection delivers an event.
async fn keep_subscribed(
    rpc_url: String,
    config: SubscribeConfig,
    feed: watch::Sender<Feed>,
    mut drop_generation: watch::Receiver<u64>,
) {
    let mut pause = config.backoff;
    let mut failures = 0u32;
    loop {
        match NewBlockSubscription::connect(&rpc_url, &config).await {
            Ok(mut sub) => {
                let mut generation = 0;
                feed.send_modify(|f| {
                    f.generation += 1;
                    generation = f.generation;
                    f.subscribed = true;
                    f.latest = None;
                });
                tracing::debug!(node = %rpc_url, "subscribed to new block headers");
                let why = loop {
                    tokio::select! {
                        next = sub.next_height() => match next {
                            Ok(height) => {
                                pause = config.backoff;
                                failures = 0;
                                feed.send_modify(|f| f.latest = f.latest.max(Some(height)));
                            }
                            Err(e) => break e.to_string(),
                        },
                        _ = drop_generation.wait_for(|g| *g == generation) => {
                            break "no event while the chain went on".to_owned();
                        }
                    }
                };
                feed.send_modify(|f| {
                    f.subscribed = false;
                    f.latest = None;
                });
                tracing::warn!(
                    node = %rpc_url,
                    reason = %why,
                    ignored_frames = sub.garbage_frames(),
                    retry_ms = pause.as_millis() as u64,
                    "new-block subscription lost: polling until it is back"
                );
            }
            Err(e) => {
                failures += 1;
                // The first failure is worth a warning; a node without the endpoint is normal.
                if failures == 1 {
                    tracing::info!(node = %rpc_url, error = %e, "no new-block subscription: polling");
                } else {
                    tracing::debug!(node = %rpc_url, error = %e, "new-block subscription failed again");
                }
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(config.max_backoff.max(config.backoff));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls_follow_the_rpc_url() {
        assert_eq!(
            websocket_url("http://127.0.0.1:26657").as_deref(),
            Some("ws://127.0.0.1:26657/websocket")
        );
        assert_eq!(
            websocket_url("https://rpc.example.org/cometbft/").as_deref(),
            Some("wss://rpc.example.org/cometbft/websocket")
        );
        assert_eq!(
            websocket_url("HTTP://node:1").as_deref(),
            Some("ws://node:1/websocket")
        );
        for none in [
            "mem://primary",
            "ws://x/websocket",
            "http://",
            "no-scheme",
            "http://x?a=1",
        ] {
            assert_eq!(websocket_url(none), None, "{none}");
        }
    }

    fn event(height: &str) -> String {
        json!({"jsonrpc":"2.0","id":SUBSCRIBE_ID,"result":{
            "query": NEW_BLOCK_HEADER_QUERY,
            "data": {"type":"tendermint/event/NewBlockHeader","value":{"header":{"height":height}}},
            "events": {"tm.event":["NewBlockHeader"]}}})
        .to_string()
    }

    #[test]
    fn frames_are_classified() {
        assert_eq!(
            classify(&json!({"jsonrpc":"2.0","id":SUBSCRIBE_ID,"result":{}}).to_string()),
            Frame::Ack
        );
        assert_eq!(classify(&event("12")), Frame::Event(Height(12)));
        let block = json!({"jsonrpc":"2.0","id":format!("{SUBSCRIBE_ID}#event"),"result":{
            "data": {"type":"tendermint/event/NewBlock","value":{"block":{"header":{"height":"7"}}}}}});
        assert_eq!(classify(&block.to_string()), Frame::Event(Height(7)));
        assert!(matches!(
            classify(&json!({"jsonrpc":"2.0","id":SUBSCRIBE_ID,"error":{"code":-32603,"message":"already subscribed"}}).to_string()),
            Frame::Refused(m) if m.contains("already subscribed")
        ));
        let truncated = &event("5")[..60];
        for garbage in [
            "\u{0}<html>definitely not json\u{7}",
            r#"{"jsonrpc":"2.0","id":0,"result":{"query":5,"data":"nope"}}"#,
            r#"{"jsonrpc":"2.0","id":"tradeseal-new-block-header","result":{"query":5,"data":"nope"}}"#,
            truncated,
            &event("0"),
            &event("x"),
            &event("5").replace(SUBSCRIBE_ID, "someone-else"),
            &event("5").replace("NewBlockHeader\",\"value", "Tx\",\"value"),
            "[1,2]",
            "",
        ] {
            assert_eq!(classify(garbage), Frame::Garbage, "{garbage}");
        }
    }
}
