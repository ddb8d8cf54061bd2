//! The JSON shapes of the RPC answers: CometBFT's (int64 as strings, upper-case hex hashes,
//! base64 bytes, the JSON-RPC envelope), over GET and POST alike.

use devnet::AppKind;
use serde_json::{json, Value};

use crate::support::{self, call, get, post_raw, result};

fn is_upper_hex(v: &Value, len: usize) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == len
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_commit_and_validators_have_cometbft_shapes() {
    let net = support::start(support::config(AppKind::Kv)).await;
    support::wait_height(&net, 3).await;
    let url = &net.rpc_urls()[0];

    let (code, v) = get(url, "/status").await;
    assert_eq!(code, 200);
    assert_eq!(v["jsonrpc"], "2.0");
    assert_eq!(v["id"], -1);
    let s = &v["result"];
    assert_eq!(s["node_info"]["network"], devnet::DEFAULT_CHAIN_ID);
    assert!(
        s["sync_info"]["latest_block_height"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 3
    );
    assert!(is_upper_hex(&s["sync_info"]["latest_block_hash"], 64));
    assert_eq!(s["sync_info"]["catching_up"], false);

    let c = result(url, "/commit?height=2").await;
    let h = &c["signed_header"]["header"];
    assert_eq!(h["height"], "2");
    assert_eq!(h["version"]["block"], "11");
    assert_eq!(h["chain_id"], devnet::DEFAULT_CHAIN_ID);
    assert!(is_upper_hex(&h["app_hash"], 64));
    assert!(is_upper_hex(&h["last_block_id"]["hash"], 64));
    assert!(h["time"].as_str().unwrap().ends_with('Z'));
    let commit = &c["signed_header"]["commit"];
    assert_eq!(commit["height"], "2");
    assert_eq!(commit["round"], 0);
    assert_eq!(commit["signatures"].as_array().unwrap().len(), 4);
    assert_eq!(commit["signatures"][0]["block_id_flag"], 2);
    assert!(is_upper_hex(
        &commit["signatures"][0]["validator_address"],
        40
    ));
    assert_eq!(
        commit["signatures"][0]["signature"].as_str().unwrap().len(),
        88,
        "base64 of 64 bytes"
    );
    assert_eq!(c["canonical"], true);

    // POST with named and positional params gives the same result, with the caller's id.
    let (code, p) = call(url, "commit", json!({"height": "2"})).await;
    assert_eq!(code, 200);
    assert_eq!(p["id"], 7);
    assert_eq!(p["result"], c);
    let (_, p) = call(url, "commit", json!(["2"])).await;
    assert_eq!(p["result"], c);
    let (_, p) = call(url, "commit", json!({"height": 2})).await;
    assert_eq!(p["result"], c);

    // Validators, paged.
    let page1 = result(url, "/validators?height=2&page=1&per_page=3").await;
    assert_eq!(page1["block_height"], "2");
    assert_eq!(page1["count"], "3");
    assert_eq!(page1["total"], "4");
    assert_eq!(
        page1["validators"][0]["pub_key"]["type"],
        "tendermint/PubKeyEd25519"
    );
    assert_eq!(page1["validators"][0]["voting_power"], "10");
    let page2 = result(url, "/validators?height=2&page=2&per_page=3").await;
    assert_eq!(page2["count"], "1");
    let (code, err) = get(url, "/validators?height=2&page=3&per_page=3").await;
    assert_eq!(code, 500);
    assert_eq!(err["error"]["code"], -32603);
    let all = result(url, "/validators?height=2").await;
    assert_eq!(all["count"], "4");
    // The next height's set is served too, as CometBFT does.
    let latest = support::latest_height(url).await;
    let next = result(url, &format!("/validators?height={}", latest + 1)).await;
    assert_eq!(next["total"], "4");

    // Other endpoints.
    assert_eq!(result(url, "/health").await, json!({}));
    let header = result(url, "/header?height=2").await;
    assert_eq!(header["header"], *h);
    let block = result(url, "/block?height=2").await;
    assert_eq!(block["block"]["header"], *h);
    assert_eq!(block["block"]["last_commit"]["height"], "1");
    let results = result(url, "/block_results?height=2").await;
    assert_eq!(results["height"], "2");
    let info = result(url, "/abci_info").await;
    assert!(info["response"]["last_block_height"].as_str().is_some());

    // A batch gets an array of answers, in order.
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "health"},
        {"jsonrpc": "2.0", "id": "two", "method": "header", "params": {"height": "1"}}
    ]);
    let (code, text) = post_raw(url, batch.to_string()).await;
    assert_eq!(code, 200);
    let answers: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answers[0]["id"], 1);
    assert_eq!(answers[1]["id"], "two");
    assert_eq!(answers[1]["result"]["header"]["height"], "1");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_transactions_are_committed_and_proven_in_data_hash() {
    let net = support::start(support::config(AppKind::Kv)).await;
    let url = &net.rpc_urls()[1];
    let (code, v) = get(url, "/broadcast_tx_sync?tx=%22colour=blue%22").await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["result"]["code"], 0);
    let hash = v["result"]["hash"].as_str().unwrap().to_string();
    assert_eq!(hash, hex::encode_upper(devnet::tx_hash(b"colour=blue")));
    // A duplicate is refused as CometBFT's mempool cache does.
    let (_, dup) = get(url, "/broadcast_tx_sync?tx=%22colour=blue%22").await;
    assert_eq!(dup["error"]["code"], -32603);
    // A transaction the app rejects gets its code and log.
    let (_, bad) = call(url, "broadcast_tx_sync", json!({"tx": "bm9lcXVhbHM="})).await;
    assert_eq!(bad["result"]["code"], 1);
    assert!(!bad["result"]["log"].as_str().unwrap().is_empty());

    let mut found = None;
    for _ in 0..300 {
        let (code, t) = get(url, &format!("/tx?hash=0x{hash}&prove=true")).await;
        if code == 200 {
            found = Some(t["result"].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let t = found.expect("tx committed");
    assert_eq!(t["hash"], hash);
    assert_eq!(t["tx_result"]["code"], 0);
    let height: u64 = t["height"].as_str().unwrap().parse().unwrap();
    let proof: light_client::merkle::Proof =
        serde_json::from_value(t["proof"]["proof"].clone()).unwrap();
    let block = support::light_block(url, height).await;
    let data_hash = block.signed_header.header.data_hash.expect("data hash");
    assert_eq!(t["proof"]["root_hash"], data_hash.to_hex());
    let leaf = devnet::tx_hash(b"colour=blue");
    proof
        .verify(&data_hash, &leaf)
        .expect("tx proof verifies against the header's data_hash");
    assert!(proof
        .verify(&data_hash, &devnet::tx_hash(b"colour=red"))
        .is_err());
    // The same via POST, with the hash in base64.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(hex::decode(&hash).unwrap());
    let (_, t2) = call(url, "tx", json!({"hash": b64, "prove": false})).await;
    assert_eq!(t2["result"]["tx"], t["tx"]);
    net.shutdown().await;
}
