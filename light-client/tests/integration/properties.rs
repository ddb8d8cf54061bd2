//! Property tests: changing any byte that the header hash, the validator-set hash or a counted
//! signature covers makes verification fail; batch and single signature checks agree.

use std::sync::OnceLock;
use std::time::Duration;

use light_client::test_utils::{light_block, validators, BlockSpec};
use light_client::verify::verify_each_and_batch;
use light_client::{
    BlockIdFlag, ChainId, Hash, Header, Height, LightBlock, Options, PublicKey, Signature, Time,
    TrustedState, Validator, ValidatorSet, Verdict, Verifier,
};
use proptest::prelude::*;

struct Fixture {
    /// Same validators, two heights back: verifying from it is skipping verification.
    trusted_far: LightBlock,
    trusted: LightBlock,
    untrusted: LightBlock,
    now: Time,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let t0 = Time::from_unix(1_700_000_000, 0).unwrap();
        let vals = validators("prop", 4, 10);
        let trusted = light_block(&BlockSpec::new("prop-chain", 7, t0, &vals));
        let mut spec = BlockSpec::new(
            "prop-chain",
            8,
            t0.checked_add(Duration::from_secs(5)).unwrap(),
            &vals,
        );
        spec.last_block_id = Some(trusted.signed_header.commit.block_id);
        let untrusted = light_block(&spec);
        let earlier = t0.checked_sub(Duration::from_secs(100)).unwrap();
        let f = Fixture {
            trusted_far: light_block(&BlockSpec::new("prop-chain", 5, earlier, &vals)),
            trusted,
            untrusted,
            now: t0.checked_add(Duration::from_secs(60)).unwrap(),
        };
        assert_eq!(verify(&f.untrusted, &f.trusted, f.now), Verdict::Success);
        assert_eq!(
            verify(&f.untrusted, &f.trusted_far, f.now),
            Verdict::Success
        );
        f
    })
}

fn verify(untrusted: &LightBlock, trusted: &LightBlock, now: Time) -> Verdict {
    let state = TrustedState::from_light_block(trusted).unwrap();
    Verifier::new().verify_update_header(untrusted, state, &Options::default(), now)
}

fn flip(bytes: &mut [u8], index: usize, mask: u8) {
    let i = index % bytes.len();
    bytes[i] ^= mask;
}

fn flip_hash(h: &Hash, index: usize, mask: u8) -> Hash {
    let mut b = *h.as_bytes();
    flip(&mut b, index, mask);
    Hash::new(b)
}

fn flip_opt_hash(h: &Option<Hash>, index: usize, mask: u8) -> Option<Hash> {
    Some(flip_hash(&h.unwrap_or(Hash::new([0; 32])), index, mask))
}

/// Changes one byte (or, for numbers and text, one encoded digit) of header field `field`.
fn mutate_header(h: &mut Header, field: usize, index: usize, mask: u8) {
    match field {
        0 => h.version.app ^= u64::from(mask) << (8 * (index % 7)),
        1 => {
            let mut b = h.chain_id.as_str().as_bytes().to_vec();
            let i = index % b.len();
            b[i] = if b[i] == b'x' { b'y' } else { b'x' };
            h.chain_id = ChainId::new(String::from_utf8(b).unwrap());
        }
        2 => h.height = Height(h.height.value() ^ (u64::from(mask) << (8 * (index % 7)))),
        3 => {
            let t = h.time;
            let nanos = t.subsec_nanos() ^ (u32::from(mask) % 0x3b9a_ca00).max(1);
            h.time = Time::from_unix(
                t.unix_seconds() ^ (index as i64 % 1024),
                nanos % 1_000_000_000,
            )
            .unwrap_or(Time::UNIX_EPOCH);
        }
        4 => {
            let id = h.last_block_id.as_mut().unwrap();
            match index % 3 {
                0 => id.hash = flip_hash(&id.hash, index / 3, mask),
                1 => id.part_set_header.total ^= u32::from(mask),
                _ => id.part_set_header.hash = flip_hash(&id.part_set_header.hash, index / 3, mask),
            }
        }
        5 => h.last_commit_hash = flip_opt_hash(&h.last_commit_hash, index, mask),
        6 => h.data_hash = flip_opt_hash(&h.data_hash, index, mask),
        7 => h.validators_hash = flip_hash(&h.validators_hash, index, mask),
        8 => h.next_validators_hash = flip_hash(&h.next_validators_hash, index, mask),
        9 => h.consensus_hash = flip_hash(&h.consensus_hash, index, mask),
        10 => flip(&mut h.app_hash.0, index, mask),
        11 => h.last_results_hash = flip_opt_hash(&h.last_results_hash, index, mask),
        12 => h.evidence_hash = flip_opt_hash(&h.evidence_hash, index, mask),
        _ => {
            let mut b = *h.proposer_address.as_bytes();
            flip(&mut b, index, mask);
            h.proposer_address = light_client::Address::new(b);
        }
    }
}

fn rebuild_set(set: &ValidatorSet, change: impl FnOnce(&mut Vec<Validator>)) -> ValidatorSet {
    let mut vals = set.validators().to_vec();
    change(&mut vals);
    ValidatorSet::new(vals, None).unwrap()
}

