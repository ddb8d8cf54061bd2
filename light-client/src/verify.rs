//! Light-block verification: commit checks and header-chain (adjacent and skipping)
//! verification with a verdict a bisection scheduler can drive.

mod commit;
mod signature;

use core::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{TrustLevel, DEFAULT_MAX_CLOCK_DRIFT, DEFAULT_TRUSTING_PERIOD};
use crate::types::{
    Address, ChainId, Hash, Header, Height, LightBlock, SignedHeader, Time, ValidatorSet,
    BLOCK_PROTOCOL, MAX_CHAIN_ID_LEN, MAX_VOTES_COUNT,
};
use commit::{validate_commit_against_set, validate_commit_basic, CommitTally, Lookup};
use signature::KeyCache;

pub use signature::verify_each_and_batch;

/// Verification parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Share of the trusted set that must sign a skipped-to header (default 1/3).
    pub trust_level: TrustLevel,
    /// How long a trusted header may be used (default 21 days).
    pub trusting_period: Duration,
    /// How far in the future of `now` a header time may be (default 10 s).
    pub max_clock_drift: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            trust_level: TrustLevel::ONE_THIRD,
            trusting_period: DEFAULT_TRUSTING_PERIOD,
            max_clock_drift: DEFAULT_MAX_CLOCK_DRIFT,
        }
    }
}

/// Voting power counted in a commit against one validator set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VotingPowerTally {
    /// Total voting power of the set.
    pub total: u64,
    /// Power of the set's validators that voted for the block, counted in commit order and
    /// stopping once the threshold is exceeded. When it does not exceed `needed`, no signature
    /// was checked (power is decided first, as in CometBFT); when it does, every counted
    /// signature is valid.
    pub tallied: u64,
    /// The power that must be exceeded.
    pub needed: u64,
}

