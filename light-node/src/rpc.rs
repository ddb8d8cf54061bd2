//! [`RpcProvider`]: a full node over CometBFT JSON-RPC (HTTP POST, JSON-RPC 2.0), with
//! timeouts, retries with backoff, and a size limit on every answer, enforced while reading
//! and before parsing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use light_client::rpc::{parse_commit_response, parse_validators_response};
use light_client::{Hash, Header, Height, SignedHeader, ValidatorSet};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::provider::{
    BoxFuture, BroadcastAnswer, NodeInfo, ProofOp, Provider, ProviderError, QueryAnswer, TxAnswer,
    TxProof,
};

/// Reads one call's `result` into what the caller wants.
type Reader<T> = dyn Fn(Value) -> Result<T, ProviderError> + Sync;

/// Limits and patience of the JSON-RPC client.
#[derive(Debug, Clone)]
pub struct RpcConfig {
    /// Time allowed for one request, connection included.
    pub timeout: Duration,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Further attempts after a timeout or connection failure (not after a wrong answer).
    pub retries: u32,
    /// Pause before the first retry; doubled for each further one.
    pub backoff: Duration,
    /// The largest answer read, in bytes (a 150-validator light block is about 70 KB; a
    /// 10,000-entry commit about 2.5 MB; parsing takes about ten times the text in memory).
    pub max_response_bytes: usize,
    /// Validators asked for per `/validators` page (CometBFT's maximum is 100).
    pub validators_per_page: u32,
    /// The most calls sent in one JSON-RPC batch (larger sets of calls go as several
    /// batches, sent concurrently). The default, 10, is what a stock CometBFT v0.38 node
    /// accepts (`rpc.max_request_batch_size`); a node that refuses a batch is asked one call
    /// at a time.
    pub max_batch: usize,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            retries: 1,
            backoff: Duration::from_millis(250),
            max_response_bytes: 4 * 1024 * 1024,
            validators_per_page: 100,
            max_batch: 10,
        }
    }
}

/// Bytes and requests a provider has exchanged (for status and benchmarks).
#[derive(Debug, Default)]
pub struct Traffic {
    requests: AtomicU64,
    bytes_received: AtomicU64,
}

impl Traffic {
    /// Requests sent (retries included).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Answer bytes received (bodies).
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }
}

/// Installs the TLS crypto provider (ring) once per process; `reqwest` needs one.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means another provider is installed already: that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// One HTTP client per process and timeout pair: building a client loads the TLS roots (a few
/// milliseconds and ~150 files each time), and one client shares its connection pool across
/// every provider that uses it.
fn shared_client(config: &RpcConfig) -> Result<reqwest::Client, ProviderError> {
    type Clients = std::collections::HashMap<(Duration, Duration), reqwest::Client>;
    static CLIENTS: std::sync::OnceLock<std::sync::Mutex<Clients>> = std::sync::OnceLock::new();
    let key = (config.timeout, config.connect_timeout);
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(client) = clients.get(&key) {
        return Ok(client.clone());
    }
    install_crypto_provider();
    let client = reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .build()
        .map_err(|e| ProviderError::Unreachable(format!("HTTP client: {e}")))?;
    clients.insert(key, client.clone());
    Ok(client)
}

/// A CometBFT full node reached over JSON-RPC.
#[derive(Debug, Clone)]
pub struct RpcProvider {
    url: String,
    client: reqwest::Client,
    config: RpcConfig,
    traffic: Arc<Traffic>,
    next_id: Arc<AtomicU64>,
}

impl RpcProvider {
    /// A client for the node at `url` (`http://` or `https://`).
    pub fn new(url: &str, config: RpcConfig) -> Result<RpcProvider, ProviderError> {
        let client = shared_client(&config)?;
        Ok(RpcProvider {
            url: url.trim_end_matches('/').to_owned(),
            client,
            config,
            traffic: Arc::default(),
            next_id: Arc::new(AtomicU64::new(1)),
        })
    }

    /// What this provider has exchanged so far.
    pub fn traffic(&self) -> &Traffic {
        &self.traffic
    }

