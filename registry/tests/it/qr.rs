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
    let signed = typical().sign(CHAIN, &kephis()).unwrap();
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
    c.remarks = Some("R".into());
    // Grow the remarks until the signed certificate is exactly the limit.
    let base = c.clone().sign(CHAIN, &kephis()).unwrap().to_bytes().len();
    c.remarks = Some("R".repeat(MAX_QR_PAYLOAD_BYTES - base + 1));
    let signed = c.sign(CHAIN, &kephis()).unwrap();
    assert_eq!(signed.to_bytes().len(), MAX_QR_PAYLOAD_BYTES);
    let text = qr::encode(&signed).unwrap();
    assert_eq!(text.len(), qr::MAX_QR_TEXT_LEN);
    assert!(version_at_m(&text) <= 15, "version {}", version_at_m(&text));
    // One byte more is refused by the encoder.
    let mut bigger = signed.certificate;
    bigger.remarks = bigger.remarks.map(|r| r + "R");
    assert!(qr::encode(&bigger.sign(CHAIN, &kephis()).unwrap()).is_err());
}

#[test]
fn the_text_of_one_byte_too_many_is_refused_and_is_in_the_fuzz_corpus() {
    // The regression input of the `qr_payload` target: "TS1:" and the base45 of a 397-byte
    // signed certificate (600 characters), which the encoder never produces.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/corpus/qr_payload/regress-397-bytes"
    );
    let text = std::fs::read(path).unwrap();
    assert_eq!(text.len(), 600);
    assert!(text.starts_with(b"TS1:"));
    assert_eq!(
        qr::decode(&text),
        Err(qr::QrError::TooLong {
            len: 600,
            max: qr::MAX_QR_TEXT_LEN
        })
    );
    registry::fuzzing::qr_payload(&text);
}

#[test]
fn scanned_code_matches_the_proven_chain_record() {
    let mut c = Chain::new();
    let cert = typical();
    let signed = cert.clone().sign(CHAIN, &kephis()).unwrap();
    let k = kephis();
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &k).issue(1, &cert).unwrap()),
        0,
    );
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
fn version_15_at_level_m_holds_the_decoder_limit() {
    // 600 alphanumeric characters fit, 601 do not; the longest text the encoder produces
    // (and the decoder accepts) is 598.
    assert_eq!(qr::MAX_QR_TEXT_LEN, 598);
    assert!(version_at_m(&"A".repeat(qr::MAX_QR_TEXT_LEN)) <= 15);
    assert!(version_at_m(&"A".repeat(600)) <= 15);
    assert!(version_at_m(&"A".repeat(601)) > 15);
}

#[test]
fn typical_certificate_size_is_as_documented() {
    // docs/protocol.md §9 quotes these numbers.
    let signed = typical().sign(CHAIN, &kephis()).unwrap();
    let text = qr::encode(&signed).unwrap();
    assert_eq!(
        (signed.to_bytes().len(), text.len(), version_at_m(&text)),
        (371, 561, 15)
    );
}