/// Commit positions whose signatures are counted: votes for the block, in commit order, until
/// more than 2/3 of the power is reached.
fn counted(block: &LightBlock) -> Vec<usize> {
    let needed = block.validators.total_voting_power() * 2 / 3;
    let mut tallied = 0;
    let mut out = Vec::new();
    for (i, (s, v)) in block
        .signed_header
        .commit
        .signatures
        .iter()
        .zip(block.validators.validators())
        .enumerate()
    {
        if s.block_id_flag == BlockIdFlag::Commit && tallied <= needed {
            out.push(i);
            tallied += v.voting_power;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_header_change_fails(field in 0usize..14, index in 0usize..64, mask in 1u8..=255) {
        let f = fixture();
        let mut u = f.untrusted.clone();
        let before = u.signed_header.header.clone();
        mutate_header(&mut u.signed_header.header, field, index, mask);
        prop_assume!(u.signed_header.header != before);
        prop_assert_ne!(u.signed_header.header.hash(), before.hash());
        prop_assert_ne!(verify(&u, &f.trusted, f.now), Verdict::Success);
        // Even with the commit re-pointed at the changed header, the votes do not cover it.
        u.signed_header.commit.block_id.hash = u.signed_header.header.hash();
        prop_assert_ne!(verify(&u, &f.trusted, f.now), Verdict::Success);
    }

    #[test]
    fn any_validator_set_change_fails(
        which in 0usize..4, index in 0usize..32, mask in 1u8..=255, power in prop::bool::ANY,
    ) {
        let f = fixture();
        let change = |vals: &mut Vec<Validator>| {
            let v = &mut vals[which];
            if power {
                v.voting_power ^= u64::from(mask);
            } else {
                let mut key = *v.pub_key.as_bytes();
                flip(&mut key, index, mask);
                v.pub_key = PublicKey::from_bytes(key);
                v.address = v.pub_key.address();
            }
        };
        let mut u = f.untrusted.clone();
        u.validators = rebuild_set(&u.validators, change);
        prop_assert_ne!(u.validators.hash(), f.untrusted.validators.hash());
        prop_assert_ne!(verify(&u, &f.trusted, f.now), Verdict::Success);

        let mut u = f.untrusted.clone();
        u.next_validators = Some(rebuild_set(u.next_validators.as_ref().unwrap(), change));
        prop_assert_ne!(verify(&u, &f.trusted, f.now), Verdict::Success);

        let mut t = f.trusted.clone();
        t.next_validators = Some(rebuild_set(t.next_validators.as_ref().unwrap(), change));
        prop_assert_ne!(verify(&f.untrusted, &t, f.now), Verdict::Success);
    }

    #[test]
    fn any_counted_signature_change_fails(
        pick in 0usize..8, index in 0usize..64, mask in 1u8..=255, timestamp in prop::bool::ANY,
    ) {
        let f = fixture();
        let positions = counted(&f.untrusted);
        let at = positions[pick % positions.len()];
        let mut u = f.untrusted.clone();
        let sig = &mut u.signed_header.commit.signatures[at];
        if timestamp {
            sig.timestamp = sig.timestamp.checked_add(Duration::from_nanos(u64::from(mask))).unwrap();
        } else {
            let mut bytes = sig.signature.as_ref().unwrap().as_bytes().to_vec();
            flip(&mut bytes, index, mask);
            sig.signature = Some(Signature::new(bytes));
        }
        let verdict = verify(&u, &f.trusted, f.now);
        prop_assert!(matches!(verdict, Verdict::Invalid(_)), "{verdict:?}");
        // Skipping checks the same signatures against the trusted set first.
        let verdict = verify(&u, &f.trusted_far, f.now);
        prop_assert!(matches!(verdict, Verdict::Invalid(_)), "{verdict:?}");
    }

    #[test]
    fn batch_and_single_verdicts_agree(
        flips in prop::collection::vec((0usize..4, 0usize..96, 0u8..=255), 0..3),
    ) {
        let f = fixture();
        let chain = &f.untrusted.signed_header.header.chain_id;
        let commit = &f.untrusted.signed_header.commit;
        let mut items: Vec<(PublicKey, Signature, Vec<u8>)> = (0..4)
            .map(|i| {
                (
                    f.untrusted.validators.validators()[i].pub_key,
                    commit.signatures[i].signature.clone().unwrap(),
                    light_client::vote_sign_bytes(chain, commit, i).unwrap(),
                )
            })
            .collect();
        for (which, index, mask) in flips {
            let item = &mut items[which];
            match index / 32 {
                0 => {
                    let mut k = *item.0.as_bytes();
                    flip(&mut k, index, mask);
                    item.0 = PublicKey::from_bytes(k);
                }
                1 => {
                    let mut s = item.1.as_bytes().to_vec();
                    flip(&mut s, index, mask);
                    item.1 = Signature::new(s);
                }
                _ => flip(&mut item.2, index, mask),
            }
        }
        let (single, batch) = verify_each_and_batch(&items);
        prop_assert_eq!(batch, single.iter().all(|v| *v));
    }

    #[test]
    fn mutated_json_never_panics(edits in prop::collection::vec((0usize..40_000, 0u8..128), 1..4)) {
        let text = crate::support::read("celestia-mocha-4/10001.json");
        let mut bytes = text.into_bytes();
        for (at, byte) in edits {
            let i = at % bytes.len();
            bytes[i] = byte;
        }
        let Ok(text) = String::from_utf8(bytes) else { return Ok(()) };
        if let Ok(block) = light_client::parse_light_block(&text) {
            // Whatever parses can be verified without panicking.
            let trusted = crate::support::celestia(10000);
            let _ = verify(&block, &trusted, f_now(&block));
        }
    }
}

fn f_now(block: &LightBlock) -> Time {
    block
        .time()
        .checked_add(Duration::from_secs(60))
        .unwrap_or(block.time())
}
