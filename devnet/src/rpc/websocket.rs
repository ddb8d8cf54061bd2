//! A full node's `/websocket` endpoint, as CometBFT's: JSON-RPC 2.0 over WebSocket, with
//! `subscribe` / `unsubscribe` / `unsubscribe_all` for block events (`NewBlockHeader`,
//! `NewBlock`) and transaction events (`Tx`, one per transaction, with its result and
//! attributes; queries may add `AND key = value` conditions), and every other RPC method
//! answered as over HTTP. What is pushed follows the node's behaviour: its own chain's blocks
//! (forged ones for fork and lunatic nodes), nothing past a stale node's height, nothing at all
//! from a timeout node, garbage from a garbage node.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Value};

use super::jsonrpc::{self, Body, Call, Entry, Params, RpcError};
use super::{methods, run, Node};
use crate::behaviour::Behaviour;
use crate::seal::BlockRecord;

/// CometBFT's default `max_subscriptions_per_client`.
pub const MAX_SUBSCRIPTIONS: usize = 5;

/// The events one can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    NewBlockHeader,
    NewBlock,
    Tx,
}

impl EventKind {
    fn name(self) -> &'static str {
        match self {
            Self::NewBlockHeader => "NewBlockHeader",
            Self::NewBlock => "NewBlock",
            Self::Tx => "Tx",
        }
    }
}

/// A subscription query: `tm.event='NewBlockHeader'`, `tm.event='NewBlock'` or
/// `tm.event='Tx'`, optionally with more conditions joined by `AND`, each `key = value`
/// (a `'quoted'` string or a number), e.g. `tm.event='Tx' AND tx.height=5` or
/// `tm.event='Tx' AND certificate_issued.issuer='KE-KEPHIS'`. An event matches when, for
/// every condition, one of the event's values under that key equals the value (CometBFT's
/// `=`). Other operators (`<`, `CONTAINS`, `EXISTS`, ...) are not served.
#[derive(Debug, Clone, PartialEq, Eq)]
struct EventQuery {
    kind: EventKind,
    /// The conditions other than `tm.event`.
    conditions: Vec<(String, String)>,
}

impl EventQuery {
    fn matches(&self, events: &BTreeMap<String, Vec<String>>) -> bool {
        self.conditions.iter().all(|(key, want)| {
            events
                .get(key)
                .is_some_and(|values| values.iter().any(|v| same_value(v, want)))
        })
    }
}

/// Equal as text, or as numbers when both are numbers (`5` and `'5'`).
fn same_value(a: &str, b: &str) -> bool {
    a == b
        || matches!(
            (a.parse::<i128>(), b.parse::<i128>()),
            (Ok(x), Ok(y)) if x == y
        )
}

fn parse_query(query: &str) -> Result<EventQuery, RpcError> {
    let unsupported = |why: &str| {
        RpcError::params(format!(
            "unsupported query {query:?}: {why}; this node serves tm.event='NewBlockHeader', \
             tm.event='NewBlock' and tm.event='Tx', with more key = value conditions joined by AND"
        ))
    };
    let mut kind = None;
    let mut conditions = Vec::new();
    for part in query.split(" AND ") {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| unsupported("a condition is not key = value"))?;
        let key = key.trim();
        let value = value.trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(unsupported("a key is not an event attribute name"));
        }
        let value = match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            Some(inner) if !inner.contains('\'') => inner.to_string(),
            Some(_) => return Err(unsupported("a value has a quote inside")),
            None if !value.is_empty() && value.parse::<f64>().is_ok() => value.to_string(),
            None => return Err(unsupported("a value is neither 'quoted' nor a number")),
        };
        if key == "tm.event" {
            let k = match value.as_str() {
                "NewBlockHeader" => EventKind::NewBlockHeader,
                "NewBlock" => EventKind::NewBlock,
                "Tx" => EventKind::Tx,
                _ => return Err(unsupported("unknown event type")),
            };
            if kind.replace(k).is_some() {
                return Err(unsupported("tm.event given twice"));
            }
        } else {
            conditions.push((key.to_string(), value));
        }
    }
    let kind = kind.ok_or_else(|| unsupported("no tm.event condition"))?;
    Ok(EventQuery { kind, conditions })
}

#[derive(Debug)]
struct Subscription {
    /// The id of the `subscribe` request, repeated in every event.
    id: Value,
    /// The query as the client wrote it (events carry it back).
    query: String,
    parsed: EventQuery,
    /// The last height pushed.
    last: u64,
}

/// `GET /websocket`: upgrades and runs the session.
pub async fn upgrade(State(node): State<Arc<Node>>, ws: WebSocketUpgrade) -> Response {
    let limit = node.max_body_bytes;
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| session(node, socket))
}

