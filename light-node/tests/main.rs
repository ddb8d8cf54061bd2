//! The light node's integration tests: attacks staged through in-memory providers (fast, on
//! every change), the store's crash safety, following and the batched JSON-RPC calls against the
//! devnet.

mod attacks;
mod batch;
mod follow;
mod queries;
mod store;
mod support;
