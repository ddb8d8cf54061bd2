//! Commit checks: structure against the signing set, and voting-power tallies over verified
//! signatures, sharing verified signatures between the trusted and the untrusted set.

use super::signature::{all_valid, first_invalid, KeyCache, SigCheck};
use super::VerificationError;
use crate::types::{BlockIdFlag, Commit, PublicKey, SignedHeader, ValidatorSet};
use crate::vote::CommitSignBytes;

/// How commit signatures are matched to validators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Signature `i` belongs to validator `i` (the commit's own validator set).
    ByIndex,
    /// Signatures are matched by address; unknown signers are skipped (another set).
    ByAddress,
}

/// Checks the commit's shape against the validator set that produced it: one entry per
/// validator, at least one vote, every present vote carrying an address and a signature, and
/// each present vote's address equal to the validator at its index.
pub(crate) fn validate_commit_structure(
    commit: &Commit,
    validators: &ValidatorSet,
) -> Result<(), VerificationError> {
    if commit.signatures.is_empty()
        || commit
            .signatures
            .iter()
            .all(|s| s.block_id_flag == BlockIdFlag::Absent)
    {
        return Err(VerificationError::NoSignatures);
    }
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
        match sig.block_id_flag {
            BlockIdFlag::Absent => {
                if sig.validator_address.is_some() || sig.signature.is_some() {
                    return Err(VerificationError::MalformedCommitSig {
                        index,
                        reason: "absent vote with an address or a signature",
                    });
                }
            }
            BlockIdFlag::Commit | BlockIdFlag::Nil => {
                let Some(address) = sig.validator_address else {
                    return Err(VerificationError::MalformedCommitSig {
                        index,
                        reason: "vote without a validator address",
                    });
                };
                if sig.signature.is_none() {
                    return Err(VerificationError::MalformedCommitSig {
                        index,
                        reason: "vote without a signature",
                    });
                }
                if address != val.address {
                    return Err(VerificationError::SignerMismatch {
                        index,
                        expected: val.address,
                        actual: address,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Tallies verified voting power of one commit, possibly against several validator sets.
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

    /// Voting power of `validators` that signed the committed block, with valid signatures,
    /// counting votes in commit order and stopping as soon as the tally exceeds `needed`.
    ///
    /// Verdicts are those of CometBFT's single verification: an invalid signature met before
    /// the tally exceeds `needed` is an error; signatures after that point are not checked.
    /// Nil and absent votes are ignored. With [`Lookup::ByAddress`], unknown signers are
    /// skipped and a validator signing twice is an error.
    pub(crate) fn tally(
        &mut self,
        keys: &mut KeyCache,
        validators: &ValidatorSet,
        lookup: Lookup,
        needed: u64,
    ) -> Result<u64, VerificationError> {
        let (tallied, pending) = self.collect(validators, lookup, needed)?;
        let (indices, checks): (Vec<usize>, Vec<SigCheck<'_>>) = pending.into_iter().unzip();
        let bad = first_invalid(keys, &checks);
        let verified_until = bad.unwrap_or(checks.len());
        let newly: Vec<(usize, PublicKey)> = indices
            .iter()
            .zip(&checks)
            .take(verified_until)
            .map(|(i, c)| (*i, *c.key))
            .collect();
        let failure = bad.map(|pos| VerificationError::InvalidSignature {
            index: indices[pos],
            validator: checks[pos].key.address(),
        });
        drop(checks);
        for (i, key) in newly {
            self.verified[i] = Some(key);
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(tallied),
        }
    }

    /// Both tallies of skipping verification (the trusted set, then the block's own set) from
    /// a single batch, when that batch decides them: every signature either tally would check
    /// is valid, and no other error comes up. Then the verdict is the one the tallies one after
    /// the other would give. `None` when anything is off: the caller must then run
    /// [`CommitTally::tally`] for each set in turn, which gives the exact verdict.
    pub(crate) fn tally_both(
        &mut self,
        keys: &mut KeyCache,
        first: (&ValidatorSet, Lookup, u64),
        second: (&ValidatorSet, Lookup, u64),
    ) -> Option<(u64, u64)> {
        let (t1, mut union) = self.collect(first.0, first.1, first.2).ok()?;
        let (t2, more) = self.collect(second.0, second.1, second.2).ok()?;
        let mut queued: Vec<Option<PublicKey>> = vec![None; self.commit.signatures.len()];
        for (i, c) in &union {
            queued[*i] = Some(*c.key);
        }
        for (i, c) in more {
            if queued[i] != Some(*c.key) {
                union.push((i, c));
            }
        }
        let (indices, checks): (Vec<usize>, Vec<SigCheck<'_>>) = union.into_iter().unzip();
        if !all_valid(keys, &checks) {
            return None;
        }
        let newly: Vec<(usize, PublicKey)> = indices
            .iter()
            .zip(&checks)
            .map(|(i, c)| (*i, *c.key))
            .collect();
        drop(checks);
        for (i, key) in newly {
            self.verified[i] = Some(key);
        }
        Some((t1, t2))
    }

    /// The tally (stopping once above `needed`) and the signatures it rests on that are not
    /// verified yet, in commit order.
    fn collect<'s>(
        &'s self,
        validators: &'s ValidatorSet,
        lookup: Lookup,
        needed: u64,
    ) -> Result<(u64, Vec<(usize, SigCheck<'s>)>), VerificationError> {
        let mut tallied: u64 = 0;
        let mut pending: Vec<(usize, SigCheck<'s>)> = Vec::new();
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
                    reason: "vote without a signature",
                });
            };
            if self.verified[index] != Some(validator.pub_key) {
                pending.push((
                    index,
                    SigCheck {
                        key: &validator.pub_key,
                        signature,
                        message: self.sign_bytes.for_timestamp(sig.timestamp),
                    },
                ));
            }
            tallied = tallied
                .checked_add(validator.voting_power)
                .ok_or(VerificationError::VotingPowerOverflow)?;
            if tallied > needed {
                break;
            }
        }
        Ok((tallied, pending))
    }
}