/// Why a light block is invalid. Every variant names what was compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerificationError {
    /// The header fails basic validation.
    #[error("invalid header: {reason}")]
    InvalidHeader {
        /// What is wrong.
        reason: String,
    },
    /// The validator set does not hash to the header's `validators_hash`.
    #[error("validator set hash {actual} does not match header validators_hash {expected}")]
    ValidatorSetMismatch {
        /// The header's `validators_hash`.
        expected: Hash,
        /// The hash of the given set.
        actual: Hash,
    },
    /// The next validator set does not hash to the header's `next_validators_hash`.
    #[error(
        "next validator set hash {actual} does not match header next_validators_hash {expected}"
    )]
    NextValidatorSetMismatch {
        /// The header's `next_validators_hash`.
        expected: Hash,
        /// The hash of the given set.
        actual: Hash,
    },
    /// A validator's address is not derived from its public key.
    #[error("validator {index} address {address} is not derived from its public key")]
    ValidatorAddressMismatch {
        /// Index in the set.
        index: usize,
        /// The address given.
        address: Address,
    },
    /// The commit is for another height.
    #[error("commit height {commit} differs from header height {header}")]
    CommitHeightMismatch {
        /// Header height.
        header: Height,
        /// Commit height.
        commit: Height,
    },
    /// The commit signs another block.
    #[error("commit is for block {commit_block}, header hashes to {header_hash}")]
    HeaderCommitMismatch {
        /// The header's hash.
        header_hash: Hash,
        /// The commit's block id hash.
        commit_block: Hash,
    },
    /// The commit has no entry, or no present vote.
    #[error("commit has no signatures")]
    NoSignatures,
    /// The commit has more entries than CometBFT's `MaxVotesCount`.
    #[error("commit has {signatures} signatures, more than {MAX_VOTES_COUNT} (CometBFT's MaxVotesCount)")]
    TooManySignatures {
        /// Number of commit entries.
        signatures: usize,
    },
    /// The block's validator set has no validator (CometBFT: "validator set is nil or empty").
    #[error("validator set is empty")]
    EmptyValidatorSet,
    /// The commit and the validator set have different sizes.
    #[error("commit has {signatures} signatures for {validators} validators")]
    SignatureCountMismatch {
        /// Number of commit entries.
        signatures: usize,
        /// Number of validators.
        validators: usize,
    },
    /// A commit entry is malformed.
    #[error("commit signature {index}: {reason}")]
    MalformedCommitSig {
        /// Index in the commit.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A vote's address is not the validator at its index.
    #[error("commit signature {index} is from {actual}, expected validator {expected}")]
    SignerMismatch {
        /// Index in the commit.
        index: usize,
        /// The validator at that index.
        expected: Address,
        /// The vote's address.
        actual: Address,
    },
    /// The same trusted validator signed twice.
    #[error("validator {address} voted twice (signatures {first} and {second})")]
    DuplicateVote {
        /// The validator.
        address: Address,
        /// First commit index.
        first: usize,
        /// Second commit index.
        second: usize,
    },
    /// A counted signature does not verify (ZIP-215 ed25519).
    #[error("invalid signature {index} from validator {validator}")]
    InvalidSignature {
        /// Index in the commit.
        index: usize,
        /// The validator whose key was used.
        validator: Address,
    },
    /// Voting power does not fit in 64 bits.
    #[error("voting power overflow")]
    VotingPowerOverflow,
    /// Not more than 2/3 of the header's own validator set signed.
    #[error("insufficient voting power signed: {} of {}, more than {} needed", tally.tallied, tally.total, tally.needed)]
    InsufficientSignatures {
        /// The tally.
        tally: VotingPowerTally,
    },
    /// The trusted header is older than the trusting period.
    #[error("trusted header expired at {expires_at} (now {now})")]
    TrustedHeaderExpired {
        /// When trust ended.
        expires_at: Time,
        /// The current time given.
        now: Time,
    },
    /// The header time is too far in the future.
    #[error("header time {header_time} is after now {now} plus clock drift {max_clock_drift:?}")]
    HeaderFromFuture {
        /// The header's time.
        header_time: Time,
        /// The current time given.
        now: Time,
        /// Allowed drift.
        max_clock_drift: Duration,
    },
    /// The untrusted header is not later than the trusted one.
    #[error("header time {untrusted} is not after trusted header time {trusted}")]
    NonMonotonicTime {
        /// Untrusted header time.
        untrusted: Time,
        /// Trusted header time.
        trusted: Time,
    },
    /// The untrusted header is not higher than the trusted one.
    #[error("header height {untrusted} is not above trusted height {trusted}")]
    NonIncreasingHeight {
        /// Untrusted height.
        untrusted: Height,
        /// Trusted height.
        trusted: Height,
    },
    /// The chain ids differ.
    #[error("chain id {actual:?} differs from trusted chain id {expected:?}")]
    ChainIdMismatch {
        /// Trusted chain id.
        expected: ChainId,
        /// Untrusted chain id.
        actual: ChainId,
    },
    /// For adjacent headers: the new `validators_hash` is not the trusted `next_validators_hash`.
    #[error("validators_hash {actual} differs from trusted next_validators_hash {expected}")]
    AdjacentValidatorsMismatch {
        /// Trusted `next_validators_hash`.
        expected: Hash,
        /// Untrusted `validators_hash`.
        actual: Hash,
    },
    /// The trusted state has no next validator set to verify against.
    #[error("trusted block has no next validator set")]
    MissingTrustedNextValidators,
}

impl VerificationError {
    /// A stable snake_case code for each variant (for JSON output and UIs).
    pub fn kind(&self) -> &'static str {
        match self {
            VerificationError::InvalidHeader { .. } => "invalid_header",
            VerificationError::ValidatorSetMismatch { .. } => "validator_set_mismatch",
            VerificationError::NextValidatorSetMismatch { .. } => "next_validator_set_mismatch",
            VerificationError::ValidatorAddressMismatch { .. } => "validator_address_mismatch",
            VerificationError::CommitHeightMismatch { .. } => "commit_height_mismatch",
            VerificationError::HeaderCommitMismatch { .. } => "header_commit_mismatch",
            VerificationError::NoSignatures => "no_signatures",
            VerificationError::TooManySignatures { .. } => "too_many_signatures",
            VerificationError::EmptyValidatorSet => "empty_validator_set",
            VerificationError::SignatureCountMismatch { .. } => "signature_count_mismatch",
            VerificationError::MalformedCommitSig { .. } => "malformed_commit_sig",
            VerificationError::SignerMismatch { .. } => "signer_mismatch",
            VerificationError::DuplicateVote { .. } => "duplicate_vote",
            VerificationError::InvalidSignature { .. } => "invalid_signature",
            VerificationError::VotingPowerOverflow => "voting_power_overflow",
            VerificationError::InsufficientSignatures { .. } => "insufficient_signatures",
            VerificationError::TrustedHeaderExpired { .. } => "trusted_header_expired",
            VerificationError::HeaderFromFuture { .. } => "header_from_future",
            VerificationError::NonMonotonicTime { .. } => "non_monotonic_time",
            VerificationError::NonIncreasingHeight { .. } => "non_increasing_height",
            VerificationError::ChainIdMismatch { .. } => "chain_id_mismatch",
            VerificationError::AdjacentValidatorsMismatch { .. } => "adjacent_validators_mismatch",
            VerificationError::MissingTrustedNextValidators => "missing_trusted_next_validators",
        }
    }
}

