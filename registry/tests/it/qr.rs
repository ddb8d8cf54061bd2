//! The QR payload: typical and largest certificates fit a version 15 code at level M, and a
//! scanned code is checked against the chain record and its proof.

use qrcode::{EcLevel, QrCode, Version};
use registry::devkit::dev_key;
use registry::qr::{self, MAX_QR_PAYLOAD_BYTES};
use registry::state::CertRecord;
use registry::{keys, proof, sample_certificate, Canonical, Certificate, Serial, TxBuilder};

use crate::support::*;

fn version_at_m(text: &str) -> i16 {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
    match code.version() {
        Version::Normal(v) => v,
        Version::Micro(_) => 0,
    }
}

fn typical() -> Certificate {
    sample_certificate(Serial::new("KE-PH-2026-000123").unwrap(), T0)
}

#[test]
fn typical_certificate_fits_version_15_at_level_m() {
    let signed = typical().sign(CHAIN, &kephis());
    let bytes = signed.to_bytes().len();
    let text = qr::encode(&signed).unwrap();
    let v = version_at_m(&text);
    assert!(bytes <= MAX_QR_PAYLOAD_BYTES, "{bytes} bytes");
    assert!(
        v <= 15,
        "typical certificate ({bytes} bytes, {} chars) needs version {v}",
        text.len()
    );
}

#[test]
fn largest_accepted_certificate_fits_version_15_at_level_m() {
    let mut c = typical();
    c.remarks = Some(String::new());
    // Grow the remarks until the signed certificate is exactly the limit.
    let base = c.clone().sign(CHAIN, &kephis()).to_bytes().len();
    c.remarks = Some("R".repeat(MAX_QR_PAYLOAD_BYTES - base));
    let signed = c.sign(CHAIN, &kephis());
    assert_eq!(signed.to_bytes().len(), MAX_QR_PAYLOAD_BYTES);
    let text = qr::encode(&signed).unwrap();
    assert!(version_at_m(&text) <= 15, "version {}", version_at_m(&text));
    // One byte more is refused by the encoder.
    let mut bigger = signed.certificate;
    bigger.remarks = bigger.remarks.map(|r| r + "R");
    assert!(qr::encode(&bigger.sign(CHAIN, &kephis())).is_err());
}

#[test]
fn scanned_code_matches_the_proven_chain_record() {
    let mut c = Chain::new();
    let cert = typical();
    let signed = cert.clone().sign(CHAIN, &kephis());
    let k = kephis();
    assert_code(&c.run(TxBuilder::new(CHAIN, &k).issue(1, &cert)), 0);
    // The wallet scans the code, decodes it, and fetches the record with a proof.
    let scanned = qr::decode(qr::encode(&signed).unwrap().as_bytes()).unwrap();
    let h = c.reg.last_height();
    let q = c
        .reg
        .query("/key", &keys::cert(&scanned.certificate.id), Some(h), true);
    proof::verify_query(&c.reg.app_hash_at(h).unwrap(), &q).unwrap();
    let record = CertRecord::from_bytes(q.value.as_ref().unwrap()).unwrap();
    assert_eq!(record.content_hash, scanned.certificate.content_hash());
    assert!(scanned.is_signed_by(
        CHAIN,
        &registry::PublicKey::from(&dev_key("issuer-ke-kephis").verifying_key())
    ));
}

#[test]
fn version_15_at_level_m_holds_exactly_the_decoder_limit() {
    assert!(version_at_m(&"A".repeat(qr::MAX_QR_TEXT_LEN)) <= 15);
    assert!(version_at_m(&"A".repeat(qr::MAX_QR_TEXT_LEN + 1)) > 15);
}

#[test]
fn typical_certificate_size_is_as_documented() {
    // docs/protocol.md §9 quotes these numbers.
    let signed = typical().sign(CHAIN, &kephis());
    let text = qr::encode(&signed).unwrap();
    assert_eq!(
        (signed.to_bytes().len(), text.len(), version_at_m(&text)),
        (371, 561, 15)
    );
}
