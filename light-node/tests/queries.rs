//! Proven queries through the provider trait: the answer must be for the key and the height
//! asked for, with a proof that verifies against verified header H+1; otherwise the next node
//! is asked, and with none left the query is unproven (never a wrong value).

use light_client::{Hash, Height};
use light_node::testing::MemoryProvider;
use light_node::{
    ProofOp, QueryAnswer, QueryError, QueryRequest, StateVerifier, TxAnswer, TxProof,
};
use sha2::{Digest, Sha256};

use crate::support::*;

/// A stand-in proof format: the proof is SHA-256 over app hash, key and value.
struct HashProofs;

fn proof_for(app_hash: &[u8], key: &[u8], value: Option<&[u8]>) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(app_hash);
    h.update(key);
    h.update([u8::from(value.is_some())]);
    h.update(value.unwrap_or_default());
    h.finalize().to_vec()
}

impl StateVerifier for HashProofs {
    fn verify(
        &self,
        app_hash: &[u8],
        key: &[u8],
        value: Option<&[u8]>,
        proof: &[ProofOp],
    ) -> Result<(), String> {
        match proof {
            [op] if op.data == proof_for(app_hash, key, value) => Ok(()),
            _ => Err("proof does not verify".into()),
        }
    }
}

fn answer(key: &[u8], value: Option<&[u8]>, height: u64, app_hash: &[u8]) -> QueryAnswer {
    QueryAnswer {
        code: 0,
        log: String::new(),
        key: key.to_vec(),
        value: value.map(<[u8]>::to_vec),
        height: Height(height),
        proof_ops: vec![ProofOp {
            kind: "test".into(),
            key: key.to_vec(),
            data: proof_for(app_hash, key, value),
        }],
    }
}

fn request(key: &[u8], height: Option<u64>) -> QueryRequest {
    QueryRequest {
        path: "/store".into(),
        data: key.to_vec(),
        key: key.to_vec(),
        height: height.map(Height),
    }
}

fn app_hash(chain: &[light_client::LightBlock], height: u64) -> Vec<u8> {
    chain[height as usize - 1]
        .signed_header
        .header
        .app_hash
        .as_bytes()
        .to_vec()
}

#[tokio::test]
async fn a_value_is_proven_against_the_next_header_and_carries_its_height_and_time() {
    let chain = stable_chain(30);
    let s = setup(chain.clone(), vec![chain.clone()]).await;
    s.node.sync().await.unwrap();
    s.primary.set_query(
        b"k",
        29,
        answer(b"k", Some(b"v"), 29, &app_hash(&chain, 30)),
    );
    let proven = s
        .node
        .query(&request(b"k", None), &HashProofs)
        .await
        .unwrap();
    assert_eq!(proven.value.as_deref(), Some(&b"v"[..]));
    assert_eq!(proven.height, Height(29));
    assert_eq!(proven.header_height, Height(30));
    assert_eq!(proven.header_time, chain[29].time());

    // Absence is proven too.
    s.primary.set_query(
        b"gone",
        29,
        answer(b"gone", None, 29, &app_hash(&chain, 30)),
    );
    let absent = s
        .node
        .query(&request(b"gone", None), &HashProofs)
        .await
        .unwrap();
    assert_eq!(absent.value, None);
}

#[tokio::test]
async fn answers_for_another_key_another_height_or_with_a_bad_proof_are_rejected() {
    let chain = stable_chain(30);
    let s = setup(chain.clone(), vec![]).await;
    s.node.sync().await.unwrap();
    let good_root = app_hash(&chain, 30);
    // A genuine proof of another key.
    s.primary
        .set_query(b"revoked/1", 29, answer(b"other", None, 29, &good_root));
    let err = s
        .node
        .query(&request(b"revoked/1", None), &HashProofs)
        .await
        .unwrap_err();
    assert!(
        matches!(err, QueryError::Unproven { ref reasons, .. } if reasons.contains("instead of")),
        "{err}"
    );
    // A genuine proof of an older state.
    s.primary.set_query(
        b"revoked/1",
        29,
        answer(b"revoked/1", None, 12, &app_hash(&chain, 13)),
    );
    let err = s
        .node
        .query(&request(b"revoked/1", None), &HashProofs)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("height 12"), "{err}");
    // The value changed under the proof.
    let mut lie = answer(b"k", Some(b"v"), 29, &good_root);
    lie.value = Some(b"forged".to_vec());
    s.primary.set_query(b"k", 29, lie);
    let err = s
        .node
        .query(&request(b"k", None), &HashProofs)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("proof rejected"), "{err}");
    // No proof at all.
    let mut bare = answer(b"k", Some(b"v"), 29, &good_root);
    bare.proof_ops.clear();
    s.primary.set_query(b"k", 29, bare);
    assert!(s
        .node
        .query(&request(b"k", None), &HashProofs)
        .await
        .is_err());
}

