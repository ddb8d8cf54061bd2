//! The devnet as real CometBFT clients see it: URI calls with raw quotes (as CometBFT's docs
//! write them) and `0x` hex, `tx` without a proof, the methods clients call besides the light
//! client's (`blockchain`, `block_by_hash`, `genesis`, `net_info`, `consensus_params`,
//! `broadcast_tx_commit`, `num_unconfirmed_txs`) in CometBFT v0.38's shapes, `-32601` with
//! `data`, and the `devnet` command's errors, help and logs.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use devnet::AppKind;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{self, call, get, result};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An int64 the CometBFT way: a JSON string of a decimal number.
fn int_string(v: &Value) -> i64 {
    v.as_str()
        .unwrap_or_else(|| panic!("expected an int64 as a string, got {v}"))
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {v}"))
}

/// Sends raw HTTP/1.1 bytes on one connection and reads until `answers` responses arrived
/// (counted by their status lines); returns the text.
async fn raw_http(url: &str, request: &[u8], answers: usize) -> String {
    let addr = url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut text = String::new();
    let mut buf = [0u8; 16384];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while text.matches("HTTP/1.1 ").count() < answers || !complete(&text, answers) {
        let n = tokio::time::timeout_at(deadline, s.read(&mut buf))
            .await
            .expect("answers in time")
            .expect("read");
        if n == 0 {
            break;
        }
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    text
}

/// Whether the last of `answers` responses has all its body (by `content-length`).
fn complete(text: &str, answers: usize) -> bool {
    let Some(last) = text.split("HTTP/1.1 ").nth(answers) else {
        return false;
    };
    let Some((head, body)) = last.split_once("\r\n\r\n") else {
        return false;
    };
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    body.len() >= len
}

/// The JSON bodies of the responses in `text`, in order.
fn bodies(text: &str) -> Vec<(u16, Value)> {
    text.split("HTTP/1.1 ")
        .skip(1)
        .map(|r| {
            let status = r[..3].parse().unwrap();
            let body = r.split_once("\r\n\r\n").map_or("", |(_, b)| b);
            (
                status,
                serde_json::from_str(body.trim()).unwrap_or(Value::Null),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uri_calls_take_raw_quotes_and_hex_as_cometbft_does() {
    let mut config = support::config(AppKind::Registry {
        seed_samples: false,
    });
    config.nodes = 1;
    let net = support::start(config).await;
    support::wait_height(&net, 2).await;
    let url = &net.rpc_urls()[0];
    let chain_id = net.chain().chain_id().to_string();
    let host = url.trim_start_matches("http://");

    // The form of CometBFT's documentation: the quotes sent as they are (curl does), then
    // on the same connection a POST, then `/key` with the key in 0x hex.
    let post = r#"{"jsonrpc":"2.0","id":3,"method":"health"}"#;
    let request = format!(
        "GET /abci_query?path=\"/store/meta/chain_id\" HTTP/1.1\r\nHost: {host}\r\n\r\n\
         POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{post}\
         GET /abci_query?path=\"/key\"&data=0x{}&prove=true HTTP/1.1\r\nHost: {host}\r\n\r\n",
        post.len(),
        hex::encode("meta/chain_id"),
    );
    let text = raw_http(url, request.as_bytes(), 3).await;
    let answers = bodies(&text);
    assert_eq!(answers.len(), 3, "{text}");
    let (status, first) = &answers[0];
    assert_eq!(*status, 200, "{text}");
    assert_eq!(first["result"]["response"]["code"], 0, "{first}");
    assert_eq!(
        first["result"]["response"]["value"],
        b64(chain_id.as_bytes())
    );
    assert_eq!(
        answers[1],
        (200, json!({"jsonrpc":"2.0","id":3,"result":{}}))
    );
    let (status, third) = &answers[2];
    assert_eq!(*status, 200, "{text}");
    assert_eq!(
        third["result"]["response"]["value"],
        b64(chain_id.as_bytes())
    );
    assert_eq!(
        third["result"]["response"]["proofOps"]["ops"][0]["type"],
        "ics23:jmt"
    );
    // The same with the quotes percent-encoded (what reqwest and browsers send).
    let v = result(url, "/abci_query?path=%22/store/meta/chain_id%22").await;
    assert_eq!(v["response"]["value"], b64(chain_id.as_bytes()));
    // A quoted value that is not a string parameter is still a clear error, not a 400.
    let text = raw_http(
        url,
        format!("GET /abci_query?path=\"/key\"&data=0xZZ HTTP/1.1\r\nHost: {host}\r\n\r\n")
            .as_bytes(),
        1,
    )
    .await;
    let (status, v) = &bodies(&text)[0];
    assert_eq!(
        (*status, v["error"]["code"].as_i64()),
        (500, Some(-32602)),
        "{text}"
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_methods_answer_in_cometbft_shapes() {
    let net = support::start(support::config(AppKind::Kv)).await;
    let url = &net.rpc_urls()[0];

    // broadcast_tx_commit waits for the block and returns both results.
    let (code, v) = call(
        url,
        "broadcast_tx_commit",
        json!({"tx": b64(b"fruit=kiwi")}),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    let r = &v["result"];
    assert_eq!(r["check_tx"]["code"], 0, "{r}");
    assert_eq!(r["tx_result"]["code"], 0, "{r}");
    assert!(r["tx_result"]["gas_used"].is_string());
    assert_eq!(r["hash"], hex::encode_upper(devnet::tx_hash(b"fruit=kiwi")));
    let height = int_string(&r["height"]);
    assert!(height >= 1);
    // Refused by CheckTx: answered at once, height 0, the check's code and log.
    let (_, v) = get(url, "/broadcast_tx_commit?tx=%22no-equals-sign%22").await;
    assert_ne!(v["result"]["check_tx"]["code"], 0, "{v}");
    assert_eq!(v["result"]["height"], "0");

    // tx without prove: no `proof` member at all (CometBFT omits it); with prove: present.
    let hash = r["hash"].as_str().unwrap();
    let t = result(url, &format!("/tx?hash=0x{hash}")).await;
    assert!(t.get("proof").is_none(), "{t}");
    let t = result(url, &format!("/tx?hash=0x{hash}&prove=false")).await;
    assert!(t.get("proof").is_none(), "{t}");
    let t = result(url, &format!("/tx?hash=0x{hash}&prove=true")).await;
    assert!(t["proof"]["proof"]["aunts"].is_array() || t["proof"]["proof"]["total"] == "1");
    assert_eq!(t["height"], height.to_string());

    support::wait_height(&net, 4).await;
    // blockchain: at most 20 metas, highest first, int64s as strings.
    let b = result(url, "/blockchain?minHeight=1&maxHeight=3").await;
    let last = int_string(&b["last_height"]);
    assert!(last >= 4);
    let metas = b["block_metas"].as_array().unwrap();
    let heights: Vec<i64> = metas
        .iter()
        .map(|m| int_string(&m["header"]["height"]))
        .collect();
    assert_eq!(heights, vec![3, 2, 1]);
    for m in metas {
        assert!(int_string(&m["block_size"]) > 0);
        assert!(int_string(&m["num_txs"]) >= 0);
        assert_eq!(m["block_id"]["hash"].as_str().unwrap().len(), 64);
        assert!(m["block_id"]["parts"]["total"].is_number());
    }
    let tx_meta = result(
        url,
        &format!("/blockchain?minHeight={height}&maxHeight={height}"),
    )
    .await;
    assert_eq!(tx_meta["block_metas"][0]["num_txs"], "1");
    let all = result(url, "/blockchain").await;
    let n = all["block_metas"].as_array().unwrap().len();
    assert!(n == 20 || n as i64 == int_string(&all["last_height"]));
    let (code, err) = get(url, "/blockchain?minHeight=3&maxHeight=2").await;
    assert_eq!(
        (code, err["error"]["code"].as_i64()),
        (500, Some(-32603)),
        "{err}"
    );
    let (_, err) = call(url, "blockchain", json!({"minHeight": "-1"})).await;
    assert_eq!(err["error"]["code"], -32603);

    // block_by_hash: the block with that id (hash in base64 over POST, 0x hex in a URI).
    let block2 = result(url, "/block?height=2").await;
    let id = block2["block_id"]["hash"].as_str().unwrap().to_string();
    let by_hash = result(url, &format!("/block_by_hash?hash=0x{id}")).await;
    assert_eq!(by_hash, block2);
    let (_, p) = call(
        url,
        "block_by_hash",
        json!({"hash": b64(&hex::decode(&id).unwrap())}),
    )
    .await;
    assert_eq!(p["result"], block2);
    let none = result(url, &format!("/block_by_hash?hash=0x{}", "00".repeat(32))).await;
    assert_eq!(none["block"], Value::Null);
    assert_eq!(none["block_id"]["hash"], "");

    // genesis: the document, with the genesis validators and CometBFT's default params.
    let g = result(url, "/genesis").await["genesis"].clone();
    assert_eq!(g["chain_id"], devnet::DEFAULT_CHAIN_ID);
    assert_eq!(g["initial_height"], "1");
    let block1 = result(url, "/block?height=1").await;
    assert_eq!(g["genesis_time"], block1["block"]["header"]["time"]);
    let vals = g["validators"].as_array().unwrap();
    assert_eq!(vals.len(), 4);
    assert_eq!(vals[0]["pub_key"]["type"], "tendermint/PubKeyEd25519");
    assert_eq!(vals[0]["power"], "10");
    assert_eq!(vals[0]["address"].as_str().unwrap().len(), 40);
    let params = &g["consensus_params"];
    assert_eq!(params["block"]["max_bytes"], "22020096");
    assert_eq!(params["block"]["max_gas"], "-1");
    assert_eq!(params["evidence"]["max_age_duration"], "172800000000000");
    assert_eq!(params["validator"]["pub_key_types"], json!(["ed25519"]));
    assert_eq!(params["abci"]["vote_extensions_enable_height"], "0");

    // consensus_params at a height; an unknown height is -32603 as elsewhere.
    let c = result(url, "/consensus_params?height=2").await;
    assert_eq!(c["block_height"], "2");
    assert_eq!(c["consensus_params"], *params);
    let (code, _) = get(url, "/consensus_params?height=99999").await;
    assert_eq!(code, 500);

    // net_info: the devnet's nodes share the chain in process and have no peers.
    let ni = result(url, "/net_info").await;
    assert_eq!(ni["listening"], true);
    assert_eq!(ni["n_peers"], "0");
    assert_eq!(ni["peers"], json!([]));
    assert!(ni["listeners"][0]
        .as_str()
        .unwrap()
        .starts_with("Listener("));

    // num_unconfirmed_txs: counts as strings, `txs` null.
    let u = result(url, "/num_unconfirmed_txs").await;
    assert!(int_string(&u["n_txs"]) >= 0);
    assert_eq!(u["n_txs"], u["total"]);
    assert!(int_string(&u["total_bytes"]) >= 0);
    assert_eq!(u["txs"], Value::Null);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_methods_say_which_in_data() {
    let mut config = support::config(AppKind::Kv);
    config.nodes = 1;
    let net = support::start(config).await;
    let url = &net.rpc_urls()[0];
    let (code, v) = call(url, "no_such_method", json!({})).await;
    assert_eq!(code, 200);
    assert_eq!(v["error"]["code"], -32601);
    assert_eq!(v["error"]["message"], "Method not found");
    let data = v["error"]["data"].as_str().expect("data is a string");
    assert!(data.contains("no_such_method"), "{data}");
    let (code, v) = get(url, "/nope").await;
    assert_eq!(code, 404);
    assert!(v["error"]["data"].as_str().unwrap().contains("nope"));
    // The list of endpoints names the new methods.
    let (_, text) = support::get_text(url, "/").await;
    for m in [
        "/blockchain",
        "/block_by_hash",
        "/genesis",
        "/net_info",
        "/consensus_params",
        "/broadcast_tx_commit",
        "/num_unconfirmed_txs",
    ] {
        assert!(text.lines().any(|l| l == m), "{m} missing from {text}");
    }
    net.shutdown().await;
}

/// `s` without terminal colour sequences (`ESC [ ... m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs the `devnet` command with `args`; returns (success, stdout + stderr).
fn devnet_cmd(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_devnet"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("the devnet command runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_command_explains_bad_input_lists_the_modes_and_logs_changes() {
    let (ok, help) = devnet_cmd(&["set-mode", "--help"]);
    assert!(ok, "{help}");
    for mode in [
        "honest",
        "fork[:H]",
        "lunatic[:H]",
        "lie-value",
        "lie-proof",
        "stale[:H]",
        "timeout",
        "garbage",
    ] {
        assert!(help.contains(mode), "{mode} missing from:\n{help}");
    }

    // A network started by the command itself, on ephemeral loopback ports, in memory.
    let mut child = Command::new(env!("CARGO_BIN_EXE_devnet"))
        .args([
            "--in-memory",
            "--kv-app",
            "--nodes",
            "2",
            "--validators",
            "4",
            "--port",
            "0",
            "--admin-port",
            "0",
            "--block-ms",
            "100",
        ])
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the devnet starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // Everything the network prints, line by line, from a reader thread.
    let (tx, lines) = std::sync::mpsc::channel::<String>();
    let mut admin = None;
    let mut line = String::new();
    while admin.is_none() && out.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(url) = line.strip_prefix("admin").map(str::trim) {
            admin = Some(url.to_string());
        }
        line.clear();
    }
    std::thread::spawn(move || {
        for l in out.lines().map_while(Result::ok) {
            if tx.send(strip_ansi(&l)).is_err() {
                return;
            }
        }
    });
    let admin = admin.expect("the devnet prints its admin URL");
    let wait_for = |what: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match lines.recv_timeout(left) {
                Ok(l) if l.contains(what) => return l,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        panic!("the devnet never logged {what:?}");
    };

    let (ok, text) = devnet_cmd(&["set-mode", "--admin", &admin, "1=abc"]);
    assert!(!ok);
    assert!(
        text.contains("\"abc\"") && text.contains("fork[:H]"),
        "{text}"
    );
    let (ok, text) = devnet_cmd(&["set-mode", "--admin", &admin, "9=honest"]);
    assert!(!ok);
    assert!(
        text.contains("no node 9") && text.contains("nodes 0 to 1"),
        "{text}"
    );
    assert!(!text.contains("404 Not Found"), "{text}");
    let (ok, text) = devnet_cmd(&["set-validator", "--admin", &admin, "1=abc"]);
    assert!(!ok);
    assert!(
        text.contains("bad power \"abc\"") && !text.contains("invalid digit"),
        "{text}"
    );

    let (ok, text) = devnet_cmd(&["set-mode", "--admin", &admin, "1=stale"]);
    assert!(ok, "{text}");
    let logged = wait_for("node behaviour changed");
    assert!(
        logged.contains("node=1") && logged.contains("Stale"),
        "{logged}"
    );
    let (ok, text) = devnet_cmd(&["set-validator", "--admin", &admin, "4=10"]);
    assert!(ok, "{text}");
    let logged = wait_for("validator update queued");
    assert!(
        logged.contains("key_index=4") && logged.contains("power=10"),
        "{logged}"
    );
    wait_for("validator set changed");

    // Nothing reachable: says so.
    let (ok, text) = devnet_cmd(&["set-mode", "--admin", "http://127.0.0.1:9", "1=honest"]);
    assert!(!ok);
    assert!(text.contains("is the devnet running"), "{text}");

    child.kill().expect("stop the devnet");
    let mut rest = String::new();
    let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut rest));
    let _ = child.wait();
    let _ = std::io::stdout().flush();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_and_events_parse_with_tendermint_rs_types() {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tendermint_rpc::endpoint;
    use tendermint_rpc::event::{v0_38::DeEvent, Event, EventData};
    use tendermint_rpc::Response as _;

    let mut config = support::config(AppKind::Kv);
    config.nodes = 1;
    let net = support::start(config).await;
    let url = &net.rpc_urls()[0];
    let text = |path: &'static str| async move { support::get_text(url, path).await.1 };

    // A Tx subscription, read back with tendermint-rs's v0.38 event types.
    let ws_url = format!("{}/websocket", url.replacen("http://", "ws://", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
    let sub =
        json!({"jsonrpc":"2.0","id":1,"method":"subscribe","params":{"query":"tm.event='Tx'"}});
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        sub.to_string().into(),
    ))
    .await
    .unwrap();

    let body = json!({"jsonrpc":"2.0","id":1,"method":"broadcast_tx_commit","params":{"tx": b64(b"sky=grey")}});
    let (_, commit) = support::post_raw(url, body.to_string()).await;
    let commit = endpoint::broadcast::tx_commit::Response::from_string(&commit).expect("tx_commit");
    assert!(commit.check_tx.code.is_ok() && commit.tx_result.code.is_ok());
    let height = commit.height.value();

    let mut tx_event = None;
    while tx_event.is_none() {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an event in time")
            .expect("open")
            .expect("a frame");
        let tokio_tungstenite::tungstenite::Message::Text(t) = frame else {
            continue;
        };
        if t.contains("tendermint/event/Tx") {
            tx_event = Some(t.to_string());
        }
    }
    let event: Event = DeEvent::from_string(tx_event.unwrap())
        .expect("a v0.38 event")
        .into();
    let EventData::Tx { tx_result } = event.data else {
        panic!("not read as a Tx event: {:?}", event.data);
    };
    assert_eq!(tx_result.tx, b"sky=grey");
    assert_eq!(u64::try_from(tx_result.height).unwrap(), height);
    assert_eq!(
        event.events.unwrap()["tx.hash"],
        vec![commit.hash.to_string()]
    );

    let hash = commit.hash.to_string();
    let t = support::get_text(url, &format!("/tx?hash=0x{hash}"))
        .await
        .1;
    let t = endpoint::tx::Response::from_string(&t).expect("tx");
    assert!(t.proof.is_none());
    let t = support::get_text(url, &format!("/tx?hash=0x{hash}&prove=true"))
        .await
        .1;
    assert!(endpoint::tx::Response::from_string(&t)
        .expect("tx")
        .proof
        .is_some());

    support::wait_height(&net, height + 1).await;
    let b =
        endpoint::blockchain::Response::from_string(text("/blockchain").await).expect("blockchain");
    assert!(!b.block_metas.is_empty());
    let meta = b
        .block_metas
        .iter()
        .find(|m| m.header.height.value() == height)
        .expect("the tx's block");
    assert_eq!(meta.num_txs, 1);
    let by_hash = support::get_text(
        url,
        &format!("/block_by_hash?hash=0x{}", meta.block_id.hash),
    )
    .await
    .1;
    let by_hash = endpoint::block_by_hash::Response::from_string(&by_hash).expect("block_by_hash");
    assert_eq!(by_hash.block.expect("found").header.height.value(), height);

    let g =
        endpoint::genesis::Response::<Value>::from_string(text("/genesis").await).expect("genesis");
    assert_eq!(g.genesis.chain_id.as_str(), devnet::DEFAULT_CHAIN_ID);
    assert_eq!(g.genesis.validators.len(), 4);
    let c = endpoint::consensus_params::Response::from_string(text("/consensus_params").await)
        .expect("consensus_params");
    assert_eq!(c.consensus_params, g.genesis.consensus_params);
    let n = endpoint::net_info::Response::from_string(text("/net_info").await).expect("net_info");
    assert_eq!((n.listening, n.n_peers), (true, 0));

    // An unknown method is an error response with its data.
    let (_, err) = support::post_raw(url, r#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#).await;
    let e = endpoint::health::Response::from_string(&err).unwrap_err();
    assert!(e.to_string().contains("nope"), "{e}");
    net.shutdown().await;
}
