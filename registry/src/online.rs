//! The online verdict: a scanned certificate judged against its chain record and its issuer's
//! record, both of which the caller has proven (with [`crate::proof`]) against one verified
//! header. Pure: the time and the chain id are parameters.
//!
//! The order of the checks is the order of what a trader must hear first: who issued it
//! (unknown issuer), whether the issuer really signed this text (tampered), whether the chain
//! knows it (not registered), whether the chain's record says the same (tampered), then
//! revocation, the issuer's standing now, and the dates.

use serde::{Deserialize, Serialize};

use crate::certificate::SignedCertificate;
use crate::state::{CertRecord, IssuerRecord, IssuerStatus, RevocationReason};
use crate::tx::MAX_FUTURE_SKEW_SECS;

/// What differs when a certificate is judged tampered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mismatch {
    /// The signature is not by a key of the issuer for this chain: altered or forged.
    Signature,
    /// The chain's record has another content hash.
    Content,
    /// The chain's record has another kind.
    Kind,
    /// The chain's record has other issue or expiry dates.
    Dates,
    /// The chain's record names another document hash (or none).
    DocumentHash,
    /// The document (PDF) given is not the one the certificate names.
    Document,
}

/// The verdict on a certificate from proven chain state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum OnlineVerdict {
    /// Signed by its issuer, registered with this exact content, not revoked, the issuer in
    /// good standing, within its dates.
    Valid,
    /// The issuer named is not in the registry.
    UnknownIssuer,
    /// No record under this certificate's id.
    NotRegistered,
    /// The certificate, its record or its document disagree.
    Tampered {
        /// What differs.
        mismatch: Mismatch,
    },
    /// Revoked.
    Revoked {
        /// Why.
        reason: RevocationReason,
        /// Block time of the revocation.
        time: u64,
        /// The note given with the revocation.
        note: String,
    },
    /// Governance suspended or removed the issuer (e.g. for a compromised key).
    IssuerNotActive {
        /// Its status now.
        status: IssuerStatus,
        /// Since when (block time).
        since: u64,
        /// The reason governance gave.
        reason: String,
    },
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
}

/// The proven facts a certificate is judged against.
#[derive(Debug, Clone, Copy)]
pub struct ProvenFacts<'a> {
    /// The chain the proofs come from (bound into certificate signatures).
    pub chain_id: &'a str,
    /// The value of `cert/<issuer>/<serial>`, `None` when proven absent.
    pub record: Option<&'a CertRecord>,
    /// The value of `issuer/<id>`, `None` when proven absent.
    pub issuer: Option<&'a IssuerRecord>,
    /// Now (unix seconds).
    pub now: u64,
}

/// Judges a scanned signed certificate; `document_sha256` is the SHA-256 of the PDF given
/// with it, if any.
pub fn judge(
    signed: &SignedCertificate,
    facts: &ProvenFacts<'_>,
    document_sha256: Option<&[u8; 32]>,
) -> OnlineVerdict {
    let cert = &signed.certificate;
    let Some(issuer) = facts.issuer.filter(|i| i.spec.id == cert.id.issuer) else {
        return OnlineVerdict::UnknownIssuer;
    };
    if !issuer
        .spec
        .keys
        .iter()
        .any(|k| signed.is_signed_by(facts.chain_id, k))
    {
        return tampered(Mismatch::Signature);
    }
    let Some(record) = facts.record.filter(|r| r.id == cert.id) else {
        return OnlineVerdict::NotRegistered;
    };
    if record.content_hash != cert.content_hash() {
        return tampered(Mismatch::Content);
    }
    if record.kind != cert.kind {
        return tampered(Mismatch::Kind);
    }
    if record.issued_at != cert.issued_at || record.expires_at != cert.expires_at {
        return tampered(Mismatch::Dates);
    }
    if record.document_hash != cert.document_hash {
        return tampered(Mismatch::DocumentHash);
    }
    if let Some(doc) = document_sha256 {
        if cert.document_hash.as_ref() != Some(doc) {
            return tampered(Mismatch::Document);
        }
    }
    standing(record, issuer, facts.now)
}

