//! Tradeseal command-line interface: one subcommand per task, JSON on stdout.

mod decode;
mod issue;
mod keys;
mod node;
mod offline;
mod output;
mod sign;
mod verify;
mod verify_header;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tradeseal command-line interface: the wallet's light node and verification, headless,
/// with JSON on stdout for scripts and integrations.
///
/// Exit codes: 0 the answer is verified; 1 it is not (invalid, fork detected, trust expired,
/// no usable full node, unproven); 2 bad input (unreadable or malformed file, bad argument).
/// Errors print {"error": {"kind", "message"}} on stdout and the message on stderr.
#[derive(Debug, Parser)]
#[command(name = "tradeseal-cli", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify an untrusted CometBFT light block from a trusted one (adjacent or skipping).
    ///
    /// Prints {"verdict": "success" | "not_enough_trust" | "invalid", "reason": ...} and exits
    /// 0 on success, 1 on any other verdict, 2 when a file cannot be read or parsed or an
    /// argument is wrong.
    VerifyHeader(verify_header::Args),
    /// Verify headers from the chain config's checkpoint to the latest, cross-checked with
    /// the witnesses.
    ///
    /// Prints {"status": "synced" | "stale" | "offline" | "fork_detected" | "trust_expired",
    /// "height", "time", "age_secs", "hash", "chain_id", "reason", "fork", "nodes",
    /// "notices"}; exits 0 only when synced.
    Sync(node::ChainArgs),
    /// Print what is stored (the newest verified header, a detected fork), without the
    /// network.
    ///
    /// Prints the same fields as `sync`, with "status": "stored" | "empty" |
    /// "fork_detected" | "trust_expired".
    Status(node::ChainArgs),
    /// Read a registry value proven against a verified header.
    ///
    /// Syncs first, then prints {"key", "key_hex", "exists", "value_hex", "value_base64",
    /// "height", "header_height", "header_time", "app_hash", "node"}: the value (or its
    /// proven absence) in the state after block `height`, proven against the app hash of
    /// verified header `header_height` = height + 1. Exits 1 when no node gives a provable
    /// answer.
    Query(node::QueryArgs),
    /// Manage signing keys: list, create, import (backup words on stdin), import-dev,
    /// rename, delete, export-public.
    ///
    /// Keys live in the OS credential store or in a PKCS#11 token (never in the data
    /// directory, which holds only their metadata). Each subcommand prints JSON; errors print
    /// {"error": {"kind", "message"}} and exit 2. Secrets never go on the command line: backup
    /// words come on stdin, a token's PIN from TRADESEAL_PIN or stdin.
    Keys(keys::Args),
    /// Print the text of every QR code in image files (PNG, JPEG, WebP) and PDFs, ours or
    /// anyone's, through the decoder the app uses.
    ///
    /// Prints one JSON object per file, one per line (JSON Lines), in the order given:
    /// {"file", "codes": ["..."]}, with "sha256" (hex, the document hash) for a PDF, or
    /// {"file", "error": {"kind", "message"}} for a file that cannot be read. Exits 0 when
    /// every file was read (with or without codes), 2 when any could not be.
    Decode(decode::Args),
    /// Sign a registry transaction: check the form against the chain state proven through
    /// the light node, print the review decoded from the exact bytes to sign, ask for
    /// confirmation (or --yes), sign with the key (a token's PIN from TRADESEAL_PIN or
    /// stdin), queue it in the outbox, submit it and wait for the proof.
    ///
    /// Without --yes, prints {"review": {...}} first and reads "yes" from stdin's first line;
    /// a token's PIN is the next line (unless TRADESEAL_PIN is set). Then prints {"review",
    /// "entry", "offline"}. The review: {"action", "summary", "chain_id", "signer",
    /// "signer_label", "sequence", "fields": [{"name", "label", "value"}],
    /// "sign_bytes_sha256", "sign_bytes_hex", "checks", "proven_height"}. The entry: {"id",
    /// "tx_hash", "chain_id", "signer", "key_label", "sequence", "action", "summary",
    /// "state": "pending" | "submitted" | "confirmed" | "failed", "attempts", "created_at",
    /// "updated_at", "submitted_at", "confirmed_at", "height", "code" (the registry's),
    /// "reason", "tx_hex"}. Exits 0 when confirmed by proof (or queued, with --no-submit or
    /// --no-wait), 1 when refused by the chain or not confirmed in time (it stays in the
    /// outbox), 2 for bad input or a form the proven state says the registry would refuse
    /// ({"error": {"kind": "would_be_rejected", "registry_code", "message"}}).
    Sign(sign::SignArgs),
    /// Issue a certificate: check the form, print what will be signed, sign the certificate
    /// and its registration with the issuer's key (as `sign` does: confirmation on stdin or
    /// --yes, a token's PIN from TRADESEAL_PIN or stdin), submit it, wait for the proof, then
    /// write DIR/<serial>.png and .svg (its QR code) and DIR/<serial>.pdf (the printable A4
    /// certificate carrying the code and every field).
    ///
    /// Without --yes, prints {"review": {...}} first (as `sign`). Then prints {"cert_id",
    /// "tx_hash", "state": "confirmed" | "submitted" | "pending" | "failed", "height",
    /// "files": {"png", "svg", "pdf"} | null, "qr_version", "print": {"modules",
    /// "quiet_zone_modules", "module_mm", "side_mm" (recommended printed side, quiet zone
    /// included), "min_side_mm", "png_dpi"}, "payload" (the QR text), "unprintable_fields",
    /// "entry", "offline"}. The files are written only once the registration is confirmed by
    /// proof (or at once with --no-wait). Exits 0 when written, 1 when refused by the chain
    /// ({"error": {"kind": "refused", "registry_code"}}) or not confirmed in time (no files;
    /// `outbox submit`, then `print --payload`), 2 for bad input: a form with fields at fault
    /// ({"error": {"kind": "invalid_form", "fields": [{"field", "reason"}]}}), an attachment
    /// that is not a PDF or over 32 MiB, a form the proven state says the registry would refuse.
    Issue(issue::IssueArgs),
    /// Make the QR code (PNG, SVG) and printable PDF of a certificate signed before, from its
    /// QR text (--payload) or an image or PDF holding its code; no network, nothing signed.
    ///
    /// Prints {"cert_id", "files": {"png", "svg", "pdf"}, "qr_version", "print", "payload",
    /// "unprintable_fields"}. Exits 2 when the input holds no Tradeseal certificate code.
    Print(issue::PrintArgs),
    /// The outbox of signed transactions: list, submit (exactly once, in order, confirmed by
    /// proof), retry or discard a failed one.
    Outbox(sign::OutboxArgs),
    /// The audit log of every signature: export it as JSON or CSV.
    Audit(sign::AuditArgs),
    /// Verify a trade certificate: its QR code in an image or PDF, its QR text (--payload), or
    /// its id (--serial), proven against verified headers. Every verification is kept in the
    /// history. With --offline, or when the network cannot be reached and `offline sync` ran
    /// before, it is judged from the offline knowledge: "evidence.mode" is "offline" and
    /// "evidence.freshness" says {"as_of_height", "as_of_time", "age_secs", "stale",
    /// "warn_after_secs", "registration_checked": false}; `offline recheck` checks it again
    /// online later.
    ///
    /// Prints one JSON object: {"verdict", "reason" (one plain sentence), "certificate_id",
    /// "certificate" (the fields read from the code), "evidence": {"mode": "online" |
    /// "offline", "proven_height", "header_height", "header_time", "proof": "verified" |
    /// "not_needed" | "failed", "nodes", "issuer", "record", "document_sha256",
    /// "document_matches", "mismatch", "not_ours", "cannot_verify", "detail", "freshness",
    /// "facts": {"issuer_name", "id_only", "mismatches" (every part that differs),
    /// "revocation" (reason, time, height, revoker, note), "issuer_standing", "expires_at",
    /// "issued_at", "unregistrable"}: what the sentence says, as data}, "source", "file",
    /// "checked_at", "history_id", "recheck"}.
    ///
    /// Exit code per verdict: 0 valid, 10 revoked, 11 expired, 12 not_yet_valid, 13
    /// unknown_issuer, 14 issuer_removed, 15 issuer_suspended, 16 not_registered, 17
    /// tampered, 18 not_ours, 20 cannot_verify (no network, node lying, fork detected, trust
    /// expired, offline data missing or too old: "evidence.cannot_verify" says which). 2: bad
    /// input (an unreadable file, a file with no QR code, a malformed id), with {"error":
    /// {"kind", "message"}}; nothing is kept.
    Verify(verify::Args),
    /// The history of verifications: list (JSON Lines) or export (CSV or JSON), filtered by
    /// verdict, text and time.
    History(verify::HistoryArgs),
    /// The offline knowledge (issuer registry and revocation log, proven): sync, status,
    /// recheck.
    Offline(offline::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::VerifyHeader(args) => verify_header::run(&args),
        Command::Sync(args) => node::sync(&args),
        Command::Status(args) => node::status(&args),
        Command::Query(args) => node::query(&args),
        Command::Decode(args) => decode::run(&args),
        Command::Keys(args) => keys::run(&args),
        Command::Sign(args) => sign::sign(&args),
        Command::Issue(args) => issue::issue(&args),
        Command::Print(args) => issue::print_files(&args),
        Command::Outbox(args) => sign::outbox(&args),
        Command::Audit(args) => sign::audit(&args),
        Command::Verify(args) => verify::run(&args),
        Command::History(args) => verify::history(&args),
        Command::Offline(args) => offline::run(&args),
    }
}
