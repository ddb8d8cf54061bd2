//! Certificate verification as the UI, the CLI and integrators see it: what to verify, the
//! verdict with its plain-language reason and evidence, and the history of verifications.
//!
//! The names here are an interface (the CLI prints them as JSON): keep them stable, add new
//! fields rather than rename.

use serde::{Deserialize, Serialize};

/// What to verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum VerifyInput {
    /// A scanned or pasted payload (`TS1:...`, or anything a QR code held).
    Payload {
        /// The text.
        text: String,
        /// Where it came from: `camera`, `paste` (free text for the history).
        origin: String,
    },
    /// An image (PNG, JPEG, WebP) or a PDF, base64 of its bytes.
    File {
        /// The file's name as the user chose it (for the history; never a path to open).
        name: String,
        /// The bytes, standard base64.
        base64: String,
    },
    /// A certificate id typed in: `ISSUER/SERIAL`.
    Serial {
        /// The id.
        id: String,
    },
}

/// A file the user chose, as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileData {
    /// Its name as the user chose it (for the history; never a path to open).
    pub name: String,
    /// The bytes, standard base64.
    pub base64: String,
}

/// One camera frame, 8-bit greyscale, row-major.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height` bytes, standard base64.
    pub luma_base64: String,
}

/// A verification request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyRequest {
    /// The certificate: its code, a file holding it, or its id.
    pub input: VerifyInput,
    /// The certificate's document (the PDF attached at issue) to check against the document
    /// hash the certificate names and the chain recorded; a different file is TAMPERED.
    #[serde(default)]
    pub document: Option<FileData>,
    /// Judge from local knowledge only (no network).
    #[serde(default)]
    pub offline: bool,
}

/// The verdict. `snake_case` names are what the CLI prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Genuine, registered with this content, not revoked, issuer in good standing, in date.
    Valid,
    /// Revoked by its issuer or by governance.
    Revoked,
    /// Past its expiry date.
    Expired,
    /// Dated in the future (check the device's clock).
    NotYetValid,
    /// The issuer is not in the registry.
    UnknownIssuer,
    /// Governance removed the issuer (e.g. its key was compromised).
    IssuerRemoved,
    /// Governance suspended the issuer.
    IssuerSuspended,
    /// Signed by its issuer but not on the chain.
    NotRegistered,
    /// Altered or forged: the text, its record or its document disagree.
    Tampered,
    /// Not a Tradeseal certificate code (a URL, another QR code, a damaged or newer code).
    NotOurs,
    /// The wallet cannot know now (no network, a lying node, a fork, trust expired).
    CannotVerify,
}

impl Verdict {
    /// Every verdict, in the order of [`Verdict::exit_code`].
    pub const ALL: [Verdict; 11] = [
        Verdict::Valid,
        Verdict::Revoked,
        Verdict::Expired,
        Verdict::NotYetValid,
        Verdict::UnknownIssuer,
        Verdict::IssuerRemoved,
        Verdict::IssuerSuspended,
        Verdict::NotRegistered,
        Verdict::Tampered,
        Verdict::NotOurs,
        Verdict::CannotVerify,
    ];

    /// The stable name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Revoked => "revoked",
            Verdict::Expired => "expired",
            Verdict::NotYetValid => "not_yet_valid",
            Verdict::UnknownIssuer => "unknown_issuer",
            Verdict::IssuerRemoved => "issuer_removed",
            Verdict::IssuerSuspended => "issuer_suspended",
            Verdict::NotRegistered => "not_registered",
            Verdict::Tampered => "tampered",
            Verdict::NotOurs => "not_ours",
            Verdict::CannotVerify => "cannot_verify",
        }
    }

    /// The verdict with this stable name.
    pub fn parse(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == name)
    }

    /// The CLI's exit code for this verdict (0 valid; 10-20 the others; 1 and 2 are left to
    /// errors and bad input).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Valid => 0,
            Verdict::Revoked => 10,
            Verdict::Expired => 11,
            Verdict::NotYetValid => 12,
            Verdict::UnknownIssuer => 13,
            Verdict::IssuerRemoved => 14,
            Verdict::IssuerSuspended => 15,
            Verdict::NotRegistered => 16,
            Verdict::Tampered => 17,
            Verdict::NotOurs => 18,
            Verdict::CannotVerify => 20,
        }
    }
}

/// The certificate as read from the code (what the holder presents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateView {
    /// `ISSUER/SERIAL`.
    pub id: String,
    /// The issuer id.
    pub issuer: String,
    /// The serial.
    pub serial: String,
    /// The kind (`phytosanitary`, `certificate_of_origin`, ...).
    pub kind: String,
    /// Exporter name and country.
    pub exporter: String,
    /// Importer name and country.
    pub importer: String,
    /// Goods: description, HS code, quantity and unit.
    pub goods: String,
    /// Origin country.
    pub origin: String,
    /// Destination country.
    pub destination: String,
    /// Issue time (unix seconds).
    pub issued_at: u64,
    /// Expiry (unix seconds, exclusive).
    pub expires_at: u64,
    /// Transport, if stated.
    pub transport: Option<String>,
    /// Invoice, if stated.
    pub invoice: Option<String>,
    /// Remarks, if stated.
    pub remarks: Option<String>,
    /// The document's SHA-256 (hex), if it names one.
    pub document_hash: Option<String>,
}

