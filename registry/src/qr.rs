//! The QR payload of a certificate: versioned, self-contained, fits a version 15 QR code.
//!
//! Text form: `TS1:` followed by the base45 (RFC 9285) encoding of the signed certificate
//! (its canonical encoding, then the 64-byte issuer signature). Every character is in the QR
//! alphanumeric set, so the whole text is encoded in alphanumeric mode (5.5 bits per
//! character): a version 15 code at level M holds 600 characters; the largest text this
//! encoder produces is 4 + 594 = 598 characters (a 396-byte signed certificate), and the
//! decoder accepts exactly what the encoder can produce, nothing longer.

mod base45;

pub use base45::Base45Error;
use thiserror::Error;

use crate::certificate::SignedCertificate;
use crate::codec::{Canonical, DecodeError};

/// The prefix of version 1 payloads.
pub const QR_PREFIX: &str = "TS1:";
/// Largest signed certificate put in a QR code, in bytes.
pub const MAX_QR_PAYLOAD_BYTES: usize = 396;
/// Longest QR text: the prefix and the base45 text of a [`MAX_QR_PAYLOAD_BYTES`] payload,
/// the longest the encoder produces. The decoder refuses longer texts before decoding.
pub const MAX_QR_TEXT_LEN: usize = QR_PREFIX.len() + base45::encoded_len(MAX_QR_PAYLOAD_BYTES);

