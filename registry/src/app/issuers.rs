//! Issuers: status changes (suspended, reinstated, removed), the issuer log, and who a
//! signer speaks for.

use super::exec::{Exec, Role};
use crate::error::TxError;
use crate::keys;
use crate::log::Log;
use crate::state::{IssuerChange, IssuerLogEntry, IssuerRecord, IssuerStatus};
use crate::types::{IssuerId, PublicKey};

impl Exec<'_> {
    pub(super) fn set_status(
        &mut self,
        id: &IssuerId,
        reason: &str,
        to: IssuerStatus,
        proposal: u64,
    ) -> Result<(), TxError> {
        let mut rec = self.issuer(id)?;
        let change = match (rec.status, to) {
            (IssuerStatus::Active, IssuerStatus::Suspended) => IssuerChange::Suspended,
            (IssuerStatus::Suspended, IssuerStatus::Active) => IssuerChange::Reinstated,
            (IssuerStatus::Active | IssuerStatus::Suspended, IssuerStatus::Removed) => {
                IssuerChange::Removed
            }
            (from, _) => {
                return Err(TxError::InvalidTransition {
                    id: id.clone(),
                    from,
                })
            }
        };
        rec.status = to;
        rec.status_since = self.time;
        rec.status_reason = reason.to_owned();
        self.put(keys::issuer(id), &rec);
        self.log_issuer(id, change, proposal)
    }

    pub(super) fn log_issuer(
        &mut self,
        id: &IssuerId,
        change: IssuerChange,
        proposal: u64,
    ) -> Result<(), TxError> {
        let entry = IssuerLogEntry {
            issuer: id.clone(),
            change,
            height: self.height,
            time: self.time,
            proposal: Some(proposal),
        };
        let n = self.append_log(Log::Issuer, &entry)?;
        self.event(
            "issuer_changed",
            &[
                ("issuer", id.to_string()),
                ("change", format!("{change:?}")),
                ("log_index", n.to_string()),
            ],
        );
        Ok(())
    }

    /// The signer's active issuer, checked against the issuer the message names.
    pub(super) fn signer_issuer(
        signer: PublicKey,
        role: Role,
        named: &IssuerId,
        what: &'static str,
    ) -> Result<IssuerRecord, TxError> {
        let Role::Issuer(rec) = role else {
            return Err(TxError::Unauthorized {
                signer,
                reason: what,
            });
        };
        if &rec.spec.id != named {
            return Err(TxError::WrongIssuer {
                signer_issuer: rec.spec.id,
                named: named.clone(),
            });
        }
        Ok(rec)
    }

    pub(super) fn require_active(rec: &IssuerRecord) -> Result<(), TxError> {
        if rec.status == IssuerStatus::Active {
            Ok(())
        } else {
            Err(TxError::IssuerNotActive {
                id: rec.spec.id.clone(),
                status: rec.status,
            })
        }
    }
}
