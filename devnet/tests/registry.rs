//! The registry on the chain: seeded samples, `abci_query` with ICS-23 proofs verified against
//! a header the light client verified, `broadcast_tx_sync` and `tx`.

use std::time::Duration;

use base64::Engine as _;
use devnet::{AppKind, SampleStatus};
use light_client::verify::{verify, Options, Verdict};
use registry::{ProofOp, QueryResult, TxBuilder};
use serde_json::Value;

use crate::support::{self, get, light_block, now, result};

fn b64(v: &Value) -> Option<Vec<u8>> {
    v.as_str().map(|s| {
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .expect("base64")
    })
}

/// An `abci_query` answer as the registry's proof checker takes it.
pub fn query_result(response: &Value) -> QueryResult {
    let ops = response["proofOps"]["ops"].as_array();
    QueryResult {
        code: response["code"].as_u64().unwrap() as u32,
        log: response["log"].as_str().unwrap_or_default().to_string(),
        key: b64(&response["key"]).unwrap_or_default(),
        value: b64(&response["value"]),
        proof: ops.and_then(|ops| ops.first()).map(|op| ProofOp {
            kind: op["type"].as_str().unwrap().to_string(),
            key: b64(&op["key"]).unwrap(),
            data: b64(&op["data"]).unwrap(),
        }),
        height: response["height"].as_str().unwrap().parse().unwrap(),
    }
}

