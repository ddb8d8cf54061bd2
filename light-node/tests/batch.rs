//! The batched calls of [`RpcProvider`] (one JSON-RPC batch per `max_batch` calls) against
//! the devnet on loopback: the same answers as one call at a time, in order, with per-call
//! errors; the default batch fits a stock CometBFT node's limit, and a batch over a node's
//! limit (refused whole, as CometBFT does) is asked again one call at a time.

use std::time::Duration;

use devnet::{Devnet, DevnetConfig};
use light_client::Height;
use light_node::{Provider, ProviderError, RpcConfig, RpcProvider};

#[tokio::test(flavor = "multi_thread")]
async fn batches_answer_as_single_calls_in_order() {
    let net = Devnet::start(DevnetConfig::for_tests())
        .await
        .expect("devnet starts");
    assert!(net.wait_for_height(6, Duration::from_secs(20)).await);
    let config = RpcConfig {
        max_batch: 2,
        ..RpcConfig::default()
    };
    let node = RpcProvider::new(&net.rpc_urls()[0], config).unwrap();
    // Five heights in three batches, one past the head.
    let heights: Vec<Height> = [5u64, 1, 3, 1_000_000, 2].into_iter().map(Height).collect();
    let before = node.traffic().requests();
    let headers = node.headers(&heights).await;
    let sets = node.validator_sets(&heights).await;
    let commits = node.signed_headers(&heights).await;
    assert_eq!(node.traffic().requests() - before, 9, "three batches each");
    for (i, &h) in heights.iter().enumerate() {
        if h == Height(1_000_000) {
            assert_eq!(headers[i], Err(ProviderError::HeightUnavailable(h)));
            assert_eq!(sets[i], Err(ProviderError::HeightUnavailable(h)));
            assert_eq!(commits[i], Err(ProviderError::HeightUnavailable(h)));
            continue;
        }
        assert_eq!(headers[i].as_ref().unwrap(), &node.header(h).await.unwrap());
        assert_eq!(
            sets[i].as_ref().unwrap(),
            &node.validators(h).await.unwrap()
        );
        assert_eq!(
            commits[i].as_ref().unwrap(),
            &node.signed_header(Some(h)).await.unwrap()
        );
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_fit_the_node_limit_and_a_refused_batch_goes_call_by_call() {
    let net = Devnet::start(DevnetConfig::for_tests())
        .await
        .expect("devnet starts");
    assert!(net.wait_for_height(13, Duration::from_secs(20)).await);
    let heights: Vec<Height> = (1..=12).map(Height).collect();

    // The default batch is within CometBFT's default limit, which the devnet enforces.
    assert!(RpcConfig::default().max_batch <= devnet::MAX_REQUEST_BATCH_SIZE);
    let fitting = RpcProvider::new(&net.rpc_urls()[0], RpcConfig::default()).unwrap();
    let headers = fitting.headers(&heights).await;
    assert_eq!(fitting.traffic().requests(), 2, "12 calls in two batches");

    // A client configured past the node's limit: the node refuses the batch with one error
    // (HTTP 400), and the same calls are then made one at a time, with the same answers.
    let config = RpcConfig {
        max_batch: 40,
        ..RpcConfig::default()
    };
    let eager = RpcProvider::new(&net.rpc_urls()[0], config).unwrap();
    let again = eager.headers(&heights).await;
    assert_eq!(
        eager.traffic().requests(),
        1 + 12,
        "refused, then one by one"
    );
    for (a, b) in headers.iter().zip(&again) {
        assert_eq!(a.as_ref().unwrap(), b.as_ref().unwrap());
    }

    // The refusal as a client sees it.
    let calls: Vec<_> = (1..=11)
        .map(|i| serde_json::json!({"jsonrpc": "2.0", "id": i, "method": "health", "params": {}}))
        .collect();
    let answer = reqwest::Client::new()
        .post(&net.rpc_urls()[0])
        .json(&calls)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], -32600, "{body}");
    net.shutdown().await;
}
