//! JSON shapes: fixtures round-trip, and malformed input gets an error naming the field.

use light_client::rpc::{parse_commit_response, parse_validators_response};
use light_client::{parse_light_block, LightBlock, ParseError};
use serde_json::{json, Value};

use crate::support::read;

#[test]
fn celestia_blocks_serialise_back_to_the_same_json() {
    for h in [3000, 10000, 157001] {
        let text = read(&format!("celestia-mocha-4/{h}.json"));
        let original: Value = serde_json::from_str(&text).unwrap();
        let block = parse_light_block(&text).unwrap();
        let ours = serde_json::to_value(&block).unwrap();
        let result = &original["result"];
        assert_eq!(
            ours["signed_header"]["header"], result["header"],
            "header {h}"
        );
        assert_eq!(
            ours["signed_header"]["commit"], result["commit"],
            "commit {h}"
        );
        assert_eq!(
            ours["validator_set"], result["validator_set"],
            "validator set {h}"
        );
        let again: LightBlock = serde_json::from_value(ours).unwrap();
        assert_eq!(again, block);
    }
}

#[test]
fn model_based_blocks_round_trip() {
    let text = read("model_based/MC4_4_faulty_TestSuccess.json");
    let case: Value = serde_json::from_str(&text).unwrap();
    for step in case["input"].as_array().unwrap() {
        let block = parse_light_block(&step["block"].to_string()).unwrap();
        let json = serde_json::to_string(&block).unwrap();
        assert_eq!(parse_light_block(&json).unwrap(), block);
        assert_eq!(serde_json::from_str::<LightBlock>(&json).unwrap(), block);
    }
}

#[test]
fn commit_and_validators_answers() {
    let text = read("celestia-mocha-4/3000.json");
    let v: Value = serde_json::from_str(&text).unwrap();
    let r = &v["result"];
    let commit = json!({"jsonrpc": "2.0", "id": 1, "result": {
        "signed_header": {"header": r["header"], "commit": r["commit"]}, "canonical": true}});
    let parsed = parse_commit_response(&commit.to_string()).unwrap();
    assert!(parsed.canonical);
    assert_eq!(parsed.signed_header.header.height.value(), 3000);
    let vals = json!({"result": {"block_height": "3000", "validators": r["validator_set"]["validators"],
        "count": "1", "total": "1"}});
    let page = parse_validators_response(&vals.to_string()).unwrap();
    assert_eq!(page.validators.len(), 1);
}

/// Replaces the value at `path` (object keys and array indices) in `doc`.
fn set(doc: &mut Value, path: &[&str], value: Value) {
    let mut cur = doc;
    for key in path {
        cur = match key.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*key],
        };
    }
    *cur = value;
}

