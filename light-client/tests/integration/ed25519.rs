//! The ed25519 speccheck edge cases: this crate's single and batch verdicts equal those of
//! `ed25519-consensus` (ZIP-215), which the published results call "Zebra".

use ed25519_consensus::{batch, Signature as EdSignature, VerificationKey, VerificationKeyBytes};
use light_client::test_utils::FixedRng;
use light_client::verify::verify_each_and_batch;
use light_client::{PublicKey, Signature};
use serde::Deserialize;

use crate::support::read;

#[derive(Deserialize)]
struct Case {
    message: String,
    pub_key: String,
    signature: String,
}

struct Triple {
    key: [u8; 32],
    sig: [u8; 64],
    msg: Vec<u8>,
}

fn cases() -> Vec<Triple> {
    let cases: Vec<Case> = serde_json::from_str(&read("ed25519/speccheck-cases.json")).unwrap();
    cases
        .iter()
        .map(|c| Triple {
            key: hex::decode(&c.pub_key).unwrap().try_into().unwrap(),
            sig: hex::decode(&c.signature).unwrap().try_into().unwrap(),
            msg: hex::decode(&c.message).unwrap(),
        })
        .collect()
}

/// The "Zebra" (ed25519-consensus) row of speccheck-results.md.
fn published_zebra_row() -> Vec<bool> {
    let md = read("ed25519/speccheck-results.md");
    let row = md.lines().find(|l| l.starts_with("|Zebra")).unwrap();
    row.split('|')
        .skip(2)
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c == "V")
        .collect()
}

fn consensus_single(t: &Triple) -> bool {
    VerificationKey::try_from(t.key)
        .and_then(|vk| vk.verify(&EdSignature::from(t.sig), &t.msg))
        .is_ok()
}

fn consensus_batch(ts: &[&Triple]) -> bool {
    let mut v = batch::Verifier::new();
    for t in ts {
        v.queue((
            VerificationKeyBytes::from(t.key),
            EdSignature::from(t.sig),
            &t.msg[..],
        ));
    }
    v.verify(FixedRng(7)).is_ok()
}

fn ours(ts: &[&Triple]) -> (Vec<bool>, bool) {
    let items: Vec<_> = ts
        .iter()
        .map(|t| {
            (
                PublicKey::from_bytes(t.key),
                Signature::from(t.sig),
                t.msg.clone(),
            )
        })
        .collect();
    verify_each_and_batch(&items)
}

#[test]
fn single_verdicts_match_ed25519_consensus_and_the_published_results() {
    let cases = cases();
    assert_eq!(cases.len(), 12);
    let expected = published_zebra_row();
    assert_eq!(expected.len(), 12);
    for (i, t) in cases.iter().enumerate() {
        let (single, _) = ours(&[t]);
        assert_eq!(single[0], consensus_single(t), "case {i}");
        assert_eq!(single[0], expected[i], "case {i}");
    }
}

#[test]
fn batch_verdicts_match_single_verdicts_on_every_case() {
    let cases = cases();
    let valid: Vec<&Triple> = cases.iter().filter(|t| consensus_single(t)).collect();
    for (i, t) in cases.iter().enumerate() {
        // Alone, and in a batch with every valid case.
        let (_, alone) = ours(&[t]);
        assert_eq!(alone, consensus_single(t), "case {i} alone");
        assert_eq!(
            consensus_batch(&[t]),
            consensus_single(t),
            "ed25519-consensus case {i}"
        );
        let mut group = valid.clone();
        group.push(t);
        let (single, batch) = ours(&group);
        assert_eq!(batch, single.iter().all(|v| *v), "case {i} in a group");
        assert_eq!(
            batch,
            consensus_batch(&group),
            "case {i} vs ed25519-consensus batch"
        );
    }
}
