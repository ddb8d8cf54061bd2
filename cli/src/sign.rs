//! `tradeseal-cli sign`, `outbox` and `audit`: signing registry transactions headless, over
//! the wallet's signing service, outbox and audit log (the services the app's Sign page
//! uses). JSON on stdout; errors as {"error": {"kind", "message"}}.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::keys::PIN_ENV;
use crate::output::{default_data_dir, print, runtime, BAD_INPUT};
use tradeseal_wallet::audit::ExportFormat;
use tradeseal_wallet::keystore::{BackendKind, Keystore, KeystoreError, Pin};
use tradeseal_wallet::outbox::{Outbox, OutboxEntry, OutboxState, SubmitReport};
use tradeseal_wallet::signing::{self, Confirmation, Form, SignError};
use tradeseal_wallet::{Wallet, WalletConfig, WalletError};

/// Exit code when the transaction was refused or not confirmed in time.
pub(crate) const NOT_CONFIRMED: u8 = 1;

/// Arguments of `sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The label of the key that signs (see `keys list`).
    #[arg(long, value_name = "L")]
    key: String,
    /// The transaction form, a JSON file: {"type": "inspect", "cert", "agency", "location",
    /// "outcome", "notes", "inspected_at"?} | {"type": "revoke", "cert", "reason", "note"} |
    /// {"type": "propose", "action": {"type": "register_issuer" | "suspend_issuer" |
    /// "reinstate_issuer" | "remove_issuer" | "revoke_certificate", ...} | {"type":
    /// "set_validator", "pub_key" (the validator's ed25519 key: 64 hex digits, or the base64
    /// of CometBFT's priv_validator_key.json or /validators), "power" (0 removes it; at most
    /// 2^40)}, "expires_at"?} | {"type": "approve", "proposal"}.
    #[arg(long, value_name = "FILE.json")]
    tx: PathBuf,
    #[command(flatten)]
    place: Place,
    /// Confirm without asking (the review is still printed first).
    #[arg(long)]
    yes: bool,
    /// Only sign and queue it in the outbox; `outbox submit` sends it later.
    #[arg(long)]
    no_submit: bool,
    /// Submit, but do not wait for the proof of inclusion.
    #[arg(long)]
    no_wait: bool,
    /// How long to wait for the proof, in seconds (it stays in the outbox after that).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
}

/// Where the wallet is, and which chain.
#[derive(Debug, clap::Args)]
pub struct Place {
    /// The chain config (root of trust: chain id, checkpoint, trusting period, nodes): its
    /// JSON file, or an image of its QR code.
    #[arg(long, value_name = "FILE")]
    pub(crate) chain_config: PathBuf,
    /// The wallet's data directory: the key metadata, the outbox and the audit log
    /// (`keys.sqlite`), and the verified headers in `<chain id>/` in it (default: the user's
    /// data directory, `tradeseal-cli` in it; the same as `keys`).
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
}

/// Arguments of `outbox`.
#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    /// The wallet's data directory (as for `sign`).
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: OutboxCommand,
}

