//! `broadcast_evidence`: a light-client attack (a fork node's conflicting block) in CometBFT's
//! amino JSON is accepted by POST and by URI, answered with the hash of the JSON as sent, and
//! listed by the admin server; malformed evidence gets CometBFT's error codes.

use devnet::{AppKind, Behaviour};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::support::{self, call, get, post_raw, result};

/// Evidence of the fork node's block at `height` conflicting with the chain since `common`,
/// written with spacing of its own (so that its hash is of these bytes, not a re-encoding).
async fn attack_evidence(fork_url: &str, height: u64, common: u64, chain_id: &str) -> String {
    let commit = result(fork_url, &format!("/commit?height={height}")).await;
    let vals = result(
        fork_url,
        &format!("/validators?height={height}&per_page=100"),
    )
    .await;
    let list = vals["validators"].clone();
    let total: u64 = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["voting_power"].as_str().unwrap().parse::<u64>().unwrap())
        .sum();
    let mut signed_header = commit["signed_header"].clone();
    assert_eq!(signed_header["header"]["chain_id"], json!(chain_id));
    let value = json!({
        "conflicting_block": {
            "signed_header": signed_header.take(),
            "validator_set": { "validators": list, "proposer": list[0], "total_voting_power": total.to_string() }
        },
        "common_height": common.to_string(),
        "byzantine_validators": list,
        "total_voting_power": total.to_string(),
        "timestamp": commit["signed_header"]["header"]["time"]
    });
    format!(
        "{{ \"type\" : \"tendermint/LightClientAttackEvidence\",\n  \"value\": {} }}",
        serde_json::to_string_pretty(&value).unwrap()
    )
}

fn sha256_upper(text: &str) -> String {
    hex::encode_upper(Sha256::digest(text.as_bytes()))
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn rpc_body(evidence: &str) -> String {
    format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"broadcast_evidence\",\"params\":{{\"evidence\": {evidence}}}}}"
    )
}

