//! Issuing certificates: the issuer's form ([`form`]) becomes a registry certificate, the
//! signing flow signs it (the signing key signs the certificate itself when the user confirms
//! the issue transaction, see [`crate::signing`]), and the signed certificate becomes what
//! the issuer prints and sends ([`artefacts`]): its QR code as a PNG and an SVG at the
//! recommended print size ([`symbol`]), and a printable A4 certificate PDF carrying the code
//! and every human-readable field ([`pdf`]). The same signed certificate always gives the
//! same files.

mod app;
mod embed;
pub mod form;
pub mod pdf;
pub mod symbol;
mod typeset;

use std::path::{Path, PathBuf};

use registry::{Message, SignedCertificate, Tx};
use serde::{Deserialize, Serialize};

pub use form::{FormErrors, IssueForm, MAX_ATTACHMENT_BYTES};
pub use symbol::{PrintSize, Symbol, SymbolError};

use crate::outbox::OutboxEntry;
use crate::signing::forms::UNSIGNED;
use crate::signing::Form;

/// Why artefacts could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum IssuanceError {
    /// The form has fields at fault.
    #[error("{0}")]
    Form(#[from] FormErrors),
    /// The QR payload is not a signed certificate (or not one this version reads).
    #[error("not a signed certificate payload: {0}")]
    Payload(String),
    /// The certificate has no QR code within the protocol's limits.
    #[error(transparent)]
    Symbol(#[from] SymbolError),
    /// The transaction is not a signed certificate issue.
    #[error("{0}")]
    NotAnIssue(String),
    /// The PDF could not be written (a bug).
    #[error("the certificate PDF could not be made: {0}")]
    Pdf(String),
    /// A file could not be written.
    #[error("writing {path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl IssuanceError {
    /// A stable name for the kind of error (the CLI's `error.kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            IssuanceError::Form(_) => "invalid_form",
            IssuanceError::Payload(_) => "invalid_payload",
            IssuanceError::Symbol(_) => "too_large",
            IssuanceError::NotAnIssue(_) => "invalid_request",
            IssuanceError::Pdf(_) => "internal",
            IssuanceError::Io { .. } => "storage",
        }
    }
}

/// The signing form of a certificate: the issue transaction, with the certificate signed by
/// the signing key when the user confirms.
pub fn issue_form(certificate: registry::Certificate) -> Form {
    Form::Issue {
        certificate: Box::new(certificate),
        signature: None,
    }
}

/// What the issuer prints and sends for one signed certificate.
#[derive(Debug, Clone)]
pub struct Artefacts {
    /// The certificate.
    pub certificate: SignedCertificate,
    /// The QR payload text (`TS1:...`).
    pub payload: String,
    /// The QR version (1-15).
    pub qr_version: i16,
    /// How large to print the code.
    pub print: PrintSize,
    /// The code as a PNG.
    pub png: Vec<u8>,
    /// The code as an SVG.
    pub svg: String,
    /// The printable certificate.
    pub pdf: Vec<u8>,
    /// Fields with characters that no font embedded in the PDF covers (printed as `?`; the
    /// code carries them exactly).
    pub unprintable_fields: Vec<String>,
}

/// The QR code (PNG and SVG) and the printable PDF of a signed certificate; `chain_id`
/// names the registry on the page when known.
pub fn artefacts(
    signed: &SignedCertificate,
    chain_id: Option<&str>,
) -> Result<Artefacts, IssuanceError> {
    if signed.signature == UNSIGNED {
        return Err(IssuanceError::NotAnIssue(
            "the certificate is not signed yet".into(),
        ));
    }
    let payload =
        registry::qr::encode(signed).map_err(|e| IssuanceError::Payload(e.to_string()))?;
    let symbol = Symbol::new(&payload)?;
    let pdf = pdf::certificate_pdf(signed, &symbol, chain_id)
        .map_err(|e| IssuanceError::Pdf(e.to_string()))?;
    Ok(Artefacts {
        certificate: signed.clone(),
        qr_version: symbol.version(),
        print: symbol.print_size(),
        png: symbol.png(),
        svg: symbol.svg(&format!("Tradeseal certificate {}", signed.certificate.id)),
        pdf: pdf.bytes,
        unprintable_fields: pdf.unprintable_fields,
        payload,
    })
}

/// The artefacts of a QR payload that was signed before (reprinting): the text as scanned.
pub fn artefacts_of_payload(
    payload: &str,
    chain_id: Option<&str>,
) -> Result<Artefacts, IssuanceError> {
    let signed = registry::qr::decode(payload.trim().as_bytes())
        .map_err(|e| IssuanceError::Payload(e.to_string()))?;
    artefacts(&signed, chain_id)
}

/// The signed certificate an outbox entry registers (its transaction's message).
pub fn signed_certificate_of(entry: &OutboxEntry) -> Result<SignedCertificate, IssuanceError> {
    let bytes = hex::decode(&entry.tx_hex)
        .map_err(|e| IssuanceError::NotAnIssue(format!("the entry's transaction: {e}")))?;
    let tx = Tx::decode(&bytes)
        .map_err(|e| IssuanceError::NotAnIssue(format!("the entry's transaction: {e}")))?;
    match tx.body.message {
        Message::IssueCertificate(signed) if signed.signature != UNSIGNED => Ok(*signed),
        _ => Err(IssuanceError::NotAnIssue(format!(
            "outbox entry {} is not a certificate issue",
            entry.id
        ))),
    }
}

