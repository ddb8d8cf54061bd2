//! `tradeseal-cli verify` and `history`: a certificate verified through the same wallet
//! service as the app (decode, proofs against verified headers, verdict), one JSON report on
//! stdout and one exit code per verdict; the history of verifications listed or exported.

use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine as _;
use serde_json::json;

use crate::node::{error, open, open_only, wallet_error, ChainArgs};
use crate::output::{print, runtime, BAD_INPUT};
use tradeseal_api::{
    ExportFormat, FileData, HistoryQuery, Origin, Verdict, VerifyInput, VerifyRequest,
};

/// Arguments of `verify`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["file", "payload", "serial"])))]
pub struct Args {
    #[command(flatten)]
    chain: ChainArgs,
    /// An image (PNG, JPEG, WebP) or PDF holding the certificate's QR code.
    #[arg(value_name = "IMAGE_OR_PDF")]
    file: Option<PathBuf>,
    /// The QR code's text (`TS1:...`), e.g. from a hand scanner.
    #[arg(long, value_name = "TEXT")]
    payload: Option<String>,
    /// The certificate id, `ISSUER/SERIAL` (only the chain's record is checked: compare the
    /// printed details yourself).
    #[arg(long, value_name = "ID")]
    serial: Option<String>,
    /// The certificate's document (the file attached at issue, usually a PDF): its SHA-256 must
    /// be the one the certificate names and the chain recorded, else the verdict is tampered.
    #[arg(long, value_name = "FILE")]
    document: Option<PathBuf>,
    /// Judge without the network, from the offline knowledge this device proved before
    /// (`offline sync`): cannot_verify with "offline_data_missing" before any sync, with
    /// "offline_data_too_old" past the trusting period.
    #[arg(long)]
    offline: bool,
}

/// Arguments of `history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    command: HistoryCommand,
}

#[derive(Debug, clap::Subcommand)]
enum HistoryCommand {
    /// The verifications, newest first, as one JSON object per line (the reports `verify`
    /// prints, with "history_id").
    List(HistoryFilter),
    /// The verifications as CSV (columns: id, checked_at, verdict, reason, mode, source,
    /// file, certificate, issuer, kind, expires_at, proven_height, header_time, nodes) or as
    /// a JSON array of reports.
    Export {
        #[command(flatten)]
        filter: HistoryFilter,
        /// `csv` or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write here instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct HistoryFilter {
    #[command(flatten)]
    chain: ChainArgs,
    /// Only this verdict (repeatable): valid, revoked, expired, not_yet_valid,
    /// unknown_issuer, issuer_removed, issuer_suspended, not_registered, tampered, not_ours,
    /// cannot_verify.
    #[arg(long, value_name = "VERDICT")]
    verdict: Vec<String>,
    /// Text to find in the certificate id, parties, goods, issuer or file name.
    #[arg(long)]
    text: Option<String>,
    /// Checked at or after this time (unix seconds).
    #[arg(long)]
    since: Option<u64>,
    /// Checked before this time (unix seconds).
    #[arg(long)]
    until: Option<u64>,
    /// At most this many (default 200).
    #[arg(long)]
    limit: Option<u32>,
}

fn read_file(path: &PathBuf, what: &str) -> Result<FileData, ExitCode> {
    let limit = tradeseal_scan::MAX_FILE_BYTES as u64;
    let too_big = std::fs::metadata(path).is_ok_and(|m| m.len() > limit);
    let bytes = if too_big {
        Err(format!("it is larger than {} MB", limit / 1_000_000))
    } else {
        std::fs::read(path).map_err(|e| e.to_string())
    };
    let bytes = bytes.map_err(|e| {
        error(
            "invalid_request",
            &format!("cannot read the {what} {}: {e}", path.display()),
            BAD_INPUT,
        )
    })?;
    Ok(FileData {
        name: path.display().to_string(),
        base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

/// Verifies one certificate; prints the report; exits with its verdict's code.
pub fn run(args: &Args) -> ExitCode {
    let input = match (&args.file, &args.payload, &args.serial) {
        (Some(path), _, _) => match read_file(path, "file") {
            Ok(f) => VerifyInput::File {
                name: f.name,
                base64: f.base64,
            },
            Err(code) => return code,
        },
        (_, Some(text), _) => VerifyInput::Payload {
            text: text.clone(),
            origin: Origin::Payload,
        },
        (_, _, Some(id)) => VerifyInput::Serial { id: id.clone() },
        _ => return error("invalid_request", "nothing to verify", BAD_INPUT),
    };
    let document = match &args.document {
        Some(p) => match read_file(p, "document") {
            Ok(f) => Some(f),
            Err(code) => return code,
        },
        None => None,
    };
    let request = VerifyRequest {
        input,
        document,
        offline: args.offline,
    };
    runtime().block_on(async {
        // Offline, nothing is fetched: the light node is not started.
        let wallet = if args.offline {
            open_only(&args.chain).await
        } else {
            open(&args.chain).await
        };
        let wallet = match wallet {
            Ok(w) => w,
            Err(code) => return code,
        };
        match wallet.verify(&request).await {
            Ok(report) => {
                print(&serde_json::to_value(&report).unwrap_or_default());
                ExitCode::from(report.verdict.exit_code())
            }
            Err(e) => wallet_error(&e),
        }
    })
}

fn query(f: &HistoryFilter) -> Result<HistoryQuery, ExitCode> {
    let verdicts = f
        .verdict
        .iter()
        .map(|v| {
            Verdict::parse(v).ok_or_else(|| {
                error(
                    "invalid_request",
                    &format!("unknown verdict {v:?}"),
                    BAD_INPUT,
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(HistoryQuery {
        verdicts,
        text: f.text.clone(),
        since: f.since,
        until: f.until,
        limit: f.limit,
    })
}

/// Lists or exports the history.
pub fn history(args: &HistoryArgs) -> ExitCode {
    let filter = match &args.command {
        HistoryCommand::List(f) | HistoryCommand::Export { filter: f, .. } => f,
    };
    let q = match query(filter) {
        Ok(q) => q,
        Err(code) => return code,
    };
    runtime().block_on(async {
        let wallet = match open_only(&filter.chain).await {
            Ok(w) => w,
            Err(code) => return code,
        };
        match &args.command {
            HistoryCommand::List(_) => match wallet.history_list(&q).await {
                Ok(reports) => {
                    for r in &reports {
                        print(&serde_json::to_value(r).unwrap_or_default());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => wallet_error(&e),
            },
            HistoryCommand::Export { format, output, .. } => {
                let Some(format) = ExportFormat::parse(format) else {
                    return error(
                        "invalid_request",
                        &format!("export format {format:?}: use csv or json"),
                        BAD_INPUT,
                    );
                };
                let text = match wallet.history().export(&q, format).await {
                    Ok(t) => t,
                    Err(e) => return wallet_error(&e),
                };
                match output {
                    Some(path) => match std::fs::write(path, text) {
                        Ok(()) => {
                            print(&json!({"written": path.display().to_string()}));
                            ExitCode::SUCCESS
                        }
                        Err(e) => error(
                            "storage",
                            &format!("cannot write {}: {e}", path.display()),
                            1,
                        ),
                    },
                    None => {
                        print!("{text}");
                        ExitCode::SUCCESS
                    }
                }
            }
        }
    })
}
