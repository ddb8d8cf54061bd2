//! The registry as an ABCI 2.0 application server for stock CometBFT v0.38.
//!
//! - [`app`]: [`NodeApp`], every ABCI request answered by the registry, with the node's
//!   limits against flooding.
//! - [`blocklog`]: the data directory: the genesis and the fsynced log of finalized blocks
//!   the registry is rebuilt from on start.
//! - [`genesis`]: the `app_state` JSON of CometBFT's genesis file, with the chain's limits.
//! - [`server`]: the socket server (tower-abci), TCP or Unix socket.
//!
//! How to run a network with it: docs/cometbft.md.

pub mod app;
pub mod blocklog;
pub mod genesis;
pub mod server;

pub use app::{NodeApp, NodeConfig, NodeError};
pub use genesis::{AppState, ChainLimits};
pub use server::{serve, AbciService, Listen};
/// The ABCI types the application speaks (tendermint-rs, the version tower-abci is built on):
/// whoever drives a [`NodeApp`] in process uses these, not another version's.
pub use tendermint;