/// The outcome of verifying an untrusted light block from a trusted state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The block is verified; it may become the new trusted state.
    Success,
    /// The block is well formed but the trusted set's signers do not reach the trust level:
    /// verify an intermediate height first (bisection).
    NotEnoughTrust(VotingPowerTally),
    /// The block is invalid (or the trusted state is unusable); the reason says why.
    Invalid(VerificationError),
}

impl Verdict {
    /// `"success"`, `"not_enough_trust"` or `"invalid"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Success => "success",
            Verdict::NotEnoughTrust(_) => "not_enough_trust",
            Verdict::Invalid(_) => "invalid",
        }
    }
}

/// The trusted state verification starts from: a verified header and the validator set of
/// the next height (which signs the next header).
#[derive(Clone, Copy, Debug)]
pub struct TrustedState<'a> {
    /// The trusted header.
    pub header: &'a Header,
    /// The validator set whose hash is `header.next_validators_hash`.
    pub next_validators: &'a ValidatorSet,
}

impl<'a> TrustedState<'a> {
    /// The trusted state of a verified light block (see
    /// [`LightBlock::trusted_next_validators`]), or `None` without a usable next set.
    pub fn from_light_block(block: &'a LightBlock) -> Option<TrustedState<'a>> {
        Some(TrustedState {
            header: &block.signed_header.header,
            next_validators: block.trusted_next_validators()?,
        })
    }
}

macro_rules! check {
    ($e:expr) => {
        if let Err(e) = $e {
            return Verdict::Invalid(e);
        }
    };
}

/// Header checks of CometBFT's `Header.ValidateBasic` that types do not already enforce.
fn validate_header(header: &Header) -> Result<(), VerificationError> {
    let fail = |reason: String| Err(VerificationError::InvalidHeader { reason });
    if header.version.block != BLOCK_PROTOCOL {
        return fail(format!(
            "block protocol {} (expected {BLOCK_PROTOCOL})",
            header.version.block
        ));
    }
    if header.chain_id.as_str().len() > MAX_CHAIN_ID_LEN {
        return fail(format!("chain id longer than {MAX_CHAIN_ID_LEN} bytes"));
    }
    let height = header.height.value();
    if height == 0 || height > i64::MAX as u64 {
        return fail(format!("height {height} is not a positive int64"));
    }
    Ok(())
}

fn validate_set_addresses(set: &ValidatorSet) -> Result<(), VerificationError> {
    match set.first_misderived_address() {
        None => Ok(()),
        Some(index) => Err(VerificationError::ValidatorAddressMismatch {
            index,
            address: set.validators()[index].address,
        }),
    }
}

/// Checks a light block on its own, in the order of CometBFT's `LightBlock.ValidateBasic`:
/// header basics; the commit on its own (at most [`MAX_VOTES_COUNT`] entries, at least one,
/// each well formed: [`crate::CommitSig::validate_basic`]); that the commit is for this
/// header; the validator set (not empty, hashing to `validators_hash`, addresses derived from
/// keys) and the next set if given; then the commit's shape against the set. Signatures are
/// not checked here.
pub fn validate_light_block(block: &LightBlock) -> Result<(), VerificationError> {
    let header = &block.signed_header.header;
    validate_header(header)?;
    validate_signed_header_basic(&block.signed_header)?;
    if block.validators.is_empty() {
        return Err(VerificationError::EmptyValidatorSet);
    }
    let actual = block.validators.hash();
    if actual != header.validators_hash {
        return Err(VerificationError::ValidatorSetMismatch {
            expected: header.validators_hash,
            actual,
        });
    }
    validate_set_addresses(&block.validators)?;
    if let Some(next) = &block.next_validators {
        // The next set is usually the same set: then it has the same hash.
        let actual = if *next == block.validators {
            block.validators.hash()
        } else {
            next.hash()
        };
        if actual != header.next_validators_hash {
            return Err(VerificationError::NextValidatorSetMismatch {
                expected: header.next_validators_hash,
                actual,
            });
        }
        validate_set_addresses(next)?;
    }
    validate_commit_against_set(&block.signed_header.commit, &block.validators)
}

/// The commit on its own, and that it is for this header (CometBFT's
/// `SignedHeader.ValidateBasic`, the chain id aside).
fn validate_signed_header_basic(signed_header: &SignedHeader) -> Result<(), VerificationError> {
    let header = &signed_header.header;
    let commit = &signed_header.commit;
    validate_commit_basic(commit)?;
    if commit.height != header.height {
        return Err(VerificationError::CommitHeightMismatch {
            header: header.height,
            commit: commit.height,
        });
    }
    let header_hash = header.hash();
    if header_hash != commit.block_id.hash {
        return Err(VerificationError::HeaderCommitMismatch {
            header_hash,
            commit_block: commit.block_id.hash,
        });
    }
    Ok(())
}

/// The light-client verifier. Pure: every input, including the current time, is a parameter.
///
/// It keeps decoded validator keys between calls (keys of an unchanged validator set are
/// decoded once), so reuse one `Verifier` for a chain of headers.
#[derive(Debug, Default)]
pub struct Verifier {
    keys: KeyCache,
}

impl Verifier {
    /// A verifier with an empty key cache.
    pub fn new() -> Verifier {
        Verifier::default()
    }

