//! Transaction, block, genesis and query errors, each with a stable numeric code.

use thiserror::Error;

use crate::codec::DecodeError;
use crate::state::IssuerStatus;
use crate::types::{CertId, CertificateKind, IssuerId, PublicKey};

/// Why a transaction was rejected. [`TxError::code`] is the CometBFT `code` (never 0); the
/// `Display` text is the `log`. A rejected transaction changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TxError {
    /// Not a canonical encoding of a transaction (or too large). Code 1.
    #[error("malformed transaction: {0}")]
    Malformed(#[from] DecodeError),
    /// Signed for another chain. Code 2.
    #[error("wrong chain id: expected {expected:?}, got {got:?}")]
    WrongChainId {
        /// This chain's id.
        expected: String,
        /// The transaction's.
        got: String,
    },
    /// The signature does not verify (`verify_strict`) with the signer key. Code 3.
    #[error("invalid signature")]
    BadSignature,
    /// The sequence is not greater than the signer's last accepted one. Code 4.
    #[error("sequence {got} is not greater than the last accepted sequence {last}")]
    BadSequence {
        /// The last accepted sequence (0 for a new account).
        last: u64,
        /// The transaction's.
        got: u64,
    },
    /// The signer may not send this message. Code 5.
    #[error("signer {signer} is not authorised: {reason}")]
    Unauthorized {
        /// The signer.
        signer: PublicKey,
        /// Why.
        reason: &'static str,
    },
    /// No such issuer. Code 6.
    #[error("issuer {id} not found")]
    IssuerNotFound {
        /// The issuer id.
        id: IssuerId,
    },
    /// The issuer id is taken (ids are never reused). Code 7.
    #[error("issuer {id} already exists")]
    IssuerExists {
        /// The issuer id.
        id: IssuerId,
    },
    /// The issuer is not active. Code 8.
    #[error("issuer {id} is not active (status {status:?})")]
    IssuerNotActive {
        /// The issuer id.
        id: IssuerId,
        /// Its status.
        status: IssuerStatus,
    },
    /// The issuer may not issue this kind. Code 9.
    #[error("issuer {issuer} may not issue {kind:?} certificates")]
    KindNotAllowed {
        /// The issuer id.
        issuer: IssuerId,
        /// The kind.
        kind: CertificateKind,
    },
    /// Outside the issuer's validity window. Code 10.
    #[error("time {time} is outside issuer {issuer}'s validity [{valid_from}, {valid_until})")]
    OutsideValidity {
        /// The issuer id.
        issuer: IssuerId,
        /// The time checked (block time or issue time).
        time: u64,
        /// Window start.
        valid_from: u64,
        /// Window end (exclusive).
        valid_until: u64,
    },
    /// A certificate with this id exists (ids are never reused). Code 11.
    #[error("certificate {id} already exists")]
    CertificateExists {
        /// The certificate id.
        id: CertId,
    },
    /// No such certificate. Code 12.
    #[error("certificate {id} not found")]
    CertificateNotFound {
        /// The certificate id.
        id: CertId,
    },
    /// The certificate's signature is not by a key of its issuer (or not for this chain).
    /// Code 22.
    #[error("certificate {id} is not signed by a key of its issuer")]
    BadCertificateSignature {
        /// The certificate id.
        id: CertId,
    },
    /// The certificate is already revoked. Code 13.
    #[error("certificate {id} is already revoked")]
    AlreadyRevoked {
        /// The certificate id.
        id: CertId,
    },
    /// A field breaks a rule (dates, lengths). Code 14.
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// The rule.
        reason: &'static str,
    },
    /// No such proposal. Code 15.
    #[error("proposal {id} not found")]
    ProposalNotFound {
        /// The proposal number.
        id: u64,
    },
    /// The proposal was already executed. Code 16.
    #[error("proposal {id} is already executed")]
    ProposalClosed {
        /// The proposal number.
        id: u64,
    },
    /// The proposal expired. Code 17.
    #[error("proposal {id} expired at {expires_at} (block time {time})")]
    ProposalExpired {
        /// The proposal number.
        id: u64,
        /// Its expiry.
        expires_at: u64,
        /// The block time.
        time: u64,
    },
    /// This member already approved. Code 18.
    #[error("proposal {id} already approved by this key")]
    AlreadyApproved {
        /// The proposal number.
        id: u64,
    },
    /// The key already belongs to governance or an issuer (keys are never reused). Code 19.
    #[error("key {key} is already in use")]
    KeyInUse {
        /// The key.
        key: PublicKey,
    },
    /// The issuer status change is not allowed from its current status. Code 20.
    #[error("issuer {id} cannot go from {from:?} by this action")]
    InvalidTransition {
        /// The issuer id.
        id: IssuerId,
        /// Its current status.
        from: IssuerStatus,
    },
    /// The message names an issuer other than the signer's. Code 21.
    #[error("signer belongs to issuer {signer_issuer}, the message names {named}")]
    WrongIssuer {
        /// The signer's issuer.
        signer_issuer: IssuerId,
        /// The issuer in the message.
        named: IssuerId,
    },
    /// The sequence jumps more than [`crate::MAX_SEQUENCE_GAP`] past the signer's last
    /// accepted one (which could lock the key for good near `u64::MAX`). Code 23.
    #[error("sequence {got} is more than {max_gap} past the last accepted sequence {last}")]
    SequenceTooFar {
        /// The last accepted sequence (0 for a new account).
        last: u64,
        /// The transaction's.
        got: u64,
        /// The largest step allowed.
        max_gap: u64,
    },
    /// A key to register is not a valid ed25519 public key (not a canonical curve point, or
    /// of small order): it could never sign. Code 24.
    #[error("key {key} is not a valid ed25519 public key")]
    InvalidKey {
        /// The key.
        key: PublicKey,
    },
    /// The registry knows no validator set (its genesis listed none, as genesis files from
    /// before validator changes did), so it cannot check a validator change. Code 25.
    #[error(
        "the registry knows no validator set (none in its genesis): validator changes are refused"
    )]
    ValidatorSetUnknown,
    /// Removing (power 0) a key that is not a validator. Code 26.
    #[error("key {key} is not a validator")]
    ValidatorNotFound {
        /// The key.
        key: PublicKey,
    },
    /// Removing the last validator would leave the chain without one. Code 27.
    #[error("validator {key} is the last one and cannot be removed")]
    LastValidator {
        /// The key.
        key: PublicKey,
    },
    /// Adding a validator to a full set ([`crate::state::MAX_VALIDATORS`]). Code 28.
    #[error("the validator set already holds the most validators, {max}")]
    TooManyValidators {
        /// The most validators.
        max: usize,
    },
    /// A validator's power over [`crate::state::MAX_VALIDATOR_POWER`]. Code 29.
    #[error("voting power {power} is over the largest of one validator, {max}")]
    ValidatorPowerTooHigh {
        /// The power asked.
        power: u64,
        /// The largest.
        max: u64,
    },
    /// The set's total power would go over [`crate::state::MAX_TOTAL_VOTING_POWER`]. Code 30.
    #[error("the validators' total voting power would be over {max}")]
    TotalPowerTooHigh {
        /// The largest total.
        max: u64,
    },
    /// The state could not be read (a bug or corrupted store). Code 99.
    #[error("internal error: {0}")]
    Internal(String),
}

