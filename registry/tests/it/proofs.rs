//! Query answers and their ICS-23 proofs, checked as a wallet would, with the `ics23` crate.

use registry::proof::{verify_query, verify_value, ProofError};
use registry::{keys, sample_certificate, Registry, RegistryConfig, Serial, TxBuilder};

use crate::support::*;

fn chain_with_certs(n: usize) -> Chain {
    let mut c = Chain::new();
    let k = kephis();
    let b = TxBuilder::new(CHAIN, &k);
    let txs: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            b.issue(
                i as u64 + 1,
                &sample_certificate(Serial::new(format!("PH-{i}")).unwrap(), T0),
            )
            .unwrap()
        })
        .collect();
    let out = c.block(&txs);
    assert!(out.tx_results.iter().all(|r| r.is_ok()));
    c
}

#[test]
fn existence_and_absence_proofs_verify() {
    let c = chain_with_certs(20);
    let h = c.reg.last_height();
    let app_hash = c.reg.app_hash_at(h).unwrap();
    let q = c
        .reg
        .query("/store/cert/KE-KEPHIS/PH-3", &[], Some(h), true);
    assert_eq!(q.code, 0);
    assert_eq!(q.height, h);
    assert!(q.value.is_some());
    verify_query(&app_hash, &q).unwrap();

    // Also directly with the ics23 crate and the tree's spec.
    let op = q.proof.as_ref().unwrap();
    let proof: ics23::CommitmentProof = prost::Message::decode(op.data.as_slice()).unwrap();
    assert!(ics23::verify_membership::<ics23::HostFunctionsManager>(
        &proof,
        &jmt::ics23_spec(),
        &app_hash.to_vec(),
        &q.key,
        q.value.as_ref().unwrap(),
    ));

    let absent = c.reg.query("/key", b"cert/KE-KEPHIS/NOT-THERE", None, true);
    assert_eq!(absent.code, 0);
    assert!(absent.value.is_none());
    verify_query(&app_hash, &absent).unwrap();
    let op = absent.proof.as_ref().unwrap();
    let proof: ics23::CommitmentProof = prost::Message::decode(op.data.as_slice()).unwrap();
    assert!(ics23::verify_non_membership::<ics23::HostFunctionsManager>(
        &proof,
        &jmt::ics23_spec(),
        &app_hash.to_vec(),
        b"cert/KE-KEPHIS/NOT-THERE",
    ));
}

#[test]
fn wrong_value_root_or_key_is_rejected() {
    let mut c = chain_with_certs(5);
    let h = c.reg.last_height();
    let app_hash = c.reg.app_hash_at(h).unwrap();
    let q = c
        .reg
        .query("/store/cert/KE-KEPHIS/PH-1", &[], Some(h), true);
    let data = &q.proof.as_ref().unwrap().data;
    let mut wrong = q.value.clone().unwrap();
    wrong[0] ^= 1;
    assert_eq!(
        verify_value(&app_hash, &q.key, Some(&wrong), data),
        Err(ProofError::Invalid)
    );
    assert_eq!(
        verify_value(&app_hash, &q.key, None, data),
        Err(ProofError::Invalid)
    );
    assert_eq!(
        verify_value(&app_hash, b"cert/KE-KEPHIS/PH-2", q.value.as_deref(), data),
        Err(ProofError::Invalid)
    );
    let mut bad_root = app_hash;
    bad_root[31] ^= 1;
    assert_eq!(
        verify_value(&bad_root, &q.key, q.value.as_deref(), data),
        Err(ProofError::Invalid)
    );
    assert_eq!(
        verify_value(&app_hash, &q.key, q.value.as_deref(), &[0xff, 0xff]),
        Err(ProofError::Undecodable)
    );

    // An absence proof cannot be used once the key exists (stale root vs new root).
    let absent = c
        .reg
        .query("/store/cert/KE-KEPHIS/PH-NEW", &[], Some(h), true);
    let k = kephis();
    c.block(&[TxBuilder::new(CHAIN, &k)
        .issue(100, &sample_certificate(Serial::new("PH-NEW").unwrap(), T0))
        .unwrap()]);
    let new_root = c.reg.app_hash();
    assert_eq!(verify_query(&new_root, &absent), Err(ProofError::Invalid));
    let present = c.reg.query("/store/cert/KE-KEPHIS/PH-NEW", &[], None, true);
    verify_query(&new_root, &present).unwrap();
    assert_eq!(verify_query(&app_hash, &present), Err(ProofError::Invalid));
}

#[test]
fn historical_queries_and_pruning() {
    let genesis = registry::devkit::demo_genesis(CHAIN, T0);
    let mut reg = Registry::with_config(
        &genesis,
        RegistryConfig {
            retain_versions: Some(3),
        },
    )
    .unwrap();
    let k = kephis();
    let b = TxBuilder::new(CHAIN, &k);
    for h in 1..=6u64 {
        let crt = sample_certificate(Serial::new(format!("H-{h}")).unwrap(), T0);
        reg.execute_block(h, T0 + h, &[b.issue(h, &crt).unwrap()])
            .unwrap();
    }
    assert_eq!(reg.oldest_queryable_version(), 4);
    // Version 4 knows H-4 but not H-5; both proofs check against version 4's root.
    let root4 = reg.app_hash_at(4).unwrap();
    let q = reg.query("/store/cert/KE-KEPHIS/H-4", &[], Some(4), true);
    verify_query(&root4, &q).unwrap();
    assert!(q.value.is_some());
    let q = reg.query("/store/cert/KE-KEPHIS/H-5", &[], Some(4), true);
    assert!(q.value.is_none());
    verify_query(&root4, &q).unwrap();
    // Pruned and future versions are refused with code 103.
    assert_eq!(
        reg.query("/store/meta/sentinel", &[], Some(3), true).code,
        103
    );
    assert_eq!(
        reg.query("/store/meta/sentinel", &[], Some(7), false).code,
        103
    );
    // App hashes stay known for every version.
    assert!(reg.app_hash_at(1).is_some());
    // Unknown path and empty key.
    assert_eq!(reg.query("/custom", &[], None, false).code, 101);
    assert_eq!(reg.query("/key", &[], None, false).code, 102);
    // Sentinel and counters are present in every version.
    let q = reg.query("/key", keys::SENTINEL, None, true);
    assert_eq!(q.value.as_deref(), Some(keys::SENTINEL_VALUE));
}

#[test]
fn genesis_state_proves_absence() {
    let c = Chain::new();
    let q = c.reg.query("/store/cert/KE-KEPHIS/ANY", &[], None, true);
    assert_eq!(q.height, 0);
    verify_query(&c.reg.app_hash_at(0).unwrap(), &q).unwrap();
}