/// Why a scanned text is not a valid certificate payload, or a certificate does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QrError {
    /// Nothing was scanned.
    #[error("empty QR payload")]
    Empty,
    /// Longer than any payload this protocol produces.
    #[error("QR payload is {len} characters, the limit is {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a Tradeseal code (a URL, another scheme, random text).
    #[error("not a Tradeseal certificate code")]
    Foreign,
    /// A Tradeseal code of a version this software does not know.
    #[error("unsupported Tradeseal code version {0:?}")]
    UnsupportedVersion(String),
    /// The text after the prefix is not base45.
    #[error("damaged code: {0}")]
    Base45(#[from] Base45Error),
    /// The bytes are not a well-formed signed certificate.
    #[error("damaged or truncated certificate: {0}")]
    Certificate(#[from] DecodeError),
    /// The signed certificate is too large for a version 15 code (encoding only).
    #[error("signed certificate is {len} bytes, a QR code holds at most {max}: move long text into the document")]
    PayloadTooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Encodes a signed certificate as QR text; fails when a field breaks its rule (e.g. a text
/// over its limit) or it is larger than [`MAX_QR_PAYLOAD_BYTES`] (shorten fields, put long
/// text in the document).
pub fn encode(cert: &SignedCertificate) -> Result<String, QrError> {
    cert.certificate.validate()?;
    let bytes = cert.try_to_bytes()?;
    if bytes.len() > MAX_QR_PAYLOAD_BYTES {
        return Err(QrError::PayloadTooLarge {
            len: bytes.len(),
            max: MAX_QR_PAYLOAD_BYTES,
        });
    }
    Ok(format!("{QR_PREFIX}{}", base45::encode(&bytes)))
}

/// Decodes any scanned bytes: a well-formed signed certificate, or the precise reason not.
/// The signature is not checked here (see [`crate::offline`]).
pub fn decode(input: &[u8]) -> Result<SignedCertificate, QrError> {
    if input.is_empty() {
        return Err(QrError::Empty);
    }
    if input.len() > MAX_QR_TEXT_LEN {
        return Err(QrError::TooLong {
            len: input.len(),
            max: MAX_QR_TEXT_LEN,
        });
    }
    let Some(rest) = input.strip_prefix(QR_PREFIX.as_bytes()) else {
        return Err(match input.strip_prefix(b"TS") {
            Some(after) => {
                let version: Vec<u8> = after
                    .iter()
                    .take_while(|&&c| c != b':')
                    .take(8)
                    .copied()
                    .collect();
                QrError::UnsupportedVersion(String::from_utf8_lossy(&version).into_owned())
            }
            None => QrError::Foreign,
        });
    };
    let bytes = base45::decode(rest)?;
    // Implied by the text limit; kept so the two limits can never drift apart.
    if bytes.len() > MAX_QR_PAYLOAD_BYTES {
        return Err(QrError::PayloadTooLarge {
            len: bytes.len(),
            max: MAX_QR_PAYLOAD_BYTES,
        });
    }
    Ok(SignedCertificate::from_bytes(&bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::sample_certificate;
    use crate::devkit::dev_key;
    use crate::types::Serial;

    fn signed() -> SignedCertificate {
        sample_certificate(Serial::new("KE-PH-2026-000123").unwrap(), 1_767_225_600)
            .sign("tradeseal-test", &dev_key("issuer-ke-kephis"))
            .unwrap()
    }

    /// A signed certificate of exactly `len` bytes (the remarks grown to fit).
    fn signed_of_len(len: usize) -> SignedCertificate {
        let mut s = signed();
        s.certificate.remarks = Some("R".into());
        let base = s.to_bytes().len();
        s.certificate.remarks = Some("R".repeat(len - base + 1));
        assert_eq!(s.to_bytes().len(), len);
        s
    }

    #[test]
    fn the_decoder_accepts_exactly_what_the_encoder_produces() {
        let largest = signed_of_len(MAX_QR_PAYLOAD_BYTES);
        let text = encode(&largest).unwrap();
        assert_eq!(text.len(), MAX_QR_TEXT_LEN);
        assert_eq!(MAX_QR_TEXT_LEN, 598);
        assert_eq!(decode(text.as_bytes()).unwrap(), largest);
        // One byte more: the encoder refuses it, and so does the decoder, as a text the
        // encoder would never produce (base45 of 397 bytes is 596 characters, 600 in all).
        let over = signed_of_len(MAX_QR_PAYLOAD_BYTES + 1);
        assert!(matches!(
            encode(&over),
            Err(QrError::PayloadTooLarge { len: 397, .. })
        ));
        let over_text = format!("{QR_PREFIX}{}", base45::encode(&over.to_bytes()));
        assert_eq!(over_text.len(), 600);
        assert_eq!(
            decode(over_text.as_bytes()),
            Err(QrError::TooLong {
                len: 600,
                max: MAX_QR_TEXT_LEN
            })
        );
        // The fuzz target's check holds on it (it panicked before).
        crate::fuzzing::qr_payload(over_text.as_bytes());
    }

    #[test]
    fn fields_over_their_limit_are_refused_not_cut() {
        let mut s = signed();
        s.certificate.exporter.name = "é".repeat(50);
        assert!(matches!(
            encode(&s),
            Err(QrError::Certificate(DecodeError::TooLong {
                field: "exporter.name",
                len: 100,
                max: 96
            }))
        ));
        let key = dev_key("issuer-ke-kephis");
        assert!(s.certificate.sign("tradeseal-test", &key).is_err());
        let mut s = signed();
        s.certificate.remarks = Some(String::new());
        assert!(
            encode(&s).is_err(),
            "an empty optional text has no encoding"
        );
    }

    #[test]
    fn round_trip() {
        let s = signed();
        let text = encode(&s).unwrap();
        assert!(text.starts_with("TS1:"));
        assert_eq!(decode(text.as_bytes()).unwrap(), s);
    }

    #[test]
    fn precise_errors() {
        assert_eq!(decode(b""), Err(QrError::Empty));
        assert_eq!(decode(b"https://example.com"), Err(QrError::Foreign));
        assert_eq!(
            decode(b"TS2:ABC"),
            Err(QrError::UnsupportedVersion("2".into()))
        );
        assert!(matches!(decode(b"TS1:a"), Err(QrError::Base45(_))));
        let text = encode(&signed()).unwrap();
        let truncated = &text.as_bytes()[..text.len() - 3];
        assert!(matches!(decode(truncated), Err(QrError::Certificate(_))));
        let long = vec![b'0'; MAX_QR_TEXT_LEN + 1];
        assert!(matches!(decode(&long), Err(QrError::TooLong { .. })));
    }

    #[test]
    fn oversized_certificates_are_refused() {
        let mut s = signed();
        s.certificate.remarks = Some("x".repeat(200));
        s.certificate.goods.description = "y".repeat(200);
        assert!(matches!(encode(&s), Err(QrError::PayloadTooLarge { .. })));
        s.certificate.remarks = Some("x".repeat(300));
        assert!(matches!(
            encode(&s),
            Err(QrError::Certificate(DecodeError::TooLong {
                field: "remarks",
                ..
            }))
        ));
    }
}
