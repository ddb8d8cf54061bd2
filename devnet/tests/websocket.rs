//! `/websocket`: JSON-RPC over WebSocket, `subscribe` to `NewBlockHeader` / `NewBlock` and the
//! events pushed for every new block, `unsubscribe`, and what misbehaving nodes push.

use std::time::Duration;

use devnet::{AppKind, Behaviour};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::support::{self, result};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(url: &str) -> Ws {
    let ws_url = format!("{}/websocket", url.replacen("http://", "ws://", 1));
    let (ws, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("websocket connects");
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

/// The next frame (text or binary), or `None` after `wait`.
async fn next_frame(ws: &mut Ws, wait: Duration) -> Option<Message> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Err(_) => return None,
            Ok(None) => return None,
            Ok(Some(Ok(m @ (Message::Text(_) | Message::Binary(_))))) => return Some(m),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => panic!("websocket error: {e}"),
        }
    }
}

/// The next frame as JSON.
async fn next_json(ws: &mut Ws) -> Value {
    match next_frame(ws, Duration::from_secs(10)).await {
        Some(Message::Text(t)) => {
            serde_json::from_str(&t).unwrap_or_else(|e| panic!("JSON frame: {e}: {t}"))
        }
        other => panic!("expected a text frame, got {other:?}"),
    }
}

fn subscribe(id: Value, query: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "method": "subscribe", "params": { "query": query } })
}

const HEADERS: &str = "tm.event='NewBlockHeader'";
const BLOCKS: &str = "tm.event='NewBlock'";

