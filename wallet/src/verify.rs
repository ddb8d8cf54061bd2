//! Verifying a certificate: read the input (payload, image, PDF or serial), prove the
//! certificate's record and its issuer's record against one verified header, judge them
//! (`registry::online`), and say it in a sentence with the evidence.
//!
//! The two rules this module keeps: a lying node never yields VALID (every value is proven
//! against a header the light node verified, or the verdict is CANNOT VERIFY), and a failure
//! to reach the network never yields INVALID, REVOKED or NOT REGISTERED (it is CANNOT VERIFY,
//! with why — or, with the network unreachable and offline data on the device, the offline
//! verdict [`offline_judgement`] gives from values proven earlier, saying how old they are).

use base64::Engine as _;
use light_node::{Proven, QueryError, SyncError};
use registry::online::{self, OnlineVerdict, ProvenFacts};
use registry::qr::{self, QrError};
use registry::state::{CertRecord, IssuerRecord, IssuerStatus};
use registry::{keys, Canonical, CertId, SignedCertificate};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use tradeseal_api::{
    CannotVerify, CertificateView, Evidence, Facts, FileData, Frame, Freshness, IssuerStanding,
    IssuerView, Mismatch, Mode, NotOurs, Origin, ProofStatus, RecordView, RevocationFacts,
    RevocationView, Source, Unregistrable, Verdict, VerifyInput, VerifyReport,
};

use crate::WalletError;

/// What the input held, once read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// Something to prove against the chain.
    Subject(Subject),
    /// Something that is not a Tradeseal certificate code.
    NotOurs {
        /// What it was.
        kind: NotOurs,
        /// The technical detail.
        detail: String,
    },
}

/// A certificate code or a certificate id: what is proven and judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A certificate code.
    Certificate {
        /// The signed certificate.
        signed: Box<SignedCertificate>,
        /// The SHA-256 of the PDF it was scanned from, if it came from one (reported, not
        /// judged: a printed certificate is not its own document).
        file_sha256: Option<[u8; 32]>,
    },
    /// A certificate id alone.
    Serial(CertId),
}

impl Subject {
    /// The certificate id to prove.
    pub fn id(&self) -> &CertId {
        match self {
            Subject::Certificate { signed, .. } => &signed.certificate.id,
            Subject::Serial(id) => id,
        }
    }
}

/// Where the input came from, for the report and the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFrom {
    /// What it was.
    pub source: Source,
    /// The file's name, for files.
    pub file: Option<String>,
}

/// Reads what the user gave: decodes the QR code of an image or PDF, parses a payload or an
/// id. A file that cannot be read, or that holds no QR code, is an error (nothing was
/// verified); a code that is not ours is a [`Read::NotOurs`] verdict.
pub fn read_input(input: &VerifyInput) -> Result<(Read, ReadFrom), WalletError> {
    match input {
        VerifyInput::Payload { text, origin } => {
            let source = match origin {
                Origin::Camera => Source::Camera,
                Origin::Paste => Source::Paste,
                Origin::Payload => Source::Payload,
            };
            Ok((
                read_payload(text.trim().as_bytes(), None),
                ReadFrom { source, file: None },
            ))
        }
        VerifyInput::File { name, base64 } => read_file(name, &file_bytes(name, base64)?),
        VerifyInput::Serial { id } => {
            let id = CertId::parse(id.trim()).map_err(|e| {
                WalletError::InvalidRequest(format!(
                    "{:?} is not a certificate id (ISSUER/SERIAL): {e}",
                    id.trim()
                ))
            })?;
            Ok((
                Read::Subject(Subject::Serial(id)),
                ReadFrom {
                    source: Source::Serial,
                    file: None,
                },
            ))
        }
    }
}

/// A file's bytes from base64, within [`tradeseal_scan::MAX_FILE_BYTES`].
pub fn file_bytes(name: &str, base64: &str) -> Result<Vec<u8>, WalletError> {
    let limit = tradeseal_scan::MAX_FILE_BYTES;
    if base64.len() > limit / 3 * 4 + 8 {
        return Err(WalletError::InvalidRequest(format!(
            "{name} is larger than {} MB",
            limit / 1_000_000
        )));
    }
    base64::engine::general_purpose::STANDARD
        .decode(base64.as_bytes())
        .map_err(|e| WalletError::InvalidRequest(format!("{name}: not base64: {e}")))
}

/// The SHA-256 of a document given to check against the certificate.
pub fn document_sha256(doc: &FileData) -> Result<[u8; 32], WalletError> {
    Ok(Sha256::digest(file_bytes(&doc.name, &doc.base64)?).into())
}

/// Reads an image or PDF's bytes (see [`read_input`]).
pub fn read_file(name: &str, bytes: &[u8]) -> Result<(Read, ReadFrom), WalletError> {
    let scan = tradeseal_scan::decode_bytes(bytes)
        .map_err(|e| WalletError::InvalidRequest(format!("{name}: {e}")))?;
    let source = ReadFrom {
        source: if scan.pdf_sha256.is_some() {
            Source::Pdf
        } else {
            Source::Image
        },
        file: Some(name.to_owned()),
    };
    // Ours first: a certificate page may carry other codes (a company's URL).
    let code = scan
        .codes
        .iter()
        .find(|c| c.bytes.starts_with(b"TS"))
        .or_else(|| scan.codes.first())
        .ok_or_else(|| {
            WalletError::InvalidRequest(format!(
                "no QR code found in {name}: hold the code flat, in focus and filling a third of the picture"
            ))
        })?;
    Ok((read_payload(&code.bytes, scan.pdf_sha256), source))
}

