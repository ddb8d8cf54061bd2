//! Replays every fuzz corpus input (`registry/fuzz/corpus/<target>/`) through the same checks
//! as the fuzz targets, so CI exercises them without a nightly toolchain.

use std::fs;
use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), fs::read(&p).unwrap()))
        .collect()
}

fn replay(target: &str, run: fn(&[u8])) {
    let inputs = corpus(target);
    assert!(!inputs.is_empty(), "empty corpus for {target}");
    for (name, data) in inputs {
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{target}: input {name} panicked");
    }
}

#[test]
fn qr_payload_corpus() {
    replay("qr_payload", registry::fuzzing::qr_payload);
}

#[test]
fn tx_decode_corpus() {
    replay("tx_decode", registry::fuzzing::tx_decode);
}

#[test]
fn state_values_corpus() {
    replay("state_values", registry::fuzzing::state_values);
}

#[test]
fn corpus_seeds_parse() {
    // The seeds (written by `examples/fuzz_seeds.rs`) are real encodings: they must parse, not
    // merely not panic.
    let seeds = |t| {
        corpus(t)
            .into_iter()
            .filter(|(n, _)| n.contains("seed-"))
            .collect::<Vec<_>>()
    };
    let qr = seeds("qr_payload");
    assert_eq!(qr.len(), 2);
    for (name, data) in qr {
        assert!(registry::qr::decode(&data).is_ok(), "{name}");
    }
    let txs = seeds("tx_decode");
    assert_eq!(txs.len(), 6);
    for (name, data) in txs {
        assert!(registry::Tx::decode(&data).is_ok(), "{name}");
    }
}
