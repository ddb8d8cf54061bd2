//! Misbehaving full nodes: a fork signed by the real validators, a lunatic validator set,
//! lying queries, a stale node, timeouts and garbage, set at start and through the admin API.

use std::time::Duration;

use devnet::{AppKind, Behaviour, SampleStatus};
use light_client::rpc::parse_commit_response;
use light_client::verify::{validate_light_block, verify, Options, Verdict};
use serde_json::json;

use crate::registry::{query_result, verified_app_hash};
use crate::support::{self, get, get_text, light_block, now, result};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_and_lunatic_nodes_serve_conflicting_headers() {
    let mut config = support::config(AppKind::Kv);
    config.behaviours = vec![
        (1, Behaviour::Fork { from_height: 3 }),
        (2, "lunatic:3".parse().unwrap()),
    ];
    let net = support::start(config).await;
    support::wait_height(&net, 6).await;
    let [honest, fork, lunatic] = [0, 1, 2].map(|i| net.rpc_urls()[i].clone());

    let trusted = light_block(&honest, 1).await;
    assert_eq!(
        light_block(&fork, 2).await.signed_header,
        light_block(&honest, 2).await.signed_header
    );
    let real = light_block(&honest, 5).await;
    let forged = light_block(&fork, 5).await;
    assert_ne!(
        real.signed_header.header.hash(),
        forged.signed_header.header.hash()
    );
    assert_ne!(
        real.signed_header.header.app_hash,
        forged.signed_header.header.app_hash
    );
    assert_eq!(
        real.validators, forged.validators,
        "same validators signed both"
    );
    // Both verify: the light-client attack a witness cross-check must detect.
    assert_eq!(
        verify(&real, &trusted, &Options::default(), now()),
        Verdict::Success
    );
    assert_eq!(
        verify(&forged, &trusted, &Options::default(), now()),
        Verdict::Success
    );
    let forged3 = light_block(&fork, 3).await;
    assert_eq!(
        verify(
            &forged3,
            &light_block(&honest, 2).await,
            &Options::default(),
            now()
        ),
        Verdict::Success
    );
    assert_eq!(
        verify(
            &light_block(&fork, 4).await,
            &forged3,
            &Options::default(),
            now()
        ),
        Verdict::Success
    );

    // Lunatic: well-formed and signed by its own made-up set, but not by the trusted one.
    let lunatic3 = light_block(&lunatic, 3).await;
    validate_light_block(&lunatic3).expect("internally consistent");
    assert_ne!(lunatic3.validators, real.validators);
    assert!(matches!(
        verify(
            &lunatic3,
            &light_block(&honest, 2).await,
            &Options::default(),
            now()
        ),
        Verdict::Invalid(_)
    ));
    match verify(
        &light_block(&lunatic, 5).await,
        &trusted,
        &Options::default(),
        now(),
    ) {
        Verdict::NotEnoughTrust(_) | Verdict::Invalid(_) => {}
        Verdict::Success => panic!("a lunatic header must not verify"),
    }
    // The admin API shows and changes behaviours.
    let admin = net.admin_url().to_string();
    let (_, status) = get(&admin, "/status").await;
    assert_eq!(status["nodes"][1]["behaviour"]["mode"], "fork");
    let c = support::client();
    let r = c
        .post(format!("{admin}/nodes/1/behaviour"))
        .json(&json!({"mode": "honest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        light_block(&fork, 5).await.signed_header,
        real.signed_header
    );
    let r = c
        .post(format!("{admin}/nodes/9/behaviour"))
        .json(&json!({"mode": "honest"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .post(format!("{admin}/nodes/0/behaviour"))
        .body("{\"mode\":\"evil\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_nodes_give_values_or_proofs_that_do_not_verify() {
    let net = support::start(support::config(AppKind::Registry { seed_samples: true })).await;
    let h = net.chain().latest_height();
    support::wait_height(&net, h + 1).await;
    net.set_behaviour(1, Behaviour::LieValue).unwrap();
    net.set_behaviour(2, Behaviour::LieProof).unwrap();
    let samples = net.samples().unwrap();
    let cert = &samples
        .certificates
        .iter()
        .find(|c| c.status == SampleStatus::Valid)
        .unwrap()
        .signed
        .certificate;
    let path = format!(
        "/abci_query?path=%22/store/cert/{}/{}%22&height={h}&prove=true",
        cert.id.issuer.as_str(),
        cert.id.serial.as_str()
    );
    let app_hash = verified_app_hash(&net.rpc_urls()[0], h).await;
    let honest = query_result(&result(&net.rpc_urls()[0], &path).await["response"]);
    registry::proof::verify_query(&app_hash, &honest).expect("honest answer verifies");
    let lie = query_result(&result(&net.rpc_urls()[1], &path).await["response"]);
    assert_ne!(lie.value, honest.value);
    assert!(
        registry::proof::verify_query(&app_hash, &lie).is_err(),
        "altered value is caught"
    );
    let bad_proof = query_result(&result(&net.rpc_urls()[2], &path).await["response"]);
    assert_eq!(bad_proof.value, honest.value);
    assert!(
        registry::proof::verify_query(&app_hash, &bad_proof).is_err(),
        "corrupted proof is caught"
    );
    // A lie about absence: the node claims a value for a key that does not exist.
    let absent = format!("/abci_query?path=%22/store/cert/KE-KNCCI/NOPE%22&height={h}&prove=true");
    let lie = query_result(&result(&net.rpc_urls()[1], &absent).await["response"]);
    assert!(lie.value.is_some());
    assert!(registry::proof::verify_query(&app_hash, &lie).is_err());
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_timeout_and_garbage_nodes() {
    let mut config = support::config(AppKind::Kv);
    config.nodes = 4;
    config.behaviours = vec![(2, Behaviour::Timeout), (3, Behaviour::Garbage)];
    let net = support::start(config).await;
    support::wait_height(&net, 2).await;
    let stale = net
        .set_behaviour(1, Behaviour::Stale { height: 0 })
        .unwrap();
    let Behaviour::Stale { height: frozen } = stale else {
        panic!("stale")
    };
    support::wait_height(&net, frozen + 3).await;
    let url = &net.rpc_urls()[1];
    assert_eq!(support::latest_height(url).await, frozen);
    let (code, v) = get(url, &format!("/commit?height={}", frozen + 2)).await;
    assert_eq!((code, v["error"]["code"].as_i64()), (500, Some(-32603)));
    assert!(support::latest_height(&net.rpc_urls()[0]).await >= frozen + 3);

    // Timeout: the request is held; the client gives up.
    devnet::install_tls_provider();
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let err = quick
        .get(format!("{}/status", net.rpc_urls()[2]))
        .send()
        .await
        .expect_err("no answer");
    assert!(err.is_timeout());

    // Garbage: never a parseable answer.
    for _ in 0..3 {
        let (_, text) = get_text(&net.rpc_urls()[3], "/commit?height=1").await;
        assert!(
            parse_commit_response(&text).is_err(),
            "garbage parsed: {text:?}"
        );
    }
    // The honest node is unaffected.
    assert!(
        parse_commit_response(&get_text(&net.rpc_urls()[0], "/commit?height=1").await.1).is_ok()
    );
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_changes_the_validator_set() {
    let net = support::start(support::config(AppKind::Kv)).await;
    let admin = net.admin_url().to_string();
    let c = support::client();
    let r = c
        .post(format!("{admin}/validators"))
        .json(&json!({"updates": [{"key_index": 4, "power": 25}, {"key_index": 0, "power": 0}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let h = net.chain().latest_height();
    let (_, status) = get(&admin, "/status").await;
    let pending = status["pending_validator_updates"]
        .as_array()
        .unwrap()
        .clone();
    // Queued until the next block is made (which may already have happened).
    assert!(pending.is_empty() || pending.len() == 2, "{status}");
    // Once the next block is made, its header announces the set that signs the block after
    // (h + 2: the block being made while the request arrived may have missed it).
    support::wait_height(&net, h + 2).await;
    let (_, status) = get(&admin, "/status").await;
    let next: Vec<u64> = status["next_validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key_index"].as_u64().unwrap())
        .collect();
    assert!(next.contains(&4) && !next.contains(&0), "{status}");
    assert_eq!(
        status["next_validators"][0]["power"], 25,
        "highest power first"
    );
    let r = c
        .post(format!("{admin}/validators"))
        .json(&json!({"updates": [{"key_index": 1, "power": -5}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = c
        .post(format!("{admin}/validators"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // The change reaches the served validator sets.
    support::wait_height(&net, h + 3).await;
    let set = support::validator_set(&net.rpc_urls()[0], h + 3).await;
    assert_eq!(set.validators()[0].voting_power, 25);
    net.shutdown().await;
}
