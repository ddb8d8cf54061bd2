//! Certificate verification as the UI, the CLI and integrators see it: what to verify, the
//! verdict with its plain-language reason and evidence, and the history of verifications.
//!
//! The names here are an interface (the CLI prints them as JSON): keep them stable, add new
//! fields rather than rename.

use serde::{Deserialize, Serialize};

/// Declares a `snake_case` serde enum with its stable names ([`as_str`](Mode::as_str)) and
/// [`parse`](Mode::parse): the names are what the CLI prints and the history stores.
macro_rules! named {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $v:ident = $s:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $v,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$v),*];

            /// The stable name (as in JSON).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$v => $s,)*
                }
            }

            /// The value with this stable name.
            pub fn parse(name: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == name)
            }
        }
    };
}

named! {
    /// Where a payload came from.
    Origin {
        /// Read by the app's camera scanner.
        Camera = "camera",
        /// Pasted or typed by the user.
        Paste = "paste",
        /// Given by a program (the CLI's `--payload`, a hand scanner).
        Payload = "payload",
    }
}

named! {
    /// What was verified.
    Source {
        /// A code read by the camera.
        Camera = "camera",
        /// A code pasted or typed.
        Paste = "paste",
        /// A code given by a program.
        Payload = "payload",
        /// An image file.
        Image = "image",
        /// A PDF file.
        Pdf = "pdf",
        /// A certificate id typed in.
        Serial = "serial",
    }
}

named! {
    /// How the verdict was reached.
    Mode {
        /// Proven now against verified headers.
        Online = "online",
        /// From local knowledge proven earlier.
        Offline = "offline",
    }
}

named! {
    /// Whether the values the verdict rests on were proven.
    ProofStatus {
        /// Both values proven against a verified header.
        Verified = "verified",
        /// Nothing to prove (the code is not ours).
        NotNeeded = "not_needed",
        /// Not proven: see [`Evidence::cannot_verify`].
        Failed = "failed",
    }
}

named! {
    /// For TAMPERED: what differs.
    Mismatch {
        /// The issuer's signature does not match the text.
        Signature = "signature",
        /// The chain's record has another content hash.
        Content = "content",
        /// The chain's record has another kind.
        Kind = "kind",
        /// The chain's record has other dates.
        Dates = "dates",
        /// The chain's record names another document hash.
        DocumentHash = "document_hash",
        /// The document given is not the certificate's.
        Document = "document",
    }
}

named! {
    /// For NOT A TRADESEAL CODE: what the code was.
    NotOurs {
        /// Another scheme, a URL, random text.
        Foreign = "foreign",
        /// A Tradeseal code of a newer version.
        NewerVersion = "newer_version",
        /// A Tradeseal code, damaged or truncated.
        Damaged = "damaged",
        /// Longer than any Tradeseal code.
        TooLong = "too_long",
        /// Nothing.
        Empty = "empty",
    }
}

named! {
    /// For an offline NOT REGISTERED: why the registry would never have registered it.
    Unregistrable {
        /// The issuer may not issue this kind of certificate.
        KindNotAllowed = "kind_not_allowed",
        /// It is dated outside the period in which its issuer may issue.
        OutsideIssuerValidity = "outside_issuer_validity",
    }
}

named! {
    /// For CANNOT VERIFY: why the wallet cannot know.
    CannotVerify {
        /// No node could be reached.
        NoNetwork = "no_network",
        /// The nodes that answered gave answers that failed their checks.
        NodeLying = "node_lying",
        /// A fork was detected: nothing new is trusted.
        ForkDetected = "fork_detected",
        /// The last trusted header is older than the trusting period.
        TrustExpired = "trust_expired",
        /// No network is set up.
        NotConfigured = "not_configured",
        /// Offline verification has no proven registry to judge from (never synced, or a
        /// certificate id typed in that the local revocation log does not name).
        OfflineDataMissing = "offline_data_missing",
        /// The local knowledge is older than the chain's trusting period: too old to vouch for.
        OfflineDataTooOld = "offline_data_too_old",
    }
}

named! {
    /// The format of a history export.
    ExportFormat {
        /// RFC 4180 CSV.
        Csv = "csv",
        /// A JSON array of reports.
        Json = "json",
    }
}

