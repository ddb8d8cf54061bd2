//! CometBFT light-client verification core (pure: no I/O, no clock, no async runtime).
//!
//! - [`types`]: CometBFT data types, serialisable in exactly the JSON-RPC shape;
//!   [`types::Header::hash`], [`types::ValidatorSet::hash`], [`types::Address::from_public_key`].
//! - [`merkle`]: the RFC 6962 Merkle tree and inclusion proofs.
//! - [`vote`]: canonical precommit sign-bytes.
//! - [`rpc`]: reading `/commit`, `/validators` and light-block documents, with precise errors.
//! - [`verify`]: commit and header-chain verification returning a [`Verdict`].
//! - [`bisection`]: which height to verify next when skipping lacks trust.
//! - [`config`]: the wallet's root of trust ([`ChainConfig`]).
//!
//! The current time is always a parameter: this crate never reads the clock, the network or
//! the disk.

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
