//! CometBFT light-client verification core (pure: no I/O, no clock, no async runtime).
//!
//! - [`types`]: CometBFT data types, serialisable in exactly the JSON-RPC shape;
//!   [`types::Header::hash`], [`types::ValidatorSet::hash`], [`types::Address::from_public_key`].
//! - [`merkle`]: the RFC 6962 Merkle tree and inclusion proofs.
//! - [`vote`]: canonical precommit sign-bytes.
//! - [`rpc`]: reading `/commit`, `/validators` and light-block documents, with precise errors.
//! - [`mod@verify`]: commit and header-chain verification returning a [`Verdict`].
//! - [`bisection`]: which height to verify next when skipping lacks trust.
//! - [`config`]: the wallet's root of trust ([`ChainConfig`]).
//!
//! The current time is always a parameter: this crate never reads the clock, the network or
//! the disk.
//!
//! ```
//! use light_client::{merkle, precommit_sign_bytes, ChainConfig, ChainId, Height, Time};
//!
//! // A transaction's inclusion proof against a block's data hash.
//! let txs: Vec<&[u8]> = vec![b"tx-1", b"tx-2", b"tx-3"];
//! let (root, proofs) = merkle::proofs_from_byte_slices(&txs);
//! assert!(proofs[1].verify(&root, b"tx-2").is_ok());
//!
//! // The bytes a validator signs for a nil precommit.
//! let t = Time::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
//! let bytes = precommit_sign_bytes(&ChainId::new("demo"), Height(5), 0, None, t);
//! assert_eq!(bytes[0] as usize, bytes.len() - 1);
//!
//! // The wallet's root of trust.
//! let config = ChainConfig::from_json(r#"{
//!     "chain_id": "demo",
//!     "checkpoint": {"height": "5", "hash": "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"},
//!     "trusting_period": "1814400s",
//!     "primary": "http://127.0.0.1:26657"
//! }"#).unwrap();
//! assert_eq!(config.trust_level.to_string(), "1/3");
//! ```

pub mod bisection;
pub mod config;
pub mod merkle;
mod proto;
pub mod rpc;
mod serde_helpers;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;
pub mod types;
pub mod verify;
pub mod vote;

pub use bisection::{Bisection, BisectionError, Step};
pub use config::{ChainConfig, Checkpoint, ConfigError, TrustLevel};
pub use rpc::{parse_light_block, ParseError};
pub use types::*;
pub use verify::{
    validate_light_block, verify, Options, TrustedState, Verdict, VerificationError, Verifier,
    VotingPowerTally,
};
pub use vote::{precommit_sign_bytes, vote_sign_bytes};