async fn post_evidence(url: &str, evidence: &str) -> Value {
    let (status, text) = post_raw(url, rpc_body(evidence)).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_is_accepted_recorded_and_listed() {
    let mut config = support::config(AppKind::Kv);
    config.behaviours = vec![(1, Behaviour::Fork { from_height: 3 })];
    let net = support::start(config).await;
    support::wait_height(&net, 6).await;
    let [honest, fork, witness] = [0, 1, 2].map(|i| net.rpc_urls()[i].clone());
    let chain_id = net.chain().chain_id().to_string();

    let ev = attack_evidence(&fork, 5, 2, &chain_id).await;
    let answer = post_evidence(&honest, &ev).await;
    assert_eq!(answer["id"], json!(3));
    assert_eq!(
        answer["result"],
        json!({ "hash": sha256_upper(&ev) }),
        "{answer}"
    );
    // Sent again: the same hash, recorded once.
    let again = post_evidence(&honest, &ev).await;
    assert_eq!(again["result"]["hash"], answer["result"]["hash"]);
    assert_eq!(net.evidence(0).len(), 1);
    assert_eq!(net.evidence(0)[0].conflicting_height, 5);
    assert_eq!(net.evidence(0)[0].common_height, 2);

    // URI form, positional params, and in a batch.
    let ev4 = attack_evidence(&fork, 4, 2, &chain_id).await;
    let r = result(
        &witness,
        &format!("/broadcast_evidence?evidence={}", percent_encode(&ev4)),
    )
    .await;
    assert_eq!(r["hash"], json!(sha256_upper(&ev4)));
    let ev6 = attack_evidence(&fork, 6, 3, &chain_id).await;
    let batch = format!(
        "[{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health\"}},{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"broadcast_evidence\",\"params\":[ {ev6} ]}}]"
    );
    let (status, text) = post_raw(&witness, batch).await;
    assert_eq!(status, 200);
    let answers: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        answers[1]["result"]["hash"],
        json!(sha256_upper(&ev6)),
        "{text}"
    );

    // The admin server lists what each node got.
    let (_, status) = get(net.admin_url(), "/status").await;
    assert_eq!(status["evidence"]["count"], json!(3), "{status}");
    let received = status["evidence"]["received"].as_array().unwrap();
    let by_node: Vec<(u64, &str)> = received
        .iter()
        .map(|e| (e["node"].as_u64().unwrap(), e["hash"].as_str().unwrap()))
        .collect();
    assert!(by_node.contains(&(0, sha256_upper(&ev).as_str())));
    assert!(by_node.contains(&(2, sha256_upper(&ev4).as_str())));
    assert!(by_node.contains(&(2, sha256_upper(&ev6).as_str())));
    assert_eq!(status["nodes"][0]["evidence_count"], json!(1));
    assert_eq!(status["nodes"][1]["evidence_count"], json!(0));
    assert_eq!(status["nodes"][2]["evidence_count"], json!(2));
    assert_eq!(received[0]["type"], "tendermint/LightClientAttackEvidence");
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_evidence_gets_cometbft_error_codes() {
    let mut config = support::config(AppKind::Kv);
    config.behaviours = vec![(1, Behaviour::Fork { from_height: 2 })];
    let net = support::start(config).await;
    support::wait_height(&net, 4).await;
    let [honest, fork] = [0, 1].map(|i| net.rpc_urls()[i].clone());
    let chain_id = net.chain().chain_id().to_string();
    let good: Value = serde_json::from_str(&attack_evidence(&fork, 3, 1, &chain_id).await).unwrap();

    let code = |v: &Value| v["error"]["code"].as_i64();
    let shape_errors = [
        json!(5),
        json!("evidence"),
        json!({}),
        json!({ "type": "tendermint/Nope", "value": good["value"] }),
        json!({ "type": "tendermint/LightClientAttackEvidence" }),
        json!({ "type": "tendermint/LightClientAttackEvidence", "value": { "common_height": "1" } }),
    ];
    for ev in shape_errors {
        let (status, v) = call(&honest, "broadcast_evidence", json!({ "evidence": ev })).await;
        assert_eq!((status, code(&v)), (200, Some(-32602)), "{ev}: {v}");
    }
    let (_, v) = call(&honest, "broadcast_evidence", json!({})).await;
    assert_eq!(code(&v), Some(-32602), "missing evidence: {v}");
    let mut broken = good.clone();
    broken["value"]["conflicting_block"]["signed_header"]["header"]["height"] = json!("x");
    let (_, v) = call(&honest, "broadcast_evidence", json!({ "evidence": broken })).await;
    assert_eq!(code(&v), Some(-32602), "{v}");
    assert!(
        v["error"]["data"]
            .as_str()
            .unwrap()
            .contains("header.height"),
        "the error names the field: {v}"
    );

    // Well formed, but not valid evidence: -32603.
    let mut tampered = Vec::new();
    let mut e = good.clone();
    e["value"]["common_height"] = json!("4");
    tampered.push(("common height ahead of the conflicting block", e));
    let mut e = good.clone();
    e["value"]["total_voting_power"] = json!("0");
    tampered.push(("zero total power", e));
    let mut e = good.clone();
    let vals = e["value"]["conflicting_block"]["validator_set"]["validators"]
        .as_array_mut()
        .unwrap();
    vals.pop();
    tampered.push(("validator set not the header's", e));
    let mut e = good.clone();
    e["value"]["conflicting_block"]["signed_header"]["commit"]["height"] = json!("2");
    tampered.push(("commit for another height", e));
    let mut e = good.clone();
    e["type"] = json!("tendermint/DuplicateVoteEvidence");
    tampered.push(("duplicate vote", e));
    for (what, ev) in tampered {
        let (status, v) = call(&honest, "broadcast_evidence", json!({ "evidence": ev })).await;
        assert_eq!((status, code(&v)), (200, Some(-32603)), "{what}: {v}");
    }
    // URI form: not JSON, and evidence that fails its checks.
    let (status, v) = get(&honest, "/broadcast_evidence?evidence=%7Bnope").await;
    assert_eq!((status, code(&v)), (500, Some(-32602)), "{v}");
    assert!(net.evidence(0).is_empty(), "nothing recorded");
    // The node is fine.
    assert!(support::latest_height(&honest).await >= 4);
    net.shutdown().await;
}