#[tokio::test]
async fn a_lying_primary_is_skipped_for_an_honest_witness() {
    let chain = stable_chain(30);
    let s = setup(chain.clone(), vec![chain.clone()]).await;
    s.node.sync().await.unwrap();
    let root = app_hash(&chain, 30);
    let mut lie = answer(b"k", Some(b"v"), 29, &root);
    lie.value = None;
    s.primary.set_query(b"k", 29, lie);
    s.witnesses[0].set_query(b"k", 29, answer(b"k", Some(b"v"), 29, &root));
    let proven = s
        .node
        .query(&request(b"k", None), &HashProofs)
        .await
        .unwrap();
    assert_eq!(proven.node, "mem://witness-0");
    assert_eq!(proven.value.as_deref(), Some(&b"v"[..]));
}

#[tokio::test]
async fn an_old_height_is_proven_by_walking_back_the_hash_chain() {
    let chain = stable_chain(50);
    let s = setup(chain.clone(), vec![]).await;
    s.node.sync().await.unwrap();
    // Header 21 was never fetched: it is proven by the hash chain down from 50.
    s.primary.set_query(
        b"k",
        20,
        answer(b"k", Some(b"old"), 20, &app_hash(&chain, 21)),
    );
    let proven = s
        .node
        .query(&request(b"k", Some(20)), &HashProofs)
        .await
        .unwrap();
    assert_eq!(proven.header_height, Height(21));
    // A header that is not on the chain breaks the walk.
    let s = setup(chain.clone(), vec![]).await;
    s.node.sync().await.unwrap();
    s.primary.put(stable_chain_other(50)[40].clone());
    s.primary.set_query(
        b"k",
        20,
        answer(b"k", Some(b"old"), 20, &app_hash(&chain, 21)),
    );
    assert!(s
        .node
        .query(&request(b"k", Some(20)), &HashProofs)
        .await
        .is_err());
}

fn stable_chain_other(n: u64) -> Vec<light_client::LightBlock> {
    let vals = light_client::test_utils::validators("o", 4, 10);
    chain_with(n, |_| vals.clone(), |h| t(h * 5 + 2))
}

#[tokio::test]
async fn a_transaction_is_proven_against_the_data_hash() {
    // A block whose data hash is the Merkle root of two transactions.
    let txs: Vec<Vec<u8>> = vec![b"tx-a".to_vec(), b"tx-b".to_vec()];
    let leaves: Vec<[u8; 32]> = txs.iter().map(|t| Sha256::digest(t).into()).collect();
    let (root, proofs) = light_client::merkle::proofs_from_byte_slices(&leaves);
    let vals = light_client::test_utils::validators("v", 4, 10);
    let mut chain = stable_chain(10);
    let mut spec = light_client::test_utils::BlockSpec::new(CHAIN, 10, t(50), &vals);
    spec.last_block_id = Some(chain[8].signed_header.commit.block_id);
    let mut block = light_client::test_utils::light_block(&spec);
    // Rebuild block 10 with the real data hash: sign it again through the test builder.
    block.signed_header.header.data_hash = Some(root);
    let relinked = resign(&block, &vals);
    chain[9] = relinked;
    let s = setup(chain.clone(), vec![]).await;
    s.node.sync().await.unwrap();
    let hash = Hash::sha256(&txs[1]);
    let tx = TxAnswer {
        hash,
        height: Height(10),
        index: 1,
        tx: txs[1].clone(),
        code: 0,
        log: String::new(),
        proof: Some(TxProof {
            root_hash: root,
            data: txs[1].clone(),
            proof: proofs[1].clone(),
        }),
    };
    s.primary.set_tx(tx.clone());
    let proven = s.node.prove_tx(hash).await.unwrap();
    assert_eq!(proven.height, Height(10));
    // A proof of the other transaction does not prove this one.
    let mut wrong = tx;
    wrong.proof.as_mut().unwrap().proof = proofs[0].clone();
    s.primary.set_tx(wrong);
    assert!(s.node.prove_tx(hash).await.is_err());
    assert!(matches!(
        s.node.prove_tx(Hash::sha256(b"unknown")).await,
        Err(QueryError::TxNotFound(_))
    ));
    let _ = MemoryProvider::new("unused", []);
}

/// Signs `block`'s (edited) header again with `vals`.
fn resign(
    block: &light_client::LightBlock,
    vals: &[light_client::test_utils::TestValidator],
) -> light_client::LightBlock {
    light_client::test_utils::resign(block, vals)
}

#[tokio::test]
async fn a_height_not_produced_yet_is_said_so_without_blaming_the_node() {
    let chain = stable_chain(30);
    let s = setup(chain.clone(), vec![chain.clone()]).await;
    s.node.sync().await.unwrap();
    let err = s
        .node
        .query(&request(b"k", Some(40)), &HashProofs)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            QueryError::Sync(light_node::SyncError::NotYetAvailable { .. })
        ),
        "{err}"
    );
    let status = s.node.status();
    assert_eq!(status.nodes[0].url, "mem://primary");
    assert_eq!(status.nodes[0].health, light_node::Health::Ok);
}

