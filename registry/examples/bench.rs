//! Throughput of the registry: transactions executed and committed per second, and the time
//! to compute the app hash per block, at growing state sizes.
//!
//! `cargo run --release -p registry --example bench -- 10000 100000 1000000`
//! (arguments: the certificate counts to measure at; default 10000 100000).
//!
//! Each block holds 1000 "issue certificate" transactions signed by one issuer key (each
//! checked with ed25519 `verify_strict`). The state is grown block by block to each size, then
//! 21 more blocks are measured: execution (decode, signature, rules) and commit (tree update
//! and root) are timed separately (medians per block), as is proof generation for certificate
//! keys spread over the state.

use std::time::Instant;

use registry::devkit::{demo_genesis, dev_key};
use registry::{keys, sample_certificate, CertId, Registry, RegistryConfig, Serial, TxBuilder};

const CHAIN: &str = "tradeseal-bench";
const T0: u64 = 1_767_225_600;
const BLOCK_TXS: u64 = 1000;
const MEASURED_BLOCKS: u64 = 21;

struct Bench {
    reg: Registry,
    key: ed25519_dalek::SigningKey,
    seq: u64,
    height: u64,
    certs: u64,
}

impl Bench {
    fn block_txs(&mut self) -> Vec<Vec<u8>> {
        let b = TxBuilder::new(CHAIN, &self.key);
        (0..BLOCK_TXS)
            .map(|_| {
                self.seq += 1;
                let serial =
                    Serial::new(format!("B{}", self.seq)).unwrap_or_else(|e| panic!("{e}"));
                b.issue(self.seq, &sample_certificate(serial, T0))
                    .unwrap_or_else(|e| panic!("{e}"))
            })
            .collect()
    }

    /// Runs one block; returns (execute seconds, commit seconds).
    fn block(&mut self, txs: &[Vec<u8>]) -> (f64, f64) {
        self.height += 1;
        let t = Instant::now();
        let mut block = self
            .reg
            .begin_block(self.height, T0 + self.height)
            .unwrap_or_else(|e| panic!("{e}"));
        for tx in txs {
            let r = self.reg.deliver_tx(&mut block, tx);
            assert!(r.is_ok(), "{}", r.log);
        }
        let exec = t.elapsed().as_secs_f64();
        let t = Instant::now();
        self.reg
            .commit_block(block)
            .unwrap_or_else(|e| panic!("{e}"));
        let commit = t.elapsed().as_secs_f64();
        self.certs += txs.len() as u64;
        (exec, commit)
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<u64>().ok())
            })
        })
        .map_or(0, |kib| kib / 1024)
}

fn main() {
    let mut sizes: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000];
    }
    sizes.sort_unstable();
    let genesis = demo_genesis(CHAIN, T0);
    let config = RegistryConfig {
        retain_versions: Some(100),
    };
    let mut bench = Bench {
        reg: Registry::with_config(&genesis, config).unwrap_or_else(|e| panic!("{e}")),
        key: dev_key("issuer-ke-kephis"),
        seq: 0,
        height: 0,
        certs: 0,
    };
    println!(
        "| certificates | fill rate (tx/s) | tx/s (median block) | execute ms/block | app hash (commit) ms/block | proof gen us | RSS MiB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    let run_start = Instant::now();
    for size in sizes {
        let mut fill_busy = 0.0;
        let fill_from = bench.certs;
        while bench.certs < size {
            let txs = bench.block_txs();
            let (e, c) = bench.block(&txs);
            fill_busy += e + c;
        }
        let fill_rate = if fill_busy > 0.0 {
            (bench.certs - fill_from) as f64 / fill_busy
        } else {
            0.0
        };
        let mut exec = Vec::new();
        let mut commit = Vec::new();
        for _ in 0..MEASURED_BLOCKS {
            let txs = bench.block_txs();
            let (e, c) = bench.block(&txs);
            exec.push(e);
            commit.push(c);
        }
        // Medians: the machine is shared, a median per block resists other processes' spikes.
        let (exec, commit) = (median(&mut exec), median(&mut commit));
        // Proof generation for 1000 certificate keys spread over the state.
        let t = Instant::now();
        let n = 1000u64;
        for i in 0..n {
            let s = 1 + (i * 7919) % bench.seq;
            let id = CertId::parse(&format!("KE-KEPHIS/B{s}")).unwrap_or_else(|e| panic!("{e}"));
            let q = bench.reg.query("/key", &keys::cert(&id), None, true);
            assert!(q.value.is_some());
        }
        let proof_us = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!(
            "| {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.0} | {} |",
            size,
            fill_rate,
            BLOCK_TXS as f64 / (exec + commit),
            exec * 1000.0,
            commit * 1000.0,
            proof_us,
            rss_mib()
        );
    }
    println!("total wall time {:.0} s", run_start.elapsed().as_secs_f64());
}