#[derive(Debug, clap::Subcommand)]
enum OutboxCommand {
    /// The signed transactions and their states: {"entries": [entry...]} (every chain).
    List,
    /// Submit what is pending, in order per signer, and confirm by proof what is in a
    /// block: {"entries": [entry...] (those it worked on), "offline": reason | null}. Waits
    /// until each is confirmed or failed unless --no-wait. Exits 0 when none failed and
    /// none is left unconfirmed, 1 otherwise.
    Submit {
        /// The chain config (only its chain's transactions are submitted).
        #[arg(long, value_name = "FILE")]
        chain_config: PathBuf,
        /// One pass only.
        #[arg(long)]
        no_wait: bool,
        /// How long to wait, in seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
    },
    /// Put a failed transaction back in the queue (the same signed bytes):
    /// {"entry": entry}.
    Retry {
        /// The entry's id or transaction hash.
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Remove a failed transaction for good (needs --yes): {"discarded": entry}.
    Discard {
        /// The entry's id or transaction hash.
        #[arg(value_name = "ID")]
        id: String,
        /// Confirm.
        #[arg(long)]
        yes: bool,
    },
}

/// Arguments of `audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The wallet's data directory (as for `sign`).
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AuditCommand {
    /// Print the whole audit log. JSON: an array of {"id", "at" (unix seconds), "event"
    /// ("signed" | "sign_failed" | "submitted" | "confirmed" | "failed" | "retried" |
    /// "discarded"), "key_label", "public_key", "chain_id", "action", "summary", "sequence",
    /// "tx_hash", "detail"}. CSV: the same columns, a header line first.
    Export {
        /// `json` or `csv`.
        #[arg(long, value_name = "F", default_value = "json")]
        format: String,
    },
}

pub(crate) fn error(kind: &str, message: &str, code: u8) -> ExitCode {
    print(&json!({"error": {"kind": kind, "message": message}}));
    eprintln!("error: {message}");
    ExitCode::from(code)
}

pub(crate) fn sign_error(e: &SignError) -> ExitCode {
    let mut err = json!({"kind": e.kind(), "message": e.to_string()});
    if let Some(code) = e.registry_code() {
        err["registry_code"] = json!(code);
    }
    if let SignError::Form(f) = e {
        err["field"] = json!(f.field);
    }
    #[cfg(not(any(target_os = "android", target_os = "ios")))]
    if let SignError::Keystore(KeystoreError::WrongPin { retry }) = e {
        err["pin_retry"] = json!(retry);
    }
    print(&json!({ "error": err }));
    eprintln!("error: {e}");
    let code = match e {
        SignError::Wallet(WalletError::Sync(_) | WalletError::Query(_)) => NOT_CONFIRMED,
        SignError::Wallet(WalletError::Storage(_)) => NOT_CONFIRMED,
        _ => BAD_INPUT,
    };
    ExitCode::from(code)
}

pub(crate) fn wallet_error(e: &WalletError) -> ExitCode {
    let (kind, code) = match e {
        WalletError::InvalidRequest(_) => ("invalid_request", BAD_INPUT),
        WalletError::NotConfigured => ("not_configured", BAD_INPUT),
        WalletError::ConfirmationRequired(_) => ("confirmation_required", BAD_INPUT),
        WalletError::Storage(_) => ("storage", NOT_CONFIRMED),
        WalletError::Internal(_) => ("internal", NOT_CONFIRMED),
        WalletError::Sync(_) | WalletError::Query(_) => ("unproven", NOT_CONFIRMED),
    };
    error(kind, &e.to_string(), code)
}

pub(crate) async fn open_wallet(chain_config: &Path, base: &Path) -> Result<Wallet, WalletError> {
    // Its JSON text, or an image of its QR code (as for `sync`).
    let config = tradeseal_wallet::read_config_file(chain_config)?;
    let dir = base.join(config.chain_id.as_str());
    let mut wc = WalletConfig::new(dir.clone(), dir);
    wc.chain_config = Some(chain_config.to_owned());
    let wallet = Wallet::open(wc).await?;
    wallet.start_node(false).await?;
    Ok(wallet)
}

pub(crate) async fn open_store(base: &Path) -> Result<(Keystore, Outbox), KeystoreError> {
    let keystore = Keystore::open(base).await?;
    let outbox = Outbox::new(keystore.database());
    Ok((keystore, outbox))
}

/// One line of stdin, kept in zeroized memory (`None` at its end).
pub(crate) fn stdin_line() -> Option<Zeroizing<String>> {
    let mut line = Zeroizing::new(String::new());
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(Zeroizing::new(line.trim().to_owned())),
    }
}