    /// Number of decoded keys held.
    pub fn cached_keys(&self) -> usize {
        self.keys.len()
    }

    /// Number of signatures verified so far (each at most once per commit).
    pub fn signatures_checked(&self) -> u64 {
        self.keys.signatures_checked
    }

    /// Checks that more than 2/3 of `validators` (the header's own set, matched by index)
    /// signed the header with valid signatures, after the structural checks of
    /// [`validate_light_block`] on the signed header (the commit on its own, commit height,
    /// block id, shape against the set). Power is decided before any signature is checked:
    /// too little power is [`VerificationError::InsufficientSignatures`] whatever the
    /// signatures.
    pub fn verify_commit(
        &mut self,
        signed_header: &SignedHeader,
        validators: &ValidatorSet,
    ) -> Result<VotingPowerTally, VerificationError> {
        validate_signed_header_basic(signed_header)?;
        if validators.is_empty() {
            return Err(VerificationError::EmptyValidatorSet);
        }
        validate_commit_against_set(&signed_header.commit, validators)?;
        let mut tally = CommitTally::new(signed_header);
        self.two_thirds(&mut tally, validators)
    }

    /// Checks that more than `trust_level` of `validators` (any set, matched by address)
    /// signed the header, after checking the commit on its own (at most [`MAX_VOTES_COUNT`]
    /// entries, each well formed). `Ok(Err(tally))` when the power of the set's votes for the
    /// block cannot exceed the trust level even if their signatures were valid: then no
    /// signature is checked. Otherwise the counted signatures are checked, and an invalid one
    /// is an error.
    pub fn verify_commit_trusting(
        &mut self,
        signed_header: &SignedHeader,
        validators: &ValidatorSet,
        trust_level: TrustLevel,
    ) -> Result<Result<VotingPowerTally, VotingPowerTally>, VerificationError> {
        validate_commit_basic(&signed_header.commit)?;
        let mut tally = CommitTally::new(signed_header);
        self.trusting(&mut tally, validators, trust_level)
    }

    fn two_thirds(
        &mut self,
        tally: &mut CommitTally<'_>,
        validators: &ValidatorSet,
    ) -> Result<VotingPowerTally, VerificationError> {
        let total = validators.total_voting_power();
        let needed = TrustLevel::TWO_THIRDS.power_needed(total);
        let counted = tally.tally(&mut self.keys, validators, Lookup::ByIndex, needed)?;
        let tally = |tallied| VotingPowerTally {
            total,
            tallied,
            needed,
        };
        match counted {
            Ok(tallied) => Ok(tally(tallied)),
            Err(tallied) => Err(VerificationError::InsufficientSignatures {
                tally: tally(tallied),
            }),
        }
    }

    fn trusting(
        &mut self,
        tally: &mut CommitTally<'_>,
        validators: &ValidatorSet,
        trust_level: TrustLevel,
    ) -> Result<Result<VotingPowerTally, VotingPowerTally>, VerificationError> {
        let total = validators.total_voting_power();
        let needed = trust_level.power_needed(total);
        let counted = tally.tally(&mut self.keys, validators, Lookup::ByAddress, needed)?;
        let tally = |tallied| VotingPowerTally {
            total,
            tallied,
            needed,
        };
        Ok(counted.map(tally).map_err(tally))
    }