    /// One JSON-RPC call, retried on silence; answers the `result`.
    async fn call(&self, method: &str, params: Value) -> Result<Value, ProviderError> {
        let (id, status, bytes) = self.call_raw(method, params).await?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            if status.is_success() {
                ProviderError::Malformed(format!("{method}: not JSON ({e})"))
            } else {
                ProviderError::Http(status.as_u16())
            }
        })?;
        envelope_result(value, id)
    }

    /// One JSON-RPC call, retried on silence; answers the whole body as text, for the
    /// `light-client` readers that take the JSON-RPC envelope themselves (one parse, not two).
    async fn call_text(&self, method: &str, params: Value) -> Result<String, ProviderError> {
        let (_, status, bytes) = self.call_raw(method, params).await?;
        String::from_utf8(bytes).map_err(|_| {
            if status.is_success() {
                ProviderError::Malformed(format!("{method}: not UTF-8"))
            } else {
                ProviderError::Http(status.as_u16())
            }
        })
    }

    async fn call_raw(
        &self,
        method: &str,
        params: Value,
    ) -> Result<(u64, reqwest::StatusCode, Vec<u8>), ProviderError> {
        let mut pause = self.config.backoff;
        let mut attempt = 0;
        loop {
            match self.call_once(method, &params).await {
                Err(e) if e.is_silence() && attempt < self.config.retries => {
                    attempt += 1;
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                other => return other,
            }
        }
    }

    async fn call_once(
        &self,
        method: &str,
        params: &Value,
    ) -> Result<(u64, reqwest::StatusCode, Vec<u8>), ProviderError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let (status, bytes) = self.post(&body).await?;
        Ok((id, status, bytes))
    }

    /// One HTTP POST of a JSON-RPC body (one call or a batch): its status and its body, read
    /// within the size limit.
    async fn post(&self, body: &Value) -> Result<(reqwest::StatusCode, Vec<u8>), ProviderError> {
        self.traffic.requests.fetch_add(1, Ordering::Relaxed);
        let response = self
            .client
            .post(&self.url)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let bytes = self.read_limited(response).await?;
        Ok((status, bytes))
    }

    async fn read_limited(
        &self,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, ProviderError> {
        let limit = self.config.max_response_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(ProviderError::TooLarge { limit });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e))?
        {
            self.traffic
                .bytes_received
                .fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if body.len() + chunk.len() > limit {
                return Err(ProviderError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, e: &reqwest::Error) -> ProviderError {
        if e.is_timeout() {
            ProviderError::Timeout {
                secs: self.config.timeout.as_secs().max(1),
            }
        } else if e.is_decode() || e.is_body() {
            ProviderError::Malformed(e.to_string())
        } else {
            ProviderError::Unreachable(e.to_string())
        }
    }

    /// The same call with each of `params`, in JSON-RPC batches of at most
    /// [`RpcConfig::max_batch`] calls sent concurrently; answers each call's `result` read by
    /// `read`, in order. Each entry is read into its type as soon as it is taken out of the
    /// batch (a batch of large validator sets is never held as JSON values all at once). A
    /// node that does not answer a batch with an array is asked one call at a time.
    async fn call_many<T>(
        &self,
        method: &str,
        params: &[Value],
        read: &Reader<T>,
    ) -> Vec<Result<T, ProviderError>> {
        let size = self.config.max_batch.max(1);
        let batches = params
            .chunks(size)
            .map(|chunk| self.call_batch(method, chunk, read));
        futures_util::future::join_all(batches)
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    async fn call_batch<T>(
        &self,
        method: &str,
        params: &[Value],
        read: &Reader<T>,
    ) -> Vec<Result<T, ProviderError>> {
        let one = |p: Value| async move { self.call(method, p).await.and_then(read) };
        if params.len() == 1 {
            return vec![one(params[0].clone()).await];
        }
        let mut pause = self.config.backoff;
        let mut attempt = 0;
        loop {
            match self.call_batch_once(method, params, read).await {
                Ok(answers) => return answers,
                Err(e) if e.is_silence() && attempt < self.config.retries => {
                    attempt += 1;
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                }
                Err(e) if e.is_silence() => {
                    return params.iter().map(|_| Err(e.clone())).collect();
                }
                // Batches refused (or too large as one answer): one call at a time.
                Err(_) => {
                    let calls = params.iter().cloned().map(one);
                    return futures_util::future::join_all(calls).await;
                }
            }
        }
    }

    async fn call_batch_once<T>(
        &self,
        method: &str,
        params: &[Value],
        read: &Reader<T>,
    ) -> Result<Vec<Result<T, ProviderError>>, ProviderError> {
        let n = params.len() as u64;
        let first = self.next_id.fetch_add(n, Ordering::Relaxed);
        let body: Vec<Value> = params
            .iter()
            .zip(first..)
            .map(|(p, id)| json!({"jsonrpc": "2.0", "id": id, "method": method, "params": p}))
            .collect();
        let (status, bytes) = self.post(&Value::Array(body)).await?;
        if !status.is_success() {
            return Err(ProviderError::Http(status.as_u16()));
        }
        let Ok(entries) = serde_json::from_slice::<Vec<Box<RawValue>>>(&bytes) else {
            return Err(ProviderError::Malformed(format!(
                "{method}: a batch answer that is not an array"
            )));
        };
        drop(bytes);
        #[derive(Deserialize)]
        struct Id {
            id: Option<Value>,
        }
        let mut by_id = std::collections::HashMap::new();
        for entry in entries {
            let id = serde_json::from_str::<Id>(entry.get())
                .ok()
                .and_then(|e| e.id)
                .and_then(|id| id.as_u64());
            if let Some(id) = id {
                by_id.entry(id).or_insert(entry);
            }
        }
        Ok((first..first + n)
            .map(|id| match by_id.remove(&id) {
                Some(entry) => serde_json::from_str::<Value>(entry.get())
                    .map_err(malformed("batch entry"))
                    .and_then(|value| envelope_result(value, id))
                    .and_then(read),
                None => Err(ProviderError::Malformed(format!(
                    "{method}: the batch answer has no entry for call {id}"
                ))),
            })
            .collect())
    }

    async fn validators_page(
        &self,
        height: Height,
        page: u32,
    ) -> Result<light_client::rpc::ValidatorsPage, ProviderError> {
        let params = json!({
            "height": height.value().to_string(),
            "page": page.to_string(),
            "per_page": self.config.validators_per_page.to_string(),
        });
        let result = self
            .call("validators", params)
            .await
            .map_err(|e| height_error(e, height))?;
        parse_validators_response(&result.to_string()).map_err(malformed("validators"))
    }
}

/// Turns "height not available" JSON-RPC errors into [`ProviderError::HeightUnavailable`].
fn height_error(e: ProviderError, height: Height) -> ProviderError {
    match &e {
        ProviderError::Rpc { message, .. }
            if message.contains("height") && message.contains("must be less than") =>
        {
            ProviderError::HeightUnavailable(height)
        }
        ProviderError::Rpc { message, .. } if message.contains("is not available") => {
            ProviderError::HeightUnavailable(height)
        }
        _ => e,
    }
}

/// A `light-client` reader's error: the node's own JSON-RPC error, or a malformed answer.
fn parse_error(e: light_client::ParseError, what: &'static str) -> ProviderError {
    match e {
        light_client::ParseError::RpcError { code, message } => {
            ProviderError::Rpc { code, message }
        }
        other => ProviderError::Malformed(format!("{what}: {other}")),
    }
}

fn malformed<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> ProviderError {
    move |e| ProviderError::Malformed(format!("{what}: {e}"))
}

/// Checks the JSON-RPC 2.0 envelope and returns its `result`.
fn envelope_result(mut value: Value, id: u64) -> Result<Value, ProviderError> {
    let Some(obj) = value.as_object_mut() else {
        return Err(ProviderError::Malformed(
            "answer is not a JSON object".into(),
        ));
    };
    if let Some(err) = obj.get("error").filter(|e| !e.is_null()) {
        let code = err.get("code").and_then(Value::as_i64).unwrap_or(0);
        let mut message = err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if let Some(data) = err.get("data").and_then(Value::as_str) {
            message = format!("{message}: {data}");
        }
        return Err(ProviderError::Rpc { code, message });
    }
    if obj.get("id").and_then(Value::as_u64) != Some(id) {
        return Err(ProviderError::Malformed(
            "answer id does not match the request".into(),
        ));
    }
    obj.remove("result")
        .ok_or_else(|| ProviderError::Malformed("answer has no result".into()))
}

fn b64(text: Option<&str>, field: &str) -> Result<Vec<u8>, ProviderError> {
    match text {
        None | Some("") => Ok(Vec::new()),
        Some(t) => base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(|e| ProviderError::Malformed(format!("{field}: not base64 ({e})"))),
    }
}

fn u_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        N(u64),
    }
    match Option::<N>::deserialize(d)? {
        None => Ok(0),
        Some(N::N(n)) => Ok(n),
        Some(N::S(s)) => s.parse().map_err(serde::de::Error::custom),
    }
}

