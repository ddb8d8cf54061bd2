//! Writes seed inputs for the fuzz targets: `cargo run -p registry --example fuzz_seeds -- <corpus dir>`.

use std::fs;
use std::path::Path;

use registry::devkit::{demo_genesis, dev_key, dev_public_key};
use registry::state::{GovAction, InspectionOutcome, RevocationReason};
use registry::{
    qr, sample_certificate, Canonical as _, CertId, IssuerId, RecordInspection, Registry, Serial,
    TxBuilder,
};

fn main() -> std::io::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "registry/fuzz/corpus".into());
    let dir = Path::new(&dir);
    let chain = "tradeseal-fuzz";
    let t0 = 1_767_225_600;
    let key = dev_key("issuer-ke-kephis");

    let qr_dir = dir.join("qr_payload");
    fs::create_dir_all(&qr_dir)?;
    let mut minimal = sample_certificate(Serial::new("M").unwrap_or_else(|_| unreachable()), t0);
    minimal.transport = None;
    minimal.invoice = None;
    minimal.remarks = None;
    minimal.document_hash = None;
    minimal.exporter.identifier = None;
    let typical = sample_certificate(
        Serial::new("KE-PH-2026-000123").unwrap_or_else(|_| unreachable()),
        t0,
    );
    // Regression: the text of a signed certificate one byte over the QR limit (397 bytes,
    // 600 characters), which the encoder never produces; the decoder must refuse it.
    let mut over = typical.clone();
    over.remarks = Some("R".into());
    let base = over
        .clone()
        .sign(chain, &key)
        .unwrap_or_else(|_| unreachable())
        .to_bytes()
        .len();
    over.remarks = Some("R".repeat(qr::MAX_QR_PAYLOAD_BYTES + 1 - base + 1));
    let over = over.sign(chain, &key).unwrap_or_else(|_| unreachable());
    let mut text = qr::QR_PREFIX.as_bytes().to_vec();
    text.extend(base45(&over.to_bytes()));
    fs::write(qr_dir.join("regress-397-bytes"), text)?;
    for (name, cert) in [("seed-minimal", minimal), ("seed-typical", typical)] {
        let signed = cert.sign(chain, &key).unwrap_or_else(|_| unreachable());
        if let Ok(text) = qr::encode(&signed) {
            fs::write(qr_dir.join(name), text)?;
        }
    }

    let tx_dir = dir.join("tx_decode");
    fs::create_dir_all(&tx_dir)?;
    let b = TxBuilder::new(chain, &key);
    let id = CertId::parse("KE-KEPHIS/KE-PH-2026-000123").unwrap_or_else(|_| unreachable());
    let g = dev_key("gov-0");
    let n = dev_key("agency-nl-customs");
    let seeds: Vec<Vec<u8>> = [
        b.issue(1, &sample_certificate(id.serial.clone(), t0)),
        b.revoke(2, id.clone(), RevocationReason::Superseded, "reissued"),
        TxBuilder::new(chain, &g).propose(
            1,
            GovAction::SuspendIssuer {
                id: IssuerId::new("KE-KNCCI").unwrap_or_else(|_| unreachable()),
                reason: "audit".into(),
            },
            t0 + 3600,
        ),
        TxBuilder::new(chain, &g).approve(2, 0),
        TxBuilder::new(chain, &n).record_inspection(
            1,
            RecordInspection {
                cert: id,
                agency: IssuerId::new("NL-CUSTOMS").unwrap_or_else(|_| unreachable()),
                location: "Rotterdam".into(),
                outcome: InspectionOutcome::Compliant,
                notes: String::new(),
                inspected_at: t0,
            },
        ),
        TxBuilder::new(chain, &g).set_validator(3, dev_public_key("validator-0"), 10, t0 + 3600),
    ]
    .into_iter()
    .map(|tx| tx.unwrap_or_else(|_| unreachable()))
    .collect();
    for (i, tx) in seeds.iter().enumerate() {
        fs::write(tx_dir.join(format!("seed-{i}")), tx)?;
    }

    // State values: run the transactions and dump every value of the final state we know of.
    let sv_dir = dir.join("state_values");
    fs::create_dir_all(&sv_dir)?;
    let mut reg = Registry::new(&demo_genesis(chain, t0)).unwrap_or_else(|_| unreachable());
    let _ = reg.execute_block(1, t0 + 5, &seeds);
    let keys: [(u8, Vec<u8>); 6] = [
        (0, b"issuer/KE-KEPHIS".to_vec()),
        (1, b"cert/KE-KEPHIS/KE-PH-2026-000123".to_vec()),
        (2, b"revocation_log/0".to_vec()),
        (3, b"issuer_log/0".to_vec()),
        (4, b"inspection/KE-KEPHIS/KE-PH-2026-000123/0".to_vec()),
        (5, b"gov/proposal/0".to_vec()),
    ];
    for (tag, key) in keys {
        if let Some(v) = reg.get(&key) {
            let mut bytes = vec![tag];
            bytes.extend(v);
            fs::write(sv_dir.join(format!("seed-{tag}")), bytes)?;
        }
    }
    let q = reg.query("/store/cert/KE-KEPHIS/KE-PH-2026-000123", &[], None, true);
    if let Some(p) = q.proof {
        let mut bytes = vec![8];
        bytes.extend(p.data);
        fs::write(sv_dir.join("seed-proof"), bytes)?;
    }
    println!("seeds written under {}", dir.display());
    Ok(())
}

/// Base45 (RFC 9285), written out here because the crate's encoder refuses this payload.
fn base45(bytes: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
    let mut out = Vec::new();
    for chunk in bytes.chunks(2) {
        let (mut n, digits) = match chunk {
            [a, b] => (usize::from(*a) * 256 + usize::from(*b), 3),
            _ => (usize::from(chunk[0]), 2),
        };
        for _ in 0..digits {
            out.push(ALPHABET[n % 45]);
            n /= 45;
        }
    }
    out
}

fn unreachable<T>() -> T {
    panic!("constant inputs are valid")
}
