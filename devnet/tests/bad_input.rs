//! Bad requests get CometBFT's JSON-RPC errors and the network keeps running.

use devnet::AppKind;
use serde_json::{json, Value};

use crate::support::{self, call, get, post_raw};

fn error_code(text: &str) -> i64 {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error code: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_rpc_errors() {
    let mut config = support::config(AppKind::Kv);
    config.max_body_bytes = 10_000;
    let net = support::start(config).await;
    let url = &net.rpc_urls()[0];
    let before = net.chain().latest_height();

    let (code, text) = post_raw(url, "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": ").await;
    assert_eq!((code, error_code(&text)), (500, -32700));
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["id"], Value::Null);

    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{{\"x\":\"{}\"}}}}",
        "a".repeat(50_000)
    );
    let (code, text) = post_raw(url, huge).await;
    assert_eq!((code, error_code(&text)), (400, -32600));

    let (code, v) = call(url, "no_such_method", json!({})).await;
    assert_eq!((code, v["error"]["code"].as_i64()), (200, Some(-32601)));
    assert_eq!(v["id"], 7);
    let (code, v) = get(url, "/no_such_method").await;
    assert_eq!((code, v["error"]["code"].as_i64()), (404, Some(-32601)));

    let (_, v) = call(url, "commit", json!({"height": "abc"})).await;
    assert_eq!(v["error"]["code"], -32602);
    let (_, v) = call(url, "commit", json!({"height": [1]})).await;
    assert_eq!(v["error"]["code"], -32602);
    let (_, v) = call(url, "validators", json!(["1"])).await;
    assert_eq!(
        v["error"]["code"], -32602,
        "positional params must match the argument count"
    );
    let (code, v) = get(url, "/commit?height=abc").await;
    assert_eq!((code, v["error"]["code"].as_i64()), (500, Some(-32602)));
    let (_, v) = get(url, "/tx?hash=0x1234").await;
    assert_eq!(v["error"]["code"], -32602);
    let (_, v) = call(url, "broadcast_tx_sync", json!({"tx": "!!not base64!!"})).await;
    assert_eq!(v["error"]["code"], -32602);
    let (_, v) = call(url, "abci_query", json!({"data": "zz"})).await;
    assert_eq!(v["error"]["code"], -32602);

    let (_, v) = call(url, "commit", json!({"height": "999999"})).await;
    assert_eq!(v["error"]["code"], -32603);
    assert!(v["error"]["data"]
        .as_str()
        .unwrap()
        .contains("must be less than or equal to"));

    let (code, text) = post_raw(url, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"status\"}").await;
    assert_eq!((code, error_code(&text)), (200, -32600));
    let (code, text) = post_raw(url, "[]").await;
    assert_eq!((code, error_code(&text)), (400, -32600));
    let (code, text) = post_raw(url, "\"status\"").await;
    assert_eq!((code, error_code(&text)), (400, -32600));
    let (_, text) = post_raw(
        url,
        "{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"status\"}",
    )
    .await;
    assert_eq!(error_code(&text), -32600);
    let (code, text) = post_raw(url, "\u{0}\u{ff}binary").await;
    assert_eq!((code, error_code(&text)), (500, -32700));

    // A batch mixing good and bad calls answers each; notifications get no answer.
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "health"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "method": "health"},
        5
    ]);
    let (code, text) = post_raw(url, batch.to_string()).await;
    assert_eq!(code, 200);
    let answers: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0]["result"], json!({}));
    assert_eq!(answers[1]["error"]["code"], -32601);
    assert_eq!(answers[2]["error"]["code"], -32600);

    // An absurdly long URI is refused without harm.
    let long = format!("{url}/commit?height={}", "9".repeat(200_000));
    if let Ok(r) = support::client().get(long).send().await {
        assert_ne!(r.status().as_u16(), 200);
    }

    // Still running and answering.
    support::wait_height(&net, before + 3).await;
    let (code, _) = get(url, "/status").await;
    assert_eq!(code, 200);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_requests_are_served() {
    let net = support::start(support::config(AppKind::Kv)).await;
    let url = net.rpc_urls()[0].clone();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let path = if i % 2 == 0 {
                "/status"
            } else {
                "/commit?height=1"
            };
            get(&url, path).await.0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    net.shutdown().await;
}