#[derive(Deserialize)]
struct StatusResult {
    node_info: StatusNodeInfo,
    sync_info: StatusSyncInfo,
}

#[derive(Deserialize)]
struct StatusNodeInfo {
    network: String,
}

#[derive(Deserialize)]
struct StatusSyncInfo {
    #[serde(deserialize_with = "u_str")]
    latest_block_height: u64,
}

#[derive(Deserialize)]
struct AbciQueryResult {
    response: AbciResponse,
}

#[derive(Deserialize)]
struct AbciResponse {
    #[serde(default)]
    code: u32,
    #[serde(default)]
    log: String,
    key: Option<String>,
    value: Option<String>,
    #[serde(rename = "proofOps")]
    proof_ops: Option<ProofOps>,
    #[serde(deserialize_with = "u_str", default)]
    height: u64,
}

#[derive(Deserialize)]
struct ProofOps {
    ops: Option<Vec<RawProofOp>>,
}

#[derive(Deserialize)]
struct RawProofOp {
    #[serde(rename = "type")]
    kind: String,
    key: Option<String>,
    data: Option<String>,
}

#[derive(Deserialize)]
struct TxResultRaw {
    hash: String,
    #[serde(deserialize_with = "u_str")]
    height: u64,
    #[serde(deserialize_with = "u_str", default)]
    index: u64,
    tx_result: TxExec,
    tx: String,
    proof: Option<TxProofRaw>,
}

