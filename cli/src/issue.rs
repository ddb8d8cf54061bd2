//! `tradeseal-cli issue` and `print`: issuing a certificate headless (the form checked, the
//! review of what will be signed, the certificate and its transaction signed by the key
//! through the signing service `sign` uses, queued, submitted and confirmed by proof), then
//! its QR code (PNG, SVG) and printable PDF written; `print` makes the same files from a
//! payload signed before. JSON on stdout; errors as {"error": {"kind", "message"}}.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{json, Value};
use tradeseal_wallet::issuance::{self, Artefacts, FormErrors, IssuanceError, IssueForm};
use tradeseal_wallet::outbox::OutboxState;
use tradeseal_wallet::signing::{self, unix_now, SignError};

use crate::output::{default_data_dir, print, runtime, BAD_INPUT};
use crate::sign::{
    confirm_and_sign, entry_json, error, open_store, open_wallet, sign_error, submit_entry,
    wallet_error, Place, NOT_CONFIRMED,
};

/// Arguments of `issue`.
#[derive(Debug, clap::Args)]
pub struct IssueArgs {
    /// The label of the issuer's key that signs (see `keys list`).
    #[arg(long, value_name = "L")]
    key: String,
    /// The certificate form, a JSON file: {"kind", "issuer", "serial", "exporter": {"name",
    /// "country", "identifier"?}, "importer": {...}, "goods": {"description", "hs_code",
    /// "quantity", "unit"}, "origin", "destination", "issued_at"? (default now),
    /// "expires_at" | "valid_days", "transport"?, "invoice"?, "remarks"?,
    /// "document_sha256"?}. Times are unix seconds, "YYYY-MM-DD" (an expiry date is the last
    /// valid day, UTC) or "YYYY-MM-DDTHH:MM:SSZ"; country codes ISO 3166-1 alpha-2; kinds
    /// certificate_of_origin, phytosanitary, veterinary, import_licence, export_licence,
    /// permit, conformity, fumigation, aeo_authorisation.
    #[arg(long, value_name = "FILE.json")]
    form: PathBuf,
    /// The certificate's document, a PDF (at most 32 MiB): its SHA-256 is recorded in the
    /// certificate, and a verifier given the document checks it.
    #[arg(long, value_name = "F.pdf")]
    attachment: Option<PathBuf>,
    /// Where to write <serial>.png, <serial>.svg and <serial>.pdf (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    place: Place,
    /// Confirm without asking (the review is still printed on stderr).
    #[arg(long)]
    yes: bool,
    /// Submit, but do not wait for the proof; the files are written at once.
    #[arg(long)]
    no_wait: bool,
    /// How long to wait for the proof, in seconds (it stays in the outbox after that).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
}

/// Arguments of `print`.
#[derive(Debug, clap::Args)]
pub struct PrintArgs {
    /// An image or PDF holding the certificate's QR code (the first Tradeseal code in it).
    #[arg(
        value_name = "IMAGE_OR_PDF",
        required_unless_present = "payload",
        conflicts_with = "payload"
    )]
    file: Option<PathBuf>,
    /// The QR payload text (`TS1:...`).
    #[arg(long, value_name = "TEXT")]
    payload: Option<String>,
    /// Where to write <serial>.png, <serial>.svg and <serial>.pdf.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The registry's chain id, printed on the page.
    #[arg(long, value_name = "ID")]
    chain_id: Option<String>,
}

fn form_error(e: &FormErrors) -> ExitCode {
    let fields: Vec<Value> =
        e.0.iter()
            .map(|f| json!({"field": f.field, "reason": f.reason}))
            .collect();
    print(&json!({"error": {"kind": "invalid_form", "message": e.to_string(), "fields": fields}}));
    for f in &e.0 {
        eprintln!("error: {f}");
    }
    ExitCode::from(BAD_INPUT)
}

fn issuance_error(e: &IssuanceError) -> ExitCode {
    match e {
        IssuanceError::Form(f) => form_error(f),
        IssuanceError::Io { .. } | IssuanceError::Pdf(_) => {
            error(e.kind(), &e.to_string(), NOT_CONFIRMED)
        }
        _ => error(e.kind(), &e.to_string(), BAD_INPUT),
    }
}

/// The JSON fields that describe the artefacts (and their files, once written).
fn artefacts_json(a: &Artefacts, files: Option<&issuance::WrittenFiles>) -> Value {
    json!({
        "cert_id": a.certificate.certificate.id.to_string(),
        "qr_version": a.qr_version,
        "print": a.print,
        "payload": a.payload,
        "unprintable_fields": a.unprintable_fields,
        "files": files,
    })
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

/// `issue`.
pub fn issue(args: &IssueArgs) -> ExitCode {
    let form = match std::fs::read_to_string(&args.form) {
        Ok(text) => match IssueForm::from_json(&text) {
            Ok(f) => f,
            Err(e) => return form_error(&e),
        },
        Err(e) => {
            return error(
                "invalid_request",
                &format!("cannot read {}: {e}", args.form.display()),
                BAD_INPUT,
            )
        }
    };
    let attachment = match &args.attachment {
        Some(path) => match issuance::form::read_attachment(path) {
            Ok(bytes) => Some(bytes),
            Err(e) => return form_error(&FormErrors(vec![e])),
        },
        None => None,
    };
    let certificate = match form.to_certificate(unix_now(), attachment.as_deref()) {
        Ok(c) => c,
        Err(e) => return form_error(&e),
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
        let code = issue_with(args, certificate, &wallet, &keystore, &outbox).await;
        keystore.close().await;
        code
    })
}

