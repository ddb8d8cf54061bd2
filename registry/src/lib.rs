//! The trade registry application: authenticated state, transactions, certificates.
//!
//! - [`Registry`]: the application the full nodes run (genesis, `check_tx`,
//!   `execute_block`, `query`), over a Jellyfish Merkle tree whose root is the app hash.
//! - [`Tx`], [`TxBuilder`], [`Message`]: the signed transaction envelope.
//! - [`Certificate`], [`qr`]: the certificate, its signature and its QR payload.
//! - [`proof`]: client-side verification of query proofs.
//!
//! The protocol is specified in `docs/protocol.md`. This crate reads no clock and does no I/O.

mod app;
mod certificate;
pub mod codec;
pub mod devkit;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod genesis;
pub mod keys;
pub mod offline;
pub mod online;
pub mod proof;
pub mod qr;
pub mod state;
mod store;
mod tx;
mod types;

pub use app::{
    BlockOutcome, Event, PendingBlock, ProofOp, QueryError, QueryResult, Registry, RegistryConfig,
    TxResult, MAX_FUTURE_SKEW_SECS, PROOF_OP_TYPE,
};
pub use certificate::{
    sample_certificate, Certificate, Goods, Party, SignedCertificate, CERT_HASH_DOMAIN,
    CERT_SIGN_DOMAIN, CERT_VERSION,
};
pub use codec::{Canonical, DecodeError};
pub use error::{BlockError, GenesisError, TxError};
pub use genesis::Genesis;
pub use store::StoreStats;
pub use tx::{
    Message, RecordInspection, Tx, TxBody, TxBuilder, MAX_CHAIN_ID_LEN, MAX_SEQUENCE_GAP,
    MAX_TX_BYTES, TX_SIGN_DOMAIN, TX_VERSION,
};
pub use types::{CertId, CertificateKind, Country, IssuerId, KindSet, PublicKey, Serial};