fn read_payload(bytes: &[u8], file_sha256: Option<[u8; 32]>) -> Read {
    match qr::decode(bytes) {
        Ok(signed) => Read::Subject(Subject::Certificate {
            signed: Box::new(signed),
            file_sha256,
        }),
        Err(e) => Read::NotOurs {
            kind: match &e {
                QrError::Empty => NotOurs::Empty,
                QrError::TooLong { .. } => NotOurs::TooLong,
                QrError::Foreign => NotOurs::Foreign,
                QrError::UnsupportedVersion(_) => NotOurs::NewerVersion,
                QrError::Base45(_) | QrError::Certificate(_) | QrError::PayloadTooLarge { .. } => {
                    NotOurs::Damaged
                }
            },
            detail: e.to_string(),
        },
    }
}

/// The QR codes' texts in one camera frame (the frame ladder: fast, often nothing).
pub fn scan_frame(frame: &Frame) -> Result<Vec<String>, WalletError> {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let (max_w, max_h) = (
        tradeseal_scan::MAX_SIDE as usize,
        tradeseal_scan::MAX_SIDE as usize,
    );
    if w == 0 || h == 0 || w > max_w || h > max_h {
        return Err(WalletError::InvalidRequest(format!(
            "a frame of {w}x{h} pixels: each side must be 1 to {max_w}"
        )));
    }
    let luma = base64::engine::general_purpose::STANDARD
        .decode(frame.luma_base64.as_bytes())
        .map_err(|e| WalletError::InvalidRequest(format!("frame: not base64: {e}")))?;
    if luma.len() != w * h {
        return Err(WalletError::InvalidRequest(format!(
            "a {w}x{h} frame needs {} bytes, got {}",
            w * h,
            luma.len()
        )));
    }
    Ok(tradeseal_scan::decode_luma(w, h, &luma)
        .into_iter()
        .map(|c| c.text)
        .collect())
}

/// [`scan_frame`] off the async runtime's threads (decoding is CPU work).
pub async fn scan_frame_async(frame: Frame) -> Result<Vec<String>, WalletError> {
    tokio::task::spawn_blocking(move || scan_frame(&frame))
        .await
        .map_err(|e| WalletError::Internal(format!("the frame decoder stopped: {e}")))?
}

/// The proven state a verdict rests on.
#[derive(Debug, Clone)]
pub struct ProvenPair {
    /// `cert/<issuer>/<serial>`.
    pub record: Option<CertRecord>,
    /// `issuer/<id>`.
    pub issuer: Option<IssuerRecord>,
    /// The proofs' height, header and nodes.
    pub cert_proof: Proven,
    /// The issuer proof's node.
    pub issuer_node: String,
}

/// Why a verdict could not be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknowable {
    /// Why.
    pub kind: CannotVerify,
    /// The technical detail.
    pub detail: String,
}

/// Classifies a failure to prove into what the user is told.
pub fn unknowable(e: &WalletError) -> Unknowable {
    let kind = match e {
        WalletError::NotConfigured => CannotVerify::NotConfigured,
        WalletError::Sync(s) | WalletError::Query(QueryError::Sync(s)) => match s {
            SyncError::TrustExpired { .. } => CannotVerify::TrustExpired,
            SyncError::ForkDetected(_) => CannotVerify::ForkDetected,
            _ => CannotVerify::NoNetwork,
        },
        // A node whose answer failed its checks lied; the others were unreachable.
        WalletError::Query(QueryError::Unproven { rejected, .. }) if *rejected > 0 => {
            CannotVerify::NodeLying
        }
        _ => CannotVerify::NoNetwork,
    };
    Unknowable {
        kind,
        detail: e.to_string(),
    }
}

/// Judges what was read against what was proven, at `now` (unix seconds); `document` is the
/// SHA-256 of a document given to check.
pub fn judge(
    subject: &Subject,
    proven: &ProvenPair,
    document: Option<&[u8; 32]>,
    chain_id: &str,
    now: u64,
) -> OnlineVerdict {
    match subject {
        Subject::Certificate { signed, .. } => {
            let facts = ProvenFacts {
                chain_id,
                record: proven.record.as_ref(),
                issuer: proven.issuer.as_ref(),
                now,
            };
            online::judge(signed, &facts, document)
        }
        Subject::Serial(_) => {
            let verdict = online::judge_record(proven.record.as_ref(), proven.issuer.as_ref(), now);
            match (&verdict, document, proven.record.as_ref()) {
                (OnlineVerdict::UnknownIssuer | OnlineVerdict::NotRegistered, _, _)
                | (_, None, _)
                | (_, _, None) => verdict,
                (_, Some(doc), Some(r)) if r.document_hash.as_ref() != Some(doc) => {
                    OnlineVerdict::Tampered {
                        mismatch: online::Mismatch::Document,
                    }
                }
                _ => verdict,
            }
        }
    }
}

/// Decodes a proven value of a known type.
pub fn decode_proven<T: Canonical>(p: &Proven, what: &str) -> Result<Option<T>, WalletError> {
    p.value
        .as_deref()
        .map(T::from_bytes)
        .transpose()
        .map_err(|e| {
            WalletError::InvalidRequest(format!(
                "the chain's {what} at height {} does not decode: {e}",
                p.height.value()
            ))
        })
}

/// The state keys of a certificate and its issuer.
pub fn keys_for(id: &CertId) -> (String, String) {
    let s = |k: Vec<u8>| String::from_utf8_lossy(&k).into_owned();
    (s(keys::cert(id)), s(keys::issuer(&id.issuer)))
}

fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The certificate as the report shows it.
pub fn certificate_view(s: &SignedCertificate) -> CertificateView {
    let c = &s.certificate;
    CertificateView {
        id: c.id.to_string(),
        issuer: c.id.issuer.to_string(),
        serial: c.id.serial.to_string(),
        kind: name(&c.kind),
        exporter: format!("{} ({})", c.exporter.name, c.exporter.country),
        importer: format!("{} ({})", c.importer.name, c.importer.country),
        goods: format!(
            "{} — HS {}, {} {}",
            c.goods.description, c.goods.hs_code, c.goods.quantity, c.goods.unit
        ),
        origin: c.origin.to_string(),
        destination: c.destination.to_string(),
        issued_at: c.issued_at,
        expires_at: c.expires_at,
        transport: c.transport.clone(),
        invoice: c.invoice.clone(),
        remarks: c.remarks.clone(),
        document_hash: c.document_hash.map(hex::encode),
    }
}