/// Unless `yes`, asks for `yes` on stdin (the review was shown); then the PIN when `key` is
/// in a token, and signs exactly the reviewed bytes into the outbox.
pub(crate) async fn confirm_and_sign(
    keystore: &Keystore,
    outbox: &Outbox,
    prepared: &signing::Prepared,
    key: &str,
    yes: bool,
) -> Result<OutboxEntry, SignError> {
    if !yes {
        eprintln!("Type yes to sign it with '{key}':");
        let answer = stdin_line();
        if answer.as_deref().map(String::as_str) != Some("yes") {
            return Err(SignError::NotConfirmed(
                "not confirmed: nothing was signed".into(),
            ));
        }
    }
    let pin = pin_for(keystore, key).await?;
    let confirmation = Confirmation::of(&prepared.review);
    signing::sign(keystore, outbox, prepared, &confirmation, pin).await
}

/// Submits what the outbox holds; unless `no_wait`, waits up to `timeout` seconds for `entry`
/// to settle (confirmed by proof or failed). Answers the report and `entry` as it is then.
pub(crate) async fn submit_entry(
    wallet: &Wallet,
    outbox: &Outbox,
    entry: OutboxEntry,
    no_wait: bool,
    timeout: u64,
) -> Result<(SubmitReport, OutboxEntry), WalletError> {
    let report = if no_wait {
        outbox.submit(wallet).await?
    } else {
        let deadline = Instant::now() + Duration::from_secs(timeout);
        outbox
            .submit_until_settled(wallet, &[entry.id], deadline)
            .await?
    };
    let now = report
        .entries
        .iter()
        .find(|e| e.id == entry.id)
        .cloned()
        .unwrap_or(entry);
    Ok((report, now))
}

pub(crate) fn entry_json(e: &OutboxEntry) -> Value {
    serde_json::to_value(e).unwrap_or(Value::Null)
}

fn report_json(r: &SubmitReport) -> Value {
    json!({
        "entries": r.entries.iter().map(entry_json).collect::<Vec<_>>(),
        "offline": r.offline,
    })
}

/// A token key's PIN, from TRADESEAL_PIN or the next line of stdin (none for other keys).
pub(crate) async fn pin_for(keystore: &Keystore, label: &str) -> Result<Option<Pin>, SignError> {
    match keystore.get(label).await? {
        k if k.backend == BackendKind::Pkcs11 => match std::env::var(PIN_ENV) {
            Ok(p) => Ok(Some(Pin::new(p))),
            Err(_) => match stdin_line() {
                Some(p) if !p.is_empty() => Ok(Some(Pin::new(p.to_string()))),
                _ => Err(SignError::Keystore(KeystoreError::PinRequired)),
            },
        },
        _ => Ok(None),
    }
}

/// `sign`.
pub fn sign(args: &SignArgs) -> ExitCode {
    let form = match std::fs::read_to_string(&args.tx) {
        Ok(text) => match Form::from_json(&text) {
            Ok(f) => f,
            Err(e) => return sign_error(&SignError::Form(e)),
        },
        Err(e) => {
            return error(
                "invalid_request",
                &format!("cannot read {}: {e}", args.tx.display()),
                BAD_INPUT,
            )
        }
    };
    let base = args.place.data_dir.clone().unwrap_or_else(default_data_dir);
    runtime().block_on(async {
        let (keystore, outbox) = match open_store(&base).await {
            Ok(s) => s,
            Err(e) => return sign_error(&SignError::Keystore(e)),
        };
        let wallet = match open_wallet(&args.place.chain_config, &base).await {
            Ok(w) => w,
            Err(e) => return wallet_error(&e),
        };
        let code = sign_with(args, &form, &wallet, &keystore, &outbox).await;
        keystore.close().await;
        code
    })
}

