//! Offline verification of a scanned certificate from locally proven knowledge.
//!
//! Pure: the current time is a parameter. The knowledge (issuer records and the revocation log
//! as of some height) must have been proven against verified headers by the caller.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::certificate::{Certificate, SignedCertificate};
use crate::qr::{self, QrError};
use crate::state::{IssuerRecord, IssuerStatus, RevocationEntry};
use crate::tx::MAX_FUTURE_SKEW_SECS;
use crate::types::{CertId, IssuerId};

/// What the device knows, proven as of a state version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustSnapshot {
    /// The chain the knowledge comes from (bound into certificate signatures).
    pub chain_id: String,
    /// The state version the knowledge was proven at.
    pub height: u64,
    /// The block time of that version (`meta/block`).
    pub time: u64,
    /// Every issuer record, by id.
    pub issuers: BTreeMap<IssuerId, IssuerRecord>,
    /// Every revoked certificate (the whole revocation log up to `height`).
    pub revoked: BTreeSet<CertId>,
}

impl TrustSnapshot {
    /// Adds an issuer record.
    pub fn add_issuer(&mut self, record: IssuerRecord) {
        self.issuers.insert(record.spec.id.clone(), record);
    }

    /// Adds a revocation log entry.
    pub fn add_revocation(&mut self, entry: &RevocationEntry) {
        self.revoked.insert(entry.cert.clone());
    }
}

/// The verdict on a scanned code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    /// Genuine, current, not revoked as of the knowledge's time.
    Valid,
    /// In the revocation log.
    Revoked,
    /// Past its expiry.
    Expired {
        /// Its expiry.
        expires_at: u64,
    },
    /// Its issue time is in the future (beyond the allowed clock skew).
    NotYetValid {
        /// Its issue time.
        issued_at: u64,
    },
    /// The issuer is not in the registry.
    UnknownIssuer,
    /// The issuer is suspended or removed (its status as of the knowledge's height).
    IssuerNotActive {
        /// Its status.
        status: IssuerStatus,
    },
    /// The issuer may not issue this kind of certificate.
    KindNotAllowed,
    /// Issued outside the issuer's validity window.
    OutsideIssuerValidity,
    /// The signature does not verify with any key of the issuer: altered or forged.
    Tampered,
    /// Not a readable certificate code.
    Malformed {
        /// The reason.
        reason: String,
    },
}

/// A verdict with the certificate and the freshness of the knowledge behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineReport {
    /// The verdict.
    pub verdict: Verdict,
    /// The certificate, when it could be read.
    pub certificate: Option<Certificate>,
    /// The height of the knowledge used.
    pub as_of_height: u64,
    /// The block time of the knowledge used.
    pub as_of_time: u64,
    /// `now - as_of_time` (0 if the knowledge is from the future).
    pub knowledge_age_secs: u64,
}

/// Verifies scanned QR bytes offline at time `now` (unix seconds).
pub fn verify_qr(input: &[u8], trust: &TrustSnapshot, now: u64) -> OfflineReport {
    match qr::decode(input) {
        Ok(signed) => verify_signed(&signed, trust, now),
        Err(e) => report(trust, now, malformed(&e), None),
    }
}

fn malformed(e: &QrError) -> Verdict {
    Verdict::Malformed {
        reason: e.to_string(),
    }
}

fn report(
    trust: &TrustSnapshot,
    now: u64,
    verdict: Verdict,
    cert: Option<&Certificate>,
) -> OfflineReport {
    OfflineReport {
        verdict,
        certificate: cert.cloned(),
        as_of_height: trust.height,
        as_of_time: trust.time,
        knowledge_age_secs: now.saturating_sub(trust.time),
    }
}

/// Verifies a decoded signed certificate offline at time `now`.
pub fn verify_signed(signed: &SignedCertificate, trust: &TrustSnapshot, now: u64) -> OfflineReport {
    let cert = &signed.certificate;
    let verdict = judge(signed, trust, now);
    report(trust, now, verdict, Some(cert))
}