/// The app hash of state version `height` (header `height + 1`), verified by the light client
/// from block 1.
pub async fn verified_app_hash(url: &str, height: u64) -> [u8; 32] {
    let trusted = light_block(url, 1).await;
    let target = light_block(url, height + 1).await;
    if height + 1 > 1 {
        assert_eq!(
            verify(&target, &trusted, &Options::default(), now()),
            Verdict::Success
        );
    }
    target
        .signed_header
        .header
        .app_hash
        .as_bytes()
        .try_into()
        .expect("32-byte app hash")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_certificates_are_proven_by_abci_query() {
    let net = support::start(support::config(AppKind::Registry { seed_samples: true })).await;
    let samples = net.samples().expect("samples").clone();
    assert_eq!(samples.issuers.len(), 4);
    assert!(samples
        .certificates
        .iter()
        .any(|c| c.status == SampleStatus::IssuerRemoved));
    assert!(samples.certificates.len() >= 60);
    assert!(samples
        .certificates
        .iter()
        .any(|c| c.status == SampleStatus::Revoked));
    assert!(samples
        .certificates
        .iter()
        .any(|c| c.status == SampleStatus::Expired));
    let count = |k: registry::CertificateKind| {
        samples
            .certificates
            .iter()
            .filter(|c| c.signed.certificate.kind == k)
            .count()
    };
    assert_eq!(count(registry::CertificateKind::CertificateOfOrigin), 24);
    assert_eq!(count(registry::CertificateKind::Phytosanitary), 18);
    assert_eq!(
        count(registry::CertificateKind::ImportLicence)
            + count(registry::CertificateKind::ExportLicence),
        18
    );
    assert_eq!(count(registry::CertificateKind::Permit), 6);
    let start = net.chain().latest_height();
    support::wait_height(&net, start + 1).await;
    let url = &net.rpc_urls()[0];
    let h = start;

    let revoked = samples
        .certificates
        .iter()
        .find(|c| c.status == SampleStatus::Revoked)
        .unwrap();
    let id = &revoked.signed.certificate.id;
    let path = format!(
        "/abci_query?path=%22/store/cert/{}/{}%22&height={h}&prove=true",
        id.issuer.as_str(),
        id.serial.as_str()
    );
    let r = result(url, &path).await;
    let response = &r["response"];
    assert_eq!(response["code"], 0, "{response}");
    assert_eq!(response["height"], h.to_string());
    assert_eq!(
        response["proofOps"]["ops"][0]["type"],
        registry::PROOF_OP_TYPE
    );
    let answer = query_result(response);
    let record: registry::state::CertRecord =
        registry::Canonical::from_bytes(answer.value.as_ref().unwrap()).unwrap();
    assert_eq!(
        record.content_hash,
        revoked.signed.certificate.content_hash()
    );
    assert!(record.revocation.is_some(), "revoked on chain");
    let app_hash = verified_app_hash(url, h).await;
    registry::proof::verify_query(&app_hash, &answer).expect("existence proof verifies");

    // Absence is proven too.
    let r = result(
        url,
        &format!("/abci_query?path=%22/store/cert/KE-KNCCI/NOPE-1%22&height={h}&prove=true"),
    )
    .await;
    let absent = query_result(&r["response"]);
    assert!(absent.value.is_none());
    registry::proof::verify_query(&app_hash, &absent).expect("non-existence proof verifies");

    // POST with hex data and the `/key` path.
    let key = format!("cert/{}/{}", id.issuer.as_str(), id.serial.as_str());
    let (_, v) = support::call(url, "abci_query", serde_json::json!({"path": "/key", "data": hex::encode(&key), "height": h.to_string(), "prove": true})).await;
    assert_eq!(query_result(&v["result"]["response"]).value, answer.value);
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_are_checked_committed_and_found_with_proof() {
    let net = support::start(support::config(AppKind::Registry { seed_samples: true })).await;
    let samples = net.samples().unwrap().clone();
    let url = &net.rpc_urls()[0];
    let issuer = &samples.issuers[1];
    let mut cert = samples
        .certificates
        .iter()
        .find(|c| c.signed.certificate.id.issuer == issuer.spec.id)
        .unwrap()
        .signed
        .certificate
        .clone();
    cert.id.serial = registry::Serial::new("NEW-0001").unwrap();
    let tx = TxBuilder::new(&samples.chain_id, &issuer.key)
        .issue(1000, &cert)
        .unwrap();
    let (_, v) = support::call(
        url,
        "broadcast_tx_sync",
        serde_json::json!({"tx": base64::engine::general_purpose::STANDARD.encode(&tx)}),
    )
    .await;
    assert_eq!(v["result"]["code"], 0, "{v}");
    let hash = v["result"]["hash"].as_str().unwrap().to_string();

    // A transaction signed by an unknown key is refused with a code and reason.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let bad = TxBuilder::new(&samples.chain_id, &stranger)
        .issue(1, &cert)
        .unwrap();
    let (_, v) = get(
        url,
        &format!("/broadcast_tx_sync?tx=0x{}", hex::encode(&bad)),
    )
    .await;
    assert_ne!(v["result"]["code"], 0);
    assert!(!v["result"]["log"].as_str().unwrap().is_empty());
    // Garbage is refused as malformed.
    let (_, v) = get(url, "/broadcast_tx_sync?tx=0xdeadbeef").await;
    assert_ne!(v["result"]["code"], 0);

    let mut committed = None;
    for _ in 0..300 {
        let (code, t) = get(url, &format!("/tx?hash=0x{hash}&prove=true")).await;
        if code == 200 {
            committed = Some(t["result"].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = committed.expect("committed");
    assert_eq!(t["tx_result"]["code"], 0, "{t}");
    let height: u64 = t["height"].as_str().unwrap().parse().unwrap();
    let block = light_block(url, height).await;
    let proof: light_client::merkle::Proof =
        serde_json::from_value(t["proof"]["proof"].clone()).unwrap();
    proof
        .verify(
            &block.signed_header.header.data_hash.unwrap(),
            &devnet::tx_hash(&tx),
        )
        .expect("tx proof");

    // The certificate is on the chain from that height's state on.
    support::wait_height(&net, height + 1).await;
    let r = result(
        url,
        &format!(
            "/abci_query?path=%22/store/cert/{}/NEW-0001%22&height={height}&prove=true",
            issuer.spec.id.as_str()
        ),
    )
    .await;
    let answer = query_result(&r["response"]);
    assert!(answer.value.is_some());
    registry::proof::verify_query(&verified_app_hash(url, height).await, &answer).expect("proof");
    net.shutdown().await;
}
