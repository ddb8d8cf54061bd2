//! Shared helpers: a demo chain with deterministic keys and a block driver.

use ed25519_dalek::{Signer as _, SigningKey};
use registry::codec::Writer;
use registry::devkit::{demo_genesis, dev_key};
use registry::{
    BlockOutcome, Canonical as _, DecodeError, Message, PublicKey, Registry, TxResult,
    TX_SIGN_DOMAIN, TX_VERSION,
};

pub const CHAIN: &str = "tradeseal-test";
pub const T0: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z

pub fn gov(n: usize) -> SigningKey {
    dev_key(&format!("gov-{n}"))
}

pub fn kephis() -> SigningKey {
    dev_key("issuer-ke-kephis")
}

pub fn kncci() -> SigningKey {
    dev_key("issuer-ke-kncci")
}

pub fn nl_customs() -> SigningKey {
    dev_key("agency-nl-customs")
}

/// A registry at the demo genesis, and the next block time.
pub struct Chain {
    pub reg: Registry,
    pub time: u64,
}

impl Chain {
    pub fn new() -> Self {
        Self {
            reg: Registry::new(&demo_genesis(CHAIN, T0)).unwrap(),
            time: T0,
        }
    }

    /// Executes one block of `txs`, 5 seconds after the previous one.
    pub fn block(&mut self, txs: &[Vec<u8>]) -> BlockOutcome {
        self.time += 5;
        let h = self.reg.last_height() + 1;
        self.reg.execute_block(h, self.time, txs).unwrap()
    }

    /// Executes one transaction in its own block and returns its result.
    pub fn run(&mut self, tx: impl TxBytes) -> TxResult {
        self.block(&[tx.bytes()]).tx_results.remove(0)
    }
}

pub fn assert_code(r: &TxResult, code: u32) {
    assert_eq!(r.code, code, "unexpected result: {r:?}");
}

/// An encoded transaction, or what a builder returns (which must have built).
pub trait TxBytes {
    fn bytes(self) -> Vec<u8>;
}

impl TxBytes for Vec<u8> {
    fn bytes(self) -> Vec<u8> {
        self
    }
}

impl TxBytes for Result<Vec<u8>, DecodeError> {
    fn bytes(self) -> Vec<u8> {
        self.expect("the transaction builds")
    }
}

/// A transaction signed by `key` without the builder's field checks, as a hand-written or
/// hostile encoder could send it: for testing what the chain itself refuses.
pub fn raw_tx(key: &SigningKey, chain: &str, sequence: u64, message: &Message) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(TX_VERSION).str(chain);
    PublicKey::from(&key.verifying_key()).encode_to(&mut w);
    w.u64(sequence);
    message.encode_to(&mut w);
    let unsigned = w.into_bytes();
    let mut sign_bytes = TX_SIGN_DOMAIN.to_vec();
    sign_bytes.extend_from_slice(&unsigned);
    let mut tx = unsigned;
    tx.extend_from_slice(&key.sign(&sign_bytes).to_bytes());
    tx
}
