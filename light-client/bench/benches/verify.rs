//! Verification time per light block: `light-client` against
//! `tendermint-light-client-verifier` 0.41 (`ProdVerifier::verify_update_header`), adjacent and
//! skipping, for 4, 32, 100 and 150 validators and a real 100-validator Celestia block, with
//! the raw cost of the signatures that must be checked measured in the same run.
//!
//! Run: `cargo bench -p light-client-bench`. Criterion measures each function on its own; at
//! the end the same functions are timed again, interleaved, best of many short rounds (robust
//! against other load on a shared machine), and a markdown table is printed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use ed25519_consensus::{batch, Signature as EdSignature, VerificationKey, VerificationKeyBytes};
use light_client::test_utils::{light_block, validators, BlockSpec, FixedRng, TestValidator};
use light_client::{
    parse_light_block, BlockId, BlockIdFlag, LightBlock, Options, Time, TrustedState, Verdict,
    Verifier,
};
use tendermint_light_client_verifier::options::Options as TmOptions;
use tendermint_light_client_verifier::types::{
    TrustThreshold, TrustedBlockState, UntrustedBlockState,
};
use tendermint_light_client_verifier::{ProdVerifier, Verifier as _};

struct Case {
    group: String,
    trusted: LightBlock,
    untrusted: LightBlock,
    now: Time,
}

