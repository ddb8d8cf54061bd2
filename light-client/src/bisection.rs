//! The bisection scheduler: a pure state machine that says which height to fetch and verify
//! next, from a trusted height to a target height (skipping verification, CometBFT style).

use crate::types::Height;
use crate::verify::Verdict;

/// Why bisection stopped without reaching the target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BisectionError {
    /// The target is not above the trusted height.
    #[error("target height {target} is not above trusted height {trusted}")]
    TargetNotAbove {
        /// Trusted height.
        trusted: Height,
        /// Target height.
        target: Height,
    },
    /// A block was reported invalid; the chain cannot be verified through it.
    #[error("block at height {height} is invalid")]
    Invalid {
        /// The invalid block's height.
        height: Height,
    },
    /// An adjacent block was reported as "not enough trust", which verification never
    /// returns for adjacent blocks: the caller mixed up heights.
    #[error("adjacent block {height} cannot lack trust")]
    AdjacentWithoutTrust {
        /// The height reported.
        height: Height,
    },
    /// A verdict was reported for a height that was not the one asked for.
    #[error("expected a verdict for height {expected}, got {got}")]
    UnexpectedHeight {
        /// The height asked for.
        expected: Height,
        /// The height reported.
        got: Height,
    },
    /// The scheduler already finished or failed.
    #[error("bisection is over")]
    Finished,
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Fetch the light block at this height and verify it from the current trusted height.
    Verify {
        /// The height to fetch.
        height: Height,
        /// The trusted height to verify it from.
        trusted: Height,
    },
    /// The target height is verified.
    Done,
}

/// Bisection from a trusted height to a target height.
///
/// Call [`Bisection::next`] for the height to fetch, verify that block against the block at
/// the current trusted height, then report the verdict with [`Bisection::record`]. On
/// success the verified height becomes trusted and the scheduler moves towards the target;
/// on "not enough trust" it tries the midpoint between the trusted height and the failed
/// height first; on "invalid" it stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bisection {
    trusted: Height,
    /// Heights still to verify; the last is the next one, the first is the target.
    pending: Vec<Height>,
    failed: bool,
}

impl Bisection {
    /// Starts bisection from `trusted` to `target`.
    pub fn new(trusted: Height, target: Height) -> Result<Bisection, BisectionError> {
        if target <= trusted {
            return Err(BisectionError::TargetNotAbove { trusted, target });
        }
        Ok(Bisection {
            trusted,
            pending: vec![target],
            failed: false,
        })
    }

    /// The current trusted height.
    pub fn trusted(&self) -> Height {
        self.trusted
    }

    /// What to do next.
    pub fn next(&self) -> Step {
        match self.pending.last() {
            Some(&height) if !self.failed => Step::Verify {
                height,
                trusted: self.trusted,
            },
            _ => Step::Done,
        }
    }

