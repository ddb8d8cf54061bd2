//! Real Celestia mocha-4 light blocks: hashes, commits, adjacent and skipping verification.

use std::time::Duration;

use light_client::{
    verify, ChainId, Options, Time, TrustedState, Verdict, VerificationError, Verifier,
};

use crate::support::celestia;

const HEIGHTS: [u64; 9] = [
    3000, 3001, 10000, 10001, 10002, 10003, 10004, 157000, 157001,
];

fn soon_after(block: &light_client::LightBlock) -> Time {
    block.time().checked_add(Duration::from_secs(60)).unwrap()
}

#[test]
fn headers_hash_to_their_block_ids() {
    for h in HEIGHTS {
        let b = celestia(h);
        assert_eq!(
            b.signed_header.header.hash(),
            b.signed_header.commit.block_id.hash,
            "height {h}"
        );
        assert_eq!(
            b.validators.hash(),
            b.signed_header.header.validators_hash,
            "height {h}"
        );
    }
}

#[test]
fn last_block_ids_link_consecutive_blocks() {
    for (a, b) in [(3000, 3001), (10000, 10001), (10003, 10004)] {
        let prev = celestia(a);
        let next = celestia(b);
        assert_eq!(
            next.signed_header.header.last_block_id,
            Some(prev.signed_header.commit.block_id)
        );
    }
}

/// The commits of 3000 and 10000-10003 are the ones the next blocks carry, and hash to their
/// `last_commit_hash`.
///
/// 157000 is different, and the question of why is settled: these fixtures are `/signed_block`
/// answers, which return the node's *seen* commit (the precommits that node collected for the
/// block), not the canonical commit that block 157001 carries as its `last_commit`. The two
/// are for the same block but hold different sets of votes (here with absent ones), so they
/// hash differently. `Commit::hash` reproduces `last_commit_hash` on real blocks with absent
/// votes, as CometBFT does; no encoding change is needed. The seen commit's signatures still
/// verify (see `each_commit_verifies_against_its_own_set`).
#[test]
fn commits_hash_to_the_next_headers_last_commit_hash() {
    for (a, b) in [
        (3000, 3001),
        (10000, 10001),
        (10001, 10002),
        (10002, 10003),
        (10003, 10004),
    ] {
        let prev = celestia(a);
        let next = celestia(b);
        assert_eq!(
            Some(prev.signed_header.commit.hash()),
            next.signed_header.header.last_commit_hash,
            "{a} -> {b}"
        );
    }
    // The seen commit of 157000 is for the block 157001 follows, but is not its last commit.
    let (seen, next) = (celestia(157000), celestia(157001));
    assert_eq!(
        next.signed_header.header.last_block_id,
        Some(seen.signed_header.commit.block_id)
    );
    assert_ne!(
        Some(seen.signed_header.commit.hash()),
        next.signed_header.header.last_commit_hash
    );
}

#[test]
fn each_commit_verifies_against_its_own_set() {
    let mut verifier = Verifier::new();
    for h in HEIGHTS {
        let b = celestia(h);
        let tally = verifier
            .verify_commit(&b.signed_header, &b.validators)
            .unwrap_or_else(|e| panic!("height {h}: {e}"));
        assert!(tally.tallied > tally.needed);
        assert_eq!(tally.needed, b.validators.total_voting_power() * 2 / 3);
    }
}

fn check(trusted: u64, untrusted: u64, options: &Options) -> Verdict {
    let t = celestia(trusted);
    let u = celestia(untrusted);
    verify(&u, &t, options, soon_after(&u))
}

#[test]
fn adjacent_and_skipping_verification_succeed() {
    let options = Options {
        trusting_period: Duration::from_secs(3 * 365 * 86_400),
        ..Options::default()
    };
    for (t, u) in [
        (3000, 3001),
        (10000, 10001),
        (10001, 10002),
        (10002, 10003),
        (10003, 10004),
        (157000, 157001),
        (3001, 10000),
        (10000, 10004),
    ] {
        assert_eq!(check(t, u, &options), Verdict::Success, "{t} -> {u}");
    }
}