impl TxError {
    /// The stable numeric code (CometBFT `code`).
    pub fn code(&self) -> u32 {
        match self {
            Self::Malformed(_) => 1,
            Self::WrongChainId { .. } => 2,
            Self::BadSignature => 3,
            Self::BadSequence { .. } => 4,
            Self::Unauthorized { .. } => 5,
            Self::IssuerNotFound { .. } => 6,
            Self::IssuerExists { .. } => 7,
            Self::IssuerNotActive { .. } => 8,
            Self::KindNotAllowed { .. } => 9,
            Self::OutsideValidity { .. } => 10,
            Self::CertificateExists { .. } => 11,
            Self::CertificateNotFound { .. } => 12,
            Self::AlreadyRevoked { .. } => 13,
            Self::InvalidField { .. } => 14,
            Self::ProposalNotFound { .. } => 15,
            Self::ProposalClosed { .. } => 16,
            Self::ProposalExpired { .. } => 17,
            Self::AlreadyApproved { .. } => 18,
            Self::KeyInUse { .. } => 19,
            Self::InvalidTransition { .. } => 20,
            Self::WrongIssuer { .. } => 21,
            Self::BadCertificateSignature { .. } => 22,
            Self::SequenceTooFar { .. } => 23,
            Self::InvalidKey { .. } => 24,
            Self::ValidatorSetUnknown => 25,
            Self::ValidatorNotFound { .. } => 26,
            Self::LastValidator { .. } => 27,
            Self::TooManyValidators { .. } => 28,
            Self::ValidatorPowerTooHigh { .. } => 29,
            Self::TotalPowerTooHigh { .. } => 30,
            Self::Internal(_) => 99,
        }
    }
}

/// Why a block could not be executed (a caller error; the state is unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    /// Blocks must be executed in order.
    #[error("expected block height {expected}, got {got}")]
    WrongHeight {
        /// The next height.
        expected: u64,
        /// The height given.
        got: u64,
    },
    /// Block time went backwards.
    #[error("block time {got} is before the previous block time {previous}")]
    TimeWentBackwards {
        /// The previous block's time.
        previous: u64,
        /// The time given.
        got: u64,
    },
    /// The tree failed (a bug).
    #[error("state tree error: {0}")]
    Tree(String),
}

/// Why a genesis is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GenesisError {
    /// A field breaks a rule.
    #[error("invalid genesis: {0}")]
    Invalid(#[from] DecodeError),
    /// Two issuers share an id.
    #[error("duplicate issuer id {0}")]
    DuplicateIssuer(IssuerId),
    /// A key is used twice (by governance or issuers).
    #[error("key {0} is used more than once")]
    DuplicateKey(PublicKey),
    /// A validator is listed twice.
    #[error("validator {0} is listed more than once")]
    DuplicateValidator(PublicKey),
    /// The tree failed (a bug).
    #[error("state tree error: {0}")]
    Tree(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_nonzero() {
        assert_eq!(TxError::BadSignature.code(), 3);
        assert_eq!(TxError::BadSequence { last: 1, got: 1 }.code(), 4);
        assert_eq!(TxError::Internal(String::new()).code(), 99);
        assert_eq!(
            TxError::SequenceTooFar {
                last: 0,
                got: u64::MAX,
                max_gap: crate::MAX_SEQUENCE_GAP
            }
            .code(),
            23
        );
        assert_eq!(
            TxError::InvalidKey {
                key: PublicKey([0; 32])
            }
            .code(),
            24
        );
        let k = PublicKey([1; 32]);
        let codes = [
            TxError::ValidatorSetUnknown.code(),
            TxError::ValidatorNotFound { key: k }.code(),
            TxError::LastValidator { key: k }.code(),
            TxError::TooManyValidators { max: 150 }.code(),
            TxError::ValidatorPowerTooHigh { power: 2, max: 1 }.code(),
            TxError::TotalPowerTooHigh { max: 1 }.code(),
        ];
        assert_eq!(codes, [25, 26, 27, 28, 29, 30]);
        assert_eq!(
            TxError::BadSequence { last: 4, got: 3 }.to_string(),
            "sequence 3 is not greater than the last accepted sequence 4"
        );
    }
}
