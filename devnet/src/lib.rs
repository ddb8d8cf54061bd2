//! Tradeseal's local development network: validators with real ed25519 keys signing real
//! CometBFT commits, full nodes serving the CometBFT JSON-RPC endpoints on loopback, the
//! registry application with ICS-23 proofs, persistence, seeding, and misbehaving nodes for
//! testing the wallet's defences. DEVELOPMENT ONLY: every key derives from a public seed.
//!
//! - [`Devnet::start`] runs a whole network in-process (tests start it on port 0).
//! - [`DevnetConfig`]: sizes, timing, ports, data directory, behaviours.
//! - [`Behaviour`]: what a full node does (honest, fork, lunatic, lies, stale, timeout,
//!   garbage).
//! - [`Application`]: the ABCI 2.0 connection the chain drives in CometBFT's order;
//!   [`RegistryApp`] (the production `tradeseal_node::NodeApp`) and [`KvApp`] implement it.
//! - Blocks are `light_client` types ([`BlockRecord`]), hashed and signed with its code.

mod abci;
mod app;
mod behaviour;
mod chain;
mod config;
mod keys;
mod network;
mod output;
mod registry_app;
mod rpc;
mod seal;
mod store;

pub use app::{
    request, response, AppError, AppGenesis, Application, Code, Event, EventAttribute,
    ExecTxResult, KvApp, ValidatorUpdate,
};
pub use behaviour::{Behaviour, ParseBehaviourError};
pub use chain::{
    tx_hash, Blocks, Chain, ChainError, ChainParams, HistoryPlan, KeyId, KeyRing, MempoolError,
    PendingUpdate, TxLocation, MAX_KEY_INDEX, MAX_VALIDATORS,
};
pub use config::{AppKind, DevnetConfig, DEFAULT_CHAIN_ID, DEFAULT_SEED, MAX_REQUEST_BATCH_SIZE};
pub use keys::{dev_signing_key, KeyRole, ValidatorKey, DEV_KEY_WARNING};
pub use network::{Devnet, DevnetError};
pub use output::{
    chain_config, chain_config_qr_png, qr_payload, qr_png, OutputError, OutputFiles,
    CERTIFICATES_FILE, CHAIN_CONFIG_FILE, CHAIN_CONFIG_QR_FILE, DB_FILE, DEV_KEYS_FILE, QR_DIR,
};
pub use registry_app::{
    RegistryApp, SampleCertificate, SampleIssuer, SampleStatus, Samples, SeedError,
    REMOVED_ISSUER_REASON,
};
pub use rpc::jsonrpc::RpcError;
pub use rpc::EvidenceRecord;
pub use rpc::{COMETBFT_VERSION, METHODS};
pub use seal::{after_millis, now, BlockRecord};
pub use store::{Store, StoreError};

/// Installs the TLS crypto provider (ring) once per process. The workspace's reqwest is built
/// without a default provider (`rustls-no-provider`), and it panics when a client is made
/// before one is installed; the devnet's admin commands, benchmark and tests call this first.
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error means a provider is installed already: that one serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