/// Where the artefacts were written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenFiles {
    /// The QR code PNG.
    pub png: PathBuf,
    /// The QR code SVG.
    pub svg: PathBuf,
    /// The printable certificate.
    pub pdf: PathBuf,
}

fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), IssuanceError> {
    let io = |e: std::io::Error| IssuanceError::Io {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Writes `DIR/<serial>.png`, `.svg` and `.pdf` (the directory is created; each file is
/// written whole or not at all).
pub fn write_artefacts(dir: &Path, a: &Artefacts) -> Result<WrittenFiles, IssuanceError> {
    std::fs::create_dir_all(dir).map_err(|e| IssuanceError::Io {
        path: dir.to_owned(),
        message: e.to_string(),
    })?;
    // A serial is [A-Za-z0-9._-], 1-48 characters: a safe file name, except "." and "..".
    let serial = a.certificate.certificate.id.serial.as_str();
    let stem = if serial.chars().all(|c| c == '.') {
        format!("certificate-{}", serial.len())
    } else {
        serial.to_owned()
    };
    let files = WrittenFiles {
        png: dir.join(format!("{stem}.png")),
        svg: dir.join(format!("{stem}.svg")),
        pdf: dir.join(format!("{stem}.pdf")),
    };
    write_whole(&files.png, &a.png)?;
    write_whole(&files.svg, a.svg.as_bytes())?;
    write_whole(&files.pdf, &a.pdf)?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry::devkit::dev_key;
    use registry::{sample_certificate, Serial};

    fn signed() -> SignedCertificate {
        sample_certificate(Serial::new("PH-2026-0100").unwrap(), 1_796_169_600)
            .sign("tradeseal-test", &dev_key("issuer-ke-kephis"))
            .unwrap()
    }

    #[test]
    fn artefacts_carry_the_payload_and_are_deterministic() {
        let s = signed();
        let a = artefacts(&s, Some("tradeseal-test")).unwrap();
        assert_eq!(a.payload, registry::qr::encode(&s).unwrap());
        assert!(a.qr_version <= 15);
        assert_eq!(a.print.modules, 17 + 4 * a.qr_version as usize);
        assert!(a.unprintable_fields.is_empty());
        let png_codes = tradeseal_scan::decode_image_bytes(&a.png).unwrap();
        assert_eq!(png_codes[0].text, a.payload);
        let pdf = tradeseal_scan::decode_pdf(&a.pdf).unwrap();
        assert_eq!(pdf.codes.len(), 1);
        assert_eq!(pdf.codes[0].text, a.payload);
        let b = artefacts(&s, Some("tradeseal-test")).unwrap();
        assert_eq!((a.png, a.svg, a.pdf), (b.png, b.svg, b.pdf));
        assert_eq!(
            artefacts_of_payload(&a.payload, None).unwrap().certificate,
            s
        );
    }

    #[test]
    fn the_pdf_prints_every_human_readable_field() {
        let s = signed();
        let a = artefacts(&s, Some("tradeseal-test")).unwrap();
        // The page's text as a reader extracts it, through the fonts' text maps.
        let doc = lopdf::Document::load_mem(&a.pdf).unwrap();
        let text = doc.extract_text(&[1]).unwrap();
        let c = &s.certificate;
        for value in [
            "Phytosanitary certificate",
            c.id.serial.as_str(),
            c.id.issuer.as_str(),
            &c.exporter.name,
            &c.importer.name,
            "060311",
            "9600 KGM",
            "2026-12-02 00:00:00 UTC",
            "Air KQ0112 NBO-AMS",
            "INV-2026-04417",
            "How to verify",
            "tradeseal-cli verify",
            "tradeseal-test",
        ] {
            assert!(text.contains(value), "{value} missing from the page");
        }
        // Hashes may wrap: compare without the line breaks.
        let runs: String = text.split_whitespace().collect();
        assert!(runs.contains(&hex::encode(c.content_hash())));
        assert!(runs.contains(&hex::encode(s.signature)));
        assert!(runs.contains(&hex::encode(c.document_hash.unwrap())));
    }

    #[test]
    fn unprintable_text_is_reported_and_unsigned_certificates_refused() {
        let mut s = signed();
        // Arabic prints (the embedded fonts cover it); Chinese does not.
        s.certificate.exporter.name = "شركة الورود".into();
        s.certificate.importer.name = "北京花卉进口公司".into();
        let s = s
            .certificate
            .sign("tradeseal-test", &dev_key("issuer-ke-kephis"))
            .unwrap();
        let a = artefacts(&s, None).unwrap();
        assert_eq!(a.unprintable_fields, ["importer"]);
        let mut unsigned = s;
        unsigned.signature = UNSIGNED;
        assert!(matches!(
            artefacts(&unsigned, None),
            Err(IssuanceError::NotAnIssue(_))
        ));
        assert!(matches!(
            artefacts_of_payload("https://example.com", None),
            Err(IssuanceError::Payload(_))
        ));
    }

    #[test]
    fn files_are_named_by_serial() {
        let dir = tempfile::tempdir().unwrap();
        let a = artefacts(&signed(), None).unwrap();
        let files = write_artefacts(&dir.path().join("out"), &a).unwrap();
        assert_eq!(files.pdf, dir.path().join("out/PH-2026-0100.pdf"));
        assert_eq!(std::fs::read(&files.png).unwrap(), a.png);
        assert_eq!(std::fs::read_to_string(&files.svg).unwrap(), a.svg);
    }
}
