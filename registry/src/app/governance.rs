//! Governance: proposals, approvals by the threshold of members, and the actions they run.

use super::exec::{Exec, Role};
use crate::error::TxError;
use crate::keys;
use crate::state::{
    decode_u64, encode_u64, GovAction, IssuerChange, IssuerRecord, IssuerStatus, Proposal,
    ProposalStatus, Revoker, ValidatorTotals, MAX_VALIDATOR_POWER,
};
use crate::types::PublicKey;

impl Exec<'_> {
    pub(super) fn propose(
        &mut self,
        signer: PublicKey,
        role: Role,
        action: &GovAction,
        expires_at: u64,
    ) -> Result<(), TxError> {
        let Role::Governance(gov) = role else {
            return Err(TxError::Unauthorized {
                signer,
                reason: "only governance keys propose",
            });
        };
        if expires_at <= self.time {
            return Err(TxError::InvalidField {
                field: "expires_at",
                reason: "must be after the block time",
            });
        }
        let id = self.counter(keys::PROPOSAL_LEN)?;
        let executes = gov.threshold <= 1;
        // Run the action now: it executes if one approval is enough, and otherwise a proposal
        // that could not execute in the current state is refused early.
        let mut trial = Exec::new(self.reg, self.block, self.height, self.time);
        trial.writes = self.writes.clone();
        trial.run_action(action, id)?;
        if executes {
            self.writes = trial.writes;
            self.events.append(&mut trial.events);
        }
        let proposal = Proposal {
            id,
            action: action.clone(),
            expires_at,
            approvals: vec![signer],
            status: if executes {
                ProposalStatus::Executed
            } else {
                ProposalStatus::Open
            },
            created_height: self.height,
            executed_height: if executes { self.height } else { 0 },
        };
        self.put(keys::proposal(id), &proposal);
        self.writes
            .insert(keys::PROPOSAL_LEN.to_vec(), encode_u64(id + 1));
        self.event(
            "proposal_created",
            &[
                ("id", id.to_string()),
                ("proposer", signer.to_hex()),
                ("executed", executes.to_string()),
            ],
        );
        Ok(())
    }

    pub(super) fn approve(
        &mut self,
        signer: PublicKey,
        role: Role,
        id: u64,
    ) -> Result<(), TxError> {
        let Role::Governance(gov) = role else {
            return Err(TxError::Unauthorized {
                signer,
                reason: "only governance keys approve",
            });
        };
        let mut p: Proposal = self
            .read(&keys::proposal(id))?
            .ok_or(TxError::ProposalNotFound { id })?;
        if p.status != ProposalStatus::Open {
            return Err(TxError::ProposalClosed { id });
        }
        if self.time >= p.expires_at {
            return Err(TxError::ProposalExpired {
                id,
                expires_at: p.expires_at,
                time: self.time,
            });
        }
        if p.approvals.contains(&signer) {
            return Err(TxError::AlreadyApproved { id });
        }
        p.approvals.push(signer);
        // Only approvals by current members count.
        let count = p.approvals.iter().filter(|k| gov.is_member(k)).count();
        let executes = count >= usize::from(gov.threshold);
        if executes {
            let action = p.action.clone();
            self.run_action(&action, id)?;
            p.status = ProposalStatus::Executed;
            p.executed_height = self.height;
        }
        self.put(keys::proposal(id), &p);
        self.event(
            "proposal_approved",
            &[
                ("id", id.to_string()),
                ("approver", signer.to_hex()),
                ("executed", executes.to_string()),
            ],
        );
        Ok(())
    }

    pub(super) fn run_action(&mut self, action: &GovAction, proposal: u64) -> Result<(), TxError> {
        match action {
            GovAction::RegisterIssuer(spec) => {
                if self.get(&keys::issuer(&spec.id)).is_some() {
                    return Err(TxError::IssuerExists {
                        id: spec.id.clone(),
                    });
                }
                if let Some(k) = spec.keys.iter().find(|k| !k.is_valid_ed25519()) {
                    return Err(TxError::InvalidKey { key: *k });
                }
                let gov = self.governance()?;
                for k in &spec.keys {
                    if gov.is_member(k) || self.get(&keys::issuer_key(k)).is_some() {
                        return Err(TxError::KeyInUse { key: *k });
                    }
                }
                let rec = IssuerRecord {
                    spec: spec.clone(),
                    status: IssuerStatus::Active,
                    status_since: self.time,
                    status_reason: String::new(),
                    registered_height: self.height,
                };
                self.put(keys::issuer(&spec.id), &rec);
                for k in &spec.keys {
                    self.writes
                        .insert(keys::issuer_key(k), spec.id.as_str().as_bytes().to_vec());
                }
                self.log_issuer(&spec.id, IssuerChange::Registered, proposal)?;
            }
            GovAction::SuspendIssuer { id, reason } => {
                self.set_status(id, reason, IssuerStatus::Suspended, proposal)?
            }
            GovAction::ReinstateIssuer { id, reason } => {
                self.set_status(id, reason, IssuerStatus::Active, proposal)?
            }
            GovAction::RemoveIssuer { id, reason } => {
                self.set_status(id, reason, IssuerStatus::Removed, proposal)?
            }
            GovAction::RevokeCertificate { cert, reason, note } => {
                self.revoke(cert, *reason, note, Revoker::Governance)?
            }
            GovAction::SetValidator { pub_key, power } => {
                self.set_validator(*pub_key, *power, proposal)?
            }
        }
        Ok(())
    }

    /// `SetValidator`: the rules in order (set known 25, key 24, power 29, removal of an
    /// unknown 26 or of the last validator 27, a full set 28, the total 30), then
    /// `validator/<hex>` and `validator_set`. The block's validator updates are read from
    /// these writes when it commits.
    fn set_validator(&mut self, key: PublicKey, power: u64, proposal: u64) -> Result<(), TxError> {
        let totals: ValidatorTotals = self
            .read(keys::VALIDATOR_SET)?
            .ok_or(TxError::ValidatorSetUnknown)?;
        if !key.is_valid_ed25519() {
            return Err(TxError::InvalidKey { key });
        }
        if power > MAX_VALIDATOR_POWER {
            return Err(TxError::ValidatorPowerTooHigh {
                power,
                max: MAX_VALIDATOR_POWER,
            });
        }
        let current = match self.get(&keys::validator(&key)) {
            None => 0,
            Some(b) => decode_u64(b).map_err(|e| TxError::Internal(format!("validator: {e}")))?,
        };
        let totals = totals.after_change(&key, current, power)?;
        self.writes.insert(keys::validator(&key), encode_u64(power));
        self.put(keys::VALIDATOR_SET.to_vec(), &totals);
        self.event(
            "validator_updated",
            &[
                ("pub_key", key.to_hex()),
                ("power", power.to_string()),
                ("proposal", proposal.to_string()),
            ],
        );
        Ok(())
    }
}
