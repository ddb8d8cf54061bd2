//! A full node's `/websocket` endpoint, as CometBFT's: JSON-RPC 2.0 over WebSocket, with
//! `subscribe` / `unsubscribe` / `unsubscribe_all` for new-block events (`NewBlockHeader`,
//! `NewBlock`) and every other RPC method answered as over HTTP. What is pushed follows the
//! node's behaviour: its own chain's blocks (forged ones for fork and lunatic nodes), nothing
//! past a stale node's height, nothing at all from a timeout node, garbage from a garbage node.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::{json, Value};

use super::jsonrpc::{self, Body, Call, Entry, Params, RpcError};
use super::{methods, run, Node};
use crate::behaviour::Behaviour;
use crate::block::BlockRecord;
use crate::consensus;

/// CometBFT's default `max_subscriptions_per_client`.
pub const MAX_SUBSCRIPTIONS: usize = 5;

/// The events one can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventKind {
    NewBlockHeader,
    NewBlock,
}

impl EventKind {
    fn name(self) -> &'static str {
        match self {
            Self::NewBlockHeader => "NewBlockHeader",
            Self::NewBlock => "NewBlock",
        }
    }
}

/// Reads `tm.event='NewBlockHeader'` or `tm.event = 'NewBlock'` (the only queries served).
fn parse_query(query: &str) -> Result<EventKind, RpcError> {
    let unsupported = || {
        RpcError::params(format!(
            "unsupported query {query:?}: this node serves tm.event='NewBlockHeader' and tm.event='NewBlock'"
        ))
    };
    let (key, value) = query.split_once('=').ok_or_else(unsupported)?;
    if key.trim() != "tm.event" {
        return Err(unsupported());
    }
    let value = value
        .trim()
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .ok_or_else(unsupported)?;
    match value {
        "NewBlockHeader" => Ok(EventKind::NewBlockHeader),
        "NewBlock" => Ok(EventKind::NewBlock),
        _ => Err(unsupported()),
    }
}

#[derive(Debug)]
struct Subscription {
    /// The id of the `subscribe` request, repeated in every event.
    id: Value,
    /// The query as the client wrote it (events carry it back).
    query: String,
    kind: EventKind,
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
    let kind = parse_query(&query)?;
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
        kind,
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

/// The event for `block` as a subscription with `query` receives it.
fn event(node: &Node, kind: EventKind, query: &str, block: &BlockRecord) -> Value {
    let value = match kind {
        EventKind::NewBlockHeader => json!({ "header": consensus::header_json(&block.header) }),
        EventKind::NewBlock => {
            let mut v = methods::block_json(node, block);
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "result_finalize_block".into(),
                    methods::finalize_block_json(block),
                );
            }
            v
        }
    };
    json!({
        "query": query,
        "data": { "type": format!("tendermint/event/{}", kind.name()), "value": value },
        "events": { "tm.event": [kind.name()] }
    })
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
            let frame = jsonrpc::success(&sub.id, event(node, sub.kind, &sub.query, &block));
            socket.send(Message::Text(frame.to_string().into())).await?;
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
    fn reads_the_block_queries() {
        assert_eq!(
            parse_query("tm.event='NewBlockHeader'").unwrap(),
            EventKind::NewBlockHeader
        );
        assert_eq!(
            parse_query(" tm.event = 'NewBlock' ").unwrap(),
            EventKind::NewBlock
        );
        for bad in [
            "tm.event='Tx'",
            "tm.event=NewBlock",
            "block.height='5'",
            "tm.event='NewBlock' AND tx.height=5",
            "",
        ] {
            assert_eq!(parse_query(bad).unwrap_err().code(), -32602, "{bad}");
        }
    }
}