#[derive(Deserialize)]
struct TxExec {
    #[serde(default)]
    code: u32,
    #[serde(default)]
    log: String,
}

#[derive(Deserialize)]
struct TxProofRaw {
    root_hash: String,
    data: Option<String>,
    proof: light_client::merkle::Proof,
}

#[derive(Deserialize)]
struct BroadcastRaw {
    #[serde(default)]
    code: u32,
    #[serde(default)]
    log: String,
    hash: String,
}

fn parse<T: serde::de::DeserializeOwned>(
    value: Value,
    what: &'static str,
) -> Result<T, ProviderError> {
    serde_json::from_value(value).map_err(malformed(what))
}

/// A `/header` result's header.
fn header_of(mut result: Value) -> Result<Header, ProviderError> {
    let header = result
        .get_mut("header")
        .map(Value::take)
        .ok_or_else(|| ProviderError::Malformed("header: no header".into()))?;
    parse(header, "header")
}

fn height_params(height: Height) -> Value {
    json!({"height": height.value().to_string()})
}

fn hash_hex(text: &str, what: &'static str) -> Result<Hash, ProviderError> {
    let bytes = hex::decode(text).map_err(malformed(what))?;
    Hash::from_slice(&bytes).map_err(malformed(what))
}

impl Provider for RpcProvider {
    fn url(&self) -> &str {
        &self.url
    }

