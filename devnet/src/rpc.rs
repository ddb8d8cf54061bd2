//! A full node's CometBFT JSON-RPC server over HTTP: POST JSON-RPC 2.0 (single or batch) at
//! `/`, and URI calls (`GET /commit?height=5`), with CometBFT's error codes and a body cap;
//! JSON-RPC over WebSocket with new-block subscriptions at `/websocket`.

mod evidence;
pub mod jsonrpc;
pub mod lenient;
mod methods;
mod websocket;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;
use tokio::sync::watch;

pub use self::evidence::EvidenceRecord;
use self::jsonrpc::{Entry, RawParams, RpcError, URI_REQUEST_ID};
pub use self::methods::{COMETBFT_VERSION, METHODS};
use crate::behaviour::{Behaviour, ChainView};
use crate::chain::Chain;

/// A full node: an RPC server over the shared chain, with its own behaviour.
#[derive(Debug)]
pub struct Node {
    /// Position among the network's nodes.
    pub index: usize,
    /// Moniker shown in `status`.
    pub moniker: String,
    /// Node id (hex of a derived key's address).
    pub node_id: String,
    /// Address shown as validator_info.address.
    pub node_address: String,
    /// Public key (base64) shown in validator_info.
    pub node_pub_key: String,
    /// The address the server listens on.
    pub listen_addr: String,
    /// The chain.
    pub chain: Arc<Chain>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Most calls in one batch (0: no limit).
    pub max_batch: usize,
    view: Mutex<ChainView>,
    garbage_counter: AtomicU64,
    evidence: Mutex<Vec<EvidenceRecord>>,
    shutdown: watch::Receiver<bool>,
}

impl Node {
    /// A node over `chain`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        index: usize,
        chain: Arc<Chain>,
        listen_addr: SocketAddr,
        max_body_bytes: usize,
        behaviour: Behaviour,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let key = crate::keys::ValidatorKey::derive(
            &chain.params().seed,
            crate::keys::KeyRole::Node,
            u32::try_from(index).unwrap_or(u32::MAX),
        );
        let behaviour = behaviour.resolve(chain.latest_height());
        Self {
            index,
            moniker: format!("devnet-node-{index}"),
            node_id: hex::encode(key.address),
            node_address: hex::encode_upper(key.address),
            node_pub_key: {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode(key.pub_key)
            },
            listen_addr: listen_addr.to_string(),
            chain,
            max_body_bytes,
            max_batch: crate::config::MAX_REQUEST_BATCH_SIZE,
            view: Mutex::new(ChainView::new(behaviour)),
            garbage_counter: AtomicU64::new(0),
            evidence: Mutex::new(Vec::new()),
            shutdown,
        }
    }

    /// The node's view of the chain (locked).
    pub fn view(&self) -> MutexGuard<'_, ChainView> {
        self.view
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current behaviour.
    pub fn behaviour(&self) -> Behaviour {
        self.view().behaviour().clone()
    }

    /// Changes the behaviour (heights of 0 are resolved against the chain now); forged blocks
    /// of an earlier behaviour are dropped.
    pub fn set_behaviour(&self, behaviour: Behaviour) -> Behaviour {
        let resolved = behaviour.resolve(self.chain.latest_height());
        let before = std::mem::replace(&mut *self.view(), ChainView::new(resolved.clone()));
        tracing::info!(
            node = self.index,
            from = ?before.behaviour(),
            to = ?resolved,
            "node behaviour changed"
        );
        resolved
    }
}

impl Node {
    /// Keeps evidence received through `broadcast_evidence` (once per hash).
    pub fn record_evidence(&self, record: EvidenceRecord) {
        let mut list = self
            .evidence
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if list.iter().all(|e| e.hash != record.hash) {
            tracing::info!(node = self.index, hash = %record.hash, height = record.conflicting_height, "evidence received");
            list.push(record);
        }
    }

