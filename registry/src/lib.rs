//! The trade registry application: authenticated state, transactions, certificates.
//!
//! The client side, always built (pure: no clock, no I/O, no tree):
//!
//! - [`Tx`], [`TxBuilder`], [`Message`]: the signed transaction envelope.
//! - [`Certificate`], [`qr`]: the certificate, its signature and its QR payload.
//! - [`proof`]: verification of query proofs ([`QueryResult`], ICS-23).
//! - [`offline`], [`online`]: the verdicts.
//! - [`log`]: the logs' hash-chain heads and pages of entries (bulk sync).
//! - [`Genesis`], [`state`], [`keys`]: the genesis, the records and the state key layout.
//!
//! The chain side, feature `chain` (the node and the devnet):
//!
//! - [`Registry`]: the application the full nodes run (genesis, `check_tx`,
//!   `execute_block`, `query`), over a Jellyfish Merkle tree whose root is the app hash.
//!
//! Feature `testkit`: [`devkit`] (development keys, the demo genesis, a sample certificate) and
//! [`samples`] (the data a development network is seeded with).
//!
//! The protocol is specified in `docs/protocol.md`. This crate reads no clock and does no I/O.

#[cfg(feature = "chain")]
mod app;
mod certificate;
pub mod codec;
#[cfg(any(test, feature = "testkit"))]
pub mod devkit;
mod error;
#[cfg(all(feature = "chain", any(test, feature = "testkit")))]
#[doc(hidden)]
pub mod fuzzing;
mod genesis;
pub mod keys;
pub mod log;
pub mod offline;
pub mod online;
pub mod proof;
pub mod qr;
mod query;
#[cfg(any(test, feature = "testkit"))]
pub mod samples;
pub mod state;
#[cfg(feature = "chain")]
mod store;
mod tx;
mod types;

#[cfg(feature = "chain")]
pub use app::{BlockOutcome, Event, PendingBlock, Registry, RegistryConfig, TxResult};
#[cfg(any(test, feature = "testkit"))]
pub use certificate::sample_certificate;
pub use certificate::{
    Certificate, Goods, Party, SignedCertificate, CERT_HASH_DOMAIN, CERT_SIGN_DOMAIN, CERT_VERSION,
};
pub use codec::{Canonical, DecodeError};
pub use error::{BlockError, GenesisError, TxError};
pub use genesis::Genesis;
pub use query::{ProofOp, QueryError, QueryResult, PROOF_OP_TYPE};
#[cfg(feature = "chain")]
pub use store::StoreStats;
pub use tx::{
    Message, RecordInspection, Tx, TxBody, TxBuilder, MAX_CHAIN_ID_LEN, MAX_FUTURE_SKEW_SECS,
    MAX_SEQUENCE_GAP, MAX_TX_BYTES, TX_SIGN_DOMAIN, TX_VERSION,
};
pub use types::{CertId, CertificateKind, Country, IssuerId, KindSet, PublicKey, Serial};