/// Generated validators with unequal powers (so that counting stops at a realistic place).
fn generated(n: usize) -> Vec<TestValidator> {
    let powers = (0..n).map(|i| 1_000 + (i as u64 * 37) % 500);
    validators(&format!("bench-{n}"), n, 1)
        .into_iter()
        .zip(powers)
        .map(|(mut v, p)| {
            v.validator.voting_power = p;
            v
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let t0 = Time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap_or(Time::UNIX_EPOCH);
    let at = |s: u64| t0.checked_add(Duration::from_secs(s)).unwrap_or(t0);
    let mut out = Vec::new();
    for n in [4, 32, 100, 150] {
        let vals = generated(n);
        let trusted = light_block(&BlockSpec::new("bench-chain", 1_000, at(0), &vals));
        let id: BlockId = trusted.signed_header.commit.block_id;
        let mut next = BlockSpec::new("bench-chain", 1_001, at(6), &vals);
        next.last_block_id = Some(id);
        let adjacent = light_block(&next);
        let skipped = light_block(&BlockSpec::new("bench-chain", 2_000, at(6_000), &vals));
        out.push(Case {
            group: format!("adjacent/{n}"),
            trusted: trusted.clone(),
            untrusted: adjacent,
            now: at(6_100),
        });
        out.push(Case {
            group: format!("skipping/{n}"),
            trusted,
            untrusted: skipped,
            now: at(6_100),
        });
    }
    let celestia = |h: u64| {
        let path = format!(
            "{}/../testdata/celestia-mocha-4/{h}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        parse_light_block(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let (t, u) = (celestia(157_000), celestia(157_001));
    let now = u.time().checked_add(Duration::from_secs(60)).unwrap_or(t0);
    out.push(Case {
        group: "adjacent/celestia-100".into(),
        trusted: t,
        untrusted: u,
        now,
    });
    out
}

/// The same blocks as tendermint-rs types (through their JSON, which both sides share).
struct TmBlock {
    signed_header: tendermint::block::signed_header::SignedHeader,
    validators: tendermint::validator::Set,
    next_validators: tendermint::validator::Set,
}

fn to_tm(b: &LightBlock) -> TmBlock {
    let next = b.trusted_next_validators().unwrap_or(&b.validators);
    TmBlock {
        signed_header: conv(&b.signed_header),
        validators: conv(&b.validators),
        next_validators: conv(next),
    }
}

fn conv<A: serde::Serialize, B: serde::de::DeserializeOwned>(a: &A) -> B {
    let v = serde_json::to_value(a).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn tm_verify(untrusted: &TmBlock, trusted: &TmBlock, now: tendermint::Time) -> bool {
    let options = TmOptions {
        trust_threshold: TrustThreshold::ONE_THIRD,
        trusting_period: Duration::from_secs(21 * 86_400),
        clock_drift: Duration::from_secs(10),
    };
    let header = &trusted.signed_header.header;
    let verdict = ProdVerifier::default().verify_update_header(
        UntrustedBlockState {
            signed_header: &untrusted.signed_header,
            validators: &untrusted.validators,
            next_validators: Some(&untrusted.next_validators),
        },
        TrustedBlockState {
            chain_id: &header.chain_id,
            header_time: header.time,
            height: header.height,
            next_validators: &trusted.next_validators,
            next_validators_hash: header.next_validators_hash,
        },
        &options,
        now,
    );
    matches!(verdict, tendermint_light_client_verifier::Verdict::Success)
}

/// The signatures that must be checked: the commit-order prefix of votes for the block whose
/// power first exceeds 2/3 of the block's own set (the trusted 1/3 is a subset here).
fn needed_signatures(b: &LightBlock) -> Vec<(VerificationKey, EdSignature, Vec<u8>)> {
    let needed = b.validators.total_voting_power() * 2 / 3;
    let mut tallied = 0;
    let mut out = Vec::new();
    let commit = &b.signed_header.commit;
    for (i, (sig, val)) in commit
        .signatures
        .iter()
        .zip(b.validators.validators())
        .enumerate()
    {
        if sig.block_id_flag != BlockIdFlag::Commit {
            continue;
        }
        let msg = light_client::vote_sign_bytes(&b.signed_header.header.chain_id, commit, i)
            .unwrap_or_default();
        let bytes = sig
            .signature
            .as_ref()
            .and_then(|s| s.to_array())
            .unwrap_or([0; 64]);
        let vk =
            VerificationKey::try_from(*val.pub_key.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        out.push((vk, EdSignature::from(bytes), msg));
        tallied += val.voting_power;
        if tallied > needed {
            break;
        }
    }
    out
}

const FUNCTIONS: [&str; 5] = [
    "light-client",
    "light-client-cold",
    "tendermint-0.41",
    "raw-single",
    "raw-batch",
];

fn bench(c: &mut Criterion, cases: &[Case]) -> Vec<(String, usize)> {
    let options = Options::default();
    let mut sig_counts = Vec::new();
    for case in cases {
        let state =
            TrustedState::from_light_block(&case.trusted).unwrap_or_else(|| panic!("no next set"));
        let mut warm = Verifier::new();
        assert_eq!(
            warm.verify_update_header(&case.untrusted, state, &options, case.now),
            Verdict::Success,
            "{}",
            case.group
        );
        let tm_trusted = to_tm(&case.trusted);
        let tm_untrusted = to_tm(&case.untrusted);
        let tm_now: tendermint::Time = case
            .now
            .to_rfc3339()
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            tm_verify(&tm_untrusted, &tm_trusted, tm_now),
            "tendermint {}",
            case.group
        );
        let raw = needed_signatures(&case.untrusted);
        sig_counts.push((case.group.clone(), raw.len()));

        // Every timed light-client call gets a freshly parsed untrusted block (parsing is
        // untimed, as for tendermint-rs), so nothing computed for it earlier is reused. "warm":
        // the trusted state and the verifier's key cache persist, as when following a chain;
        // "cold": fresh trusted block and verifier too.
        let untrusted_json = serde_json::to_string(&case.untrusted).unwrap_or_default();
        let trusted_json = serde_json::to_string(&case.trusted).unwrap_or_default();
        let fresh = |json: &str| parse_light_block(json).unwrap_or_else(|e| panic!("{e}"));
        let mut g = c.benchmark_group(&case.group);
        g.bench_function(FUNCTIONS[0], |b| {
            b.iter_batched(
                || fresh(&untrusted_json),
                |u| {
                    let v = warm.verify_update_header(black_box(&u), state, &options, case.now);
                    (u, v)
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function(FUNCTIONS[1], |b| {
            b.iter_batched(
                || (fresh(&trusted_json), fresh(&untrusted_json)),
                |(t, u)| {
                    let state = TrustedState::from_light_block(&t);
                    let v = state.map(|s| {
                        Verifier::new().verify_update_header(black_box(&u), s, &options, case.now)
                    });
                    (t, u, v)
                },
                BatchSize::SmallInput,
            )
        });
        g.bench_function(FUNCTIONS[2], |b| {
            b.iter(|| tm_verify(black_box(&tm_untrusted), &tm_trusted, tm_now))
        });
        g.bench_function(FUNCTIONS[3], |b| {
            b.iter(|| {
                raw.iter()
                    .all(|(vk, sig, msg)| vk.verify(sig, black_box(msg)).is_ok())
            })
        });
        g.bench_function(FUNCTIONS[4], |b| {
            b.iter(|| {
                let mut v = batch::Verifier::new();
                for (vk, sig, msg) in &raw {
                    v.queue((VerificationKeyBytes::from(*vk), *sig, black_box(&msg[..])));
                }
                v.verify(FixedRng(1)).is_ok()
            })
        });
        g.finish();
    }
    sig_counts
}

/// Where the time goes outside the signatures, for the largest generated block (each call on
/// a freshly built block or set, since sets keep their hash once computed).
fn bench_parts(c: &mut Criterion, case: &Case) {
    let block = &case.untrusted;
    let json = serde_json::to_string(block).unwrap_or_default();
    let mut g = c.benchmark_group(format!("parts/{}", block.validators.len()));
    g.bench_function("validate_light_block", |b| {
        b.iter_batched(
            || parse_light_block(&json).unwrap_or_else(|e| panic!("{e}")),
            |fresh| {
                let r = light_client::validate_light_block(black_box(&fresh)).is_ok();
                (fresh, r)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("validator_set_hash", |b| {
        b.iter_batched(
            || {
                light_client::ValidatorSet::new(block.validators.validators().to_vec(), None)
                    .unwrap_or_else(|e| panic!("{e}"))
            },
            |set| {
                let h = black_box(&set).hash();
                (set, h)
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("header_hash", |b| {
        b.iter(|| black_box(&block.signed_header.header).hash())
    });
    g.finish();
}

/// Runs `f` and returns the wall time it took.
fn measure(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// One timed function of the comparison: runs `n` calls, returns the time they took.
type Timed<'a> = Box<dyn FnMut(usize) -> Duration + 'a>;

/// Per-call times of each function in each round, run interleaved: every round runs about
/// 5 ms of calls of each function in turn, so load from other work on a shared machine hits
/// neighbouring measurements alike.
fn interleaved(mut fns: Vec<Timed<'_>>, rounds: usize) -> Vec<Vec<Duration>> {
    let per_round: Vec<usize> = fns
        .iter_mut()
        .map(|f| {
            // Warm up, then size the rounds from the faster of two calls.
            f(1);
            let one = f(1).min(f(1)).max(Duration::from_micros(1));
            (Duration::from_millis(5).as_nanos() / one.as_nanos()).clamp(1, 1_000) as usize
        })
        .collect();
    let mut samples = vec![Vec::with_capacity(rounds); fns.len()];
    for _ in 0..rounds {
        for (i, f) in fns.iter_mut().enumerate() {
            samples[i].push(f(per_round[i]) / per_round[i] as u32);
        }
    }
    samples
}

/// The best (smallest) time: waiting for other work only ever adds time.
fn best(samples: &[Duration]) -> Duration {
    samples.iter().copied().min().unwrap_or(Duration::ZERO)
}

/// The median over rounds of `a / b` measured in the same round.
fn median_ratio(a: &[Duration], b: &[Duration]) -> f64 {
    let mut r: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64().max(1e-12))
        .collect();
    r.sort_by(f64::total_cmp);
    r.get(r.len() / 2).copied().unwrap_or(0.0)
}

const ROUNDS: usize = 60;

fn compare(cases: &[Case], sig_counts: &[(String, usize)]) {
    let options = Options::default();
    println!();
    println!(
        "Interleaved, {ROUNDS} rounds: times are the best round, ratios the median of the \
         ratios measured within each round."
    );
    println!();
    println!("| case | sigs checked | light-client (warm) | light-client (cold) | tendermint 0.41 | speed-up (warm) | speed-up (cold) | raw single | raw batch | warm / raw single |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (case, (_, sigs)) in cases.iter().zip(sig_counts) {
        let untrusted_json = serde_json::to_string(&case.untrusted).unwrap_or_default();
        let trusted_json = serde_json::to_string(&case.trusted).unwrap_or_default();
        let fresh = |json: &str| parse_light_block(json).unwrap_or_else(|e| panic!("{e}"));
        let trusted = fresh(&trusted_json);
        let state =
            TrustedState::from_light_block(&trusted).unwrap_or_else(|| panic!("no next set"));
        let mut warm = Verifier::new();
        let tm_trusted = to_tm(&case.trusted);
        let tm_untrusted = to_tm(&case.untrusted);
        let tm_now: tendermint::Time = case
            .now
            .to_rfc3339()
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let raw = needed_signatures(&case.untrusted);
        let fns: Vec<Timed<'_>> = vec![
            Box::new(|n| {
                let blocks: Vec<LightBlock> = (0..n).map(|_| fresh(&untrusted_json)).collect();
                measure(|| {
                    for u in &blocks {
                        black_box(warm.verify_update_header(u, state, &options, case.now));
                    }
                })
            }),
            Box::new(|n| {
                let blocks: Vec<(LightBlock, LightBlock)> = (0..n)
                    .map(|_| (fresh(&trusted_json), fresh(&untrusted_json)))
                    .collect();
                measure(|| {
                    for (t, u) in &blocks {
                        if let Some(s) = TrustedState::from_light_block(t) {
                            black_box(
                                Verifier::new().verify_update_header(u, s, &options, case.now),
                            );
                        }
                    }
                })
            }),
            Box::new(|n| {
                measure(|| {
                    for _ in 0..n {
                        black_box(tm_verify(&tm_untrusted, &tm_trusted, tm_now));
                    }
                })
            }),
            Box::new(|n| {
                let start = Instant::now();
                for _ in 0..n {
                    black_box(
                        raw.iter()
                            .all(|(vk, sig, msg)| vk.verify(sig, black_box(msg)).is_ok()),
                    );
                }
                start.elapsed()
            }),
            Box::new(|n| {
                measure(|| {
                    for _ in 0..n {
                        let mut v = batch::Verifier::new();
                        for (vk, sig, msg) in &raw {
                            v.queue((VerificationKeyBytes::from(*vk), *sig, black_box(&msg[..])));
                        }
                        black_box(v.verify(FixedRng(1)).is_ok());
                    }
                })
            }),
        ];
        let m = interleaved(fns, ROUNDS);
        let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
        let x = |a: usize, b: usize| format!("{:.2}x", median_ratio(&m[a], &m[b]));
        println!(
            "| {} | {sigs} | {} | {} | {} | {} | {} | {} | {} | {} |",
            case.group,
            ms(best(&m[0])),
            ms(best(&m[1])),
            ms(best(&m[2])),
            x(2, 0),
            x(2, 1),
            ms(best(&m[3])),
            ms(best(&m[4])),
            x(0, 3),
        );
    }
}

fn main() {
    let cases = cases();
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let groups = bench(&mut c, &cases);
    if let Some(largest) = cases
        .iter()
        .filter(|c| c.group.starts_with("adjacent/1"))
        .last()
    {
        bench_parts(&mut c, largest);
    }
    c.final_summary();
    compare(&cases, &groups);
}
