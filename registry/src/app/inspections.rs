//! Inspections: an agency's record of inspecting a certificate that is on the chain.

use super::exec::{Exec, Role};
use crate::error::TxError;
use crate::keys;
use crate::state::InspectionRecord;
use crate::tx::{RecordInspection, MAX_FUTURE_SKEW_SECS};
use crate::types::PublicKey;

impl Exec<'_> {
    pub(super) fn inspect(
        &mut self,
        signer: PublicKey,
        role: Role,
        m: &RecordInspection,
    ) -> Result<(), TxError> {
        let rec = Self::signer_issuer(
            signer,
            role,
            &m.agency,
            "only agency keys record inspections",
        )?;
        Self::require_active(&rec)?;
        if m.location.is_empty() {
            return Err(TxError::InvalidField {
                field: "location",
                reason: "must not be empty",
            });
        }
        if m.inspected_at > self.time.saturating_add(MAX_FUTURE_SKEW_SECS) {
            return Err(TxError::InvalidField {
                field: "inspected_at",
                reason: "is more than 5 minutes after the block time",
            });
        }
        // Only certificates on the chain are inspected: ids that were never registered would
        // let any agency key grow the state without bound. A forged code naming a real id is
        // recorded against that id (outcome 5).
        if self.get(&keys::cert(&m.cert)).is_none() {
            return Err(TxError::CertificateNotFound { id: m.cert.clone() });
        }
        let record = InspectionRecord {
            cert: m.cert.clone(),
            agency: m.agency.clone(),
            inspector: signer,
            location: m.location.clone(),
            outcome: m.outcome,
            notes: m.notes.clone(),
            inspected_at: m.inspected_at,
            recorded_height: self.height,
            recorded_time: self.time,
        };
        let cert = m.cert.clone();
        let n = self.append(
            &keys::inspection_len(&cert),
            |n| keys::inspection(&cert, n),
            &record,
        )?;
        self.event(
            "inspection_recorded",
            &[("cert", cert.to_string()), ("index", n.to_string())],
        );
        Ok(())
    }
}
