//! The wallet's integration tests: the light node and proven queries against the local
//! development network on loopback, with every misbehaviour the network stages; the keystore
//! against real stores the tests start (Secret Service, SoftHSM2); signing and the outbox
//! against the devnet; certificate verification and its history against the devnet; the
//! printed certificate, rendered and photographed, decodes.

mod devnet;
mod issuance;
mod keys;
mod offline;
mod photo;
mod signing;
mod stores;
mod support;
mod verify;
