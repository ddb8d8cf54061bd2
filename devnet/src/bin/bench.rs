//! End-to-end throughput of the local network: signed registry transactions broadcast over
//! JSON-RPC (`broadcast_tx_sync`) until committed in signed blocks. Run with `--release`.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use base64::Engine as _;
use clap::Parser;
use devnet::{tx_hash, AppKind, Devnet, DevnetConfig};
use registry::{Serial, TxBuilder};

/// Measures transactions per second from broadcast to commit.
#[derive(Debug, Parser)]
#[command(name = "devnet-bench")]
struct Args {
    /// Transactions to send.
    #[arg(long, default_value_t = 5000)]
    txs: usize,
    /// Block interval in milliseconds.
    #[arg(long, default_value_t = 200)]
    block_ms: u64,
    /// Validators signing each block.
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Streams for the key-value app (the registry uses one stream per issuer).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Transactions per JSON-RPC batch request (at most the nodes' batch limit, CometBFT's
    /// default `max_request_batch_size`).
    #[arg(long, default_value_t = devnet::MAX_REQUEST_BATCH_SIZE)]
    batch: usize,
    /// Most transactions per block.
    #[arg(long, default_value_t = 5000)]
    max_block_txs: usize,
    /// Use the key-value test app instead of the registry (network overhead alone).
    #[arg(long)]
    kv: bool,
    /// Store the chain in SQLite in this directory (a fresh chain; default: in memory).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
}

/// The transactions, one stream per signer in sequence order (the registry accepts a
/// signer's sequences only in increasing order, so each signer's stream is sent in order).
fn build_streams(net: &Devnet, args: &Args) -> anyhow::Result<Vec<Vec<Vec<u8>>>> {
    if args.kv {
        let streams = args.concurrency.max(1);
        let mut out = vec![Vec::new(); streams];
        for i in 0..args.txs {
            out[i % streams].push(format!("key{i}=value{i}").into_bytes());
        }
        return Ok(out);
    }
    let samples = net.samples().context("registry samples")?;
    // The issuers that may still issue (governance removes one of the samples).
    let issuers: Vec<_> = samples.issuers.iter().filter(|s| !s.removed).collect();
    let mut out = vec![Vec::new(); issuers.len()];
    for i in 0..args.txs {
        let which = i % issuers.len();
        let issuer = issuers[which];
        let template = samples
            .certificates
            .iter()
            .find(|c| c.signed.certificate.id.issuer == issuer.spec.id)
            .context("a sample certificate")?;
        let mut cert = template.signed.certificate.clone();
        cert.id.serial = Serial::new(format!("BENCH-{i}"))?;
        let seq = 1_000 + out[which].len() as u64;
        out[which].push(TxBuilder::new(&samples.chain_id, &issuer.key).issue(seq, &cert)?);
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = DevnetConfig {
        validators: args.validators,
        block_interval: Duration::from_millis(args.block_ms),
        max_block_txs: args.max_block_txs,
        app: if args.kv {
            AppKind::Kv
        } else {
            AppKind::Registry { seed_samples: true }
        },
        data_dir: args.data_dir.clone(),
        fresh: args.data_dir.is_some(),
        ..DevnetConfig::for_tests()
    };
    let net = Devnet::start(config).await?;
    let streams = build_streams(&net, &args)?;
    let hashes: Vec<[u8; 32]> = streams.iter().flatten().map(|t| tx_hash(t)).collect();
    let start_height = net.chain().latest_height();
    devnet::install_tls_provider();
    let client = reqwest::Client::new();
    let urls = net.rpc_urls().to_vec();
    let batch = args.batch.max(1);
    let n_streams = streams.len();

    let started = Instant::now();
    let mut tasks = Vec::new();
    for (s, stream) in streams.into_iter().enumerate() {
        let client = client.clone();
        let url = urls[s % urls.len()].clone();
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0usize;
            for chunk in stream.chunks(batch) {
                let calls: Vec<serde_json::Value> = chunk
                    .iter()
                    .enumerate()
                    .map(|(i, tx)| {
                        serde_json::json!({
                            "jsonrpc": "2.0", "id": i, "method": "broadcast_tx_sync",
                            "params": { "tx": base64::engine::general_purpose::STANDARD.encode(tx) }
                        })
                    })
                    .collect();
                let answers: Vec<serde_json::Value> =
                    client.post(&url).json(&calls).send().await?.json().await?;
                accepted += answers
                    .iter()
                    .filter(|a| a["result"]["code"].as_u64() == Some(0))
                    .count();
            }
            anyhow::Ok(accepted)
        }));
    }
    let mut accepted = 0usize;
    for t in tasks {
        accepted += t.await??;
    }
    let broadcast_done = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let committed = {
            let blocks = net.chain().blocks();
            hashes
                .iter()
                .filter(|h| blocks.find_tx(h).is_some())
                .count()
        };
        if committed >= accepted {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {committed} of {accepted} transactions committed in time");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let end_height = net.chain().latest_height();
    let (ok, failed) = {
        let blocks = net.chain().blocks();
        let mut ok = 0;
        let mut failed = 0;
        for h in &hashes {
            if let Some(loc) = blocks.find_tx(h) {
                let code = blocks
                    .get(loc.height)
                    .and_then(|b| b.tx_results.get(loc.index as usize))
                    .map(|r| r.code.value());
                if code == Some(0) {
                    ok += 1;
                } else {
                    failed += 1;
                }
            }
        }
        (ok, failed)
    };
    println!(
        "app={} validators={} nodes={} block_ms={} streams={} batch={batch} store={}",
        if args.kv { "kv" } else { "registry" },
        args.validators,
        urls.len(),
        args.block_ms,
        n_streams,
        if args.data_dir.is_some() {
            "sqlite"
        } else {
            "memory"
        }
    );
    println!(
        "sent {} accepted by CheckTx {accepted}, committed ok {ok}, failed in DeliverTx {failed}",
        hashes.len()
    );
    println!(
        "broadcast {:.2} s ({:.0} tx/s accepted), broadcast->committed {:.2} s over {} blocks: {:.0} tx/s end to end",
        broadcast_done.as_secs_f64(),
        accepted as f64 / broadcast_done.as_secs_f64(),
        elapsed.as_secs_f64(),
        end_height - start_height,
        ok as f64 / elapsed.as_secs_f64()
    );
    net.shutdown().await;
    Ok(())
}