/// The chain's record of the certificate, as proven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordView {
    /// The kind recorded.
    pub kind: String,
    /// The content hash recorded (hex).
    pub content_hash: String,
    /// The document hash recorded (hex), if any.
    pub document_hash: Option<String>,
    /// Issue time recorded.
    pub issued_at: u64,
    /// Expiry recorded.
    pub expires_at: u64,
    /// The block that registered it.
    pub registered_height: u64,
    /// That block's time.
    pub registered_time: u64,
    /// The revocation, if revoked.
    pub revocation: Option<RevocationView>,
}

/// A revocation as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationView {
    /// The reason (`issued_in_error`, `superseded`, `cancelled`, `fraudulent`,
    /// `key_compromise`, `other`).
    pub reason: String,
    /// The note given.
    pub note: String,
    /// Block time of the revocation.
    pub time: u64,
    /// Its block.
    pub height: u64,
    /// `issuer` or `governance`.
    pub by: String,
}

/// The issuer as proven.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerView {
    /// Its id.
    pub id: String,
    /// Its legal name.
    pub legal_name: String,
    /// Its country.
    pub country: String,
    /// `active`, `suspended` or `removed`.
    pub status: String,
    /// Since when (block time).
    pub status_since: u64,
    /// The reason governance gave for the status, if any.
    pub status_reason: String,
}

/// What the verdict rests on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// `online` (proven now against verified headers) or `offline` (local knowledge).
    pub mode: String,
    /// The state height the proofs are for.
    pub proven_height: Option<u64>,
    /// The verified header whose app hash the proofs check against.
    pub header_height: Option<u64>,
    /// That header's time (RFC 3339).
    pub header_time: Option<String>,
    /// `verified` (both values proven), `not_needed` (nothing to prove: not ours), or
    /// `failed` (see `cannot_verify`).
    pub proof: String,
    /// The nodes whose answers were proven.
    pub nodes: Vec<String>,
    /// The issuer record, when proven present.
    pub issuer: Option<IssuerView>,
    /// The certificate record, when proven present.
    pub record: Option<RecordView>,
    /// The SHA-256 (hex) of the document given, or of the PDF scanned.
    pub document_sha256: Option<String>,
    /// Whether that file is the certificate's document (its hash is the one the certificate
    /// names). A printed certificate PDF is usually not: only a document given as such is
    /// judged by it.
    pub document_matches: Option<bool>,
    /// For `tampered`: what differs (`signature`, `content`, `kind`, `dates`,
    /// `document_hash`, `document`).
    pub mismatch: Option<String>,
    /// For `not_ours`: `foreign`, `newer_version`, `damaged`, `too_long`, `empty`.
    pub not_ours: Option<String>,
    /// For `cannot_verify`: `no_network`, `node_lying`, `fork_detected`, `trust_expired`,
    /// `not_configured`, `offline_data_missing`.
    pub cannot_verify: Option<String>,
    /// The technical detail behind `cannot_verify` or `not_ours`.
    pub detail: Option<String>,
}

/// One verification's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence a trader understands.
    pub reason: String,
    /// The certificate id verified (`ISSUER/SERIAL`), from the code or as typed.
    pub certificate_id: Option<String>,
    /// The certificate as read, when the code could be read.
    pub certificate: Option<CertificateView>,
    /// What the verdict rests on.
    pub evidence: Evidence,
    /// What was verified: `camera`, `paste`, `image`, `pdf`, `serial`, `payload`.
    pub source: String,
    /// The file's name, for images and PDFs.
    pub file: Option<String>,
    /// When it was checked (unix seconds, the device's clock).
    pub checked_at: u64,
    /// Its number in the history (0 when not kept).
    pub history_id: i64,
}

/// A filter on the history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Only these verdicts (empty: all).
    #[serde(default)]
    pub verdicts: Vec<Verdict>,
    /// Text to find in the certificate id, issuer, parties, goods or file name.
    #[serde(default)]
    pub text: Option<String>,
    /// Checked at or after (unix seconds).
    #[serde(default)]
    pub since: Option<u64>,
    /// Checked before (unix seconds).
    #[serde(default)]
    pub until: Option<u64>,
    /// At most this many, newest first (default 200).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// An export of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryExport {
    /// `csv` or `json`.
    pub format: String,
    /// The filter.
    pub query: HistoryQuery,
}