#[tokio::test]
async fn many_values_are_proven_at_one_height_and_one_lie_sends_them_all_to_the_next_node() {
    let chain = stable_chain(30);
    let s = setup(chain.clone(), vec![chain.clone()]).await;
    s.node.sync().await.unwrap();
    let root = app_hash(&chain, 30);
    let keys: Vec<Vec<u8>> = (0..5).map(|i| format!("log/{i}").into_bytes()).collect();
    for (i, k) in keys.iter().enumerate() {
        let value = (i != 3).then(|| format!("entry {i}").into_bytes());
        s.primary
            .set_query(k, 29, answer(k, value.as_deref(), 29, &root));
        s.witnesses[0].set_query(k, 29, answer(k, value.as_deref(), 29, &root));
    }
    let reqs: Vec<QueryRequest> = keys.iter().map(|k| request(k, None)).collect();
    let proven = s.node.query_many(&reqs, None, &HashProofs).await.unwrap();
    assert_eq!(proven.len(), 5);
    for (i, p) in proven.iter().enumerate() {
        assert_eq!(p.key, keys[i]);
        assert_eq!(p.height, Height(29));
        assert_eq!(p.header_height, Height(30));
        assert_eq!(p.node, "mem://primary");
    }
    assert_eq!(proven[3].value, None);
    assert_eq!(proven[4].value.as_deref(), Some(&b"entry 4"[..]));

    // The primary lies about one entry: every answer comes from the witness instead.
    let mut lie = answer(&keys[2], Some(b"entry 2"), 29, &root);
    lie.value = Some(b"forged".to_vec());
    s.primary.set_query(&keys[2], 29, lie);
    let proven = s.node.query_many(&reqs, None, &HashProofs).await.unwrap();
    assert!(proven.iter().all(|p| p.node == "mem://witness-0"));
    assert_eq!(proven[2].value.as_deref(), Some(&b"entry 2"[..]));

    // With the witness silent on one key too, nothing is answered.
    let s = setup(chain.clone(), vec![]).await;
    s.node.sync().await.unwrap();
    s.primary
        .set_query(&keys[0], 29, answer(&keys[0], None, 29, &root));
    let err = s
        .node
        .query_many(&reqs[..2], None, &HashProofs)
        .await
        .unwrap_err();
    assert!(
        matches!(err, QueryError::Unproven { rejected: 0, .. }),
        "{err}"
    );
}

fn raw(value: &[u8], height: u64, code: u32) -> QueryAnswer {
    QueryAnswer {
        code,
        log: if code == 0 {
            String::new()
        } else {
            "refused".into()
        },
        key: Vec::new(),
        value: Some(value.to_vec()),
        height: Height(height),
        proof_ops: Vec::new(),
    }
}

#[tokio::test]
async fn unverified_answers_come_from_the_primary_or_else_a_witness_and_are_raw_bytes() {
    let chain = stable_chain(30);
    let s = setup(chain.clone(), vec![chain.clone()]).await;
    s.node.sync().await.unwrap();
    let w = &s.witnesses[0];
    // The primary answers page a; it lacks page b, which the witness has; page c it answers
    // with an error code and the witness for another height; page d nobody has.
    s.primary.set_query(b"a", 10, raw(b"page a", 10, 0));
    w.set_query(b"b", 10, raw(b"page b", 10, 0));
    s.primary.set_query(b"c", 10, raw(b"", 10, 105));
    w.set_query(b"c", 10, raw(b"page c", 11, 0));
    let ask = |data: &[u8]| ("/log/x".to_owned(), data.to_vec());
    let got = s
        .node
        .query_unverified_many(&[ask(b"a"), ask(b"b")], Height(10))
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].value, b"page a");
    assert_eq!(got[0].node, "mem://primary");
    assert_eq!(got[1].value, b"page b");
    assert_eq!(got[1].node, "mem://witness-0");
    assert!(got.iter().all(|u| u.height == Height(10)));

    let err = s
        .node
        .query_unverified_many(&[ask(b"a"), ask(b"c")], Height(10))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("code 105"), "{text}");
    assert!(text.contains("instead of 10"), "{text}");
    assert!(matches!(
        s.node.query_unverified_many(&[ask(b"d")], Height(10)).await,
        Err(QueryError::Unproven { rejected: 0, .. })
    ));
    assert!(matches!(
        s.node.query_unverified_many(&[ask(b"a")], Height(0)).await,
        Err(QueryError::NoState)
    ));
    // A caller that found the primary's bytes contradicting a proven value reports it.
    s.node
        .report_faulty("mem://primary", "served a page that does not match".into());
    let primary = s
        .node
        .status()
        .nodes
        .into_iter()
        .find(|n| n.url == "mem://primary")
        .unwrap();
    assert_eq!(primary.health, light_node::Health::Faulty);
    assert_eq!(
        primary.detail.as_deref(),
        Some("served a page that does not match")
    );
}
