//! The CometBFT data types, serialisable in exactly the CometBFT JSON-RPC shape.

mod block;
mod light_block;
mod primitives;
mod time;
mod validator;

pub use block::{
    consensus_params_hash, data_hash, results_hash, BlockId, BlockIdFlag, Commit, CommitSig,
    Header, PartSetHeader, ResultLeaf, SignedHeader, Version, BLOCK_PROTOCOL,
};
pub use light_block::LightBlock;
pub use primitives::{
    Address, ChainId, DecodeError, Hash, Height, HexBytes, PublicKey, Signature, ED25519_KEY_TYPE,
    MAX_CHAIN_ID_LEN,
};
pub use time::{Time, TimeError};
pub use validator::{
    Validator, ValidatorSet, ValidatorSetError, MAX_TOTAL_VOTING_POWER, MAX_VOTES_COUNT,
};