fn record_view(r: &CertRecord) -> RecordView {
    RecordView {
        kind: name(&r.kind),
        content_hash: hex::encode(r.content_hash),
        document_hash: r.document_hash.map(hex::encode),
        issued_at: r.issued_at,
        expires_at: r.expires_at,
        registered_height: r.registered_height,
        registered_time: r.registered_time,
        revocation: r.revocation.as_ref().map(|rv| RevocationView {
            reason: name(&rv.reason),
            note: rv.note.clone(),
            time: rv.time,
            height: rv.height,
            by: name(&rv.by),
        }),
    }
}

fn issuer_view(i: &IssuerRecord) -> IssuerView {
    IssuerView {
        id: i.spec.id.to_string(),
        legal_name: i.spec.legal_name.clone(),
        country: i.spec.country.to_string(),
        status: name(&i.status),
        status_since: i.status_since,
        status_reason: i.status_reason.clone(),
    }
}

/// A date as a trader reads it (UTC, day precision).
pub fn day(unix: u64) -> String {
    let t = i64::try_from(unix)
        .ok()
        .and_then(|s| light_client::Time::from_unix(s, 0).ok());
    match t {
        Some(t) => t.to_rfc3339().chars().take(10).collect(),
        None => unix.to_string(),
    }
}

/// An instant as RFC 3339 (UTC).
pub fn instant(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|s| light_client::Time::from_unix(s, 0).ok())
        .map_or_else(|| unix.to_string(), light_client::Time::to_rfc3339)
}

/// A verdict with what it says and rests on; [`Judgement::report`] adds where the input came
/// from and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// One plain sentence.
    pub reason: String,
    /// The certificate id, when one was read.
    pub certificate_id: Option<String>,
    /// The certificate, when a code was read.
    pub certificate: Option<CertificateView>,
    /// The evidence.
    pub evidence: Evidence,
}

impl Judgement {
    /// The report of this judgement of input `from`, checked at `checked_at` (not kept in the
    /// history yet: `history_id` 0).
    pub fn report(self, from: ReadFrom, checked_at: u64) -> VerifyReport {
        VerifyReport {
            verdict: self.verdict,
            reason: self.reason,
            certificate_id: self.certificate_id,
            certificate: self.certificate,
            evidence: self.evidence,
            source: from.source,
            file: from.file,
            checked_at,
            history_id: 0,
            recheck: None,
        }
    }
}

fn mismatch(m: online::Mismatch) -> Mismatch {
    match m {
        online::Mismatch::Signature => Mismatch::Signature,
        online::Mismatch::Content => Mismatch::Content,
        online::Mismatch::Kind => Mismatch::Kind,
        online::Mismatch::Dates => Mismatch::Dates,
        online::Mismatch::DocumentHash => Mismatch::DocumentHash,
        online::Mismatch::Document => Mismatch::Document,
    }
}

/// Every part that differs for a TAMPERED verdict whose first difference is `first`, in the
/// order `registry::online::judge` checks them (so `first` stays first).
fn mismatches(
    subject: &Subject,
    record: Option<&CertRecord>,
    document: Option<&[u8; 32]>,
    first: online::Mismatch,
) -> Vec<Mismatch> {
    let mut all = Vec::new();
    match (subject, record) {
        // The signature failing, nothing else the text says can be compared.
        _ if first == online::Mismatch::Signature => {}
        (Subject::Certificate { signed, .. }, Some(r)) => {
            let c = &signed.certificate;
            let differs = [
                (r.content_hash != c.content_hash(), Mismatch::Content),
                (r.kind != c.kind, Mismatch::Kind),
                (
                    r.issued_at != c.issued_at || r.expires_at != c.expires_at,
                    Mismatch::Dates,
                ),
                (r.document_hash != c.document_hash, Mismatch::DocumentHash),
                (
                    document.is_some_and(|d| c.document_hash.as_ref() != Some(d)),
                    Mismatch::Document,
                ),
            ];
            all.extend(differs.into_iter().filter(|(d, _)| *d).map(|(_, m)| m));
        }
        _ => {}
    }
    let first = mismatch(first);
    if all.first() != Some(&first) {
        all.retain(|m| *m != first);
        all.insert(0, first);
    }
    all
}

fn standing(i: &IssuerRecord) -> IssuerStanding {
    IssuerStanding {
        status: name(&i.status),
        since: i.status_since,
        reason: Some(i.status_reason.clone()).filter(|r| !r.is_empty()),
    }
}