#[test]
fn malformed_fields_are_named() {
    let text = read("celestia-mocha-4/10000.json");
    let cases: Vec<(&[&str], Value, &str)> = vec![
        (
            &["result", "header", "height"],
            json!("-5"),
            "result.header.height",
        ),
        (
            &["result", "header", "time"],
            json!("yesterday"),
            "result.header.time",
        ),
        (
            &["result", "header", "app_hash"],
            json!("XYZ"),
            "result.header.app_hash",
        ),
        (
            &["result", "header", "validators_hash"],
            json!("ABCD"),
            "result.header.validators_hash",
        ),
        (
            &["result", "commit", "round"],
            json!(-1),
            "result.commit.round",
        ),
        (
            &["result", "commit", "signatures", "1", "block_id_flag"],
            json!(7),
            "result.commit.signatures[1].block_id_flag",
        ),
        (
            &["result", "commit", "signatures", "0", "signature"],
            json!("***"),
            "result.commit.signatures[0].signature",
        ),
        (
            &[
                "result",
                "validator_set",
                "validators",
                "0",
                "pub_key",
                "type",
            ],
            json!("tendermint/PubKeySr25519"),
            "result.validator_set.validators[0].pub_key",
        ),
        (
            &["result", "validator_set", "validators", "1", "voting_power"],
            json!("lots"),
            "result.validator_set.validators[1].voting_power",
        ),
    ];
    for (path, value, expected) in cases {
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        set(&mut doc, path, value);
        match parse_light_block(&doc.to_string()) {
            Err(ParseError::Field { path, reason }) => {
                assert_eq!(path, expected, "{reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("{expected}: {other:?}"),
        }
    }
    // A validator listed twice.
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let first = doc["result"]["validator_set"]["validators"][0].clone();
    set(
        &mut doc,
        &["result", "validator_set", "validators", "1"],
        first,
    );
    assert!(matches!(
        parse_light_block(&doc.to_string()),
        Err(ParseError::Field { ref path, ref reason }) if path == "result.validator_set" && reason.contains("duplicate")
    ));
}

#[test]
fn truncated_and_random_input_never_panics() {
    let text = read("celestia-mocha-4/10001.json");
    for cut in (0..text.len()).step_by(97) {
        assert!(parse_light_block(&text[..cut]).is_err());
    }
}

/// Verifies `doc` (a Celestia block as JSON) from block 10000, a minute after its time.
fn verify_from_10000(doc: &Value) -> light_client::Verdict {
    let block = parse_light_block(&doc.to_string()).unwrap();
    let trusted = crate::support::celestia(10000);
    let now = block
        .time()
        .checked_add(std::time::Duration::from_secs(60))
        .unwrap();
    light_client::verify(&block, &trusted, &light_client::Options::default(), now)
}

#[test]
fn null_lists_read_as_empty_and_the_contents_decide() {
    use light_client::{Verdict, VerificationError};
    let text = read("celestia-mocha-4/10001.json");
    let original: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(verify_from_10000(&original), Verdict::Success);

    // Go prints a nil list as `null`.
    let mut doc = original.clone();
    set(&mut doc, &["result", "commit", "signatures"], Value::Null);
    let block = parse_light_block(&doc.to_string()).unwrap();
    assert!(block.signed_header.commit.signatures.is_empty());
    assert_eq!(
        verify_from_10000(&doc),
        Verdict::Invalid(VerificationError::NoSignatures)
    );

    let mut doc = original.clone();
    set(
        &mut doc,
        &["result", "validator_set", "validators"],
        Value::Null,
    );
    let block = parse_light_block(&doc.to_string()).unwrap();
    assert!(block.validators.is_empty());
    assert_eq!(
        verify_from_10000(&doc),
        Verdict::Invalid(VerificationError::EmptyValidatorSet)
    );

    // The plain-list shape (`validators`, as `/validators` returns it), null.
    let mut doc = original.clone();
    let result = doc["result"].as_object_mut().unwrap();
    result.remove("validator_set");
    result.insert("validators".into(), Value::Null);
    assert_eq!(
        verify_from_10000(&doc),
        Verdict::Invalid(VerificationError::EmptyValidatorSet)
    );

    // A `/commit` answer and a `/validators` page.
    let r = &original["result"];
    let commit = json!({"result": {"signed_header": {"header": r["header"],
        "commit": {"height": r["commit"]["height"], "round": 0, "block_id": r["commit"]["block_id"],
        "signatures": null}}, "canonical": false}});
    let parsed = parse_commit_response(&commit.to_string()).unwrap();
    assert!(parsed.signed_header.commit.signatures.is_empty());
    let page = parse_validators_response(
        r#"{"result":{"block_height":"5","validators":null,"count":"0","total":"0"}}"#,
    )
    .unwrap();
    assert!(page.validators.is_empty());

    // A one-leaf Merkle proof has no aunts: Go prints `"aunts": null`.
    let (root, proofs) = light_client::merkle::proofs_from_byte_slices(&[b"only tx"]);
    let mut proof = serde_json::to_value(&proofs[0]).unwrap();
    proof["aunts"] = Value::Null;
    let proof: light_client::merkle::Proof = serde_json::from_value(proof).unwrap();
    assert!(proof.verify(&root, b"only tx").is_ok());

    // `null` is not a licence for other types.
    let mut doc = original;
    set(&mut doc, &["result", "commit", "signatures"], json!({}));
    assert!(matches!(
        parse_light_block(&doc.to_string()),
        Err(ParseError::Field { ref path, .. }) if path == "result.commit.signatures"
    ));
}

#[test]
fn an_absent_vote_stamped_other_than_go_zero_time_is_malformed() {
    use light_client::{Verdict, VerificationError};
    let text = read("celestia-mocha-4/157001.json");
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let sigs = doc["result"]["commit"]["signatures"]
        .as_array_mut()
        .unwrap();
    let absent = sigs
        .iter()
        .position(|s| s["block_id_flag"] == json!(1))
        .unwrap();
    // As CometBFT prints an absent vote.
    assert_eq!(sigs[absent]["timestamp"], json!("0001-01-01T00:00:00Z"));
    assert_eq!(sigs[absent]["validator_address"], json!(""));
    assert_eq!(sigs[absent]["signature"], Value::Null);
    sigs[absent]["timestamp"] = json!("1970-01-01T00:00:00Z");
    let block = parse_light_block(&doc.to_string()).unwrap();
    let trusted = crate::support::celestia(157000);
    let now = block
        .time()
        .checked_add(std::time::Duration::from_secs(60))
        .unwrap();
    let verdict = light_client::verify(&block, &trusted, &light_client::Options::default(), now);
    assert!(
        matches!(
            &verdict,
            Verdict::Invalid(VerificationError::MalformedCommitSig { index, reason })
                if *index == absent && reason.contains("time is present")
        ),
        "{verdict:?}"
    );
}
