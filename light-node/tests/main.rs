//! The light node's integration tests: attacks staged through in-memory providers (fast, on
//! every change), and the store's crash safety.

mod attacks;
mod follow;
mod queries;
mod store;
mod support;