    fn status(&self) -> BoxFuture<'_, Result<NodeInfo, ProviderError>> {
        Box::pin(async move {
            let r: StatusResult = parse(self.call("status", json!({})).await?, "status")?;
            Ok(NodeInfo {
                network: r.node_info.network,
                latest_height: Height(r.sync_info.latest_block_height),
            })
        })
    }

    fn signed_header(
        &self,
        height: Option<Height>,
    ) -> BoxFuture<'_, Result<SignedHeader, ProviderError>> {
        Box::pin(async move {
            let params = match height {
                Some(h) => json!({"height": h.value().to_string()}),
                None => json!({}),
            };
            let text = self.call_text("commit", params).await?;
            let answer = parse_commit_response(&text).map_err(|e| {
                let e = parse_error(e, "commit");
                match height {
                    Some(h) => height_error(e, h),
                    None => e,
                }
            })?;
            Ok(answer.signed_header)
        })
    }

    fn header(&self, height: Height) -> BoxFuture<'_, Result<Header, ProviderError>> {
        Box::pin(async move {
            match self.call("header", height_params(height)).await {
                Ok(result) => header_of(result),
                // CometBFT before v0.35 has no `/header`: the commit carries the header.
                Err(ProviderError::Rpc { code: -32601, .. }) => {
                    Ok(self.signed_header(Some(height)).await?.header)
                }
                Err(e) => Err(height_error(e, height)),
            }
        })
    }

    fn validators(&self, height: Height) -> BoxFuture<'_, Result<ValidatorSet, ProviderError>> {
        Box::pin(async move {
            let first = self.validators_page(height, 1).await?;
            let total = first.total;
            let mut validators = first.validators;
            let per_page = u64::from(self.config.validators_per_page.max(1));
            // CometBFT's MaxVotesCount: no real set is larger.
            if total > 10_000 {
                return Err(ProviderError::Malformed(format!(
                    "validators: {total} validators (more than 10000)"
                )));
            }
            let pages = total.div_ceil(per_page).max(1);
            for page in 2..=pages {
                let next = self.validators_page(height, page as u32).await?;
                if next.total != total || next.block_height != first.block_height {
                    return Err(ProviderError::Malformed(
                        "validators: pages disagree on the total or height".into(),
                    ));
                }
                validators.extend(next.validators);
            }
            if validators.len() as u64 != total || first.block_height != height {
                return Err(ProviderError::Malformed(format!(
                    "validators: {} listed for a total of {total} at height {}",
                    validators.len(),
                    first.block_height
                )));
            }
            ValidatorSet::new(validators, None).map_err(malformed("validators"))
        })
    }

    fn headers<'a>(
        &'a self,
        heights: &'a [Height],
    ) -> BoxFuture<'a, Vec<Result<Header, ProviderError>>> {
        Box::pin(async move {
            let params: Vec<Value> = heights.iter().map(|&h| height_params(h)).collect();
            let answers = self.call_many("header", &params, &header_of).await;
            let mut out = Vec::with_capacity(heights.len());
            for (&h, answer) in heights.iter().zip(answers) {
                out.push(match answer {
                    Ok(header) if header.height == h => Ok(header),
                    Ok(header) => Err(ProviderError::Malformed(format!(
                        "header: asked for height {h}, got {}",
                        header.height
                    ))),
                    // No `/header` (CometBFT before v0.35): the single call falls back.
                    Err(ProviderError::Rpc { code: -32601, .. }) => self.header(h).await,
                    Err(e) => Err(height_error(e, h)),
                });
            }
            out
        })
    }

    fn validator_sets<'a>(
        &'a self,
        heights: &'a [Height],
    ) -> BoxFuture<'a, Vec<Result<ValidatorSet, ProviderError>>> {
        Box::pin(async move {
            let per_page = self.config.validators_per_page.max(1);
            let params: Vec<Value> = heights
                .iter()
                .map(|h| {
                    json!({
                        "height": h.value().to_string(),
                        "page": "1",
                        "per_page": per_page.to_string(),
                    })
                })
                .collect();
            let read = |result: Value| {
                parse_validators_response(&result.to_string()).map_err(malformed("validators"))
            };
            let answers = self.call_many("validators", &params, &read).await;
            let mut out = Vec::with_capacity(heights.len());
            for (&h, answer) in heights.iter().zip(answers) {
                let page = answer.map_err(|e| height_error(e, h));
                out.push(match page {
                    // One page holds the whole set.
                    Ok(page) if page.total == page.validators.len() as u64 => {
                        if page.block_height == h {
                            ValidatorSet::new(page.validators, None)
                                .map_err(malformed("validators"))
                        } else {
                            Err(ProviderError::Malformed(format!(
                                "validators: asked for height {h}, got {}",
                                page.block_height
                            )))
                        }
                    }
                    // More pages: asked one after the other.
                    Ok(_) => self.validators(h).await,
                    Err(e) => Err(e),
                });
            }
            out
        })
    }

    fn signed_headers<'a>(
        &'a self,
        heights: &'a [Height],
    ) -> BoxFuture<'a, Vec<Result<SignedHeader, ProviderError>>> {
        Box::pin(async move {
            let params: Vec<Value> = heights.iter().map(|&h| height_params(h)).collect();
            let read = |result: Value| {
                parse_commit_response(&result.to_string())
                    .map(|answer| answer.signed_header)
                    .map_err(|e| parse_error(e, "commit"))
            };
            let answers = self.call_many("commit", &params, &read).await;
            heights
                .iter()
                .zip(answers)
                .map(|(&h, answer)| {
                    let sh = answer.map_err(|e| height_error(e, h))?;
                    if sh.header.height != h {
                        return Err(ProviderError::Malformed(format!(
                            "commit: asked for height {h}, got {}",
                            sh.header.height
                        )));
                    }
                    Ok(sh)
                })
                .collect()
        })
    }

    fn abci_query<'a>(
        &'a self,
        path: &'a str,
        data: &'a [u8],
        height: Height,
    ) -> BoxFuture<'a, Result<QueryAnswer, ProviderError>> {
        Box::pin(async move {
            let result = self
                .call("abci_query", query_params(path, data, height))
                .await
                .map_err(|e| height_error(e, height))?;
            read_query(result)
        })
    }

    fn abci_queries<'a>(
        &'a self,
        queries: &'a [(String, Vec<u8>)],
        height: Height,
    ) -> BoxFuture<'a, Vec<Result<QueryAnswer, ProviderError>>> {
        Box::pin(async move {
            let params: Vec<Value> = queries
                .iter()
                .map(|(path, data)| query_params(path, data, height))
                .collect();
            self.call_many("abci_query", &params, &read_query)
                .await
                .into_iter()
                .map(|answer| answer.map_err(|e| height_error(e, height)))
                .collect()
        })
    }

    fn tx(&self, hash: Hash) -> BoxFuture<'_, Result<TxAnswer, ProviderError>> {
        Box::pin(async move {
            let params = json!({
                "hash": base64::engine::general_purpose::STANDARD.encode(hash.as_bytes()),
                "prove": true,
            });
            let r: TxResultRaw = parse(self.call("tx", params).await?, "tx")?;
            let proof = match r.proof {
                Some(p) if !p.root_hash.is_empty() => Some(TxProof {
                    root_hash: hash_hex(&p.root_hash, "tx proof root")?,
                    data: b64(p.data.as_deref(), "tx proof data")?,
                    proof: p.proof,
                }),
                _ => None,
            };
            Ok(TxAnswer {
                hash: hash_hex(&r.hash, "tx hash")?,
                height: Height(r.height),
                index: u32::try_from(r.index).map_err(malformed("tx index"))?,
                tx: b64(Some(&r.tx), "tx")?,
                code: r.tx_result.code,
                log: r.tx_result.log,
                proof,
            })
        })
    }

    fn broadcast_tx_sync<'a>(
        &'a self,
        tx: &'a [u8],
    ) -> BoxFuture<'a, Result<BroadcastAnswer, ProviderError>> {
        Box::pin(async move {
            let params = json!({"tx": base64::engine::general_purpose::STANDARD.encode(tx)});
            let r: BroadcastRaw = parse(
                self.call("broadcast_tx_sync", params).await?,
                "broadcast_tx_sync",
            )?;
            Ok(BroadcastAnswer {
                code: r.code,
                log: r.log,
                hash: hash_hex(&r.hash, "broadcast hash")?,
            })
        })
    }

    fn broadcast_evidence<'a>(
        &'a self,
        evidence: &'a Value,
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            let result = self
                .call("broadcast_evidence", json!({"evidence": evidence}))
                .await?;
            Ok(result
                .get("hash")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned())
        })
    }
}

