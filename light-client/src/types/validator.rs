//! Validators and validator sets, with the CometBFT validator-set hash.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{Address, Hash, PublicKey};
use crate::merkle;
use crate::proto::ProtoWriter;
use crate::serde_helpers::{str_i64, str_u64, votes_list};

/// CometBFT's cap on a validator set's total voting power (`MaxTotalVotingPower`).
pub const MAX_TOTAL_VOTING_POWER: u64 = (i64::MAX / 8) as u64;

/// CometBFT's `MaxVotesCount` (`types/vote_set.go`): the most votes one height can have, so
/// the most validators a set and the most entries a commit may have here. It bounds the work
/// one light block can cost.
pub const MAX_VOTES_COUNT: usize = 10_000;

/// Why a validator set could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidatorSetError {
    /// The same address appears twice.
    #[error("duplicate validator {address}")]
    DuplicateValidator {
        /// The repeated address.
        address: Address,
    },
    /// The total voting power exceeds `MAX_TOTAL_VOTING_POWER`.
    #[error("total voting power exceeds {MAX_TOTAL_VOTING_POWER}")]
    TotalVotingPowerTooLarge,
    /// More validators than [`MAX_VOTES_COUNT`].
    #[error("{count} validators, more than {MAX_VOTES_COUNT} (CometBFT's MaxVotesCount)")]
    TooManyValidators {
        /// The number of validators given.
        count: usize,
    },
}

/// A validator. JSON: `{"address", "pub_key": {"type", "value"}, "voting_power": "10",
/// "proposer_priority": "0"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validator {
    /// The validator's address (must equal `pub_key.address()`; checked at verification).
    pub address: Address,
    /// The ed25519 consensus key.
    pub pub_key: PublicKey,
    /// Voting power (a non-negative int64).
    #[serde(with = "str_u64")]
    pub voting_power: u64,
    /// Proposer priority (not covered by any hash).
    #[serde(with = "str_i64", default)]
    pub proposer_priority: i64,
}

impl Validator {
    /// A validator whose address is derived from its key, with proposer priority 0.
    pub fn new(pub_key: PublicKey, voting_power: u64) -> Validator {
        Validator {
            address: pub_key.address(),
            pub_key,
            voting_power,
            proposer_priority: 0,
        }
    }

    /// Protobuf `SimpleValidator` encoding: the Merkle leaf of the validator-set hash.
    pub fn hash_bytes(&self) -> Vec<u8> {
        let mut key = ProtoWriter::with_capacity(34);
        key.bytes(1, self.pub_key.as_bytes());
        let mut w = ProtoWriter::with_capacity(48);
        w.message(1, &key.into_bytes());
        w.int(2, self.voting_power as i64);
        w.into_bytes()
    }
}

#[derive(Deserialize)]
struct RawValidatorSet {
    #[serde(deserialize_with = "votes_list")]
    validators: Vec<Validator>,
    #[serde(default)]
    proposer: Option<Validator>,
}

/// A validator set, always in CometBFT order: voting power descending, then address ascending
/// (the order in which commit signatures are listed and the set is hashed).
///
/// JSON: `{"validators": [...], "proposer": {...}}`; a `total_voting_power` field is ignored,
/// and `"validators": null` (Go's empty list) is the empty set. Deserialising sorts the
/// validators, as CometBFT's light client does, and rejects duplicate addresses, a total
/// voting power above [`MAX_TOTAL_VOTING_POWER`] and more than [`MAX_VOTES_COUNT`] validators.
///
/// A set is immutable once built; its hash and the check that every address derives from its
/// key are computed at most once per set and kept.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "RawValidatorSet")]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proposer: Option<Validator>,
    #[serde(skip)]
    total_voting_power: u64,
    /// (address, index in `validators`), sorted by address, for lookups by address.
    #[serde(skip)]
    by_address: Vec<(Address, u32)>,
    #[serde(skip)]
    hash: OnceLock<Hash>,
    #[serde(skip)]
    first_misderived_address: OnceLock<Option<usize>>,
}

impl PartialEq for ValidatorSet {
    fn eq(&self, other: &Self) -> bool {
        self.validators == other.validators && self.proposer == other.proposer
    }
}

impl Eq for ValidatorSet {}

impl TryFrom<RawValidatorSet> for ValidatorSet {
    type Error = ValidatorSetError;
    fn try_from(raw: RawValidatorSet) -> Result<Self, ValidatorSetError> {
        ValidatorSet::new(raw.validators, raw.proposer)
    }
}

