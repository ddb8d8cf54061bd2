//! Shared helpers: a demo chain with deterministic keys and a block driver.

use ed25519_dalek::SigningKey;
use registry::devkit::{demo_genesis, dev_key};
use registry::{BlockOutcome, Registry, TxResult};

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
    pub fn run(&mut self, tx: Vec<u8>) -> TxResult {
        self.block(&[tx]).tx_results.remove(0)
    }
}

pub fn assert_code(r: &TxResult, code: u32) {
    assert_eq!(r.code, code, "unexpected result: {r:?}");
}
