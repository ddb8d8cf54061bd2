//! The online verdict: a certificate checked against its chain record, which the caller has
//! proven (with [`crate::proof`]) against a verified header. Pure: `now` is a parameter.

use serde::{Deserialize, Serialize};

use crate::app::MAX_FUTURE_SKEW_SECS;
use crate::certificate::Certificate;
use crate::state::{CertRecord, RevocationReason};

/// The verdict on a certificate given its proven chain record (or proven absence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum OnlineVerdict {
    /// Registered with this exact content, not revoked, not expired.
    Valid,
    /// No record under this certificate's id.
    NotRegistered,
    /// A record exists but for different content: the certificate was altered or forged.
    Tampered,
    /// Revoked.
    Revoked {
        /// Why.
        reason: RevocationReason,
        /// Block time of the revocation.
        time: u64,
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

/// Judges `cert` against `record` (the proven value of `cert/<issuer>/<serial>`, `None` if
/// proven absent) at time `now`. The record's existence already shows the issuer was active,
/// allowed the kind and within its window at registration: the chain enforced it.
pub fn verify_against_record(
    cert: &Certificate,
    record: Option<&CertRecord>,
    now: u64,
) -> OnlineVerdict {
    let Some(record) = record.filter(|r| r.id == cert.id) else {
        return OnlineVerdict::NotRegistered;
    };
    if record.content_hash != cert.content_hash() {
        return OnlineVerdict::Tampered;
    }
    if let Some(rv) = &record.revocation {
        return OnlineVerdict::Revoked {
            reason: rv.reason,
            time: rv.time,
        };
    }
    if cert.issued_at > now.saturating_add(MAX_FUTURE_SKEW_SECS) {
        return OnlineVerdict::NotYetValid {
            issued_at: cert.issued_at,
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
    use crate::state::{Revocation, Revoker};
    use crate::types::Serial;

    #[test]
    fn verdicts() {
        let cert = sample_certificate(Serial::new("A").unwrap(), 1000);
        let record = CertRecord {
            id: cert.id.clone(),
            kind: cert.kind,
            content_hash: cert.content_hash(),
            document_hash: cert.document_hash,
            issued_at: cert.issued_at,
            expires_at: cert.expires_at,
            registered_height: 1,
            registered_time: 1000,
            revocation: None,
        };
        assert_eq!(
            verify_against_record(&cert, Some(&record), 2000),
            OnlineVerdict::Valid
        );
        assert_eq!(
            verify_against_record(&cert, None, 2000),
            OnlineVerdict::NotRegistered
        );
        let mut altered = cert.clone();
        altered.goods.quantity = "1".into();
        assert_eq!(
            verify_against_record(&altered, Some(&record), 2000),
            OnlineVerdict::Tampered
        );
        let mut other = cert.clone();
        other.id.serial = Serial::new("B").unwrap();
        assert_eq!(
            verify_against_record(&other, Some(&record), 2000),
            OnlineVerdict::NotRegistered
        );
        assert_eq!(
            verify_against_record(&cert, Some(&record), cert.expires_at),
            OnlineVerdict::Expired {
                expires_at: cert.expires_at
            }
        );
        assert_eq!(
            verify_against_record(&cert, Some(&record), 0),
            OnlineVerdict::NotYetValid { issued_at: 1000 }
        );
        let mut revoked = record;
        revoked.revocation = Some(Revocation {
            reason: RevocationReason::Cancelled,
            note: String::new(),
            height: 2,
            time: 1500,
            by: Revoker::Issuer,
            log_index: 0,
        });
        assert_eq!(
            verify_against_record(&cert, Some(&revoked), 2000),
            OnlineVerdict::Revoked {
                reason: RevocationReason::Cancelled,
                time: 1500
            }
        );
        assert!(cert.document_matches(b"sample certificate document"));
        assert!(!cert.document_matches(b"another document"));
    }
}
