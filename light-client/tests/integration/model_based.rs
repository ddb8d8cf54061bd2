//! The CometBFT model-based single-step cases: every step gets the expected verdict kind.

use std::time::Duration;

use light_client::{Options, SignedHeader, Time, TrustLevel, TrustedState, ValidatorSet, Verifier};
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
    block: light_client::LightBlock,
    now: Time,
    verdict: String,
}

#[derive(Deserialize)]
struct Case {
    initial: Initial,
    input: Vec<Step>,
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
            let verdict = verifier.verify_update_header(&step.block, state, &options, step.now);
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
}