async fn session(node: Arc<Node>, mut socket: WebSocket) {
    let mut heights = node.chain.subscribe_heights();
    let mut shutdown = node.shutdown.clone();
    let mut subs: Vec<Subscription> = Vec::new();
    loop {
        tokio::select! {
            () = async { let _ = shutdown.wait_for(|s| *s).await; } => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            changed = heights.changed() => {
                if changed.is_err() {
                    return;
                }
                if push_events(&node, &mut socket, &mut subs).await.is_err() {
                    return;
                }
            }
            message = socket.recv() => {
                let reply = match message {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(Message::Text(text))) => answer(&node, &mut subs, text.as_bytes()).await,
                    Some(Ok(Message::Binary(_))) => Some(jsonrpc::failure(
                        &Value::Null,
                        &RpcError::InvalidRequest("binary frames are not JSON-RPC: send text".into()),
                    )),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => None,
                };
                let sent = match node.behaviour() {
                    Behaviour::Garbage => socket.send(garbage_frame(&node)).await,
                    _ => match reply {
                        Some(v) => socket.send(Message::Text(v.to_string().into())).await,
                        None => Ok(()),
                    },
                };
                if sent.is_err() {
                    return;
                }
            }
        }
    }
}

/// Answers one text frame: a request or a batch. `None`: nothing to send (notifications, or
/// a timeout node's silence).
async fn answer(node: &Arc<Node>, subs: &mut Vec<Subscription>, bytes: &[u8]) -> Option<Value> {
    let body = match jsonrpc::parse_body(bytes) {
        Ok(b) => b,
        Err(e) => return Some(jsonrpc::failure(&Value::Null, &e)),
    };
    match body {
        Body::Single(entry) => answer_entry(node, subs, entry).await,
        Body::Batch(entries) => {
            let mut out = Vec::new();
            for entry in entries {
                if let Some(v) = answer_entry(node, subs, entry).await {
                    out.push(v);
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
    }
}

async fn answer_entry(
    node: &Arc<Node>,
    subs: &mut Vec<Subscription>,
    entry: Entry,
) -> Option<Value> {
    let call = match entry {
        Entry::Notification => return None,
        Entry::Invalid(id, e) => return Some(jsonrpc::failure(&id, &e)),
        Entry::Call(call) => call,
    };
    let id = call.id.clone();
    let result = match call.method.as_str() {
        "subscribe" => subscribe(node, subs, call),
        "unsubscribe" => unsubscribe(subs, call),
        "unsubscribe_all" => {
            if subs.is_empty() {
                Err(RpcError::internal("subscription not found"))
            } else {
                subs.clear();
                Ok(json!({}))
            }
        }
        _ => {
            // Other methods as over HTTP; a timeout node never answers them.
            if node.behaviour() == Behaviour::Timeout {
                return None;
            }
            run(node.clone(), call.method, call.params, call.raw_params).await
        }
    };
    Some(match result {
        Ok(v) => jsonrpc::success(&id, v),
        Err(e) => jsonrpc::failure(&id, &e),
    })
}

fn query_param(call: Call) -> Result<String, RpcError> {
    Params::resolve(call.params, &["query"])?
        .string("query")?
        .ok_or_else(|| RpcError::params("missing query"))
}

fn subscribe(node: &Node, subs: &mut Vec<Subscription>, call: Call) -> Result<Value, RpcError> {
    let id = call.id.clone();
    let query = query_param(call)?;
    let parsed = parse_query(&query)?;
    if subs.iter().any(|s| s.query == query) {
        return Err(RpcError::internal("already subscribed"));
    }
    if subs.len() >= MAX_SUBSCRIPTIONS {
        return Err(RpcError::internal(format!(
            "max_subscriptions_per_client {MAX_SUBSCRIPTIONS} reached"
        )));
    }
    let last = node.view().latest_height(&node.chain);
    subs.push(Subscription {
        id,
        query,
        parsed,
        last,
    });
    Ok(json!({}))
}

fn unsubscribe(subs: &mut Vec<Subscription>, call: Call) -> Result<Value, RpcError> {
    let query = query_param(call)?;
    let before = subs.len();
    subs.retain(|s| s.query != query);
    if subs.len() == before {
        return Err(RpcError::internal("subscription not found"));
    }
    Ok(json!({}))
}

/// The events `block` makes for a subscription of this kind, in order: one for a block
/// event, one per transaction for `Tx`. Each is the `result` of the frame: the query, the
/// event data and the event's attributes (`tm.event`, and for a transaction `tx.hash`,
/// `tx.height` and its application events as `type.key`).
fn events(node: &Node, kind: EventKind, query: &str, block: &BlockRecord) -> Vec<EventFrame> {
    let frame = |value: Value, attributes: BTreeMap<String, Vec<String>>| EventFrame {
        result: json!({
            "query": query,
            "data": { "type": format!("tendermint/event/{}", kind.name()), "value": value },
            "events": attributes
        }),
        attributes,
    };
    let base = || BTreeMap::from([("tm.event".to_string(), vec![kind.name().to_string()])]);
    match kind {
        EventKind::NewBlockHeader => vec![frame(
            json!({ "header": serde_json::to_value(&block.header).unwrap_or(Value::Null) }),
            base(),
        )],
        EventKind::NewBlock => {
            let mut v = methods::block_json(node, block);
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "result_finalize_block".into(),
                    methods::finalize_block_json(block),
                );
            }
            vec![frame(v, base())]
        }
        EventKind::Tx => block
            .txs
            .iter()
            .zip(&block.tx_results)
            .enumerate()
            .map(|(i, (tx, result))| {
                let mut attributes = base();
                attributes.insert(
                    "tx.hash".into(),
                    vec![hex::encode_upper(crate::chain::tx_hash(tx))],
                );
                attributes.insert("tx.height".into(), vec![block.height().to_string()]);
                for e in &result.events {
                    for a in &e.attributes {
                        let k = String::from_utf8_lossy(a.key_bytes());
                        attributes
                            .entry(format!("{}.{k}", e.kind))
                            .or_default()
                            .push(String::from_utf8_lossy(a.value_bytes()).into_owned());
                    }
                }
                let value = json!({ "TxResult": {
                    "height": block.height().to_string(),
                    "index": i,
                    "tx": base64::engine::general_purpose::STANDARD.encode(tx),
                    "result": methods::tx_result_json(result)
                }});
                frame(value, attributes)
            })
            .collect(),
    }
}

/// One event to push: the frame's `result`, and the attributes the query is matched with.
struct EventFrame {
    result: Value,
    attributes: BTreeMap<String, Vec<String>>,
}

/// Pushes, to every subscription, the blocks this node serves past the last one pushed.
async fn push_events(
    node: &Arc<Node>,
    socket: &mut WebSocket,
    subs: &mut [Subscription],
) -> Result<(), axum::Error> {
    match node.behaviour() {
        Behaviour::Timeout => return Ok(()),
        Behaviour::Garbage => {
            if !subs.is_empty() {
                socket.send(garbage_frame(node)).await?;
            }
            return Ok(());
        }
        _ => {}
    }
    for sub in subs.iter_mut() {
        loop {
            // The view is a short lock; a forged block is built on first request.
            let next = {
                let mut view = node.view();
                if sub.last >= view.latest_height(&node.chain) {
                    None
                } else {
                    view.block(&node.chain, sub.last + 1)
                }
            };
            let Some(block) = next else { break };
            sub.last = block.height();
            for e in events(node, sub.parsed.kind, &sub.query, &block) {
                if sub.parsed.matches(&e.attributes) {
                    let frame = jsonrpc::success(&sub.id, e.result);
                    socket.send(Message::Text(frame.to_string().into())).await?;
                }
            }
        }
    }
    Ok(())
}

/// What a garbage node sends: in turn, text that is not JSON, a binary frame, JSON that is not
/// an event, and a truncated event.
fn garbage_frame(node: &Node) -> Message {
    let n = node.garbage_counter.fetch_add(1, Ordering::Relaxed);
    match n % 4 {
        0 => Message::Text("\u{0}<html>definitely not json\u{7}".into()),
        1 => Message::Binary(vec![0xff, 0xfe, 0x00, 0x7b].into()),
        2 => Message::Text(r#"{"jsonrpc":"2.0","id":0,"result":{"query":5,"data":"nope"}}"#.into()),
        _ => Message::Text(
            r#"{"jsonrpc":"2.0","id":0,"result":{"query":"tm.event='NewBlockHeader'","data":{"type":"tendermint/event/NewBlockHeader","value":{"header":{"version":{"blo"#
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_event_queries() {
        let q = |s: &str| parse_query(s).unwrap();
        assert_eq!(
            q("tm.event='NewBlockHeader'").kind,
            EventKind::NewBlockHeader
        );
        assert_eq!(q(" tm.event = 'NewBlock' ").kind, EventKind::NewBlock);
        let tx = q("tm.event='Tx' AND tx.height=5 AND certificate_issued.issuer='KE-KEPHIS'");
        assert_eq!(tx.kind, EventKind::Tx);
        assert_eq!(
            tx.conditions,
            vec![
                ("tx.height".to_string(), "5".to_string()),
                (
                    "certificate_issued.issuer".to_string(),
                    "KE-KEPHIS".to_string()
                )
            ]
        );
        for bad in [
            "tm.event='Vote'",
            "tm.event=NewBlock",
            "block.height='5'",
            "tm.event='Tx' AND tx.height>5",
            "tm.event='Tx' AND tm.event='NewBlock'",
            "tm.event='Tx' OR tx.height=5",
            "",
        ] {
            assert_eq!(parse_query(bad).unwrap_err().code(), -32602, "{bad}");
        }
    }

    #[test]
    fn conditions_match_any_value_under_their_key() {
        let q = parse_query("tm.event='Tx' AND tx.height='7' AND x.k='b'").unwrap();
        let mut events = BTreeMap::from([
            ("tm.event".to_string(), vec!["Tx".to_string()]),
            ("tx.height".to_string(), vec!["7".to_string()]),
            ("x.k".to_string(), vec!["a".to_string(), "b".to_string()]),
        ]);
        assert!(q.matches(&events));
        events.insert("x.k".into(), vec!["a".into()]);
        assert!(!q.matches(&events));
        events.remove("x.k");
        assert!(!q.matches(&events));
    }
}
