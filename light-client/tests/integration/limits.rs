//! Work per light block is bounded: a fabricated block with a huge untrusted validator set
//! costs no signature check when the trusted validators cannot reach the trust level, and
//! sets or commits above CometBFT's `MaxVotesCount` are refused before any signature work.

use std::time::Duration;

use light_client::test_utils::{light_block, validators, BlockSpec, TestValidator};
use light_client::{
    precommit_sign_bytes, BlockIdFlag, CommitSig, Hash, LightBlock, Options, PublicKey, Signature,
    Time, TrustedState, Validator, ValidatorSet, ValidatorSetError, Verdict, VerificationError,
    Verifier, VotingPowerTally, MAX_VOTES_COUNT,
};

fn t(secs: u64) -> Time {
    Time::from_unix(1_700_000_000, 0)
        .unwrap()
        .checked_add(Duration::from_secs(secs))
        .unwrap()
}

/// A validator nobody holds the key of: any 32 bytes do, as long as the address derives from
/// them.
fn stranger(i: usize) -> Validator {
    let key = *Hash::sha256(format!("stranger-{i}").as_bytes()).as_bytes();
    Validator::new(PublicKey::from_bytes(key), 1)
}

/// A block at height 3 signed by `strangers` made-up validators (signatures of garbage) and
/// by `trusted` real ones (valid signatures), hashed as a real block is.
fn fabricated(template: &LightBlock, strangers: usize, trusted: &[TestValidator]) -> LightBlock {
    let mut vals: Vec<Validator> = (0..strangers).map(stranger).collect();
    vals.extend(trusted.iter().map(|v| v.validator.clone()));
    let set = ValidatorSet::new(vals, None).unwrap();
    let mut block = template.clone();
    let header = &mut block.signed_header.header;
    header.validators_hash = set.hash();
    header.next_validators_hash = set.hash();
    header.proposer_address = set.validators()[0].address;
    let commit = &mut block.signed_header.commit;
    commit.block_id.hash = header.hash();
    let timestamp = header.time;
    let message = precommit_sign_bytes(
        &header.chain_id,
        commit.height,
        commit.round,
        Some(&commit.block_id),
        timestamp,
    );
    commit.signatures = set
        .validators()
        .iter()
        .map(|v| {
            let signature = match trusted.iter().find(|t| t.validator.address == v.address) {
                Some(signer) => signer.sign(&message),
                None => Signature::from([7; 64]),
            };
            CommitSig {
                block_id_flag: BlockIdFlag::Commit,
                validator_address: Some(v.address),
                timestamp,
                signature: Some(signature),
            }
        })
        .collect();
    block.validators = set.clone();
    block.next_validators = Some(set);
    block
}

fn verify(untrusted: &LightBlock, trusted: &LightBlock) -> (Verdict, u64) {
    let mut verifier = Verifier::new();
    let state = TrustedState::from_light_block(trusted).unwrap();
    let verdict = verifier.verify_update_header(untrusted, state, &Options::default(), t(100));
    (verdict, verifier.signatures_checked())
}

struct Setup {
    trusted_vals: Vec<TestValidator>,
    trusted: LightBlock,
    template: LightBlock,
}

fn setup() -> Setup {
    let trusted_vals = validators("trusted", 4, 10);
    let trusted = light_block(&BlockSpec::new("dos", 1, t(0), &trusted_vals));
    let template = light_block(&BlockSpec::new("dos", 3, t(20), &trusted_vals));
    Setup {
        trusted_vals,
        trusted,
        template,
    }
}

