//! `tradeseal-cli offline`: the offline knowledge a field inspector's device carries (the
//! issuer registry and the revocation log, proven against verified headers): sync it, show how
//! fresh it is, and check offline verdicts again once back online.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::node::{open, open_only, wallet_error, ChainArgs};
use crate::output::{default_data_dir, print, runtime};

/// Arguments of `offline`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: OfflineCommand,
}

#[derive(Debug, clap::Subcommand)]
enum OfflineCommand {
    /// Sync the offline knowledge to the newest verified state: every issuer record and the
    /// revocation log, incrementally (only the entries this device lacks), each value proven.
    ///
    /// The last sequence the chain accepted from each key of the keystore is proven and
    /// remembered too, so that inspections signed offline (`sign inspect` without network)
    /// carry the right sequence.
    ///
    /// Prints {"status": {...as `offline status`}, "previous_height", "new_revocations",
    /// "new_issuer_changes", "issuers_fetched", "proofs", "took_ms", "key_sequences" (keys
    /// whose sequence was proven)}. Exits 0 when synced, 1 when nothing could be proven (the
    /// stored knowledge is kept).
    Sync {
        #[command(flatten)]
        chain: ChainArgs,
        /// The keystore's directory, as `keys --data-dir` (default: the user's data directory
        /// when --data-dir is not given; with --data-dir and no --keys-dir, no sequence is
        /// proven).
        #[arg(long, value_name = "DIR")]
        keys_dir: Option<PathBuf>,
    },
    /// How fresh the offline knowledge is, without the network.
    ///
    /// Prints {"chain_id", "height", "time", "age_secs", "stale" (past the warning age of the
    /// settings' offline_warn_after_hours), "too_old" (past the trusting period: offline
    /// verdicts are not given), "issuers", "issuer_changes", "revocations", "synced_at"}, or
    /// {"status": "empty"} before the first sync (exit 1).
    Status(ChainArgs),
    /// Check every offline verdict of the history again online.
    ///
    /// Prints one JSON object per line: the offline report with "recheck": {"checked_at",
    /// "verdict", "changed", "history_id" (of the online report)}. Those that cannot be
    /// proven now stay to do. Exits 0, or 3 when any verdict changed.
    Recheck(ChainArgs),
}

/// Runs `offline`.
pub fn run(args: &Args) -> ExitCode {
    runtime().block_on(async {
        match &args.command {
            OfflineCommand::Sync { chain, keys_dir } => {
                let wallet = match open(chain).await {
                    Ok(w) => w,
                    Err(code) => return code,
                };
                let report = match wallet.offline_sync().await {
                    Ok(report) => report,
                    Err(e) => return wallet_error(&e),
                };
                let mut out = serde_json::to_value(&report).unwrap_or_default();
                let keys_dir = match (keys_dir, chain.data_dir()) {
                    (Some(dir), _) => Some(dir.clone()),
                    (None, None) => Some(default_data_dir()),
                    (None, Some(_)) => None,
                };
                let mut keys = 0;
                if let Some(dir) = keys_dir {
                    match sequences(&wallet, &dir).await {
                        Ok(n) => keys = n,
                        Err(e) => return crate::sign::sign_error(&e),
                    }
                }
                out["key_sequences"] = serde_json::json!(keys);
                print(&out);
                ExitCode::SUCCESS
            }
            OfflineCommand::Status(chain) => {
                let wallet = match open_only(chain).await {
                    Ok(w) => w,
                    Err(code) => return code,
                };
                match wallet.offline_status().await {
                    Ok(Some(status)) => {
                        print(&serde_json::to_value(&status).unwrap_or_default());
                        ExitCode::SUCCESS
                    }
                    Ok(None) => {
                        print(&serde_json::json!({ "status": "empty" }));
                        ExitCode::FAILURE
                    }
                    Err(e) => wallet_error(&e),
                }
            }
            OfflineCommand::Recheck(chain) => {
                let wallet = match open(chain).await {
                    Ok(w) => w,
                    Err(code) => return code,
                };
                match wallet.recheck_offline().await {
                    Ok(reports) => {
                        let mut changed = false;
                        for r in &reports {
                            changed |= r.recheck.as_ref().is_some_and(|c| c.changed);
                            println!("{}", serde_json::to_string(r).unwrap_or_default());
                        }
                        if changed {
                            ExitCode::from(3)
                        } else {
                            ExitCode::SUCCESS
                        }
                    }
                    Err(e) => wallet_error(&e),
                }
            }
        }
    })
}

/// Proves and remembers the last accepted sequence of every key in the keystore at `dir`.
async fn sequences(
    wallet: &tradeseal_wallet::Wallet,
    dir: &std::path::Path,
) -> Result<usize, tradeseal_wallet::signing::SignError> {
    let (keystore, outbox) = crate::sign::open_store(dir).await?;
    let n = tradeseal_wallet::signing::remember_sequences(wallet, &keystore, &outbox).await;
    keystore.close().await;
    n
}