/// What to verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum VerifyInput {
    /// A scanned or pasted payload (`TS1:...`, or anything a QR code held).
    Payload {
        /// The text.
        text: String,
        /// Where it came from.
        origin: Origin,
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

named! {
    /// The verdict. The names are what the CLI prints.
    Verdict {
        /// Genuine, registered with this content, not revoked, issuer in good standing, in date.
        Valid = "valid",
        /// Revoked by its issuer or by governance.
        Revoked = "revoked",
        /// Past its expiry date.
        Expired = "expired",
        /// Dated in the future (check the device's clock).
        NotYetValid = "not_yet_valid",
        /// The issuer is not in the registry.
        UnknownIssuer = "unknown_issuer",
        /// Governance removed the issuer (e.g. its key was compromised).
        IssuerRemoved = "issuer_removed",
        /// Governance suspended the issuer.
        IssuerSuspended = "issuer_suspended",
        /// Signed by its issuer but not on the chain.
        NotRegistered = "not_registered",
        /// Altered or forged: the text, its record or its document disagree.
        Tampered = "tampered",
        /// Not a Tradeseal certificate code (a URL, another QR code, a damaged or newer code).
        NotOurs = "not_ours",
        /// The wallet cannot know now (no network, a lying node, a fork, trust expired).
        CannotVerify = "cannot_verify",
    }
}

impl Verdict {
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Online (proven now against verified headers) or offline (local knowledge).
    pub mode: Mode,
    /// The state height the proofs are for.
    pub proven_height: Option<u64>,
    /// The verified header whose app hash the proofs check against.
    pub header_height: Option<u64>,
    /// That header's time (RFC 3339).
    pub header_time: Option<String>,
    /// Whether both values were proven.
    pub proof: ProofStatus,
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
    /// For `tampered`: what differs.
    pub mismatch: Option<Mismatch>,
    /// For `not_ours`: what the code was.
    pub not_ours: Option<NotOurs>,
    /// For `cannot_verify`: why.
    pub cannot_verify: Option<CannotVerify>,
    /// The technical detail behind `cannot_verify` or `not_ours`.
    pub detail: Option<String>,
    /// For offline verdicts: how fresh the local knowledge is.
    pub freshness: Option<Freshness>,
    /// The facts the verdict's sentence states, structured, so that a UI can say it in its
    /// own language (`reason` is the wallet's English sentence of them). `None` in reports
    /// kept before it existed.
    #[serde(default)]
    pub facts: Option<Facts>,
}

/// The facts a verdict's sentence states (see [`Evidence::facts`]); each is set for the
/// verdicts it is about, and left empty for the others.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    /// The issuer as the sentence names it: its legal name when its record is known, else the
    /// issuer id the certificate names.
    #[serde(default)]
    pub issuer_name: Option<String>,
    /// Judged by the certificate id alone (a serial typed in): the verdict speaks of the
    /// chain's record, not of a paper in hand.
    #[serde(default)]
    pub id_only: bool,
    /// For `tampered`: every part that differs, in the order they are checked
    /// ([`Evidence::mismatch`] is the first of them).
    #[serde(default)]
    pub mismatches: Vec<Mismatch>,
    /// For `revoked`: the revocation, online from the record, offline from the proven
    /// revocation log.
    #[serde(default)]
    pub revocation: Option<RevocationFacts>,
    /// For `issuer_removed` and `issuer_suspended`: the issuer's standing.
    #[serde(default)]
    pub issuer_standing: Option<IssuerStanding>,
    /// For `expired`: the expiry (unix seconds, exclusive).
    #[serde(default)]
    pub expires_at: Option<u64>,
    /// For `not_yet_valid`: the issue time (unix seconds).
    #[serde(default)]
    pub issued_at: Option<u64>,
    /// For an offline `not_registered`: why the registry would never have registered it.
    #[serde(default)]
    pub unregistrable: Option<Unregistrable>,
}

/// A revocation as a verdict states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationFacts {
    /// The reason (`issued_in_error`, `superseded`, `cancelled`, `fraudulent`,
    /// `key_compromise`, `other`).
    pub reason: String,
    /// Block time of the revocation (unix seconds).
    pub time: u64,
    /// Its block.
    pub height: u64,
    /// `issuer` or `governance`; `None` offline (the revocation log does not say).
    #[serde(default)]
    pub by: Option<String>,
    /// The note given with it, if any (the revoker's words, in their language).
    #[serde(default)]
    pub note: Option<String>,
}

/// An issuer's standing as a verdict states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerStanding {
    /// `active`, `suspended` or `removed`.
    pub status: String,
    /// Since when (block time, unix seconds).
    pub since: u64,
    /// The reason governance gave, if any (its words, in its language).
    #[serde(default)]
    pub reason: Option<String>,
}

/// How fresh the local knowledge behind an offline verdict is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freshness {
    /// The state height it was proven at.
    pub as_of_height: u64,
    /// That block's time (unix seconds).
    pub as_of_time: u64,
    /// How old it was when used (seconds, by the device's clock).
    pub age_secs: u64,
    /// Past the warning age the user set: the verdict carries a loud warning.
    pub stale: bool,
    /// The warning age (seconds).
    pub warn_after_secs: u64,
    /// Offline, whether the certificate was registered cannot be known: always `false`.
    pub registration_checked: bool,
}

