//! The wallet's integration tests: the light node and proven queries against the local
//! development network on loopback, with every misbehaviour the network stages.

mod devnet;