fn query_params(path: &str, data: &[u8], height: Height) -> Value {
    json!({
        "path": path,
        "data": hex::encode(data),
        "height": height.value().to_string(),
        "prove": true,
    })
}

/// An `abci_query` result, every byte field decoded.
fn read_query(result: Value) -> Result<QueryAnswer, ProviderError> {
    let r: AbciQueryResult = parse(result, "abci_query")?;
    let r = r.response;
    let value = b64(r.value.as_deref(), "abci_query value")?;
    let mut proof_ops = Vec::new();
    for op in r.proof_ops.and_then(|p| p.ops).unwrap_or_default() {
        proof_ops.push(ProofOp {
            key: b64(op.key.as_deref(), "proof op key")?,
            data: b64(op.data.as_deref(), "proof op data")?,
            kind: op.kind,
        });
    }
    Ok(QueryAnswer {
        code: r.code,
        log: r.log,
        key: b64(r.key.as_deref(), "abci_query key")?,
        value: (!value.is_empty()).then_some(value),
        height: Height(r.height),
        proof_ops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-request HTTP server on loopback answering `body` (with or without a length).
    async fn serve_once(body: Vec<u8>, with_length: bool) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let head = if with_length {
                format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len())
            } else {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(&body).await;
        });
        url
    }

    #[tokio::test]
    async fn oversized_answers_are_refused_before_parsing() {
        let config = RpcConfig {
            max_response_bytes: 1024,
            retries: 0,
            ..RpcConfig::default()
        };
        for with_length in [true, false] {
            let url = serve_once(vec![b' '; 100_000], with_length).await;
            let p = RpcProvider::new(&url, config.clone()).unwrap();
            let err = p.signed_header(None).await.unwrap_err();
            assert_eq!(
                err,
                ProviderError::TooLarge { limit: 1024 },
                "length given: {with_length}"
            );
        }
        // Garbage within the limit is malformed, and a refused connection is silence.
        let url = serve_once(b"<html>hello</html>".to_vec(), true).await;
        let p = RpcProvider::new(&url, config.clone()).unwrap();
        assert!(matches!(p.status().await, Err(ProviderError::Malformed(_))));
        let p = RpcProvider::new("http://127.0.0.1:9", config).unwrap();
        assert!(p.status().await.unwrap_err().is_silence());
    }

    #[test]
    fn envelope_errors_and_ids_are_checked() {
        let ok = envelope_result(json!({"jsonrpc":"2.0","id":3,"result":{"a":1}}), 3).unwrap();
        assert_eq!(ok, json!({"a":1}));
        assert!(matches!(
            envelope_result(json!({"jsonrpc":"2.0","id":4,"result":{}}), 3),
            Err(ProviderError::Malformed(_))
        ));
        assert!(matches!(
            envelope_result(
                json!({"jsonrpc":"2.0","id":3,"error":{"code":-32603,"message":"Internal error","data":"height 9 must be less than or equal to the current blockchain height 5"}}),
                3
            ),
            Err(ProviderError::Rpc { code: -32603, .. })
        ));
        assert!(matches!(
            envelope_result(json!([1]), 3),
            Err(ProviderError::Malformed(_))
        ));
        let e = ProviderError::Rpc {
            code: -32603,
            message: "Internal error: height 9 must be less than or equal to the current blockchain height 5".into(),
        };
        assert_eq!(
            height_error(e, Height(9)),
            ProviderError::HeightUnavailable(Height(9))
        );
    }
}
