//! QR code decoding for Tradeseal: one interface over the decoders, for image files, camera
//! frames and PDFs.
//!
//! - [`decode_image_bytes`]: a PNG, JPEG or WebP file's bytes, within [`MAX_FILE_BYTES`] and
//!   [`MAX_PIXELS`]; every QR code in it, or why the file cannot be read.
//! - [`decode_luma`]: one camera frame as 8-bit greyscale; the codes in it (often none).
//! - [`decode_pdf`]: the codes in a PDF's embedded images and the SHA-256 of the file.
//! - [`decode_file`]: any of these by content, for the CLI.
//!
//! Inside, a ladder of passes (preprocessing, then rxing or rqrr) is tried until one finds a
//! code; the passes and their order were chosen by measurement (`docs/benchmarks.md`). The
//! library reads no clock, network or file (except [`decode_file`], which only reads the file
//! it is given), and never panics on foreign or damaged input: a decoder's panic is caught
//! and counts as "no code found".

mod decoders;
mod load;
#[cfg(feature = "pdf")]
mod pdf;
#[doc(hidden)]
pub mod pipeline;
#[doc(hidden)]
pub mod preprocess;

use thiserror::Error;

pub use decoders::Binariser;
pub use load::{MAX_FILE_BYTES, MAX_PIXELS, MAX_SIDE};
#[cfg(feature = "pdf")]
pub use pdf::{decode_pdf, is_pdf, PdfScan, MAX_IMAGES};
use preprocess::Gray;

/// One decoded QR code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Code {
    /// The payload's bytes as encoded (exact for byte-mode data; ASCII for numeric and
    /// alphanumeric data such as the `TS1:` payloads).
    pub bytes: Vec<u8>,
    /// The payload as text (decoded with the code's character set; lossy when the bytes
    /// are binary).
    pub text: String,
}

/// Why a file could not be read. A readable file with no QR code in it is not an error: it
/// gives an empty list.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ScanError {
    /// Not a PNG, JPEG or WebP image (nor a PDF where PDFs are accepted).
    #[error("not a PNG, JPEG, WebP image or PDF file")]
    UnsupportedFormat,
    /// Over the byte or pixel limit.
    #[error("too large: {0}")]
    TooLarge(String),
    /// Truncated or damaged.
    #[error("damaged or truncated file: {0}")]
    Corrupt(String),
    /// The file could not be read ([`decode_file`] only).
    #[error("cannot read the file: {0}")]
    Io(String),
}

impl ScanError {
    /// A stable machine-readable name for the error.
    pub fn kind(&self) -> &'static str {
        match self {
            ScanError::UnsupportedFormat => "unsupported_format",
            ScanError::TooLarge(_) => "too_large",
            ScanError::Corrupt(_) => "corrupt",
            ScanError::Io(_) => "io",
        }
    }
}

/// Every QR code in a PNG, JPEG or WebP file, tried thoroughly (still images are decoded
/// once, so every pass of the ladder may run).
pub fn decode_image_bytes(bytes: &[u8]) -> Result<Vec<Code>, ScanError> {
    let gray = load::to_gray(bytes)?;
    Ok(pipeline::run(&gray, pipeline::THOROUGH))
}

/// The QR codes in one camera frame: `luma` is `width * height` bytes of 8-bit greyscale,
/// row-major. Only the passes that pay for themselves at frame rate run (the next frame is
/// another try); a frame whose size does not match `luma` gives nothing.
pub fn decode_luma(width: usize, height: usize, luma: &[u8]) -> Vec<Code> {
    match Gray::new(width, height, luma.to_vec()) {
        Some(gray) => pipeline::run(&gray, pipeline::FRAME),
        None => Vec::new(),
    }
}

/// The result of [`decode_file`] / [`decode_bytes`]: the codes, and for a PDF the hash of the
/// file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// Every distinct code found.
    pub codes: Vec<Code>,
    /// SHA-256 of the file when it is a PDF (its document hash).
    pub pdf_sha256: Option<[u8; 32]>,
}

/// An image or (with the `pdf` feature) a PDF, told apart by content.
pub fn decode_bytes(bytes: &[u8]) -> Result<Scan, ScanError> {
    #[cfg(feature = "pdf")]
    if is_pdf(bytes) && load::sniff(bytes).is_none() {
        let scan = decode_pdf(bytes)?;
        return Ok(Scan {
            codes: scan.codes,
            pdf_sha256: Some(scan.sha256),
        });
    }
    Ok(Scan {
        codes: decode_image_bytes(bytes)?,
        pdf_sha256: None,
    })
}

/// Reads a file (refusing one over [`MAX_FILE_BYTES`] before reading it) and decodes it with
/// [`decode_bytes`].
pub fn decode_file(path: &std::path::Path) -> Result<Scan, ScanError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| ScanError::Io(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ScanError::Io(e.to_string()))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ScanError::TooLarge(format!(
            "the file is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    decode_bytes(&bytes)
}