async fn issue_with(
    args: &IssueArgs,
    certificate: registry::Certificate,
    wallet: &tradeseal_wallet::Wallet,
    keystore: &tradeseal_wallet::keystore::Keystore,
    outbox: &tradeseal_wallet::outbox::Outbox,
) -> ExitCode {
    let form = issuance::issue_form(certificate);
    let prepared = match signing::prepare(wallet, keystore, outbox, &args.key, &form).await {
        Ok(p) => p,
        Err(e) => return sign_error(&e),
    };
    let review = serde_json::to_value(&prepared.review).unwrap_or(Value::Null);
    eprintln!("{}", prepared.review.summary);
    for f in &prepared.review.fields {
        eprintln!("  {}: {}", f.label, f.value);
    }
    if !args.yes {
        print(&json!({ "review": review }));
    }
    let entry = match confirm_and_sign(keystore, outbox, &prepared, &args.key, args.yes).await {
        Ok(e) => e,
        Err(e) => return sign_error(&e),
    };
    let (report, now) = match submit_entry(wallet, outbox, entry, args.no_wait, args.timeout).await
    {
        Ok(r) => r,
        Err(e) => return wallet_error(&e),
    };
    let signed = match issuance::signed_certificate_of(&now) {
        Ok(s) => s,
        Err(e) => return issuance_error(&e),
    };
    let artefacts = match issuance::artefacts(&signed, Some(&now.chain_id)) {
        Ok(a) => a,
        Err(e) => return issuance_error(&e),
    };
    let head = json!({
        "tx_hash": now.tx_hash,
        "state": now.state,
        "height": now.height,
        "entry": entry_json(&now),
        "offline": report.offline,
    });
    // Printed only once registered (or when asked not to wait): a certificate the chain
    // refused, or has not confirmed yet, is not handed out.
    let write = match now.state {
        OutboxState::Confirmed => true,
        OutboxState::Failed => false,
        OutboxState::Pending | OutboxState::Submitted => args.no_wait,
    };
    if !write {
        let mut out = merge(head, artefacts_json(&artefacts, None));
        if now.state == OutboxState::Failed {
            out["error"] = json!({
                "kind": "refused",
                "message": format!(
                    "the registry refused the certificate: {}",
                    now.reason.clone().unwrap_or_default()
                ),
                "registry_code": now.code,
            });
            eprintln!("error: the registry refused it; no files were written");
        } else {
            eprintln!(
                "not confirmed in time; it stays in the outbox (`outbox submit`), then \
                 `print --payload` makes the files"
            );
        }
        print(&out);
        return ExitCode::from(NOT_CONFIRMED);
    }
    let files = match issuance::write_artefacts(&args.out, &artefacts) {
        Ok(f) => f,
        Err(e) => return issuance_error(&e),
    };
    if !artefacts.unprintable_fields.is_empty() {
        eprintln!(
            "note: {} print with '?' for characters the embedded fonts lack; the QR code \
             carries them exactly",
            artefacts.unprintable_fields.join(", ")
        );
    }
    print(&merge(head, artefacts_json(&artefacts, Some(&files))));
    ExitCode::SUCCESS
}

/// `print`.
pub fn print_files(args: &PrintArgs) -> ExitCode {
    let payload = match (&args.payload, &args.file) {
        (Some(p), _) => p.clone(),
        (None, Some(path)) => match tradeseal_scan::decode_file(path) {
            Ok(scan) => match scan
                .codes
                .into_iter()
                .find(|c| c.text.starts_with(registry::qr::QR_PREFIX))
            {
                Some(code) => code.text,
                None => {
                    return error(
                        "no_code",
                        &format!("{}: no Tradeseal certificate code in it", path.display()),
                        BAD_INPUT,
                    )
                }
            },
            Err(e) => {
                return error(
                    "invalid_request",
                    &format!("{}: {e}", path.display()),
                    BAD_INPUT,
                )
            }
        },
        (None, None) => return error("invalid_request", "give a file or --payload", BAD_INPUT),
    };
    let artefacts = match issuance::artefacts_of_payload(&payload, args.chain_id.as_deref()) {
        Ok(a) => a,
        Err(e) => return issuance_error(&e),
    };
    match issuance::write_artefacts(&args.out, &artefacts) {
        Ok(files) => {
            print(&artefacts_json(&artefacts, Some(&files)));
            ExitCode::SUCCESS
        }
        Err(e) => issuance_error(&e),
    }
}