fn event_height(event: &Value) -> u64 {
    let value = &event["result"]["data"]["value"];
    let header = if value["header"].is_object() {
        &value["header"]
    } else {
        &value["block"]["header"]
    };
    header["height"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_push_every_new_block() {
    let mut config = support::config(AppKind::Kv);
    config.nodes = 1;
    let net = support::start(config).await;
    let url = net.rpc_urls()[0].clone();
    let mut ws = connect(&url).await;

    send(&mut ws, subscribe(json!(1), HEADERS)).await;
    assert_eq!(
        next_json(&mut ws).await,
        json!({"jsonrpc":"2.0","id":1,"result":{}})
    );
    let mut last = None;
    for _ in 0..4 {
        let event = next_json(&mut ws).await;
        assert_eq!(event["id"], json!(1), "{event}");
        assert_eq!(event["result"]["query"], json!(HEADERS));
        assert_eq!(
            event["result"]["data"]["type"],
            json!("tendermint/event/NewBlockHeader")
        );
        assert_eq!(
            event["result"]["events"]["tm.event"],
            json!(["NewBlockHeader"])
        );
        let h = event_height(&event);
        if let Some(prev) = last {
            assert_eq!(h, prev + 1, "every block, in order");
        }
        last = Some(h);
        let header = &event["result"]["data"]["value"]["header"];
        let commit = result(&url, &format!("/commit?height={h}")).await;
        assert_eq!(
            header, &commit["signed_header"]["header"],
            "the header of /commit"
        );
        serde_json::from_value::<light_client::types::Header>(header.clone())
            .expect("a CometBFT header");
    }

    // A second subscription, a call on the same socket, a duplicate, a bad query.
    send(&mut ws, subscribe(json!("b"), BLOCKS)).await;
    send(&mut ws, json!({"jsonrpc":"2.0","id":9,"method":"status"})).await;
    send(&mut ws, subscribe(json!(2), HEADERS)).await;
    send(&mut ws, subscribe(json!(3), "tm.event='Vote'")).await;
    send(
        &mut ws,
        json!({"jsonrpc":"2.0","id":4,"method":"subscribe"}),
    )
    .await;
    let mut answers = Vec::new();
    let mut blocks_seen = 0;
    while answers.len() < 5 || blocks_seen < 2 {
        let v = next_json(&mut ws).await;
        if v["result"]["query"] == json!(BLOCKS) {
            assert_eq!(v["id"], json!("b"));
            let value = &v["result"]["data"]["value"];
            assert_eq!(v["result"]["data"]["type"], "tendermint/event/NewBlock");
            assert!(value["block"]["header"]["chain_id"].is_string(), "{v}");
            assert!(value["block_id"]["hash"].is_string(), "{v}");
            assert!(
                value["result_finalize_block"]["app_hash"].is_string(),
                "{v}"
            );
            blocks_seen += 1;
        } else if v["result"]["query"] == json!(HEADERS) {
            assert_eq!(v["id"], json!(1));
        } else {
            answers.push(v);
        }
    }
    let by_id = |id: Value| answers.iter().find(|a| a["id"] == id).cloned().unwrap();
    assert_eq!(by_id(json!("b"))["result"], json!({}));
    assert_eq!(
        by_id(json!(9))["result"]["node_info"]["network"],
        json!(net.chain().chain_id())
    );
    assert_eq!(
        by_id(json!(2))["error"]["code"],
        json!(-32603),
        "already subscribed"
    );
    assert_eq!(
        by_id(json!(3))["error"]["code"],
        json!(-32602),
        "unsupported query"
    );
    assert_eq!(
        by_id(json!(4))["error"]["code"],
        json!(-32602),
        "missing query"
    );

    // Unsubscribe the headers: only NewBlock events follow.
    send(
        &mut ws,
        json!({"jsonrpc":"2.0","id":5,"method":"unsubscribe","params":{"query":HEADERS}}),
    )
    .await;
    loop {
        let v = next_json(&mut ws).await;
        if v["id"] == json!(5) {
            assert_eq!(v["result"], json!({}));
            break;
        }
    }
    for _ in 0..2 {
        let v = next_json(&mut ws).await;
        assert_eq!(
            v["id"],
            json!("b"),
            "only the NewBlock subscription is left: {v}"
        );
    }
    send(
        &mut ws,
        json!({"jsonrpc":"2.0","id":6,"method":"unsubscribe_all"}),
    )
    .await;
    loop {
        let v = next_json(&mut ws).await;
        if v["id"] == json!(6) {
            assert_eq!(v["result"], json!({}));
            break;
        }
    }
    assert!(
        next_frame(&mut ws, Duration::from_millis(300))
            .await
            .is_none(),
        "nothing after unsubscribe_all"
    );
    send(
        &mut ws,
        json!({"jsonrpc":"2.0","id":7,"method":"unsubscribe_all"}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["error"]["code"], json!(-32603));
    ws.send(Message::Text("{nope".into())).await.unwrap();
    let v = next_json(&mut ws).await;
    assert_eq!(
        (v["id"].clone(), v["error"]["code"].clone()),
        (Value::Null, json!(-32700))
    );
    // Plain HTTP on the path is refused, and the node is fine.
    let (status, _) = support::get_text(&url, "/websocket").await;
    assert!((400..500).contains(&status), "{status}");
    assert!(support::latest_height(&url).await > 4);
    ws.close(None).await.unwrap();
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misbehaving_nodes_push_what_they_serve() {
    let mut config = support::config(AppKind::Kv);
    config.nodes = 5;
    config.behaviours = vec![
        (1, Behaviour::Fork { from_height: 2 }),
        (2, Behaviour::Lunatic { from_height: 2 }),
        (3, Behaviour::Timeout),
        (4, Behaviour::Garbage),
    ];
    let net = support::start(config).await;
    support::wait_height(&net, 2).await;
    let urls = net.rpc_urls().to_vec();

    // Fork and lunatic nodes push their own chain's headers.
    for url in [&urls[1], &urls[2]] {
        let mut ws = connect(url).await;
        send(&mut ws, subscribe(json!(1), HEADERS)).await;
        assert_eq!(next_json(&mut ws).await["result"], json!({}));
        let event = next_json(&mut ws).await;
        let h = event_height(&event);
        let own = result(url, &format!("/commit?height={h}")).await;
        let canonical = result(&urls[0], &format!("/commit?height={h}")).await;
        let header = &event["result"]["data"]["value"]["header"];
        assert_eq!(header, &own["signed_header"]["header"]);
        assert_ne!(header, &canonical["signed_header"]["header"]);
    }

    // A timeout node accepts the subscription and pushes nothing.
    let mut ws = connect(&urls[3]).await;
    send(&mut ws, subscribe(json!(1), HEADERS)).await;
    assert_eq!(next_json(&mut ws).await["result"], json!({}));
    let h = net.chain().latest_height();
    support::wait_height(&net, h + 3).await;
    assert!(next_frame(&mut ws, Duration::from_millis(200))
        .await
        .is_none());

    // A garbage node sends frames that are not JSON-RPC answers or events.
    let mut ws = connect(&urls[4]).await;
    send(&mut ws, subscribe(json!(1), HEADERS)).await;
    let mut kinds = Vec::new();
    for _ in 0..4 {
        let frame = next_frame(&mut ws, Duration::from_secs(10))
            .await
            .expect("a frame");
        let good = match &frame {
            Message::Text(t) => serde_json::from_str::<Value>(t).ok().is_some_and(|v| {
                v["result"] == json!({}) || v["result"]["data"]["value"]["header"].is_object()
            }),
            _ => false,
        };
        assert!(!good, "garbage expected: {frame:?}");
        kinds.push(matches!(frame, Message::Binary(_)));
    }
    assert!(
        kinds.contains(&true) && kinds.contains(&false),
        "text and binary garbage"
    );

    // A stale node pushes nothing past its height, and again once honest.
    let mut ws = connect(&urls[0]).await;
    net.set_behaviour(0, Behaviour::Stale { height: 0 });
    send(&mut ws, subscribe(json!(1), HEADERS)).await;
    assert_eq!(next_json(&mut ws).await["result"], json!({}));
    let h = net.chain().latest_height();
    support::wait_height(&net, h + 3).await;
    assert!(next_frame(&mut ws, Duration::from_millis(200))
        .await
        .is_none());
    net.set_behaviour(0, Behaviour::Honest);
    let event = next_json(&mut ws).await;
    assert!(
        event_height(&event) <= h + 1,
        "catches up from where it stopped"
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tx_subscriptions_push_each_transaction_with_its_result() {
    use base64::Engine as _;
    let all = "tm.event='Tx'";
    let mut config = support::config(AppKind::Kv);
    config.nodes = 1;
    let net = support::start(config).await;
    let url = net.rpc_urls()[0].clone();
    let mut ws = connect(&url).await;
    send(&mut ws, subscribe(json!("all"), all)).await;
    assert_eq!(next_json(&mut ws).await["result"], json!({}));
    let txs: Vec<Vec<u8>> = vec![b"a=1".to_vec(), b"b=2".to_vec()];
    let second = hex::encode_upper(devnet::tx_hash(&txs[1]));
    let only = format!("tm.event = 'Tx' AND tx.hash = '{second}'");
    send(&mut ws, subscribe(json!("one"), &only)).await;
    assert_eq!(next_json(&mut ws).await["result"], json!({}));
    for tx in &txs {
        let (_, v) = support::call(
            &url,
            "broadcast_tx_sync",
            json!({"tx": base64::engine::general_purpose::STANDARD.encode(tx)}),
        )
        .await;
        assert_eq!(v["result"]["code"], 0, "{v}");
    }
    let mut seen_all = Vec::new();
    let mut seen_one = Vec::new();
    while seen_all.len() < 2 || seen_one.is_empty() {
        let v = next_json(&mut ws).await;
        let r = &v["result"];
        assert_eq!(r["data"]["type"], "tendermint/event/Tx", "{v}");
        assert_eq!(r["events"]["tm.event"], json!(["Tx"]));
        let t = &r["data"]["value"]["TxResult"];
        assert!(t["height"].as_str().unwrap().parse::<u64>().unwrap() >= 1);
        assert!(t["index"].is_number());
        assert_eq!(t["result"]["code"], 0);
        assert!(t["result"]["gas_wanted"].is_string());
        let tx = base64::engine::general_purpose::STANDARD
            .decode(t["tx"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            r["events"]["tx.hash"],
            json!([hex::encode_upper(devnet::tx_hash(&tx))])
        );
        assert_eq!(r["events"]["tx.height"], json!([t["height"]]));
        match v["id"].as_str() {
            Some("all") => {
                assert_eq!(r["query"], all);
                seen_all.push(tx);
            }
            Some("one") => {
                assert_eq!(r["query"], json!(only));
                seen_one.push(tx);
            }
            _ => panic!("unexpected frame {v}"),
        }
    }
    assert_eq!(seen_all, txs, "every transaction, in order");
    assert_eq!(seen_one, vec![txs[1].clone()], "only the one asked for");
    // A compound query with an operator the node does not serve is refused clearly.
    send(
        &mut ws,
        subscribe(json!("bad"), "tm.event='Tx' AND tx.height > 3"),
    )
    .await;
    let v = next_json(&mut ws).await;
    assert_eq!(v["error"]["code"], -32602, "{v}");
    assert!(v["error"]["data"]
        .as_str()
        .unwrap()
        .contains("tm.event='Tx'"));
    ws.close(None).await.unwrap();
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tx_queries_match_the_applications_event_attributes() {
    use base64::Engine as _;
    let mut config = support::config(AppKind::Registry { seed_samples: true });
    config.nodes = 1;
    let net = support::start(config).await;
    let samples = net.samples().unwrap().clone();
    let url = net.rpc_urls()[0].clone();
    let mut ws = connect(&url).await;
    let issuer = &samples.issuers[0];
    let query = format!(
        "tm.event='Tx' AND certificate_issued.issuer='{}'",
        issuer.spec.id
    );
    send(&mut ws, subscribe(json!(1), &query)).await;
    assert_eq!(next_json(&mut ws).await["result"], json!({}));
    let mut cert = samples
        .certificates
        .iter()
        .find(|c| c.signed.certificate.id.issuer == issuer.spec.id)
        .unwrap()
        .signed
        .certificate
        .clone();
    cert.id.serial = registry::Serial::new("WS-0001").unwrap();
    let tx = registry::TxBuilder::new(&samples.chain_id, &issuer.key)
        .issue(1000, &cert)
        .unwrap();
    let (_, v) = support::call(
        &url,
        "broadcast_tx_sync",
        json!({"tx": base64::engine::general_purpose::STANDARD.encode(&tx)}),
    )
    .await;
    assert_eq!(v["result"]["code"], 0, "{v}");
    let v = next_json(&mut ws).await;
    let r = &v["result"];
    assert_eq!(r["query"], json!(query));
    assert_eq!(
        r["events"]["certificate_issued.id"],
        json!([cert.id.to_string()])
    );
    assert_eq!(
        r["events"]["certificate_issued.issuer"],
        json!([issuer.spec.id.to_string()])
    );
    let result = &r["data"]["value"]["TxResult"]["result"];
    assert_eq!(result["events"][0]["type"], "certificate_issued");
    ws.close(None).await.unwrap();
    net.shutdown().await;
}