/// A later online check of an offline verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recheck {
    /// When (unix seconds).
    pub checked_at: u64,
    /// The online verdict.
    pub verdict: Verdict,
    /// Whether it differs from the offline one.
    pub changed: bool,
    /// The online report's number in the history.
    pub history_id: i64,
}

/// The proven offline knowledge on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineStatus {
    /// The chain it is for.
    pub chain_id: String,
    /// The state height it was proven at.
    pub height: u64,
    /// That block's time (unix seconds).
    pub time: u64,
    /// Its age now (seconds).
    pub age_secs: u64,
    /// Past the warning age.
    pub stale: bool,
    /// Past the chain's trusting period: offline verdicts are not given.
    pub too_old: bool,
    /// Issuers known.
    pub issuers: u64,
    /// Revocations known (the whole revocation log up to `height`).
    pub revocations: u64,
    /// Issuer changes known (the whole issuer log up to `height`).
    pub issuer_changes: u64,
    /// When this device last synced it (unix seconds, its clock).
    pub synced_at: u64,
}

/// What one offline sync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineSync {
    /// The knowledge now.
    pub status: OfflineStatus,
    /// The height it was at before (0: none).
    pub previous_height: u64,
    /// Revocation log entries fetched and proven.
    pub new_revocations: u64,
    /// Issuer log entries fetched and proven.
    pub new_issuer_changes: u64,
    /// Issuer records fetched and proven.
    pub issuers_fetched: u64,
    /// Values proven in all.
    pub proofs: u64,
    /// How long it took (milliseconds).
    pub took_ms: u64,
}

/// One round of the app's background upkeep of the offline knowledge (the `offline-update`
/// event): made while the light node is online (synced or stale), at start and periodically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineUpdate {
    /// The offline knowledge after the round (`None`: never synced).
    pub status: Option<OfflineStatus>,
    /// Whether the round synced the knowledge.
    pub synced: bool,
    /// Offline verdicts checked again online in this round.
    pub rechecked: u32,
    /// How many of those the online check changed.
    pub changed: u32,
    /// What failed in the round, if anything (the knowledge kept is in `status`).
    pub error: Option<crate::ApiError>,
}

impl Evidence {
    /// Evidence of this mode and proof status, with nothing else known yet.
    pub fn new(mode: Mode, proof: ProofStatus) -> Evidence {
        Evidence {
            mode,
            proven_height: None,
            header_height: None,
            header_time: None,
            proof,
            nodes: Vec::new(),
            issuer: None,
            record: None,
            document_sha256: None,
            document_matches: None,
            mismatch: None,
            not_ours: None,
            cannot_verify: None,
            detail: None,
            freshness: None,
            facts: None,
        }
    }
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
    /// What was verified.
    pub source: Source,
    /// The file's name, for images and PDFs.
    pub file: Option<String>,
    /// When it was checked (unix seconds, the device's clock).
    pub checked_at: u64,
    /// Its number in the history (0 when not kept).
    pub history_id: i64,
    /// For an offline verdict: its online re-check, once made.
    #[serde(default)]
    pub recheck: Option<Recheck>,
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
    /// CSV or JSON.
    pub format: ExportFormat,
    /// The filter.
    pub query: HistoryQuery,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names scripts read: serde's JSON name is the stable name, and parses back.
    #[test]
    fn json_names_are_the_stable_names() {
        fn check<T: Serialize + Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            name: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), name(v));
                assert_eq!(parse(name(v)), Some(v));
            }
        }
        check(Verdict::ALL, Verdict::as_str, Verdict::parse);
        check(Mode::ALL, Mode::as_str, Mode::parse);
        check(ProofStatus::ALL, ProofStatus::as_str, ProofStatus::parse);
        check(Mismatch::ALL, Mismatch::as_str, Mismatch::parse);
        check(NotOurs::ALL, NotOurs::as_str, NotOurs::parse);
        check(
            Unregistrable::ALL,
            Unregistrable::as_str,
            Unregistrable::parse,
        );
        check(CannotVerify::ALL, CannotVerify::as_str, CannotVerify::parse);
        check(Source::ALL, Source::as_str, Source::parse);
        check(Origin::ALL, Origin::as_str, Origin::parse);
        check(ExportFormat::ALL, ExportFormat::as_str, ExportFormat::parse);
        assert_eq!(Verdict::ALL.len(), 11);
        assert_eq!(Verdict::CannotVerify.exit_code(), 20);
    }
}
