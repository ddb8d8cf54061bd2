//! Certificates: registration of an issuer-signed certificate, and revocation by its issuer
//! or by governance.

use super::exec::{Exec, Role};
use crate::certificate::SignedCertificate;
use crate::error::TxError;
use crate::keys;
use crate::log::Log;
use crate::state::{
    CertRecord, IssuerStatus, Revocation, RevocationEntry, RevocationReason, Revoker,
};
use crate::tx::MAX_FUTURE_SKEW_SECS;
use crate::types::{CertId, PublicKey};

impl Exec<'_> {
    pub(super) fn issue(
        &mut self,
        signer: PublicKey,
        role: Role,
        signed: &SignedCertificate,
    ) -> Result<(), TxError> {
        let c = &signed.certificate;
        let rec = Self::signer_issuer(signer, role, &c.id.issuer, "only issuer keys issue")?;
        Self::require_active(&rec)?;
        let spec = &rec.spec;
        // The record is taken from the signed text, so the signature must be the issuer's:
        // one of its keys, over this chain's certificate sign bytes.
        if !spec
            .keys
            .iter()
            .any(|k| signed.is_signed_by(&self.reg.chain_id, k))
        {
            return Err(TxError::BadCertificateSignature { id: c.id.clone() });
        }
        if !spec.kinds.contains(c.kind) {
            return Err(TxError::KindNotAllowed {
                issuer: spec.id.clone(),
                kind: c.kind,
            });
        }
        for t in [self.time, c.issued_at] {
            if !spec.is_within_validity(t) {
                return Err(TxError::OutsideValidity {
                    issuer: spec.id.clone(),
                    time: t,
                    valid_from: spec.valid_from,
                    valid_until: spec.valid_until,
                });
            }
        }
        if c.issued_at > self.time.saturating_add(MAX_FUTURE_SKEW_SECS) {
            return Err(TxError::InvalidField {
                field: "issued_at",
                reason: "is more than 5 minutes after the block time",
            });
        }
        let key = keys::cert(&c.id);
        if self.get(&key).is_some() {
            return Err(TxError::CertificateExists { id: c.id.clone() });
        }
        let content_hash = c.content_hash();
        let record = CertRecord {
            id: c.id.clone(),
            kind: c.kind,
            content_hash,
            document_hash: c.document_hash,
            issued_at: c.issued_at,
            expires_at: c.expires_at,
            registered_height: self.height,
            registered_time: self.time,
            revocation: None,
        };
        self.put(key, &record);
        self.event(
            "certificate_issued",
            &[
                ("id", c.id.to_string()),
                ("issuer", c.id.issuer.to_string()),
                ("kind", c.kind.code().to_string()),
                ("content_hash", hex::encode(content_hash)),
            ],
        );
        Ok(())
    }

    pub(super) fn revoke_by_issuer(
        &mut self,
        signer: PublicKey,
        role: Role,
        cert: &CertId,
        reason: RevocationReason,
        note: &str,
    ) -> Result<(), TxError> {
        let rec = Self::signer_issuer(
            signer,
            role,
            &cert.issuer,
            "only the issuer or governance revokes",
        )?;
        if rec.status == IssuerStatus::Removed {
            return Err(TxError::IssuerNotActive {
                id: rec.spec.id,
                status: rec.status,
            });
        }
        self.revoke(cert, reason, note, Revoker::Issuer)
    }

    pub(super) fn revoke(
        &mut self,
        cert: &CertId,
        reason: RevocationReason,
        note: &str,
        by: Revoker,
    ) -> Result<(), TxError> {
        let key = keys::cert(cert);
        let mut record: CertRecord = self
            .read(&key)?
            .ok_or_else(|| TxError::CertificateNotFound { id: cert.clone() })?;
        if record.revocation.is_some() {
            return Err(TxError::AlreadyRevoked { id: cert.clone() });
        }
        let entry = RevocationEntry {
            cert: cert.clone(),
            reason,
            height: self.height,
            time: self.time,
        };
        let log_index = self.append_log(Log::Revocation, &entry)?;
        record.revocation = Some(Revocation {
            reason,
            note: note.to_owned(),
            height: self.height,
            time: self.time,
            by,
            log_index,
        });
        self.put(key, &record);
        self.event(
            "certificate_revoked",
            &[
                ("id", cert.to_string()),
                ("log_index", log_index.to_string()),
            ],
        );
        Ok(())
    }
}
