//! Light blocks: a signed header with the validator sets needed to verify it.

use serde::{Deserialize, Serialize};

use super::{Height, SignedHeader, Time, ValidatorSet};

/// A signed header with its validator set and, when known, the next validator set.
///
/// JSON: `{"signed_header": {"header", "commit"}, "validator_set": {...},
/// "next_validator_set": {...}}` (the shape of the CometBFT model-based test cases);
/// [`crate::rpc::parse_light_block`] also reads the `{"header", "commit", "validator_set"}`
/// shape and JSON-RPC envelopes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LightBlock {
    /// Header and commit.
    pub signed_header: SignedHeader,
    /// The validator set that signed the commit (the header's `validators_hash`).
    #[serde(rename = "validator_set")]
    pub validators: ValidatorSet,
    /// The validator set of the next height (the header's `next_validators_hash`), if known.
    #[serde(
        rename = "next_validator_set",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_validators: Option<ValidatorSet>,
}

impl LightBlock {
    /// The block height.
    pub fn height(&self) -> Height {
        self.signed_header.header.height
    }

    /// The block time.
    pub fn time(&self) -> Time {
        self.signed_header.header.time
    }

    /// The next validator set to trust after this block: the given one, or, when none was
    /// given and the header says the set does not change (`next_validators_hash ==
    /// validators_hash`), the block's own validator set.
    pub fn trusted_next_validators(&self) -> Option<&ValidatorSet> {
        match &self.next_validators {
            Some(next) => Some(next),
            None => {
                let h = &self.signed_header.header;
                (h.next_validators_hash == h.validators_hash).then_some(&self.validators)
            }
        }
    }
}