    /// Verifies `untrusted` from `trusted` at time `now`, as CometBFT's light client does:
    ///
    /// 1. the untrusted block on its own ([`validate_light_block`]);
    /// 2. against the trusted state: the trusted header is within the trusting period, the
    ///    new header is later, on the same chain, and either the next height with
    ///    `validators_hash` equal to the trusted `next_validators_hash` (adjacent) or higher
    ///    (skipping);
    /// 3. the new header is not from the future (beyond `max_clock_drift`);
    /// 4. signatures, power first, as CometBFT counts them: when skipping, more than
    ///    `trust_level` of the trusted next validator set must have voted for the block (by
    ///    address); if their power cannot exceed it even with valid signatures, the verdict is
    ///    [`Verdict::NotEnoughTrust`] and no signature is checked; else their counted
    ///    signatures are checked. Then, in every case, more than 2/3 of the new block's own
    ///    set (power first again, then its counted signatures). A signature checked for the
    ///    trusted set is not checked again for the block's own set. The work is bounded: a
    ///    block has at most [`MAX_VOTES_COUNT`] validators and commit entries.
    pub fn verify_update_header(
        &mut self,
        untrusted: &LightBlock,
        trusted: TrustedState<'_>,
        options: &Options,
        now: Time,
    ) -> Verdict {
        check!(validate_light_block(untrusted));

        let header = &untrusted.signed_header.header;
        let trusted_header = trusted.header;
        let trusted_next_hash = trusted.next_validators.hash();
        if trusted_next_hash != trusted_header.next_validators_hash {
            return Verdict::Invalid(VerificationError::NextValidatorSetMismatch {
                expected: trusted_header.next_validators_hash,
                actual: trusted_next_hash,
            });
        }
        // An expiry past year 9999 is no expiry.
        if let Some(expires_at) = trusted_header.time.checked_add(options.trusting_period) {
            if expires_at <= now {
                return Verdict::Invalid(VerificationError::TrustedHeaderExpired {
                    expires_at,
                    now,
                });
            }
        }
        if header.time <= trusted_header.time {
            return Verdict::Invalid(VerificationError::NonMonotonicTime {
                untrusted: header.time,
                trusted: trusted_header.time,
            });
        }
        if header.chain_id != trusted_header.chain_id {
            return Verdict::Invalid(VerificationError::ChainIdMismatch {
                expected: trusted_header.chain_id.clone(),
                actual: header.chain_id.clone(),
            });
        }
        let adjacent = trusted_header.height.increment() == Some(header.height);
        if adjacent {
            if header.validators_hash != trusted_header.next_validators_hash {
                return Verdict::Invalid(VerificationError::AdjacentValidatorsMismatch {
                    expected: trusted_header.next_validators_hash,
                    actual: header.validators_hash,
                });
            }
        } else if header.height <= trusted_header.height {
            return Verdict::Invalid(VerificationError::NonIncreasingHeight {
                untrusted: header.height,
                trusted: trusted_header.height,
            });
        }
        // A limit past year 9999 is no limit: every representable header time is below it.
        if let Some(limit) = now.checked_add(options.max_clock_drift) {
            if header.time >= limit {
                return Verdict::Invalid(VerificationError::HeaderFromFuture {
                    header_time: header.time,
                    now,
                    max_clock_drift: options.max_clock_drift,
                });
            }
        }

        let mut tally = CommitTally::new(&untrusted.signed_header);
        if !adjacent {
            // Trust first, from the trusted set alone, as CometBFT's `VerifyNonAdjacent` does:
            // the untrusted set can be made as large as an attacker likes, so none of its
            // signatures is checked before the trusted validators are known to have signed.
            // Too little trusted power answers without checking any signature.
            match self.trusting(&mut tally, trusted.next_validators, options.trust_level) {
                Err(e) => return Verdict::Invalid(e),
                Ok(Err(t)) => return Verdict::NotEnoughTrust(t),
                Ok(Ok(_)) => {}
            }
        }
        match self.two_thirds(&mut tally, &untrusted.validators) {
            Ok(_) => Verdict::Success,
            Err(e) => Verdict::Invalid(e),
        }
    }
}

/// Verifies `untrusted` from the trusted light block `trusted` with a fresh [`Verifier`]
/// (see [`Verifier::verify_update_header`]). The trusted block's next validator set is its
/// `next_validators`, or its own set when its header says the set does not change.
pub fn verify(
    untrusted: &LightBlock,
    trusted: &LightBlock,
    options: &Options,
    now: Time,
) -> Verdict {
    match TrustedState::from_light_block(trusted) {
        Some(state) => Verifier::new().verify_update_header(untrusted, state, options, now),
        None => Verdict::Invalid(VerificationError::MissingTrustedNextValidators),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::{light_block, validators, BlockSpec, TestValidator};
    use crate::types::{BlockIdFlag, CommitSig, Signature};

    fn t(secs: i64) -> Time {
        Time::from_unix(1_700_000_000 + secs, 0).unwrap()
    }

    fn verify_at(untrusted: &LightBlock, trusted: &LightBlock) -> (Verdict, Verifier) {
        let mut v = Verifier::new();
        let state = TrustedState::from_light_block(trusted).unwrap();
        let verdict = v.verify_update_header(untrusted, state, &Options::default(), t(1000));
        (verdict, v)
    }

    #[test]
    fn skipping_reuses_signatures_checked_for_the_trusted_set() {
        let vals = validators("v", 6, 10);
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &vals));
        let untrusted = light_block(&BlockSpec::new("c", 5, t(50), &vals));
        let (verdict, v) = verify_at(&untrusted, &trusted);
        assert_eq!(verdict, Verdict::Success);
        // 1/3 of 60 needs 3 signers (30 > 20); 2/3 needs 5 (50 > 40): 5 distinct checks.
        assert_eq!(v.signatures_checked(), 5);
        assert_eq!(v.cached_keys(), 5);
    }

