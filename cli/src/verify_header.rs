//! `tradeseal-cli verify-header`: verify one light block from another, print the verdict.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use light_client::config::parse_duration;
use light_client::{
    parse_light_block, validate_light_block, ChainConfig, LightBlock, Options, Time, TrustLevel,
    TrustedState, Verdict, Verifier,
};
use serde::Serialize;
use serde_json::{json, Value};

/// Arguments of `verify-header`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The trusted light block (CometBFT RPC JSON: `{"result": {"header", "commit",
    /// "validator_set"}}` or `{"signed_header", "validator_set", "next_validator_set"}`).
    #[arg(long, value_name = "FILE")]
    trusted: PathBuf,
    /// The light block to verify, in the same shapes.
    #[arg(long, value_name = "FILE")]
    untrusted: PathBuf,
    /// The current time, RFC 3339 (`2023-09-06T14:20:00Z`).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    now: Time,
    /// Take the trusting period, trust level and clock drift from this chain config (the
    /// flags below override it).
    #[arg(long, value_name = "FILE")]
    chain_config: Option<PathBuf>,
    /// How long the trusted header stays trusted (`21d`, `336h`, `1814400s`; default: the
    /// chain config's, else 21 days).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    trusting_period: Option<Duration>,
    /// Share of the trusted validator set that must sign when skipping (default: the chain
    /// config's, else 1/3).
    #[arg(long, value_name = "N/D", value_parser = parse_trust_level)]
    trust_level: Option<TrustLevel>,
    /// Allowed clock drift for header times (default: the chain config's, else 10s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg)]
    clock_drift: Option<Duration>,
}

fn parse_time(s: &str) -> Result<Time, String> {
    Time::parse_rfc3339(s).map_err(|e| e.to_string())
}

fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.to_string())
}

fn parse_trust_level(s: &str) -> Result<TrustLevel, String> {
    s.parse()
        .map_err(|e: light_client::ConfigError| e.to_string())
}

/// The printed result: `verdict` first, then `reason` (`null` on success).
#[derive(Debug, Serialize)]
struct Output {
    verdict: String,
    reason: Value,
}

/// The JSON printed for a verdict.
fn verdict_json(verdict: &Verdict) -> Value {
    let reason = match verdict {
        Verdict::Success => Value::Null,
        Verdict::NotEnoughTrust(t) => json!({
            "kind": "not_enough_trust",
            "message": format!(
                "validators of the trusted set with {} of {} voting power signed; more than {} needed",
                t.tallied, t.total, t.needed
            ),
            "tallied": t.tallied,
            "total": t.total,
            "needed": t.needed,
        }),
        Verdict::Invalid(e) => json!({"kind": e.kind(), "message": e.to_string()}),
    };
    json!({"verdict": verdict.kind(), "reason": reason})
}

fn invalid(kind: &str, message: &str) -> Value {
    json!({"verdict": "invalid", "reason": {"kind": kind, "message": message}})
}

/// Input that cannot be read or parsed: bad input (exit 2), not a forged block.
#[derive(Debug)]
struct BadInput {
    kind: &'static str,
    message: String,
}

fn load(role: &str, path: &Path) -> Result<LightBlock, BadInput> {
    let text = std::fs::read_to_string(path).map_err(|e| BadInput {
        kind: "unreadable_input",
        message: format!("cannot read the {role} block {}: {e}", path.display()),
    })?;
    parse_light_block(&text).map_err(|e| BadInput {
        kind: "malformed_input",
        message: format!("{role} block {}: {e}", path.display()),
    })
}

fn options(args: &Args) -> Result<Options, BadInput> {
    let mut options = Options::default();
    if let Some(path) = &args.chain_config {
        let config = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| ChainConfig::from_json(&t).map_err(|e| e.to_string()))
            .map_err(|e| BadInput {
                kind: "malformed_input",
                message: format!("chain config {}: {e}", path.display()),
            })?;
        options = Options {
            trust_level: config.trust_level,
            trusting_period: config.trusting_period,
            max_clock_drift: config.max_clock_drift,
        };
    }
    if let Some(p) = args.trusting_period {
        options.trusting_period = p;
    }
    if let Some(t) = args.trust_level {
        options.trust_level = t;
    }
    if let Some(d) = args.clock_drift {
        options.max_clock_drift = d;
    }
    Ok(options)
}

fn evaluate(args: &Args) -> Result<Value, BadInput> {
    let options = options(args)?;
    let trusted = load("trusted", &args.trusted)?;
    let untrusted = load("untrusted", &args.untrusted)?;
    if let Err(e) = validate_light_block(&trusted) {
        return Ok(invalid(
            "invalid_trusted_block",
            &format!("trusted block: {e}"),
        ));
    }
    let Some(state) = TrustedState::from_light_block(&trusted) else {
        return Ok(invalid(
            "missing_trusted_next_validators",
            "the trusted block has no next_validator_set and its next validators differ from \
             its validators",
        ));
    };
    let verdict = Verifier::new().verify_update_header(&untrusted, state, &options, args.now);
    Ok(verdict_json(&verdict))
}

/// Runs the subcommand; the exit code is 0 only for a `success` verdict.
pub fn run(args: &Args) -> ExitCode {
    match evaluate(args) {
        Ok(v) => {
            let out = Output {
                verdict: v["verdict"].as_str().unwrap_or("invalid").to_owned(),
                reason: v["reason"].clone(),
            };
            println!("{}", serde_json::to_string(&out).unwrap_or_default());
            if out.verdict == "success" {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            let out = json!({"error": {"kind": e.kind, "message": e.message}});
            println!("{out}");
            eprintln!("error: {}", e.message);
            ExitCode::from(2)
        }
    }
}
