//! The CometBFT model-based single-step cases: every step gets the expected verdict kind.
//!
//! The cases were written by tendermint-rs, whose JSON reader takes a protobuf default
//! timestamp (`1970-01-01T00:00:00Z`) for "no timestamp", and they give absent votes that
//! timestamp. CometBFT's `CommitSig.ValidateBasic` requires Go's zero time
//! (`0001-01-01T00:00:00Z`) there and rejects anything else ("time is present"), so this
//! verifier, following Go, rejects those blocks as they are (checked below). The steps are
//! then run with those timestamps written as CometBFT writes them, which changes no signed
//! or hashed byte: an absent vote's timestamp is not signed, and a block's own commit is not
//! part of its header hash.

use std::time::Duration;

use light_client::{
    BlockIdFlag, LightBlock, Options, SignedHeader, Time, TrustLevel, TrustedState, ValidatorSet,
    Verdict, VerificationError, Verifier,
};
use serde::Deserialize;

use crate::support::testdata;

#[derive(Deserialize)]
struct Initial {
    signed_header: SignedHeader,
    next_validator_set: ValidatorSet,
    /// Nanoseconds.
    trusting_period: String,
}

#[derive(Deserialize)]
struct Step {
    block: LightBlock,
    now: Time,
    verdict: String,
}

#[derive(Deserialize)]
struct Case {
    initial: Initial,
    input: Vec<Step>,
}

/// Gives absent votes stamped with the Unix epoch Go's zero time instead; returns how many.
fn write_absent_timestamps_as_cometbft_does(block: &mut LightBlock) -> usize {
    let mut changed = 0;
    for sig in &mut block.signed_header.commit.signatures {
        if sig.block_id_flag == BlockIdFlag::Absent && sig.timestamp == Time::UNIX_EPOCH {
            sig.timestamp = Time::ZERO;
            changed += 1;
        }
    }
    changed
}

#[test]
fn every_step_of_every_case_gets_the_expected_verdict() {
    let dir = testdata("model_based");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 22);
    let mut steps = 0;
    let mut rewritten_steps = 0;
    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let case: Case = serde_json::from_str(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let nanos: u64 = case.initial.trusting_period.parse().unwrap();
        let options = Options {
            trust_level: TrustLevel::ONE_THIRD,
            trusting_period: Duration::from_nanos(nanos),
            max_clock_drift: Duration::ZERO,
        };
        let mut verifier = Verifier::new();
        let mut trusted_header = case.initial.signed_header.header.clone();
        let mut trusted_next = case.initial.next_validator_set.clone();
        for (i, step) in case.input.iter().enumerate() {
            let state = TrustedState {
                header: &trusted_header,
                next_validators: &trusted_next,
            };
            let mut block = step.block.clone();
            if write_absent_timestamps_as_cometbft_does(&mut block) > 0 {
                rewritten_steps += 1;
                // As written, CometBFT would reject the block: "time is present".
                let as_written =
                    Verifier::new().verify_update_header(&step.block, state, &options, step.now);
                let time_present = matches!(
                    &as_written,
                    Verdict::Invalid(VerificationError::MalformedCommitSig { reason, .. })
                        if reason.contains("time is present")
                );
                if !time_present {
                    failures.push(format!(
                        "{name} step {i}: the block as written got {as_written:?}"
                    ));
                }
            }
            let verdict = verifier.verify_update_header(&block, state, &options, step.now);
            let got = verdict.kind().to_uppercase();
            steps += 1;
            if got != step.verdict {
                failures.push(format!(
                    "{name} step {i}: expected {}, got {verdict:?}",
                    step.verdict
                ));
            }
            if step.verdict == "SUCCESS" {
                trusted_header = step.block.signed_header.header.clone();
                trusted_next = step.block.next_validators.clone().unwrap();
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {steps} steps wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(steps, 64);
    assert_eq!(rewritten_steps, 11);
}