    #[test]
    fn nil_and_absent_votes_do_not_count() {
        let vals = validators("v", 4, 10);
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &vals));
        let mut spec = BlockSpec::new("c", 2, t(5), &vals);
        spec.nil = &[0];
        let ok = light_block(&spec);
        assert_eq!(verify_at(&ok, &trusted).0, Verdict::Success);
        spec.absent = &[1];
        let short = light_block(&spec);
        let (verdict, _) = verify_at(&short, &trusted);
        assert!(
            matches!(verdict, Verdict::Invalid(VerificationError::InsufficientSignatures { tally }) if tally.tallied == 20 && tally.needed == 26),
            "{verdict:?}"
        );
    }

    #[test]
    fn not_enough_trust_when_the_set_changed_too_much() {
        let old = validators("old", 4, 10);
        let mut new = validators("new", 3, 10);
        new.push(old[0].clone());
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &old));
        let untrusted = light_block(&BlockSpec::new("c", 3, t(10), &new));
        let (verdict, _) = verify_at(&untrusted, &trusted);
        assert_eq!(
            verdict,
            Verdict::NotEnoughTrust(VotingPowerTally {
                total: 40,
                tallied: 10,
                needed: 13
            })
        );
    }

    #[test]
    fn duplicate_trusted_signer_is_invalid_and_unknown_signers_are_skipped() {
        let old = validators("old", 3, 10);
        let mut new = old.clone();
        new.push(TestValidator::new("stranger", 10));
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &old));
        let untrusted = light_block(&BlockSpec::new("c", 3, t(10), &new));
        assert_eq!(verify_at(&untrusted, &trusted).0, Verdict::Success);

        // The same trusted validator appearing twice in the commit.
        let mut dup = untrusted;
        let sigs = &mut dup.signed_header.commit.signatures;
        let first = sigs
            .iter()
            .position(|s| s.block_id_flag == BlockIdFlag::Commit)
            .unwrap();
        let copy: CommitSig = sigs[first].clone();
        let other = sigs.len() - 1 - first.min(sigs.len() - 1);
        let target = if other == first { first + 1 } else { other };
        sigs[target] = copy;
        let mut v = Verifier::new();
        let state = TrustedState::from_light_block(&trusted).unwrap();
        let tally = v.verify_commit_trusting(
            &dup.signed_header,
            state.next_validators,
            TrustLevel::new(1, 1).unwrap(),
        );
        assert!(
            matches!(tally, Err(VerificationError::DuplicateVote { .. })),
            "{tally:?}"
        );
    }

    #[test]
    fn structural_errors_are_reported() {
        let vals = validators("v", 4, 10);
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &vals));
        let good = light_block(&BlockSpec::new("c", 2, t(5), &vals));

        let mut b = good.clone();
        b.signed_header.commit.signatures.pop();
        assert!(matches!(
            verify_at(&b, &trusted).0,
            Verdict::Invalid(VerificationError::SignatureCountMismatch { .. })
        ));

        let mut b = good.clone();
        b.signed_header.commit.signatures.swap(0, 1);
        assert!(matches!(
            verify_at(&b, &trusted).0,
            Verdict::Invalid(VerificationError::SignerMismatch { .. })
        ));

        let mut b = good.clone();
        b.signed_header.commit.height = Height(3);
        assert!(matches!(
            verify_at(&b, &trusted).0,
            Verdict::Invalid(VerificationError::CommitHeightMismatch { .. })
        ));

        let mut b = good.clone();
        for s in &mut b.signed_header.commit.signatures {
            *s = CommitSig::absent();
        }
        assert!(matches!(
            verify_at(&b, &trusted).0,
            Verdict::Invalid(VerificationError::NoSignatures)
        ));

        let older = light_block(&BlockSpec::new("c", 2, t(0), &vals));
        assert!(matches!(
            verify_at(&older, &trusted).0,
            Verdict::Invalid(VerificationError::NonMonotonicTime { .. })
        ));

        let same_height = light_block(&BlockSpec::new("c", 1, t(3), &vals));
        assert!(matches!(
            verify_at(&same_height, &trusted).0,
            Verdict::Invalid(VerificationError::NonIncreasingHeight { .. })
        ));

        let mut b = good;
        b.validators = crate::test_utils::validator_set(&validators("w", 4, 10));
        assert!(matches!(
            verify_at(&b, &trusted).0,
            Verdict::Invalid(VerificationError::ValidatorSetMismatch { .. })
        ));
    }

    #[test]
    fn a_trusting_period_reaching_past_year_9999_never_expires() {
        let vals = validators("v", 4, 10);
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &vals));
        let untrusted = light_block(&BlockSpec::new("c", 2, t(5), &vals));
        let options = Options {
            trusting_period: Duration::from_secs(u64::MAX),
            ..Options::default()
        };
        let state = TrustedState::from_light_block(&trusted).unwrap();
        let verdict = Verifier::new().verify_update_header(&untrusted, state, &options, t(1000));
        assert_eq!(verdict, Verdict::Success);
    }

    #[test]
    fn adjacent_blocks_must_continue_the_trusted_next_set() {
        let a = validators("a", 4, 10);
        let b = validators("b", 4, 10);
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &a));
        let untrusted = light_block(&BlockSpec::new("c", 2, t(5), &b));
        assert!(matches!(
            verify_at(&untrusted, &trusted).0,
            Verdict::Invalid(VerificationError::AdjacentValidatorsMismatch { .. })
        ));
    }

    #[test]
    fn an_absent_vote_must_carry_go_zero_time_and_nothing_else() {
        let vals = validators("v", 4, 10);
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &vals));
        let mut spec = BlockSpec::new("c", 2, t(5), &vals);
        spec.absent = &[3];
        let good = light_block(&spec);
        assert_eq!(
            good.signed_header.commit.signatures[3].timestamp,
            Time::ZERO
        );
        assert_eq!(verify_at(&good, &trusted).0, Verdict::Success);

        let malformed = |change: &dyn Fn(&mut CommitSig)| {
            let mut b = good.clone();
            change(&mut b.signed_header.commit.signatures[3]);
            let (verdict, v) = verify_at(&b, &trusted);
            assert_eq!(v.signatures_checked(), 0);
            match verdict {
                Verdict::Invalid(VerificationError::MalformedCommitSig { index: 3, reason }) => {
                    reason
                }
                other => panic!("{other:?}"),
            }
        };
        // The Unix epoch is not Go's zero time; neither is one nanosecond past it.
        let reason = malformed(&|s| s.timestamp = Time::UNIX_EPOCH);
        assert!(reason.contains("time is present"), "{reason}");
        let reason = malformed(&|s| s.timestamp = Time::from_unix(-62_135_596_800, 1).unwrap());
        assert!(reason.contains("time is present"), "{reason}");
        let reason = malformed(&|s| s.timestamp = t(6));
        assert!(reason.contains("time is present"), "{reason}");
        let address = vals[0].validator.address;
        let reason = malformed(&|s| s.validator_address = Some(address));
        assert!(reason.contains("validator address is present"), "{reason}");
        let reason = malformed(&|s| s.signature = Some(Signature::from([1; 64])));
        assert!(reason.contains("signature is present"), "{reason}");
        // CometBFT checks the address first, then the time, then the signature.
        let reason = malformed(&|s| {
            s.validator_address = Some(address);
            s.timestamp = t(6);
        });
        assert!(reason.contains("validator address is present"), "{reason}");
        // An empty signature is no signature, as Go's `len(cs.Signature) == 0` says.
        let mut b = good.clone();
        b.signed_header.commit.signatures[3].signature = Some(Signature::new(Vec::new()));
        assert_eq!(verify_at(&b, &trusted).0, Verdict::Success);

        // Votes need an address and a signature of at most 64 bytes.
        let vote = |change: &dyn Fn(&mut CommitSig)| {
            let mut b = good.clone();
            change(&mut b.signed_header.commit.signatures[0]);
            verify_at(&b, &trusted).0
        };
        assert!(matches!(
            vote(&|s| s.signature = Some(Signature::new(Vec::new()))),
            Verdict::Invalid(VerificationError::MalformedCommitSig { index: 0, reason })
                if reason.contains("signature is missing")
        ));
        assert!(matches!(
            vote(&|s| s.signature = Some(Signature::new(vec![0; 65]))),
            Verdict::Invalid(VerificationError::MalformedCommitSig { index: 0, reason })
                if reason.contains("too big")
        ));
        assert!(matches!(
            vote(&|s| s.validator_address = None),
            Verdict::Invalid(VerificationError::MalformedCommitSig { index: 0, .. })
        ));
    }

    #[test]
    fn power_is_decided_before_any_signature_is_checked() {
        let vals = validators("v", 4, 10);
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &vals));
        // Adjacent, two of four absent: 20 of 40 cannot exceed 26, whatever the signatures.
        let mut spec = BlockSpec::new("c", 2, t(5), &vals);
        spec.absent = &[2, 3];
        let mut short = light_block(&spec);
        short.signed_header.commit.signatures[0].signature = Some(Signature::from([9; 64]));
        let (verdict, v) = verify_at(&short, &trusted);
        assert!(
            matches!(verdict, Verdict::Invalid(VerificationError::InsufficientSignatures { tally }) if tally.tallied == 20),
            "{verdict:?}"
        );
        assert_eq!(v.signatures_checked(), 0);

        // Skipping, one trusted signer of four: 10 of 40 cannot exceed 13.
        let mut new = validators("new", 3, 10);
        new.push(vals[0].clone());
        let mut far = light_block(&BlockSpec::new("c", 3, t(10), &new));
        let at = far
            .validators
            .find(&vals[0].validator.address)
            .map(|(i, _)| i)
            .unwrap();
        far.signed_header.commit.signatures[at].signature = Some(Signature::from([9; 64]));
        let (verdict, v) = verify_at(&far, &trusted);
        assert_eq!(
            verdict,
            Verdict::NotEnoughTrust(VotingPowerTally {
                total: 40,
                tallied: 10,
                needed: 13
            })
        );
        assert_eq!(v.signatures_checked(), 0);

        // A counted signature that is not 64 bytes is refused while counting, as CometBFT's
        // batch verifier refuses to take it, even when the power would fall short.
        far.signed_header.commit.signatures[at].signature = Some(Signature::new(vec![9; 63]));
        let (verdict, v) = verify_at(&far, &trusted);
        assert!(
            matches!(verdict, Verdict::Invalid(VerificationError::InvalidSignature { index, .. }) if index == at),
            "{verdict:?}"
        );
        assert_eq!(v.signatures_checked(), 0);
    }

    #[test]
    fn the_trusted_overlap_is_checked_before_the_untrusted_set() {
        let old = validators("old", 4, 10);
        // Two trusted validators (20 > 13 of the trusted 40) and six new ones.
        let mut new = validators("new", 6, 10);
        new.extend(old[..2].iter().cloned());
        let trusted = light_block(&BlockSpec::new("c", 1, t(0), &old));
        let good = light_block(&BlockSpec::new("c", 3, t(10), &new));
        let (verdict, v) = verify_at(&good, &trusted);
        assert_eq!(verdict, Verdict::Success);
        // 2 trusted signatures, then more than 2/3 of 80: the first 6 signers in commit
        // order, less the trusted ones among them, already checked.
        let is_old = |a: &Address| old.iter().any(|o| o.validator.address == *a);
        let reused = good.validators.validators()[..6]
            .iter()
            .filter(|v| is_old(&v.address))
            .count() as u64;
        assert_eq!(v.signatures_checked(), 2 + 6 - reused);

        // Forged votes in the trusted validators' names: only those two are checked.
        let mut forged = good;
        for (i, val) in forged.validators.validators().iter().enumerate() {
            if is_old(&val.address) {
                forged.signed_header.commit.signatures[i].signature =
                    Some(Signature::from([9; 64]));
            }
        }
        let (verdict, v) = verify_at(&forged, &trusted);
        assert!(
            matches!(
                verdict,
                Verdict::Invalid(VerificationError::InvalidSignature { .. })
            ),
            "{verdict:?}"
        );
        assert_eq!(v.signatures_checked(), 2);
    }
}