/// The judgement of a proven verdict.
pub fn online_judgement(
    subject: &Subject,
    proven: &ProvenPair,
    document: Option<&[u8; 32]>,
    verdict: &OnlineVerdict,
) -> Judgement {
    let issuer_name = proven
        .issuer
        .as_ref()
        .map(|i| i.spec.legal_name.clone())
        .unwrap_or_else(|| subject.id().issuer.to_string());
    let serial_only = matches!(subject, Subject::Serial(_));
    let mut facts = Facts {
        issuer_name: Some(issuer_name.clone()),
        id_only: serial_only,
        ..Facts::default()
    };
    match verdict {
        OnlineVerdict::Tampered { mismatch } => {
            facts.mismatches = mismatches(subject, proven.record.as_ref(), document, *mismatch);
        }
        OnlineVerdict::Revoked { reason, time, note } => {
            let recorded = proven.record.as_ref().and_then(|r| r.revocation.as_ref());
            facts.revocation = Some(RevocationFacts {
                reason: name(reason),
                time: *time,
                height: recorded.map_or(0, |rv| rv.height),
                by: recorded.map(|rv| name(&rv.by)),
                note: Some(note.clone()).filter(|n| !n.is_empty()),
            });
        }
        OnlineVerdict::IssuerNotActive {
            status,
            since,
            reason,
        } => {
            facts.issuer_standing = Some(IssuerStanding {
                status: name(status),
                since: *since,
                reason: Some(reason.clone()).filter(|r| !r.is_empty()),
            });
        }
        OnlineVerdict::Expired { expires_at } => facts.expires_at = Some(*expires_at),
        OnlineVerdict::NotYetValid { issued_at } => facts.issued_at = Some(*issued_at),
        OnlineVerdict::Valid | OnlineVerdict::UnknownIssuer | OnlineVerdict::NotRegistered => {}
    }
    let (v, reason, mismatch) = match verdict {
        OnlineVerdict::Valid if serial_only => (
            Verdict::Valid,
            format!(
                "A current certificate with this number is registered by {issuer_name}. Compare every detail below with the paper: a number alone does not prove the paper is genuine."
            ),
            None,
        ),
        OnlineVerdict::Valid => (
            Verdict::Valid,
            format!(
                "Genuine: issued by {issuer_name}, registered on the chain exactly as shown, not revoked and in date."
            ),
            None,
        ),
        OnlineVerdict::UnknownIssuer => (
            Verdict::UnknownIssuer,
            "The issuer named on this certificate is not a registered issuer: do not accept it."
                .to_owned(),
            None,
        ),
        OnlineVerdict::NotRegistered => (
            Verdict::NotRegistered,
            format!(
                "{issuer_name} never registered a certificate with this number: do not accept it until the issuer confirms it."
            ),
            None,
        ),
        OnlineVerdict::Tampered { mismatch } => (
            Verdict::Tampered,
            match mismatch {
                online::Mismatch::Signature => "This certificate was altered or forged: its issuer's signature does not match its text. Do not accept it.".to_owned(),
                online::Mismatch::Document => "The document given is not the one this certificate was issued with: it was altered or swapped. Do not accept it.".to_owned(),
                _ => "This certificate does not match what its issuer registered on the chain: do not accept it.".to_owned(),
            },
            Some(self::mismatch(*mismatch)),
        ),
        OnlineVerdict::Revoked { reason, time, note } => {
            let why = name(reason).replace('_', " ");
            let note = if note.is_empty() {
                String::new()
            } else {
                format!(" — {note}")
            };
            let by = match proven.record.as_ref().and_then(|r| r.revocation.as_ref()) {
                Some(rv) if rv.by == registry::state::Revoker::Governance => {
                    "by the registry's governance"
                }
                _ => "by its issuer",
            };
            (
                Verdict::Revoked,
                format!(
                    "Revoked {by} on {}: {why}{note}. It is no longer valid.",
                    day(*time)
                ),
                None,
            )
        }
        OnlineVerdict::IssuerNotActive {
            status,
            since,
            reason,
        } => {
            let (v, what) = match status {
                IssuerStatus::Suspended => (Verdict::IssuerSuspended, "suspended"),
                _ => (Verdict::IssuerRemoved, "removed"),
            };
            let why = if reason.is_empty() {
                String::new()
            } else {
                format!(" ({reason})")
            };
            (
                v,
                format!(
                    "The registry {what} its issuer, {issuer_name}, on {}{why}: its certificates are no longer vouched for. Ask the authority before accepting it.",
                    day(*since)
                ),
                None,
            )
        }
        OnlineVerdict::Expired { expires_at } => (
            Verdict::Expired,
            format!("Expired on {}: it is no longer valid.", day(*expires_at)),
            None,
        ),
        OnlineVerdict::NotYetValid { issued_at } => (
            Verdict::NotYetValid,
            format!(
                "Dated {}, in the future: check this device's date and time, then try again.",
                day(*issued_at)
            ),
            None,
        ),
    };
    let p = &proven.cert_proof;
    let mut nodes = vec![p.node.clone()];
    if proven.issuer_node != p.node {
        nodes.push(proven.issuer_node.clone());
    }
    Judgement {
        verdict: v,
        reason,
        certificate_id: Some(subject.id().to_string()),
        certificate: certificate_of(subject),
        evidence: Evidence {
            proven_height: Some(p.height.value()),
            header_height: Some(p.header_height.value()),
            header_time: Some(p.header_time.to_rfc3339()),
            nodes,
            issuer: proven.issuer.as_ref().map(issuer_view),
            record: proven.record.as_ref().map(record_view),
            document_sha256: document_of(subject, document),
            document_matches: document_matches(subject, proven.record.as_ref(), document),
            mismatch,
            facts: Some(facts),
            ..Evidence::new(Mode::Online, ProofStatus::Verified)
        },
    }
}

fn certificate_of(subject: &Subject) -> Option<CertificateView> {
    match subject {
        Subject::Certificate { signed, .. } => Some(certificate_view(signed)),
        Subject::Serial(_) => None,
    }
}

fn document_of(subject: &Subject, document: Option<&[u8; 32]>) -> Option<String> {
    match (document, subject) {
        (Some(d), _) => Some(hex::encode(d)),
        (None, Subject::Certificate { file_sha256, .. }) => file_sha256.map(hex::encode),
        (None, Subject::Serial(_)) => None,
    }
}

fn document_matches(
    subject: &Subject,
    record: Option<&CertRecord>,
    document: Option<&[u8; 32]>,
) -> Option<bool> {
    let named = match subject {
        Subject::Certificate { signed, .. } => signed.certificate.document_hash,
        Subject::Serial(_) => record.and_then(|r| r.document_hash),
    };
    let given = match (document, subject) {
        (Some(d), _) => *d,
        (None, Subject::Certificate { file_sha256, .. }) => (*file_sha256)?,
        (None, Subject::Serial(_)) => return None,
    };
    Some(named == Some(given))
}

