//! Commit checks: the shape of a commit on its own and against the signing set, and
//! voting-power tallies that decide on power before checking any signature, sharing verified
//! signatures between the trusted and the untrusted set.

use super::signature::{first_invalid, KeyCache, SigCheck};
use super::VerificationError;
use crate::types::{
    BlockIdFlag, Commit, PublicKey, SignedHeader, Validator, ValidatorSet, MAX_VOTES_COUNT,
};
use crate::vote::CommitSignBytes;

/// How commit signatures are matched to validators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Signature `i` belongs to validator `i` (the commit's own validator set).
    ByIndex,
    /// Signatures are matched by address; unknown signers are skipped (another set).
    ByAddress,
}

/// Checks the commit on its own, as CometBFT's `Commit.ValidateBasic` does, before anything
/// else is done with it: at most [`MAX_VOTES_COUNT`] entries, at least one, and every entry
/// well formed ([`crate::CommitSig::validate_basic`]).
pub(crate) fn validate_commit_basic(commit: &Commit) -> Result<(), VerificationError> {
    if commit.signatures.len() > MAX_VOTES_COUNT {
        return Err(VerificationError::TooManySignatures {
            signatures: commit.signatures.len(),
        });
    }
    if commit.signatures.is_empty() {
        return Err(VerificationError::NoSignatures);
    }
    for (index, sig) in commit.signatures.iter().enumerate() {
        sig.validate_basic()
            .map_err(|reason| VerificationError::MalformedCommitSig { index, reason })?;
    }
    Ok(())
}

/// Checks the commit's shape against the validator set that produced it: one entry per
/// validator, each present vote's address equal to the validator at its index, and at least
/// one present vote. (The entries themselves are checked by [`validate_commit_basic`].)
pub(crate) fn validate_commit_against_set(
    commit: &Commit,
    validators: &ValidatorSet,
) -> Result<(), VerificationError> {
    if commit.signatures.len() != validators.len() {
        return Err(VerificationError::SignatureCountMismatch {
            signatures: commit.signatures.len(),
            validators: validators.len(),
        });
    }
    for (index, (sig, val)) in commit
        .signatures
        .iter()
        .zip(validators.validators())
        .enumerate()
    {
        if let Some(address) = sig.validator_address {
            if address != val.address {
                return Err(VerificationError::SignerMismatch {
                    index,
                    expected: val.address,
                    actual: address,
                });
            }
        }
    }
    if commit
        .signatures
        .iter()
        .all(|s| s.block_id_flag == BlockIdFlag::Absent)
    {
        return Err(VerificationError::NoSignatures);
    }
    Ok(())
}

/// The votes one tally counted: their power and the entries whose signatures it rests on
/// that are not verified yet under the same key, in commit order.
struct Counted<'s> {
    tallied: u64,
    pending: Vec<(usize, &'s Validator)>,
}

/// Tallies voting power of one commit, possibly against several validator sets.
/// Remembers which signature verified under which key, so no signature is checked twice.
pub(crate) struct CommitTally<'a> {
    commit: &'a Commit,
    sign_bytes: CommitSignBytes,
    verified: Vec<Option<PublicKey>>,
}

impl<'a> CommitTally<'a> {
    pub(crate) fn new(signed_header: &'a SignedHeader) -> Self {
        let commit = &signed_header.commit;
        CommitTally {
            commit,
            sign_bytes: CommitSignBytes::for_commit(&signed_header.header.chain_id, commit),
            verified: vec![None; commit.signatures.len()],
        }
    }