    /// The evidence this node received, in order of arrival.
    pub fn evidence(&self) -> Vec<EvidenceRecord> {
        self.evidence
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The router serving `node`.
pub fn router(node: Arc<Node>) -> Router {
    Router::new()
        .route("/websocket", get(websocket::upgrade))
        .route("/v1/websocket", get(websocket::upgrade))
        .fallback(handle)
        .with_state(node)
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn handle(State(node): State<Arc<Node>>, method: Method, uri: Uri, body: Body) -> Response {
    match node.behaviour() {
        Behaviour::Timeout => {
            let mut shutdown = node.shutdown.clone();
            // Hold the request until the client gives up or the network stops.
            let _ =
                tokio::time::timeout(Duration::from_secs(3600), shutdown.wait_for(|s| *s)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        Behaviour::Garbage => return garbage(&node),
        _ => {}
    }
    let bytes = match axum::body::to_bytes(body, node.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => {
            let err = RpcError::InvalidRequest(format!(
                "error reading request body: {e} (limit {} bytes)",
                node.max_body_bytes
            ));
            return json_response(
                StatusCode::BAD_REQUEST,
                &jsonrpc::failure(&Value::Null, &err),
            );
        }
    };
    let path = uri.path().trim_matches('/');
    let path = path.strip_prefix("v1/").unwrap_or(path);
    if method == Method::POST && (path.is_empty() || path == "v1") {
        return post(node, &bytes).await;
    }
    if method != Method::GET && method != Method::POST {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    if path.is_empty() || path == "v1" {
        let list: Vec<String> = METHODS.iter().map(|(m, _)| format!("/{m}")).collect();
        return (
            StatusCode::OK,
            format!("Available endpoints:\n{}\n", list.join("\n")),
        )
            .into_response();
    }
    let id = Value::from(URI_REQUEST_ID);
    let params = RawParams::Uri(jsonrpc::parse_query_string(uri.query().unwrap_or("")));
    let method_name = path.to_string();
    match run(node, method_name, params, None).await {
        Ok(result) => json_response(StatusCode::OK, &jsonrpc::success(&id, result)),
        Err(e @ RpcError::MethodNotFound(_)) => {
            json_response(StatusCode::NOT_FOUND, &jsonrpc::failure(&id, &e))
        }
        Err(e) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &jsonrpc::failure(&id, &e),
        ),
    }
}

async fn run(
    node: Arc<Node>,
    method: String,
    params: RawParams,
    raw_params: Option<String>,
) -> Result<Value, RpcError> {
    tokio::task::spawn_blocking(move || {
        methods::call(&node, &method, params, raw_params.as_deref())
    })
    .await
    .unwrap_or_else(|e| Err(RpcError::internal(format!("handler failed: {e}"))))
}

async fn answer(node: &Arc<Node>, entry: Entry) -> Option<Value> {
    match entry {
        Entry::Notification => None,
        Entry::Invalid(id, e) => Some(jsonrpc::failure(&id, &e)),
        Entry::Call(call) => Some(
            match run(node.clone(), call.method, call.params, call.raw_params).await {
                Ok(result) => jsonrpc::success(&call.id, result),
                Err(e) => jsonrpc::failure(&call.id, &e),
            },
        ),
    }
}

async fn post(node: Arc<Node>, bytes: &Bytes) -> Response {
    match jsonrpc::parse_body(bytes) {
        Err(e @ RpcError::Parse(_)) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &jsonrpc::failure(&Value::Null, &e),
        ),
        Err(e) => json_response(StatusCode::BAD_REQUEST, &jsonrpc::failure(&Value::Null, &e)),
        Ok(jsonrpc::Body::Single(entry)) => match answer(&node, entry).await {
            Some(v) => json_response(StatusCode::OK, &v),
            None => StatusCode::OK.into_response(),
        },
        Ok(jsonrpc::Body::Batch(entries))
            if node.max_batch > 0 && entries.len() > node.max_batch =>
        {
            // CometBFT refuses the whole batch, with one error and HTTP 400.
            let e = RpcError::InvalidRequest(format!(
                "batch request exceeds maximum ({}) allowed number of requests",
                node.max_batch
            ));
            json_response(StatusCode::BAD_REQUEST, &jsonrpc::failure(&Value::Null, &e))
        }
        Ok(jsonrpc::Body::Batch(entries)) => {
            let mut out = Vec::with_capacity(entries.len());
            for entry in entries {
                if let Some(v) = answer(&node, entry).await {
                    out.push(v);
                }
            }
            if out.is_empty() {
                StatusCode::OK.into_response()
            } else {
                json_response(StatusCode::OK, &Value::Array(out))
            }
        }
    }
}

/// What a garbage node answers: in turn, bytes that are not JSON, JSON that is not a JSON-RPC
/// response, and a truncated response.
fn garbage(node: &Node) -> Response {
    let n = node.garbage_counter.fetch_add(1, Ordering::Relaxed);
    let body: Vec<u8> = match n % 3 {
        0 => b"\x00\xff\xfe<html>definitely not json\x07".to_vec(),
        1 => {
            br#"{"jsonrpc":"2.0","id":1,"result":{"signed_header":"nope","sync_info":42}}"#.to_vec()
        }
        _ => br#"{"jsonrpc":"2.0","id":1,"result":{"signed_header":{"header":{"version":{"blo"#
            .to_vec(),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