#[test]
fn ten_thousand_untrusted_validators_cost_no_signature_check() {
    let s = setup();
    let block = fabricated(&s.template, MAX_VOTES_COUNT, &[]);
    assert_eq!(block.validators.len(), 10_000);
    assert_eq!(
        verify(&block, &s.trusted),
        (
            Verdict::NotEnoughTrust(VotingPowerTally {
                total: 40,
                tallied: 0,
                needed: 13
            }),
            0
        )
    );

    // One real trusted signer among them: 10 of 40 can never exceed 13. Still no check.
    let block = fabricated(&s.template, MAX_VOTES_COUNT - 1, &s.trusted_vals[..1]);
    assert_eq!(
        verify(&block, &s.trusted),
        (
            Verdict::NotEnoughTrust(VotingPowerTally {
                total: 40,
                tallied: 10,
                needed: 13
            }),
            0
        )
    );
}

#[test]
fn forged_trusted_votes_cost_only_the_trusted_overlap() {
    let s = setup();
    // Two trusted validators named in the commit (20 > 13), their signatures forged too.
    let mut block = fabricated(&s.template, MAX_VOTES_COUNT - 2, &s.trusted_vals[..2]);
    for sig in &mut block.signed_header.commit.signatures {
        sig.signature = Some(Signature::from([7; 64]));
    }
    let (verdict, checked) = verify(&block, &s.trusted);
    assert!(
        matches!(
            verdict,
            Verdict::Invalid(VerificationError::InvalidSignature { .. })
        ),
        "{verdict:?}"
    );
    assert_eq!(checked, 2);

    // Real trusted signatures: trust is reached, and only then is the untrusted set counted,
    // whose first made-up signature fails.
    let block = fabricated(&s.template, MAX_VOTES_COUNT - 2, &s.trusted_vals[..2]);
    let (verdict, checked) = verify(&block, &s.trusted);
    let first_stranger = block
        .signed_header
        .commit
        .signatures
        .iter()
        .position(|sig| {
            s.trusted_vals
                .iter()
                .all(|t| Some(t.validator.address) != sig.validator_address)
        })
        .unwrap();
    assert!(
        matches!(verdict, Verdict::Invalid(VerificationError::InvalidSignature { index, .. }) if index == first_stranger),
        "{verdict:?}"
    );
    assert!(checked > 2);
}

#[test]
fn more_than_max_votes_count_is_refused_before_any_signature_work() {
    let s = setup();
    let too_many: Vec<Validator> = (0..=MAX_VOTES_COUNT).map(stranger).collect();
    assert_eq!(
        ValidatorSet::new(too_many.clone(), None),
        Err(ValidatorSetError::TooManyValidators { count: 10_001 })
    );

    // A commit with 10,001 entries.
    let mut block = fabricated(&s.template, MAX_VOTES_COUNT, &[]);
    block
        .signed_header
        .commit
        .signatures
        .push(CommitSig::absent());
    let (verdict, checked) = verify(&block, &s.trusted);
    assert_eq!(
        verdict,
        Verdict::Invalid(VerificationError::TooManySignatures { signatures: 10_001 })
    );
    assert_eq!(checked, 0);
    let mut verifier = Verifier::new();
    let state = TrustedState::from_light_block(&s.trusted).unwrap();
    assert_eq!(
        verifier.verify_commit_trusting(
            &block.signed_header,
            state.next_validators,
            light_client::TrustLevel::ONE_THIRD
        ),
        Err(VerificationError::TooManySignatures { signatures: 10_001 })
    );

    // Reading JSON stops at the 10,001st entry, naming where.
    let mut json = serde_json::to_value(&block).unwrap();
    let err = light_client::parse_light_block(&json.to_string()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at signed_header.commit.signatures: more than 10000 elements (CometBFT's MaxVotesCount)"
    );
    json["signed_header"]["commit"]["signatures"]
        .as_array_mut()
        .unwrap()
        .pop();
    let validators: Vec<serde_json::Value> = too_many
        .iter()
        .map(|v| serde_json::to_value(v).unwrap())
        .collect();
    json["validator_set"]["validators"] = serde_json::Value::Array(validators);
    let err = light_client::parse_light_block(&json.to_string()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "at validator_set.validators: more than 10000 elements (CometBFT's MaxVotesCount)"
    );
}