    /// Voting power of `validators` that voted for the committed block, as CometBFT's
    /// `VerifyCommitLight` / `VerifyCommitLightTrusting` count it (`types/validation.go`):
    ///
    /// 1. votes for the block are counted in commit order until the power exceeds `needed`
    ///    (nil and absent votes are ignored; with [`Lookup::ByAddress`] unknown signers are
    ///    skipped and a validator counted twice is an error; a counted signature that is not
    ///    64 bytes long is an error, as CometBFT's batch verifier refuses it);
    /// 2. if the power does not exceed `needed`, the answer is `Ok(Err(power))` and **no
    ///    signature is checked**: even valid signatures could not make it enough;
    /// 3. otherwise the counted signatures are checked (all in one batch, and one by one only
    ///    if the batch fails); the first invalid one in commit order is an error, else
    ///    `Ok(Ok(power))`. Signatures after the point where the power was reached are never
    ///    checked.
    ///
    /// The verdict does not depend on batching: a batch only ever confirms that every
    /// signature in it is valid.
    pub(crate) fn tally(
        &mut self,
        keys: &mut KeyCache,
        validators: &ValidatorSet,
        lookup: Lookup,
        needed: u64,
    ) -> Result<Result<u64, u64>, VerificationError> {
        let counted = self.collect(validators, lookup, needed)?;
        if counted.tallied <= needed {
            return Ok(Err(counted.tallied));
        }
        let commit: &'a Commit = self.commit;
        let signatures = &commit.signatures;
        let checks: Vec<SigCheck<'_>> = counted
            .pending
            .iter()
            .filter_map(|&(i, v)| {
                let sig = &signatures[i];
                Some(SigCheck {
                    key: &v.pub_key,
                    signature: sig.signature.as_ref()?,
                    message: self.sign_bytes.for_timestamp(sig.timestamp),
                })
            })
            .collect();
        // `collect` only keeps entries with a signature.
        debug_assert_eq!(checks.len(), counted.pending.len());
        let bad = first_invalid(keys, &checks);
        drop(checks);
        let verified_until = bad.unwrap_or(counted.pending.len());
        for &(i, v) in &counted.pending[..verified_until] {
            self.verified[i] = Some(v.pub_key);
        }
        match bad {
            Some(pos) => {
                let (index, v) = counted.pending[pos];
                Err(VerificationError::InvalidSignature {
                    index,
                    validator: v.address,
                })
            }
            None => Ok(Ok(counted.tallied)),
        }
    }

    /// Step 1 of [`CommitTally::tally`]: the power counted (stopping once above `needed`) and
    /// the counted signatures not verified yet under the same key.
    fn collect<'v>(
        &self,
        validators: &'v ValidatorSet,
        lookup: Lookup,
        needed: u64,
    ) -> Result<Counted<'v>, VerificationError> {
        let mut counted = Counted {
            tallied: 0,
            pending: Vec::new(),
        };
        let mut seen: Vec<Option<usize>> = match lookup {
            Lookup::ByIndex => Vec::new(),
            Lookup::ByAddress => vec![None; validators.len()],
        };
        let commit: &'a Commit = self.commit;
        for (index, sig) in commit.signatures.iter().enumerate() {
            if sig.block_id_flag != BlockIdFlag::Commit {
                continue;
            }
            let validator = match lookup {
                Lookup::ByIndex => validators.validators().get(index).ok_or(
                    VerificationError::SignatureCountMismatch {
                        signatures: commit.signatures.len(),
                        validators: validators.len(),
                    },
                )?,
                Lookup::ByAddress => {
                    let Some(address) = &sig.validator_address else {
                        continue;
                    };
                    let Some((vi, v)) = validators.find(address) else {
                        continue;
                    };
                    if let Some(first) = seen[vi] {
                        return Err(VerificationError::DuplicateVote {
                            address: *address,
                            first,
                            second: index,
                        });
                    }
                    seen[vi] = Some(index);
                    v
                }
            };
            let Some(signature) = &sig.signature else {
                return Err(VerificationError::MalformedCommitSig {
                    index,
                    reason: "vote without a signature (signature is missing)",
                });
            };
            if signature.to_array().is_none() {
                return Err(VerificationError::InvalidSignature {
                    index,
                    validator: validator.address,
                });
            }
            if self.verified[index] != Some(validator.pub_key) {
                counted.pending.push((index, validator));
            }
            counted.tallied = counted
                .tallied
                .checked_add(validator.voting_power)
                .ok_or(VerificationError::VotingPowerOverflow)?;
            if counted.tallied > needed {
                break;
            }
        }
        Ok(counted)
    }
}
