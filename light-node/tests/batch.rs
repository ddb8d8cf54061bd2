//! The batched calls of [`RpcProvider`] (one JSON-RPC batch per 40 calls) against the devnet
//! on loopback: the same answers as one call at a time, in order, with per-call errors.

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
