//! The Issue page's models: the certificate form checked into the review of what will be
//! signed (then confirmed with `sign_confirm`, as any signing form), and the files made once
//! the certificate is signed: its QR code as PNG and SVG, with the print size, and the
//! printable PDF.

use serde::{Deserialize, Serialize};

use crate::FileData;

/// Check an issuer's certificate form and prepare its registration for signing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuePrepare {
    /// The issuer's key that signs.
    pub key_label: String,
    /// The form, in the shape of `tradeseal-cli issue --form` (`{"kind", "issuer", "serial",
    /// "exporter", ...}`), as JSON text.
    pub form_json: String,
    /// The certificate's document, a PDF: its SHA-256 becomes the document hash.
    pub attachment: Option<FileData>,
}

/// The files of a signed certificate in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueFiles {
    /// The outbox entry that registers it (`sign_confirm`'s answer).
    pub outbox_id: i64,
}

/// How large to print the QR code.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrintSizeView {
    /// Modules per side, quiet zone excluded.
    pub modules: usize,
    /// Light modules around it on each side.
    pub quiet_zone_modules: usize,
    /// Recommended millimetres per module.
    pub module_mm: f64,
    /// Recommended printed side in millimetres, quiet zone included.
    pub side_mm: f64,
    /// Smallest printed side in millimetres.
    pub min_side_mm: f64,
    /// The PNG's resolution at the recommended size.
    pub png_dpi: f64,
}

/// A signed certificate's files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuedFiles {
    /// `ISSUER/SERIAL`.
    pub cert_id: String,
    /// The file name stem (the serial).
    pub file_stem: String,
    /// Its registration's outbox state: `pending`, `submitted`, `confirmed` or `failed`.
    pub state: String,
    /// The QR version (1-15).
    pub qr_version: i16,
    /// How large to print the code.
    pub print: PrintSizeView,
    /// The QR text.
    pub payload: String,
    /// The QR code PNG, base64.
    pub png_base64: String,
    /// The QR code SVG.
    pub svg: String,
    /// The printable certificate PDF, base64.
    pub pdf_base64: String,
    /// Fields the PDF's fonts print with `?` for some characters (the code carries them).
    pub unprintable_fields: Vec<String>,
}