/// The judgement of a code that is not ours.
pub fn not_ours_judgement(kind: NotOurs, detail: &str) -> Judgement {
    let reason = match kind {
        NotOurs::NewerVersion => "This is a Tradeseal code of a newer version: update the app to read it.",
        NotOurs::Damaged | NotOurs::TooLong => "This looks like a Tradeseal code but it is damaged or incomplete: scan it again, or ask for a clean copy.",
        NotOurs::Foreign | NotOurs::Empty => "This is not a Tradeseal certificate code.",
    };
    Judgement {
        verdict: Verdict::NotOurs,
        reason: reason.to_owned(),
        certificate_id: None,
        certificate: None,
        evidence: Evidence {
            not_ours: Some(kind),
            detail: Some(detail.to_owned()),
            facts: Some(Facts::default()),
            ..Evidence::new(Mode::Online, ProofStatus::NotNeeded)
        },
    }
}

/// The judgement when the wallet cannot know.
pub fn cannot_verify_judgement(
    subject: &Subject,
    document: Option<&[u8; 32]>,
    why: &Unknowable,
    mode: Mode,
) -> Judgement {
    let reason = match why.kind {
        CannotVerify::TrustExpired => "Cannot verify: this device has not been in touch with the network for too long to trust it. Import a fresh network configuration from your authority.",
        CannotVerify::ForkDetected => "Cannot verify: the network's nodes disagree about its history (a possible attack). The app trusts nothing new until your IT staff resolve it.",
        CannotVerify::NodeLying => "Cannot verify: the nodes answering gave answers that do not check out. Nothing they said was accepted; try again later or another network node.",
        CannotVerify::NotConfigured => "Cannot verify: no network is set up yet. Import your authority's network configuration first.",
        CannotVerify::OfflineDataMissing => match subject {
            Subject::Serial(_) => "Cannot verify offline: a number alone can only be checked online (offline, only the certificate's code can be checked). Scan its code, or try again when online.",
            Subject::Certificate { .. } => "Cannot verify offline: this device holds no offline data for this network yet. Connect once so it can sync the issuer registry and the revocation log.",
        },
        CannotVerify::OfflineDataTooOld => "Cannot verify offline: this device's offline data is older than the network's trusting period, too old to vouch for anything. Connect to sync it again.",
        CannotVerify::NoNetwork => "Cannot verify: the network cannot be reached. Nothing is known to be wrong with the certificate; try again when online.",
    };
    Judgement {
        verdict: Verdict::CannotVerify,
        reason: reason.to_owned(),
        certificate_id: Some(subject.id().to_string()),
        certificate: certificate_of(subject),
        evidence: Evidence {
            document_sha256: document_of(subject, document),
            cannot_verify: Some(why.kind),
            detail: Some(why.detail.clone()),
            facts: Some(Facts {
                issuer_name: Some(subject.id().issuer.to_string()),
                id_only: matches!(subject, Subject::Serial(_)),
                ..Facts::default()
            }),
            ..Evidence::new(mode, ProofStatus::Failed)
        },
    }
}

/// An age in words ("3 h", "2 days").
pub fn age_words(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs} s"),
        120..=7199 => format!("{} min", secs / 60),
        7200..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}

/// How the offline knowledge is judged fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfflinePolicy {
    /// Past this age (seconds) verdicts carry a loud warning.
    pub warn_after_secs: u64,
    /// Past this age (the chain's trusting period) no verdict is given.
    pub trusting_period_secs: u64,
}