fn judge(signed: &SignedCertificate, trust: &TrustSnapshot, now: u64) -> Verdict {
    let cert = &signed.certificate;
    let Some(issuer) = trust.issuers.get(&cert.id.issuer) else {
        return Verdict::UnknownIssuer;
    };
    if !issuer
        .spec
        .keys
        .iter()
        .any(|k| signed.is_signed_by(&trust.chain_id, k))
    {
        return Verdict::Tampered;
    }
    // The chain refuses to register these: the certificate cannot be genuine.
    if !issuer.spec.kinds.contains(cert.kind) {
        return Verdict::KindNotAllowed;
    }
    if !issuer.spec.is_within_validity(cert.issued_at) {
        return Verdict::OutsideIssuerValidity;
    }
    // Then in the online verdict's order: revoked, the issuer's standing, the dates.
    if trust.revoked.contains(&cert.id) {
        return Verdict::Revoked;
    }
    if issuer.status != IssuerStatus::Active {
        return Verdict::IssuerNotActive {
            status: issuer.status,
        };
    }
    if cert.issued_at > now.saturating_add(MAX_FUTURE_SKEW_SECS) {
        return Verdict::NotYetValid {
            issued_at: cert.issued_at,
        };
    }
    if now >= cert.expires_at {
        return Verdict::Expired {
            expires_at: cert.expires_at,
        };
    }
    Verdict::Valid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::sample_certificate;
    use crate::devkit::{demo_genesis, dev_key};
    use crate::types::{CertificateKind, Serial};

    const T0: u64 = 1_767_225_600;

    fn trust() -> TrustSnapshot {
        let g = demo_genesis("tradeseal-test", T0);
        let mut t = TrustSnapshot {
            chain_id: g.chain_id.clone(),
            height: 10,
            time: T0 + 100,
            ..Default::default()
        };
        for spec in g.issuers {
            t.add_issuer(IssuerRecord {
                spec,
                status: IssuerStatus::Active,
                status_since: T0,
                status_reason: String::new(),
                registered_height: 0,
            });
        }
        t
    }

    fn qr_of(c: Certificate, chain: &str, key: &str) -> String {
        qr::encode(&c.sign(chain, &dev_key(key)).unwrap()).unwrap()
    }

    fn cert(serial: &str) -> Certificate {
        sample_certificate(Serial::new(serial).unwrap(), T0 + 50)
    }

    #[test]
    fn verdicts() {
        let t = trust();
        let now = T0 + 200;
        let v = |text: &str, t: &TrustSnapshot, now| verify_qr(text.as_bytes(), t, now).verdict;
        let good = qr_of(cert("A"), "tradeseal-test", "issuer-ke-kephis");
        let r = verify_qr(good.as_bytes(), &t, now);
        assert_eq!(r.verdict, Verdict::Valid);
        assert_eq!(r.knowledge_age_secs, 100);
        assert_eq!(r.as_of_height, 10);
        // Expired, not yet valid.
        assert_eq!(
            v(&good, &t, T0 + 50 + 14 * 86_400),
            Verdict::Expired {
                expires_at: T0 + 50 + 14 * 86_400
            }
        );
        assert_eq!(
            v(&good, &t, T0 - 1000),
            Verdict::NotYetValid { issued_at: T0 + 50 }
        );
        // Revoked.
        let mut tr = t.clone();
        tr.revoked.insert(CertId::parse("KE-KEPHIS/A").unwrap());
        assert_eq!(v(&good, &tr, now), Verdict::Revoked);
        // Signed by another key, or for another chain: tampered.
        assert_eq!(
            v(
                &qr_of(cert("A"), "tradeseal-test", "issuer-ke-kncci"),
                &t,
                now
            ),
            Verdict::Tampered
        );
        assert_eq!(
            v(
                &qr_of(cert("A"), "other-chain", "issuer-ke-kephis"),
                &t,
                now
            ),
            Verdict::Tampered
        );
        // A changed field breaks the signature.
        let mut s = cert("A")
            .sign("tradeseal-test", &dev_key("issuer-ke-kephis"))
            .unwrap();
        s.certificate.goods.quantity = "19600".into();
        assert_eq!(verify_signed(&s, &t, now).verdict, Verdict::Tampered);
        // Unknown issuer, inactive issuer, wrong kind.
        let mut c = cert("A");
        c.id = CertId::parse("XX-NOBODY/A").unwrap();
        assert_eq!(
            v(&qr_of(c, "tradeseal-test", "issuer-ke-kephis"), &t, now),
            Verdict::UnknownIssuer
        );
        let mut ts = t.clone();
        if let Some(i) = ts.issuers.get_mut(&IssuerId::new("KE-KEPHIS").unwrap()) {
            i.status = IssuerStatus::Suspended;
        }
        assert_eq!(
            v(&good, &ts, now),
            Verdict::IssuerNotActive {
                status: IssuerStatus::Suspended
            }
        );
        let mut c = cert("A");
        c.kind = CertificateKind::CertificateOfOrigin;
        assert_eq!(
            v(&qr_of(c, "tradeseal-test", "issuer-ke-kephis"), &t, now),
            Verdict::KindNotAllowed
        );
        let c = sample_certificate(Serial::new("OLD").unwrap(), T0 - 10);
        assert_eq!(
            v(&qr_of(c, "tradeseal-test", "issuer-ke-kephis"), &t, now),
            Verdict::OutsideIssuerValidity
        );
        // Garbage.
        assert!(matches!(v("hello", &t, now), Verdict::Malformed { .. }));
        assert!(matches!(
            v(&good[..good.len() - 1], &t, now),
            Verdict::Malformed { .. }
        ));
    }
}
