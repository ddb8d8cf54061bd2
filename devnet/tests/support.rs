//! Helpers: starting networks, calling their RPC, building light blocks from the answers.

use std::time::Duration;

use devnet::{AppKind, Devnet, DevnetConfig};
use light_client::rpc::{parse_commit_response, parse_validators_response, ValidatorsPage};
use light_client::types::{LightBlock, Time, ValidatorSet};
use serde_json::Value;

/// A test network: loopback, ephemeral ports, fast blocks, in memory.
pub fn config(app: AppKind) -> DevnetConfig {
    DevnetConfig {
        block_interval: Duration::from_millis(60),
        app,
        ..DevnetConfig::for_tests()
    }
}

/// Starts a network or fails the test.
pub async fn start(config: DevnetConfig) -> Devnet {
    Devnet::start(config).await.expect("network starts")
}

/// An HTTP client with a short timeout.
pub fn client() -> reqwest::Client {
    devnet::install_tls_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// GET `url/path` → (HTTP status, body text).
pub async fn get_text(url: &str, path: &str) -> (u16, String) {
    let r = client()
        .get(format!("{url}{path}"))
        .send()
        .await
        .expect("GET answers");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

/// GET `url/path` → (HTTP status, JSON body).
pub async fn get(url: &str, path: &str) -> (u16, Value) {
    let (status, text) = get_text(url, path).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON from {path}: {e}: {text}")),
    )
}

/// GET and return `result`, failing on an error answer.
pub async fn result(url: &str, path: &str) -> Value {
    let (status, v) = get(url, path).await;
    assert_eq!(status, 200, "{path}: {v}");
    v["result"].clone()
}

/// POST a raw body → (HTTP status, body text).
pub async fn post_raw(url: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
    let r = client()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST answers");
    let status = r.status().as_u16();
    (status, r.text().await.expect("body"))
}

/// POST a JSON-RPC call → (HTTP status, JSON body).
pub async fn call(url: &str, method: &str, params: Value) -> (u16, Value) {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params });
    let (status, text) = post_raw(url, body.to_string()).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON from {method}: {e}: {text}")),
    )
}

/// All validators at `height`, fetched page by page (3 per page for small sets, to exercise
/// paging; 100 for large ones).
pub async fn validator_set(url: &str, height: u64) -> ValidatorSet {
    let total = validators_page(url, height, 1, 3).await.total;
    let per_page = if total > 10 { 100 } else { 3 };
    let mut all = Vec::new();
    for page in 1..=200 {
        let p = validators_page(url, height, page, per_page).await;
        all.extend(p.validators);
        if all.len() as u64 >= p.total {
            break;
        }
    }
    ValidatorSet::new(all, None).expect("valid set")
}

async fn validators_page(url: &str, height: u64, page: u32, per_page: u32) -> ValidatorsPage {
    let (_, text) = get_text(
        url,
        &format!("/validators?height={height}&page={page}&per_page={per_page}"),
    )
    .await;
    parse_validators_response(&text).unwrap_or_else(|e| panic!("validators {height}: {e}: {text}"))
}

/// The light block at `height` as a node serves it (commit, validators, next validators).
pub async fn light_block(url: &str, height: u64) -> LightBlock {
    let (_, text) = get_text(url, &format!("/commit?height={height}")).await;
    let commit =
        parse_commit_response(&text).unwrap_or_else(|e| panic!("commit {height}: {e}: {text}"));
    LightBlock {
        signed_header: commit.signed_header,
        validators: validator_set(url, height).await,
        next_validators: Some(validator_set(url, height + 1).await),
    }
}

/// Now, as the light client's time.
pub fn now() -> Time {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    Time::from_unix(d.as_secs() as i64, d.subsec_nanos()).expect("time")
}

/// Waits for the network to reach `height` (bounded).
pub async fn wait_height(net: &Devnet, height: u64) {
    assert!(
        net.wait_for_height(height, Duration::from_secs(30)).await,
        "height {height} not reached"
    );
}

/// The latest height a node reports.
pub async fn latest_height(url: &str) -> u64 {
    let r = result(url, "/status").await;
    r["sync_info"]["latest_block_height"]
        .as_str()
        .expect("height string")
        .parse()
        .expect("number")
}