    /// Reports the verdict for the height that [`Bisection::next`] asked for.
    pub fn record(&mut self, height: Height, verdict: &Verdict) -> Result<Step, BisectionError> {
        if self.failed {
            return Err(BisectionError::Finished);
        }
        let Some(&expected) = self.pending.last() else {
            return Err(BisectionError::Finished);
        };
        if height != expected {
            return Err(BisectionError::UnexpectedHeight {
                expected,
                got: height,
            });
        }
        match verdict {
            Verdict::Success => {
                self.trusted = height;
                self.pending.pop();
            }
            Verdict::NotEnoughTrust(_) => {
                let gap = height.value() - self.trusted.value();
                if gap <= 1 {
                    self.failed = true;
                    return Err(BisectionError::AdjacentWithoutTrust { height });
                }
                self.pending.push(Height(self.trusted.value() + gap / 2));
            }
            Verdict::Invalid(_) => {
                self.failed = true;
                return Err(BisectionError::Invalid { height });
            }
        }
        Ok(self.next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{VerificationError, VotingPowerTally};

    fn not_enough() -> Verdict {
        Verdict::NotEnoughTrust(VotingPowerTally {
            total: 3,
            tallied: 1,
            needed: 1,
        })
    }

    /// Drives the scheduler with a verdict oracle; returns the heights asked for.
    fn run(
        trusted: u64,
        target: u64,
        oracle: impl Fn(u64, u64) -> Verdict,
    ) -> (Vec<(u64, u64)>, Result<(), BisectionError>) {
        let mut b = Bisection::new(Height(trusted), Height(target)).unwrap();
        let mut asked = Vec::new();
        loop {
            match b.next() {
                Step::Done => return (asked, Ok(())),
                Step::Verify { height, trusted } => {
                    asked.push((trusted.value(), height.value()));
                    if let Err(e) = b.record(height, &oracle(trusted.value(), height.value())) {
                        return (asked, Err(e));
                    }
                }
            }
        }
    }

    #[test]
    fn direct_skip_when_trust_suffices() {
        let (asked, r) = run(1, 100, |_, _| Verdict::Success);
        assert_eq!(asked, vec![(1, 100)]);
        assert!(r.is_ok());
    }

    #[test]
    fn bisects_until_steps_are_short_enough() {
        // Trust reaches at most 10 heights ahead.
        let (asked, r) = run(1, 33, |t, h| {
            if h - t <= 10 {
                Verdict::Success
            } else {
                not_enough()
            }
        });
        assert!(r.is_ok());
        assert_eq!(
            asked,
            vec![
                (1, 33),
                (1, 17),
                (1, 9),
                (9, 17),
                (17, 33),
                (17, 25),
                (25, 33)
            ]
        );
    }

    #[test]
    fn invalid_stops_and_misuse_is_reported() {
        let (_, r) = run(1, 9, |_, h| {
            if h == 9 {
                Verdict::Invalid(VerificationError::NoSignatures)
            } else {
                Verdict::Success
            }
        });
        assert_eq!(r, Err(BisectionError::Invalid { height: Height(9) }));
        let (_, r) = run(1, 2, |_, _| not_enough());
        assert_eq!(
            r,
            Err(BisectionError::AdjacentWithoutTrust { height: Height(2) })
        );
        let mut b = Bisection::new(Height(1), Height(5)).unwrap();
        assert_eq!(
            b.record(Height(4), &Verdict::Success),
            Err(BisectionError::UnexpectedHeight {
                expected: Height(5),
                got: Height(4)
            })
        );
        assert!(Bisection::new(Height(5), Height(5)).is_err());
    }

    /// Bisection driven by real verification over a chain whose validator set rotates one
    /// validator per height: skipping far lacks trust, bisection finds a path.
    #[test]
    fn reaches_the_target_through_a_rotating_validator_set() {
        use crate::test_utils::{light_block, validators, BlockSpec};
        use crate::types::Time;
        use crate::verify::{Options, TrustedState, Verifier};

        let pool = validators("rot", 20, 10);
        let t0 = Time::from_unix(1_700_000_000, 0).unwrap();
        let at = |h: u64| {
            t0.checked_add(core::time::Duration::from_secs(h * 5))
                .unwrap()
        };
        let set = |h: u64| &pool[(h as usize - 1)..(h as usize + 3)];
        let block = |h: u64| {
            let mut spec = BlockSpec::new("rot-chain", h, at(h), set(h));
            spec.next_validators = set(h + 1);
            light_block(&spec)
        };
        let blocks: Vec<_> = (1..=16).map(block).collect();
        let now = at(100);
        let options = Options::default();
        let mut verifier = Verifier::new();
        let mut b = Bisection::new(Height(1), Height(16)).unwrap();
        let mut asked = Vec::new();
        while let Step::Verify { height, trusted } = b.next() {
            let untrusted = &blocks[height.value() as usize - 1];
            let trusted_block = &blocks[trusted.value() as usize - 1];
            let state = TrustedState::from_light_block(trusted_block).unwrap();
            let verdict = verifier.verify_update_header(untrusted, state, &options, now);
            asked.push((trusted.value(), height.value(), verdict.kind()));
            b.record(height, &verdict).unwrap();
            assert!(asked.len() < 64, "bisection does not terminate: {asked:?}");
        }
        assert_eq!(b.trusted(), Height(16));
        assert_eq!(asked[0], (1, 16, "not_enough_trust"));
        assert!(asked.iter().any(|a| a.2 == "success"));
        assert!(asked.iter().all(|a| a.2 != "invalid"));
    }
}