#[test]
fn a_chain_of_headers_verifies_with_one_verifier() {
    let options = Options::default();
    let mut verifier = Verifier::new();
    let mut trusted = celestia(10000);
    for h in 10001..=10004 {
        let next = celestia(h);
        let state = TrustedState::from_light_block(&trusted).unwrap();
        assert_eq!(
            verifier.verify_update_header(&next, state, &options, soon_after(&next)),
            Verdict::Success
        );
        trusted = next;
    }
    // Two validators: their keys were decoded once for the four blocks; each block's two
    // signatures were checked once.
    assert_eq!(verifier.cached_keys(), 2);
    assert_eq!(verifier.signatures_checked(), 8);
}

#[test]
fn flipped_signature_byte_fails() {
    let options = Options::default();
    let t = celestia(157000);
    let mut u = celestia(157001);
    // Flip a byte of the first counted signature.
    let sig = u
        .signed_header
        .commit
        .signatures
        .iter_mut()
        .find(|s| s.signature.is_some() && s.block_id_flag == light_client::BlockIdFlag::Commit)
        .unwrap();
    let mut bytes = sig.signature.as_ref().unwrap().as_bytes().to_vec();
    bytes[10] ^= 0x01;
    sig.signature = Some(light_client::Signature::new(bytes));
    let v = verify(&u, &t, &options, soon_after(&u));
    assert!(
        matches!(
            v,
            Verdict::Invalid(VerificationError::InvalidSignature { .. })
        ),
        "{v:?}"
    );
}

#[test]
fn changed_chain_id_fails() {
    let options = Options::default();
    let t = celestia(10000);
    let mut u = celestia(10004);
    u.signed_header.header.chain_id = ChainId::new("mocha-5");
    let v = verify(&u, &t, &options, soon_after(&u));
    assert!(
        matches!(
            v,
            Verdict::Invalid(VerificationError::HeaderCommitMismatch { .. })
        ),
        "{v:?}"
    );

    // Re-pointing the commit at the changed header still fails: the votes signed "mocha-4".
    let hash = u.signed_header.header.hash();
    u.signed_header.commit.block_id.hash = hash;
    let mut t2 = t.clone();
    t2.signed_header.header.chain_id = ChainId::new("mocha-5");
    let v = verify(&u, &t2, &options, soon_after(&u));
    assert!(
        matches!(
            v,
            Verdict::Invalid(VerificationError::InvalidSignature { .. })
        ),
        "{v:?}"
    );
    let v = verify(&u, &t, &options, soon_after(&u));
    assert!(
        matches!(
            v,
            Verdict::Invalid(VerificationError::ChainIdMismatch { .. })
        ),
        "{v:?}"
    );
}

#[test]
fn expired_trusting_period_fails() {
    let options = Options::default();
    let t = celestia(3001);
    let u = celestia(10000);
    let expiry = t.time().checked_add(options.trusting_period).unwrap();
    let v = verify(&u, &t, &options, expiry);
    assert!(
        matches!(
            v,
            Verdict::Invalid(VerificationError::TrustedHeaderExpired { .. })
        ),
        "{v:?}"
    );
    let just_before = expiry.checked_sub(Duration::from_nanos(1)).unwrap();
    assert_eq!(verify(&u, &t, &options, just_before), Verdict::Success);
}

#[test]
fn header_from_the_future_fails() {
    let options = Options::default();
    let t = celestia(10000);
    let u = celestia(10001);
    let now = u.time().checked_sub(options.max_clock_drift).unwrap();
    let v = verify(&u, &t, &options, now);
    assert!(
        matches!(
            v,
            Verdict::Invalid(VerificationError::HeaderFromFuture { .. })
        ),
        "{v:?}"
    );
}