/// Judges a certificate looked up by its id alone (a serial typed in): only the chain's
/// record speaks, so the verdict says whether the chain holds a current certificate under
/// this id, not whether a paper in hand says the same.
pub fn judge_record(
    record: Option<&CertRecord>,
    issuer: Option<&IssuerRecord>,
    now: u64,
) -> OnlineVerdict {
    let Some(issuer) = issuer else {
        return OnlineVerdict::UnknownIssuer;
    };
    let Some(record) = record.filter(|r| r.id.issuer == issuer.spec.id) else {
        return OnlineVerdict::NotRegistered;
    };
    standing(record, issuer, now)
}

fn tampered(mismatch: Mismatch) -> OnlineVerdict {
    OnlineVerdict::Tampered { mismatch }
}

/// Revocation, the issuer's standing now, then the dates.
fn standing(record: &CertRecord, issuer: &IssuerRecord, now: u64) -> OnlineVerdict {
    if let Some(rv) = &record.revocation {
        return OnlineVerdict::Revoked {
            reason: rv.reason,
            time: rv.time,
            note: rv.note.clone(),
        };
    }
    if issuer.status != IssuerStatus::Active {
        return OnlineVerdict::IssuerNotActive {
            status: issuer.status,
            since: issuer.status_since,
            reason: issuer.status_reason.clone(),
        };
    }
    if record.issued_at > now.saturating_add(MAX_FUTURE_SKEW_SECS) {
        return OnlineVerdict::NotYetValid {
            issued_at: record.issued_at,
        };
    }
    if now >= record.expires_at {
        return OnlineVerdict::Expired {
            expires_at: record.expires_at,
        };
    }
    OnlineVerdict::Valid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::sample_certificate;
    use crate::devkit::{demo_genesis, dev_key};
    use crate::state::{Revocation, Revoker};
    use crate::types::{CertificateKind, Serial};

    const CHAIN: &str = "tradeseal-test";
    const T0: u64 = 1_767_225_600;

    fn signed() -> SignedCertificate {
        sample_certificate(Serial::new("A").unwrap(), T0)
            .sign(CHAIN, &dev_key("issuer-ke-kephis"))
            .unwrap()
    }

    fn issuer() -> IssuerRecord {
        let spec = demo_genesis(CHAIN, T0)
            .issuers
            .into_iter()
            .find(|s| s.id.as_str() == "KE-KEPHIS")
            .expect("the demo genesis has KE-KEPHIS");
        IssuerRecord {
            spec,
            status: IssuerStatus::Active,
            status_since: T0,
            status_reason: String::new(),
            registered_height: 0,
        }
    }

    fn record(s: &SignedCertificate) -> CertRecord {
        let c = &s.certificate;
        CertRecord {
            id: c.id.clone(),
            kind: c.kind,
            content_hash: c.content_hash(),
            document_hash: c.document_hash,
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            registered_height: 1,
            registered_time: T0,
            revocation: None,
        }
    }

    fn run(
        s: &SignedCertificate,
        r: Option<&CertRecord>,
        i: Option<&IssuerRecord>,
        now: u64,
    ) -> OnlineVerdict {
        let facts = ProvenFacts {
            chain_id: CHAIN,
            record: r,
            issuer: i,
            now,
        };
        judge(s, &facts, None)
    }

    #[test]
    fn valid_and_each_verdict() {
        let s = signed();
        let rec = record(&s);
        let iss = issuer();
        let now = T0 + 100;
        assert_eq!(run(&s, Some(&rec), Some(&iss), now), OnlineVerdict::Valid);
        assert_eq!(run(&s, Some(&rec), None, now), OnlineVerdict::UnknownIssuer);
        assert_eq!(run(&s, None, Some(&iss), now), OnlineVerdict::NotRegistered);
        assert_eq!(
            run(&s, Some(&rec), Some(&iss), s.certificate.expires_at),
            OnlineVerdict::Expired {
                expires_at: s.certificate.expires_at
            }
        );
        assert_eq!(
            run(&s, Some(&rec), Some(&iss), 0),
            OnlineVerdict::NotYetValid { issued_at: T0 }
        );
    }

    #[test]
    fn tampering_is_found_in_the_text_the_record_and_the_document() {
        let s = signed();
        let rec = record(&s);
        let iss = issuer();
        let now = T0 + 100;
        // Altered text: the signature no longer verifies.
        let mut altered = s.clone();
        altered.certificate.goods.quantity = "1".into();
        assert_eq!(
            run(&altered, Some(&rec), Some(&iss), now),
            tampered(Mismatch::Signature)
        );
        // Signed by a stranger, or for another chain.
        let forged = s
            .certificate
            .clone()
            .sign(CHAIN, &dev_key("stranger"))
            .unwrap();
        assert_eq!(
            run(&forged, Some(&rec), Some(&iss), now),
            tampered(Mismatch::Signature)
        );
        let other_chain = s
            .certificate
            .clone()
            .sign("other", &dev_key("issuer-ke-kephis"))
            .unwrap();
        assert_eq!(
            run(&other_chain, Some(&rec), Some(&iss), now),
            tampered(Mismatch::Signature)
        );
        // A record registered with other fields than the signed text.
        let mut r = rec.clone();
        r.content_hash[0] ^= 1;
        assert_eq!(
            run(&s, Some(&r), Some(&iss), now),
            tampered(Mismatch::Content)
        );
        let mut r = rec.clone();
        r.kind = CertificateKind::CertificateOfOrigin;
        assert_eq!(run(&s, Some(&r), Some(&iss), now), tampered(Mismatch::Kind));
        let mut r = rec.clone();
        r.expires_at += 1;
        assert_eq!(
            run(&s, Some(&r), Some(&iss), now),
            tampered(Mismatch::Dates)
        );
        let mut r = rec.clone();
        r.document_hash = None;
        assert_eq!(
            run(&s, Some(&r), Some(&iss), now),
            tampered(Mismatch::DocumentHash)
        );
        // The PDF given.
        let facts = ProvenFacts {
            chain_id: CHAIN,
            record: Some(&rec),
            issuer: Some(&iss),
            now,
        };
        let sha = |b: &[u8]| -> [u8; 32] { <sha2::Sha256 as sha2::Digest>::digest(b).into() };
        assert_eq!(
            judge(&s, &facts, Some(&sha(b"sample certificate document"))),
            OnlineVerdict::Valid
        );
        assert_eq!(
            judge(&s, &facts, Some(&sha(b"another document"))),
            tampered(Mismatch::Document)
        );
    }

    #[test]
    fn revocation_and_the_issuers_standing_now() {
        let s = signed();
        let iss = issuer();
        let now = T0 + 100;
        let mut rec = record(&s);
        rec.revocation = Some(Revocation {
            reason: RevocationReason::Cancelled,
            note: "shipment cancelled".into(),
            height: 2,
            time: T0 + 50,
            by: Revoker::Issuer,
            log_index: 0,
        });
        assert_eq!(
            run(&s, Some(&rec), Some(&iss), now),
            OnlineVerdict::Revoked {
                reason: RevocationReason::Cancelled,
                time: T0 + 50,
                note: "shipment cancelled".into()
            }
        );
        let rec = record(&s);
        let mut removed = iss;
        removed.status = IssuerStatus::Removed;
        removed.status_since = T0 + 60;
        removed.status_reason = "key compromised".into();
        assert_eq!(
            run(&s, Some(&rec), Some(&removed), now),
            OnlineVerdict::IssuerNotActive {
                status: IssuerStatus::Removed,
                since: T0 + 60,
                reason: "key compromised".into()
            }
        );
    }

    #[test]
    fn a_serial_alone_is_judged_by_the_record() {
        let s = signed();
        let rec = record(&s);
        let iss = issuer();
        assert_eq!(
            judge_record(Some(&rec), Some(&iss), T0 + 1),
            OnlineVerdict::Valid
        );
        assert_eq!(
            judge_record(None, Some(&iss), T0 + 1),
            OnlineVerdict::NotRegistered
        );
        assert_eq!(
            judge_record(Some(&rec), None, T0 + 1),
            OnlineVerdict::UnknownIssuer
        );
    }
}