impl ValidatorSet {
    /// Builds a set: sorts the validators into CometBFT order, rejects more than
    /// [`MAX_VOTES_COUNT`] validators, duplicate addresses and a total voting power above
    /// [`MAX_TOTAL_VOTING_POWER`].
    pub fn new(
        mut validators: Vec<Validator>,
        proposer: Option<Validator>,
    ) -> Result<ValidatorSet, ValidatorSetError> {
        if validators.len() > MAX_VOTES_COUNT {
            return Err(ValidatorSetError::TooManyValidators {
                count: validators.len(),
            });
        }
        let mut total: u64 = 0;
        for v in &validators {
            total = total
                .checked_add(v.voting_power)
                .filter(|t| *t <= MAX_TOTAL_VOTING_POWER)
                .ok_or(ValidatorSetError::TotalVotingPowerTooLarge)?;
        }
        validators.sort_by(|a, b| {
            b.voting_power
                .cmp(&a.voting_power)
                .then_with(|| a.address.cmp(&b.address))
        });
        let mut by_address: Vec<(Address, u32)> = validators
            .iter()
            .enumerate()
            .map(|(i, v)| (v.address, i as u32))
            .collect();
        by_address.sort_unstable();
        if let Some(pair) = by_address.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ValidatorSetError::DuplicateValidator { address: pair[0].0 });
        }
        Ok(ValidatorSet {
            validators,
            proposer,
            total_voting_power: total,
            by_address,
            hash: OnceLock::new(),
            first_misderived_address: OnceLock::new(),
        })
    }

    /// The validators, in CometBFT order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// The proposer, when the source named one.
    pub fn proposer(&self) -> Option<&Validator> {
        self.proposer.as_ref()
    }

    /// Sum of all voting powers (at most [`MAX_TOTAL_VOTING_POWER`]).
    pub fn total_voting_power(&self) -> u64 {
        self.total_voting_power
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Whether the set has no validator.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// The index and validator with this address.
    pub fn find(&self, address: &Address) -> Option<(usize, &Validator)> {
        let pos = self
            .by_address
            .binary_search_by(|(a, _)| a.cmp(address))
            .ok()?;
        let index = self.by_address[pos].1 as usize;
        self.validators.get(index).map(|v| (index, v))
    }

    /// The validator-set hash: the RFC 6962 Merkle root of the validators' `SimpleValidator`
    /// encodings (public key and voting power), in set order.
    pub fn hash(&self) -> Hash {
        *self.hash.get_or_init(|| {
            let leaves: Vec<Vec<u8>> = self.validators.iter().map(Validator::hash_bytes).collect();
            merkle::hash_from_byte_slices(&leaves)
        })
    }

    /// The index of the first validator whose address is not derived from its public key
    /// (CometBFT rejects such sets), or `None` when all are derived correctly.
    pub fn first_misderived_address(&self) -> Option<usize> {
        *self.first_misderived_address.get_or_init(|| {
            self.validators
                .iter()
                .position(|v| v.pub_key.address() != v.address)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(byte: u8, power: u64) -> Validator {
        Validator::new(PublicKey::from_bytes([byte; 32]), power)
    }

    #[test]
    fn sorts_by_power_then_address_and_rejects_duplicates() {
        let set = ValidatorSet::new(vec![val(1, 5), val(2, 10), val(3, 5)], None).unwrap();
        assert_eq!(set.validators()[0].voting_power, 10);
        assert!(set.validators()[1].address < set.validators()[2].address);
        assert_eq!(set.total_voting_power(), 20);
        let (i, v) = set.find(&val(3, 5).address).unwrap();
        assert_eq!(set.validators()[i], *v);
        assert_eq!(
            ValidatorSet::new(vec![val(1, 5), val(1, 6)], None),
            Err(ValidatorSetError::DuplicateValidator {
                address: val(1, 5).address
            })
        );
        assert_eq!(
            ValidatorSet::new(vec![val(1, MAX_TOTAL_VOTING_POWER), val(2, 1)], None),
            Err(ValidatorSetError::TotalVotingPowerTooLarge)
        );
    }

    #[test]
    fn empty_set_hashes_to_sha256_of_nothing() {
        let set = ValidatorSet::new(vec![], None).unwrap();
        assert_eq!(set.hash(), Hash::sha256(b""));
    }
}