async fn sign_with(
    args: &SignArgs,
    form: &Form,
    wallet: &Wallet,
    keystore: &Keystore,
    outbox: &Outbox,
) -> ExitCode {
    let prepared = match signing::prepare(wallet, keystore, outbox, &args.key, form).await {
        Ok(p) => p,
        Err(e) => return sign_error(&e),
    };
    let review = serde_json::to_value(&prepared.review).unwrap_or(Value::Null);
    if !args.yes {
        print(&json!({ "review": review }));
        eprintln!("{}", prepared.review.summary);
    }
    let entry = match confirm_and_sign(keystore, outbox, &prepared, &args.key, args.yes).await {
        Ok(e) => e,
        Err(e) => return sign_error(&e),
    };
    if args.no_submit {
        print(&json!({"review": review, "entry": entry_json(&entry)}));
        return ExitCode::SUCCESS;
    }
    let (report, now) = match submit_entry(wallet, outbox, entry, args.no_wait, args.timeout).await
    {
        Ok(r) => r,
        Err(e) => return wallet_error(&e),
    };
    print(&json!({"review": review, "entry": entry_json(&now), "offline": report.offline}));
    let ok = match now.state {
        OutboxState::Confirmed => true,
        OutboxState::Failed => false,
        OutboxState::Pending | OutboxState::Submitted => args.no_wait,
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(NOT_CONFIRMED)
    }
}

/// `outbox …`.
pub fn outbox(args: &OutboxArgs) -> ExitCode {
    let base = args.data_dir.clone().unwrap_or_else(default_data_dir);
    runtime().block_on(async {
        let (keystore, outbox) = match open_store(&base).await {
            Ok(s) => s,
            Err(e) => return sign_error(&SignError::Keystore(e)),
        };
        let code = outbox_command(&args.command, &base, &outbox).await;
        keystore.close().await;
        code
    })
}

async fn outbox_command(command: &OutboxCommand, base: &Path, outbox: &Outbox) -> ExitCode {
    let done = |v: Result<Value, WalletError>| match v {
        Ok(v) => {
            print(&v);
            ExitCode::SUCCESS
        }
        Err(e) => wallet_error(&e),
    };
    match command {
        OutboxCommand::List => {
            done(outbox.list(None).await.map(
                |entries| json!({"entries": entries.iter().map(entry_json).collect::<Vec<_>>()}),
            ))
        }
        OutboxCommand::Retry { id } => done(
            outbox
                .retry(id)
                .await
                .map(|e| json!({"entry": entry_json(&e)})),
        ),
        OutboxCommand::Discard { id, yes } => done(
            outbox
                .discard(id, *yes)
                .await
                .map(|e| json!({"discarded": entry_json(&e)})),
        ),
        OutboxCommand::Submit {
            chain_config,
            no_wait,
            timeout,
        } => {
            let wallet = match open_wallet(chain_config, base).await {
                Ok(w) => w,
                Err(e) => return wallet_error(&e),
            };
            let result = if *no_wait {
                outbox.submit(&wallet).await
            } else {
                let deadline = Instant::now() + Duration::from_secs(*timeout);
                outbox.submit_until_settled(&wallet, &[], deadline).await
            };
            match result {
                Ok(r) => {
                    print(&report_json(&r));
                    let settled_ok = r.entries.iter().all(|e| e.state == OutboxState::Confirmed);
                    if settled_ok
                        || (*no_wait && r.entries.iter().all(|e| e.state != OutboxState::Failed))
                    {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(NOT_CONFIRMED)
                    }
                }
                Err(e) => wallet_error(&e),
            }
        }
    }
}

/// `audit …`.
pub fn audit(args: &AuditArgs) -> ExitCode {
    let base = args.data_dir.clone().unwrap_or_else(default_data_dir);
    let AuditCommand::Export { format } = &args.command;
    let Some(format) = ExportFormat::parse(format) else {
        return error(
            "invalid_request",
            &format!("unknown format '{format}': json or csv"),
            BAD_INPUT,
        );
    };
    runtime().block_on(async {
        let (keystore, outbox) = match open_store(&base).await {
            Ok(s) => s,
            Err(e) => return sign_error(&SignError::Keystore(e)),
        };
        let result = outbox.audit().export(format).await;
        keystore.close().await;
        match result {
            Ok(text) => {
                print!("{text}");
                if format == ExportFormat::Json {
                    println!();
                }
                ExitCode::SUCCESS
            }
            Err(e) => wallet_error(&e),
        }
    })
}