/// The judgement from the device's offline knowledge at `now`: the issuer's signature, the
/// proven issuer registry and revocation log, and the dates. `knowledge` is `None` before
/// the first sync; `why_offline` says why the network was not used, when it was not asked
/// for.
pub fn offline_judgement(
    subject: &Subject,
    knowledge: Option<&crate::offline::Knowledge>,
    document: Option<&[u8; 32]>,
    now: u64,
    policy: OfflinePolicy,
    why_offline: Option<&str>,
) -> Judgement {
    let missing = |detail: &str| {
        cannot_verify_judgement(
            subject,
            document,
            &Unknowable {
                kind: CannotVerify::OfflineDataMissing,
                detail: detail.to_owned(),
            },
            Mode::Offline,
        )
    };
    let Some(k) = knowledge else {
        return missing("no offline data: the device has not synced it yet");
    };
    let age = now.saturating_sub(k.meta.block_time);
    if age >= policy.trusting_period_secs {
        return cannot_verify_judgement(
            subject,
            document,
            &Unknowable {
                kind: CannotVerify::OfflineDataTooOld,
                detail: format!(
                    "the offline data is from block {} ({} old); the trusting period is {}",
                    k.meta.height,
                    age_words(age),
                    age_words(policy.trusting_period_secs)
                ),
            },
            Mode::Offline,
        );
    }
    let id = subject.id();
    let trust = k.snapshot(id);
    let issuer_name = k
        .issuer
        .as_ref()
        .map_or_else(|| id.issuer.to_string(), |i| i.spec.legal_name.clone());
    let mut facts = Facts {
        issuer_name: Some(issuer_name.clone()),
        id_only: matches!(subject, Subject::Serial(_)),
        ..Facts::default()
    };
    let (verdict, mut reason, mismatch) = match subject {
        Subject::Serial(_) => match (&k.issuer, &k.revocation) {
            (None, _) => (
                Verdict::UnknownIssuer,
                "The issuer named is not a registered issuer: do not accept it.".to_owned(),
                None,
            ),
            (Some(_), Some(rv)) => (
                Verdict::Revoked,
                format!(
                    "Revoked on {}: {}. It is no longer valid.",
                    day(rv.time),
                    name(&rv.reason).replace('_', " ")
                ),
                None,
            ),
            (Some(_), None) => return missing(
                "the revocation log does not name it, and a number alone cannot be judged offline",
            ),
        },
        Subject::Certificate { signed, .. } => {
            let r = registry::offline::verify_signed(signed, &trust, now);
            let doc_differs =
                document.is_some_and(|d| signed.certificate.document_hash != Some(*d));
            use registry::offline::Verdict as V;
            match r.verdict {
                V::UnknownIssuer => (
                    Verdict::UnknownIssuer,
                    "The issuer named on this certificate is not a registered issuer: do not accept it.".to_owned(),
                    None,
                ),
                V::Tampered | V::Malformed { .. } => (
                    Verdict::Tampered,
                    "This certificate was altered or forged: its issuer's signature does not match its text. Do not accept it.".to_owned(),
                    Some(Mismatch::Signature),
                ),
                _ if doc_differs => (
                    Verdict::Tampered,
                    "The document given is not the one this certificate was issued with: it was altered or swapped. Do not accept it.".to_owned(),
                    Some(Mismatch::Document),
                ),
                V::KindNotAllowed => {
                    facts.unregistrable = Some(Unregistrable::KindNotAllowed);
                    (
                    Verdict::NotRegistered,
                    format!("{issuer_name} may not issue this kind of certificate, so the registry would never have registered it: do not accept it."),
                    None,
                )
                }
                V::OutsideIssuerValidity => {
                    facts.unregistrable = Some(Unregistrable::OutsideIssuerValidity);
                    (
                    Verdict::NotRegistered,
                    format!("It is dated outside the period in which {issuer_name} may issue, so the registry would never have registered it: do not accept it."),
                    None,
                )
                }
                V::Revoked => {
                    let rv = k.revocation.as_ref();
                    (
                        Verdict::Revoked,
                        format!(
                            "Revoked on {}: {}. It is no longer valid.",
                            rv.map_or_else(String::new, |rv| day(rv.time)),
                            rv.map_or_else(String::new, |rv| name(&rv.reason).replace('_', " "))
                        ),
                        None,
                    )
                }
                V::IssuerNotActive { status } => {
                    let (v, what) = match status {
                        IssuerStatus::Suspended => (Verdict::IssuerSuspended, "suspended"),
                        _ => (Verdict::IssuerRemoved, "removed"),
                    };
                    let (since, why) = k.issuer.as_ref().map_or((0, String::new()), |i| {
                        (i.status_since, i.status_reason.clone())
                    });
                    let why = if why.is_empty() { String::new() } else { format!(" ({why})") };
                    (
                        v,
                        format!("The registry {what} its issuer, {issuer_name}, on {}{why}: its certificates are no longer vouched for. Ask the authority before accepting it.", day(since)),
                        None,
                    )
                }
                V::NotYetValid { issued_at } => {
                    facts.issued_at = Some(issued_at);
                    (
                    Verdict::NotYetValid,
                    format!("Dated {}, in the future: check this device's date and time, then try again.", day(issued_at)),
                    None,
                )
                }
                V::Expired { expires_at } => {
                    facts.expires_at = Some(expires_at);
                    (
                    Verdict::Expired,
                    format!("Expired on {}: it is no longer valid.", day(expires_at)),
                    None,
                )
                }
                V::Valid => (
                    Verdict::Valid,
                    format!("Signed by {issuer_name}, not revoked and in date."),
                    None,
                ),
            }
        }
    };
    match verdict {
        Verdict::Revoked => {
            facts.revocation = k.revocation.as_ref().map(|rv| RevocationFacts {
                reason: name(&rv.reason),
                time: rv.time,
                height: rv.height,
                by: None,
                note: None,
            });
        }
        Verdict::IssuerRemoved | Verdict::IssuerSuspended => {
            facts.issuer_standing = k.issuer.as_ref().map(standing);
        }
        Verdict::Tampered => facts.mismatches = mismatch.into_iter().collect(),
        _ => {}
    }
    let stale = age > policy.warn_after_secs;
    reason.push_str(&format!(
        " Checked offline, as of {} ago (block {}): whether it was registered cannot be known offline.",
        age_words(age),
        k.meta.height
    ));
    if stale {
        reason = format!(
            "WARNING: this device's offline data is {} old; verify online as soon as you can. {reason}",
            age_words(age)
        );
    }
    let certificate = certificate_of(subject);
    Judgement {
        verdict,
        reason,
        certificate_id: Some(id.to_string()),
        certificate,
        evidence: Evidence {
            proven_height: Some(k.meta.height),
            header_height: Some(k.meta.header_height),
            header_time: Some(k.meta.header_time.clone()),
            issuer: k.issuer.as_ref().map(issuer_view),
            document_sha256: document_of(subject, document),
            document_matches: document_matches(subject, None, document),
            mismatch,
            detail: why_offline.map(str::to_owned),
            facts: Some(facts),
            freshness: Some(Freshness {
                as_of_height: k.meta.height,
                as_of_time: k.meta.block_time,
                age_secs: age,
                stale,
                warn_after_secs: policy.warn_after_secs,
                registration_checked: false,
            }),
            ..Evidence::new(Mode::Offline, ProofStatus::Verified)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry::devkit::dev_key;
    use registry::{sample_certificate, Serial};

    fn payload() -> String {
        let signed = sample_certificate(Serial::new("A-1").unwrap(), 1_767_225_600)
            .sign("tradeseal-test", &dev_key("issuer-ke-kephis"))
            .unwrap();
        qr::encode(&signed).unwrap()
    }

    fn read(text: &str) -> Read {
        read_input(&VerifyInput::Payload {
            text: text.into(),
            origin: Origin::Paste,
        })
        .unwrap()
        .0
    }

    #[test]
    fn payloads_are_read_or_named_not_ours() {
        assert!(matches!(
            read(&payload()),
            Read::Subject(Subject::Certificate { .. })
        ));
        // Pasted with a trailing newline.
        assert!(matches!(
            read(&format!("{}\n", payload())),
            Read::Subject(Subject::Certificate { .. })
        ));
        let kind = |t: &str| match read(t) {
            Read::NotOurs { kind, .. } => kind,
            other => panic!("{other:?}"),
        };
        assert_eq!(kind("https://example.com/cert/1"), NotOurs::Foreign);
        assert_eq!(kind("TS2:ABCDEF"), NotOurs::NewerVersion);
        let p = payload();
        assert_eq!(kind(&p[..p.len() - 5]), NotOurs::Damaged);
        assert_eq!(kind(""), NotOurs::Empty);
        assert_eq!(kind(&"9".repeat(10_000)), NotOurs::TooLong);
    }

    #[test]
    fn bad_files_and_ids_are_errors_not_verdicts() {
        let file = |bytes: &[u8]| {
            read_input(&VerifyInput::File {
                name: "x.png".into(),
                base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        };
        assert!(matches!(
            file(b"not an image"),
            Err(WalletError::InvalidRequest(_))
        ));
        assert!(matches!(
            read_input(&VerifyInput::File {
                name: "x.png".into(),
                base64: "***".into()
            }),
            Err(WalletError::InvalidRequest(_))
        ));
        assert!(matches!(
            read_input(&VerifyInput::Serial {
                id: "no slash".into()
            }),
            Err(WalletError::InvalidRequest(_))
        ));
        let (r, s) = read_input(&VerifyInput::Serial {
            id: " KE-KEPHIS/PH-2026-0001 ".into(),
        })
        .unwrap();
        assert_eq!(s.source, Source::Serial);
        assert_eq!(
            r,
            Read::Subject(Subject::Serial(
                CertId::parse("KE-KEPHIS/PH-2026-0001").unwrap()
            ))
        );
    }

    #[test]
    fn failures_to_prove_are_classified() {
        let u = |e: WalletError| unknowable(&e).kind;
        assert_eq!(u(WalletError::NotConfigured), CannotVerify::NotConfigured);
        assert_eq!(
            u(WalletError::Query(QueryError::Unproven {
                reasons: "http://a: connection refused".into(),
                rejected: 0,
            })),
            CannotVerify::NoNetwork
        );
        assert_eq!(
            u(WalletError::Query(QueryError::Unproven {
                reasons: "http://a: proof rejected: root mismatch".into(),
                rejected: 1,
            })),
            CannotVerify::NodeLying
        );
        assert_eq!(
            u(WalletError::Sync(SyncError::NoUsableNode("down".into()))),
            CannotVerify::NoNetwork
        );
    }

    /// The online judgement of the sample certificate against `record` (`None`: the one
    /// registered for it) and its issuer changed by `issuer`, at `now`.
    fn online_at(
        record: impl FnOnce(&mut CertRecord),
        issuer: impl FnOnce(&mut IssuerRecord),
        now: u64,
    ) -> Judgement {
        let Read::Subject(subject) = read(&payload()) else {
            panic!("ours");
        };
        let Subject::Certificate { signed, .. } = &subject else {
            panic!("a certificate");
        };
        let c = &signed.certificate;
        let mut r = CertRecord {
            id: c.id.clone(),
            kind: c.kind,
            content_hash: c.content_hash(),
            document_hash: c.document_hash,
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            registered_height: 5,
            registered_time: c.issued_at,
            revocation: None,
        };
        record(&mut r);
        let mut i = knowledge(0).issuer.unwrap();
        issuer(&mut i);
        let proven = ProvenPair {
            record: Some(r),
            issuer: Some(i),
            cert_proof: Proven {
                key: Vec::new(),
                value: None,
                height: 10.into(),
                header_height: 11.into(),
                header_time: light_client::Time::from_unix(1_767_225_600, 0).unwrap(),
                app_hash: Vec::new(),
                node: "http://127.0.0.1:1".into(),
            },
            issuer_node: "http://127.0.0.1:1".into(),
        };
        let verdict = judge(&subject, &proven, None, "tradeseal-test", now);
        online_judgement(&subject, &proven, None, &verdict)
    }

    /// The facts a UI says the sentence from: set for the verdict they are about, online.
    #[test]
    fn online_verdicts_carry_their_facts() {
        let t = 1_767_225_600 + 3_600;
        let facts = |j: &Judgement| j.evidence.facts.clone().expect("facts");
        let valid = online_at(|_| {}, |_| {}, t);
        assert_eq!(valid.verdict, Verdict::Valid, "{valid:#?}");
        let f = facts(&valid);
        assert!(f.issuer_name.as_deref().is_some_and(|n| !n.is_empty()));
        assert!(!f.id_only && f.mismatches.is_empty() && f.revocation.is_none());
        // Every part of the record that differs, the first one first.
        let tampered = online_at(
            |r| {
                r.kind = registry::CertificateKind::Veterinary;
                r.expires_at += 1;
            },
            |_| {},
            t,
        );
        assert_eq!(tampered.verdict, Verdict::Tampered);
        assert_eq!(tampered.evidence.mismatch, Some(Mismatch::Kind));
        assert_eq!(
            facts(&tampered).mismatches,
            [Mismatch::Kind, Mismatch::Dates]
        );
        let revoked = online_at(
            |r| {
                r.revocation = Some(registry::state::Revocation {
                    reason: registry::state::RevocationReason::Fraudulent,
                    note: "stamp forged".into(),
                    height: 8,
                    time: t - 60,
                    by: registry::state::Revoker::Governance,
                    log_index: 0,
                })
            },
            |_| {},
            t,
        );
        assert_eq!(revoked.verdict, Verdict::Revoked);
        assert_eq!(
            facts(&revoked).revocation,
            Some(RevocationFacts {
                reason: "fraudulent".into(),
                time: t - 60,
                height: 8,
                by: Some("governance".into()),
                note: Some("stamp forged".into()),
            })
        );
        let removed = online_at(
            |_| {},
            |i| {
                i.status = IssuerStatus::Removed;
                i.status_since = t - 120;
                i.status_reason = "key compromised".into();
            },
            t,
        );
        assert_eq!(removed.verdict, Verdict::IssuerRemoved);
        assert_eq!(
            facts(&removed).issuer_standing,
            Some(IssuerStanding {
                status: "removed".into(),
                since: t - 120,
                reason: Some("key compromised".into()),
            })
        );
        let expired = online_at(|_| {}, |_| {}, u64::MAX / 2);
        assert_eq!(expired.verdict, Verdict::Expired);
        let cert = expired.certificate.clone().unwrap();
        assert_eq!(facts(&expired).expires_at, Some(cert.expires_at));
        // Not ours, and cannot verify: their kinds are in the evidence, with empty facts.
        let n = not_ours_judgement(NotOurs::Foreign, "a URL");
        assert_eq!(n.evidence.facts, Some(Facts::default()));
        let Read::Subject(subject) = read(&payload()) else {
            panic!("ours");
        };
        let why = Unknowable {
            kind: CannotVerify::NoNetwork,
            detail: "down".into(),
        };
        let c = cannot_verify_judgement(&subject, None, &why, Mode::Online);
        assert!(!facts(&c).id_only);
        assert_eq!(facts(&c).issuer_name.as_deref(), Some("KE-KEPHIS"));
    }

    /// Offline knowledge of the demo genesis as of block 10 at time `t`.
    fn knowledge(t: u64) -> crate::offline::Knowledge {
        let g = registry::devkit::demo_genesis("tradeseal-test", 1_767_225_600);
        let spec = g
            .issuers
            .into_iter()
            .find(|i| i.id.as_str() == "KE-KEPHIS")
            .unwrap();
        crate::offline::Knowledge {
            meta: crate::offline::Meta {
                chain_id: "tradeseal-test".into(),
                height: 10,
                block_time: t,
                header_height: 11,
                header_time: instant(t + 1),
                app_hash: "00".repeat(32),
                issuer_log_len: 3,
                revocation_log_len: 0,
                synced_at: t,
            },
            issuer: Some(IssuerRecord {
                spec,
                status: IssuerStatus::Active,
                status_since: 0,
                status_reason: String::new(),
                registered_height: 0,
            }),
            revocation: None,
        }
    }

    #[test]
    fn offline_verdicts_warn_when_old_and_refuse_past_the_trusting_period() {
        let Read::Subject(subject) = read(&payload()) else {
            panic!("ours");
        };
        let t = 1_767_225_600 + 100;
        let policy = OfflinePolicy {
            warn_after_secs: 24 * 3600,
            trusting_period_secs: 14 * 86_400,
        };
        let k = knowledge(t);
        let at = |age: u64| offline_judgement(&subject, Some(&k), None, t + age, policy, None);
        // Fresh: valid, no warning, and it says offline, as of when, and what it cannot know.
        let fresh = at(3 * 3600);
        assert_eq!(fresh.verdict, Verdict::Valid, "{fresh:#?}");
        assert_eq!(fresh.evidence.mode, Mode::Offline);
        let f = fresh.evidence.freshness.clone().unwrap();
        assert_eq!((f.age_secs, f.stale, f.as_of_height), (3 * 3600, false, 10));
        assert!(
            fresh.reason.contains("as of 3 h ago (block 10)"),
            "{}",
            fresh.reason
        );
        assert!(!fresh.reason.starts_with("WARNING"));
        // Past the warning age: the same verdict, loudly warned.
        let old = at(3 * 86_400);
        assert_eq!(old.verdict, Verdict::Valid);
        assert!(old.evidence.freshness.unwrap().stale);
        assert!(
            old.reason
                .starts_with("WARNING: this device's offline data is 3 days old"),
            "{}",
            old.reason
        );
        // Past the trusting period: no verdict.
        let too_old = at(14 * 86_400);
        assert_eq!(too_old.verdict, Verdict::CannotVerify);
        assert_eq!(
            too_old.evidence.cannot_verify,
            Some(CannotVerify::OfflineDataTooOld)
        );
        // No knowledge at all.
        let none = offline_judgement(&subject, None, None, t, policy, None);
        assert_eq!(
            none.evidence.cannot_verify,
            Some(CannotVerify::OfflineDataMissing)
        );
        // A document that is not the certificate's is tampered, offline too.
        let doc = offline_judgement(&subject, Some(&k), Some(&[7; 32]), t + 60, policy, None);
        assert_eq!(doc.verdict, Verdict::Tampered);
        assert_eq!(doc.evidence.mismatch, Some(Mismatch::Document));
        assert_eq!(doc.evidence.document_matches, Some(false));
        // Revoked in the proven log; an issuer suspended as of the knowledge.
        let mut kr = knowledge(t);
        kr.revocation = Some(registry::state::RevocationEntry {
            cert: subject.id().clone(),
            reason: registry::state::RevocationReason::Fraudulent,
            height: 9,
            time: t - 10,
        });
        let r = offline_judgement(&subject, Some(&kr), None, t + 60, policy, None);
        assert_eq!(r.verdict, Verdict::Revoked);
        assert!(r.reason.contains("fraudulent"), "{}", r.reason);
        // The facts say it too; offline, the revocation log does not name the revoker.
        let rv = r.evidence.facts.unwrap().revocation.unwrap();
        assert_eq!(
            (rv.reason.as_str(), rv.time, rv.height),
            ("fraudulent", t - 10, 9)
        );
        assert_eq!((rv.by, rv.note), (None, None));
        assert_eq!(doc.evidence.facts.unwrap().mismatches, [Mismatch::Document]);
        assert!(fresh.evidence.facts.unwrap().issuer_name.is_some());
        let mut ks = knowledge(t);
        if let Some(i) = ks.issuer.as_mut() {
            i.status = IssuerStatus::Suspended;
        }
        let r = offline_judgement(&subject, Some(&ks), None, t + 60, policy, None);
        assert_eq!(r.verdict, Verdict::IssuerSuspended);
        let standing = r.evidence.facts.unwrap().issuer_standing.unwrap();
        assert_eq!(
            (standing.status.as_str(), standing.reason),
            ("suspended", None)
        );
    }
}
