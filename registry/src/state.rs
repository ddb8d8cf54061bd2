//! The records kept in the registry's state and their canonical value encodings.
//!
//! Each record is stored under the key given in [`crate::keys`]; its value is the record's
//! [`Canonical`] encoding. Wallets decode proven values with `Record::from_bytes`.

use serde::{Deserialize, Serialize};

use crate::codec::{check_text, Canonical, DecodeError, Reader, Writer};
use crate::types::{CertId, CertificateKind, Country, IssuerId, KindSet, PublicKey};

/// Longest issuer legal name, in bytes.
pub const MAX_LEGAL_NAME_LEN: usize = 128;
/// Most keys an issuer may have.
pub const MAX_ISSUER_KEYS: usize = 8;
/// Most governance keys.
pub const MAX_GOVERNANCE_KEYS: usize = 32;
/// Longest free-text reason or note, in bytes.
pub const MAX_NOTE_LEN: usize = 255;
/// Longest inspection location, in bytes.
pub const MAX_LOCATION_LEN: usize = 64;
/// Most validators in the set (CometBFT's own bound is far higher; a trade registry runs a
/// few dozen at most).
pub const MAX_VALIDATORS: usize = 150;
/// Highest voting power of one validator: 2^40.
pub const MAX_VALIDATOR_POWER: u64 = 1 << 40;
/// Highest total voting power: CometBFT's `MaxTotalVotingPower` (`i64::MAX / 8`). With at
/// most [`MAX_VALIDATORS`] validators of at most [`MAX_VALIDATOR_POWER`] each the total stays
/// below it; execution checks it all the same, since CometBFT halts on an update over it.
pub const MAX_TOTAL_VOTING_POWER: u64 = (i64::MAX / 8) as u64;

fn tag_error(field: &'static str, v: u8) -> DecodeError {
    DecodeError::InvalidTag {
        field,
        value: u64::from(v),
    }
}

/// The governance: the keys that approve issuer changes and `threshold` of which must approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governance {
    /// Approvals needed (m), 1 ≤ m ≤ n.
    pub threshold: u8,
    /// The n member keys, distinct.
    pub keys: Vec<PublicKey>,
}

impl Governance {
    /// Checks 1 ≤ threshold ≤ keys, 1 ≤ keys ≤ 32, keys distinct and valid ed25519 keys
    /// ([`PublicKey::is_valid_ed25519`]).
    pub fn validate(&self) -> Result<(), DecodeError> {
        self.validate_fields()?;
        for k in &self.keys {
            k.check_valid("governance.keys")?;
        }
        Ok(())
    }

    /// The structural rules only (what decoding a stored value checks).
    fn validate_fields(&self) -> Result<(), DecodeError> {
        if self.keys.is_empty() || self.keys.len() > MAX_GOVERNANCE_KEYS {
            return Err(DecodeError::InvalidField {
                field: "governance.keys",
                reason: "must hold 1 to 32 keys",
            });
        }
        if self.threshold == 0 || usize::from(self.threshold) > self.keys.len() {
            return Err(DecodeError::InvalidField {
                field: "governance.threshold",
                reason: "must be between 1 and the number of keys",
            });
        }
        if has_duplicates(&self.keys) {
            return Err(DecodeError::InvalidField {
                field: "governance.keys",
                reason: "keys must be distinct",
            });
        }
        Ok(())
    }

    /// Whether `key` is a member.
    pub fn is_member(&self, key: &PublicKey) -> bool {
        self.keys.contains(key)
    }
}

pub(crate) fn has_duplicates(keys: &[PublicKey]) -> bool {
    let mut sorted = keys.to_vec();
    sorted.sort();
    sorted.windows(2).any(|w| w[0] == w[1])
}

impl Canonical for Governance {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.threshold).count(self.keys.len());
        for k in &self.keys {
            k.encode_to(w);
        }
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let threshold = r.u8("governance.threshold")?;
        let n = r.count("governance.keys", MAX_GOVERNANCE_KEYS)?;
        let keys = (0..n)
            .map(|_| PublicKey::decode_from(r))
            .collect::<Result<_, _>>()?;
        let g = Self { threshold, keys };
        g.validate_fields()?;
        Ok(g)
    }
}

/// What governance registers: an issuing or inspecting agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerSpec {
    /// The issuer's id, unique forever.
    pub id: IssuerId,
    /// Legal name (UTF-8, at most 128 bytes, not empty).
    pub legal_name: String,
    /// Country of the agency.
    pub country: Country,
    /// Its signing keys (1-8, distinct, not used by any other issuer or by governance).
    pub keys: Vec<PublicKey>,
    /// The certificate kinds it may issue (may be empty: an inspecting-only agency).
    pub kinds: KindSet,
    /// Start of its validity window (unix seconds, inclusive).
    pub valid_from: u64,
    /// End of its validity window (unix seconds, exclusive); greater than `valid_from`.
    pub valid_until: u64,
}

impl IssuerSpec {
    /// Checks the field rules (non-empty name, 1-8 distinct keys, valid window) and that
    /// every key is a valid ed25519 key ([`PublicKey::is_valid_ed25519`]).
    pub fn validate(&self) -> Result<(), DecodeError> {
        self.validate_fields()?;
        self.validate_keys()
    }

    /// Every key is a valid ed25519 key.
    pub fn validate_keys(&self) -> Result<(), DecodeError> {
        for k in &self.keys {
            k.check_valid("issuer.keys")?;
        }
        Ok(())
    }

    /// The structural rules only (what decoding checks; keys are checked where they are
    /// registered: genesis and RegisterIssuer, code 24).
    fn validate_fields(&self) -> Result<(), DecodeError> {
        if self.legal_name.is_empty() || self.legal_name.len() > MAX_LEGAL_NAME_LEN {
            return Err(DecodeError::InvalidField {
                field: "issuer.legal_name",
                reason: "must be 1 to 128 bytes",
            });
        }
        if self.keys.is_empty() || self.keys.len() > MAX_ISSUER_KEYS {
            return Err(DecodeError::InvalidField {
                field: "issuer.keys",
                reason: "must hold 1 to 8 keys",
            });
        }
        if has_duplicates(&self.keys) {
            return Err(DecodeError::InvalidField {
                field: "issuer.keys",
                reason: "keys must be distinct",
            });
        }
        if self.valid_until <= self.valid_from {
            return Err(DecodeError::InvalidField {
                field: "issuer.valid_until",
                reason: "must be after valid_from",
            });
        }
        Ok(())
    }

    /// Whether `t` (unix seconds) is inside `[valid_from, valid_until)`.
    pub fn is_within_validity(&self, t: u64) -> bool {
        self.valid_from <= t && t < self.valid_until
    }
}

impl Canonical for IssuerSpec {
    fn encode_to(&self, w: &mut Writer) {
        self.id.encode_to(w);
        w.str(&self.legal_name);
        self.country.encode_to(w);
        w.count(self.keys.len());
        for k in &self.keys {
            k.encode_to(w);
        }
        self.kinds.encode_to(w);
        w.u64(self.valid_from).u64(self.valid_until);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = IssuerId::decode_from(r)?;
        let legal_name = r.str("issuer.legal_name", MAX_LEGAL_NAME_LEN)?;
        let country = Country::decode_from(r)?;
        let n = r.count("issuer.keys", MAX_ISSUER_KEYS)?;
        let keys = (0..n)
            .map(|_| PublicKey::decode_from(r))
            .collect::<Result<_, _>>()?;
        let kinds = KindSet::decode_from(r)?;
        let valid_from = r.u64("issuer.valid_from")?;
        let valid_until = r.u64("issuer.valid_until")?;
        let s = Self {
            id,
            legal_name,
            country,
            keys,
            kinds,
            valid_from,
            valid_until,
        };
        s.validate_fields()?;
        Ok(s)
    }
}

/// An issuer's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerStatus {
    /// May issue and record inspections. Code 1.
    Active = 1,
    /// Temporarily barred; may still revoke its own certificates. Code 2.
    Suspended = 2,
    /// Permanently removed; its keys stay reserved. Code 3.
    Removed = 3,
}

impl IssuerStatus {
    fn from_code(v: u8) -> Result<Self, DecodeError> {
        match v {
            1 => Ok(Self::Active),
            2 => Ok(Self::Suspended),
            3 => Ok(Self::Removed),
            _ => Err(tag_error("issuer.status", v)),
        }
    }
}

/// An issuer as stored at `issuer/<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerRecord {
    /// What governance registered.
    pub spec: IssuerSpec,
    /// Current status.
    pub status: IssuerStatus,
    /// Block time of the last status change (registration counts).
    pub status_since: u64,
    /// Reason given with the last status change (empty at registration).
    pub status_reason: String,
    /// Height of the block that registered it (0 for genesis issuers).
    pub registered_height: u64,
}

impl Canonical for IssuerRecord {
    fn encode_to(&self, w: &mut Writer) {
        self.spec.encode_to(w);
        w.u8(self.status as u8)
            .u64(self.status_since)
            .str(&self.status_reason);
        w.u64(self.registered_height);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            spec: IssuerSpec::decode_from(r)?,
            status: IssuerStatus::from_code(r.u8("issuer.status")?)?,
            status_since: r.u64("issuer.status_since")?,
            status_reason: r.str("issuer.status_reason", MAX_NOTE_LEN)?,
            registered_height: r.u64("issuer.registered_height")?,
        })
    }
}

/// Why a certificate was revoked. Codes are part of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// Issued by mistake. Code 1.
    IssuedInError = 1,
    /// Replaced by another certificate. Code 2.
    Superseded = 2,
    /// The shipment or licence was cancelled. Code 3.
    Cancelled = 3,
    /// Obtained by fraud. Code 4.
    Fraudulent = 4,
    /// The issuer's key was compromised. Code 5.
    KeyCompromise = 5,
    /// Another reason, given in the note. Code 6.
    Other = 6,
}

impl RevocationReason {
    /// The reason with this code.
    pub fn from_code(v: u8) -> Result<Self, DecodeError> {
        match v {
            1 => Ok(Self::IssuedInError),
            2 => Ok(Self::Superseded),
            3 => Ok(Self::Cancelled),
            4 => Ok(Self::Fraudulent),
            5 => Ok(Self::KeyCompromise),
            6 => Ok(Self::Other),
            _ => Err(tag_error("revocation.reason", v)),
        }
    }
}

/// Who revoked a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revoker {
    /// One of the issuer's keys. Code 1.
    Issuer = 1,
    /// A governance proposal. Code 2.
    Governance = 2,
}

/// A revocation as kept in a certificate record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Why.
    pub reason: RevocationReason,
    /// Free text (at most 255 bytes).
    pub note: String,
    /// Height of the revoking block.
    pub height: u64,
    /// Block time of the revoking block.
    pub time: u64,
    /// Who revoked it.
    pub by: Revoker,
    /// Its index in the revocation log.
    pub log_index: u64,
}

/// A certificate as stored at `cert/<issuer>/<serial>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertRecord {
    /// Its id.
    pub id: CertId,
    /// Its kind.
    pub kind: CertificateKind,
    /// SHA-256 content hash of the certificate ([`crate::Certificate::content_hash`]).
    pub content_hash: [u8; 32],
    /// SHA-256 of the certificate document (PDF), if any.
    pub document_hash: Option<[u8; 32]>,
    /// Issue time stated in the certificate (unix seconds).
    pub issued_at: u64,
    /// Expiry stated in the certificate (unix seconds, exclusive).
    pub expires_at: u64,
    /// Height of the block that registered it.
    pub registered_height: u64,
    /// Block time of that block.
    pub registered_time: u64,
    /// The revocation, once revoked.
    pub revocation: Option<Revocation>,
}

impl Canonical for CertRecord {
    fn encode_to(&self, w: &mut Writer) {
        self.id.encode_to(w);
        self.kind.encode_to(w);
        w.raw(&self.content_hash);
        w.opt(self.document_hash.as_ref(), |w, h| {
            w.raw(h);
        });
        w.u64(self.issued_at).u64(self.expires_at);
        w.u64(self.registered_height).u64(self.registered_time);
        w.opt(self.revocation.as_ref(), |w, rv| {
            w.u8(rv.reason as u8)
                .str(&rv.note)
                .u64(rv.height)
                .u64(rv.time);
            w.u8(rv.by as u8).u64(rv.log_index);
        });
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = CertId::decode_from(r)?;
        let kind = CertificateKind::decode_from(r)?;
        let content_hash = r.array("cert.content_hash")?;
        let document_hash = if r.flag("cert.document_hash")? {
            Some(r.array("cert.document_hash")?)
        } else {
            None
        };
        let issued_at = r.u64("cert.issued_at")?;
        let expires_at = r.u64("cert.expires_at")?;
        let registered_height = r.u64("cert.registered_height")?;
        let registered_time = r.u64("cert.registered_time")?;
        let revocation = if r.flag("cert.revocation")? {
            let reason = RevocationReason::from_code(r.u8("revocation.reason")?)?;
            let note = r.str("revocation.note", MAX_NOTE_LEN)?;
            let height = r.u64("revocation.height")?;
            let time = r.u64("revocation.time")?;
            let by = match r.u8("revocation.by")? {
                1 => Revoker::Issuer,
                2 => Revoker::Governance,
                v => return Err(tag_error("revocation.by", v)),
            };
            let log_index = r.u64("revocation.log_index")?;
            Some(Revocation {
                reason,
                note,
                height,
                time,
                by,
                log_index,
            })
        } else {
            None
        };
        Ok(Self {
            id,
            kind,
            content_hash,
            document_hash,
            issued_at,
            expires_at,
            registered_height,
            registered_time,
            revocation,
        })
    }
}

/// An entry of the revocation log, stored at `revocation_log/<n>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationEntry {
    /// The revoked certificate.
    pub cert: CertId,
    /// Why.
    pub reason: RevocationReason,
    /// Height of the revoking block.
    pub height: u64,
    /// Block time of the revoking block.
    pub time: u64,
}

impl Canonical for RevocationEntry {
    fn encode_to(&self, w: &mut Writer) {
        self.cert.encode_to(w);
        w.u8(self.reason as u8).u64(self.height).u64(self.time);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            cert: CertId::decode_from(r)?,
            reason: RevocationReason::from_code(r.u8("revocation.reason")?)?,
            height: r.u64("revocation.height")?,
            time: r.u64("revocation.time")?,
        })
    }
}

/// A change to an issuer, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssuerChange {
    /// Registered (active). Code 1.
    Registered = 1,
    /// Suspended. Code 2.
    Suspended = 2,
    /// Reinstated (active again). Code 3.
    Reinstated = 3,
    /// Removed. Code 4.
    Removed = 4,
}

/// An entry of the issuer log, stored at `issuer_log/<n>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerLogEntry {
    /// The issuer.
    pub issuer: IssuerId,
    /// What changed.
    pub change: IssuerChange,
    /// Height of the block (0 for genesis).
    pub height: u64,
    /// Block time (genesis time for genesis).
    pub time: u64,
    /// The governance proposal that made the change (none at genesis).
    pub proposal: Option<u64>,
}

impl Canonical for IssuerLogEntry {
    fn encode_to(&self, w: &mut Writer) {
        self.issuer.encode_to(w);
        w.u8(self.change as u8).u64(self.height).u64(self.time);
        w.opt(self.proposal.as_ref(), |w, p| {
            w.u64(*p);
        });
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let issuer = IssuerId::decode_from(r)?;
        let change = match r.u8("issuer_log.change")? {
            1 => IssuerChange::Registered,
            2 => IssuerChange::Suspended,
            3 => IssuerChange::Reinstated,
            4 => IssuerChange::Removed,
            v => return Err(tag_error("issuer_log.change", v)),
        };
        let height = r.u64("issuer_log.height")?;
        let time = r.u64("issuer_log.time")?;
        let proposal = if r.flag("issuer_log.proposal")? {
            Some(r.u64("issuer_log.proposal")?)
        } else {
            None
        };
        Ok(Self {
            issuer,
            change,
            height,
            time,
            proposal,
        })
    }
}

/// The outcome of an inspection. Codes are part of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionOutcome {
    /// Goods and documents match. Code 1.
    Compliant = 1,
    /// A breach was found. Code 2.
    NonCompliant = 2,
    /// Goods held pending a decision. Code 3.
    Held = 3,
    /// Samples taken for analysis. Code 4.
    Sampled = 4,
    /// The certificate could not be verified (forged, unknown, revoked). Code 5.
    CertificateRejected = 5,
}

impl InspectionOutcome {
    /// The outcome with this code.
    pub fn from_code(v: u8) -> Result<Self, DecodeError> {
        match v {
            1 => Ok(Self::Compliant),
            2 => Ok(Self::NonCompliant),
            3 => Ok(Self::Held),
            4 => Ok(Self::Sampled),
            5 => Ok(Self::CertificateRejected),
            _ => Err(tag_error("inspection.outcome", v)),
        }
    }
}

/// An inspection, stored at `inspection/<issuer>/<serial>/<n>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectionRecord {
    /// The certificate inspected (registered on the chain; a forged code naming it is
    /// recorded with outcome [`InspectionOutcome::CertificateRejected`]).
    pub cert: CertId,
    /// The agency of the inspector.
    pub agency: IssuerId,
    /// The inspector's key (the transaction signer).
    pub inspector: PublicKey,
    /// Where (free text, at most 64 bytes).
    pub location: String,
    /// The outcome.
    pub outcome: InspectionOutcome,
    /// Notes (at most 255 bytes).
    pub notes: String,
    /// When the inspection took place (unix seconds; may be well before the block when
    /// recorded offline).
    pub inspected_at: u64,
    /// Height of the recording block.
    pub recorded_height: u64,
    /// Block time of the recording block.
    pub recorded_time: u64,
}

impl Canonical for InspectionRecord {
    fn encode_to(&self, w: &mut Writer) {
        self.cert.encode_to(w);
        self.agency.encode_to(w);
        self.inspector.encode_to(w);
        w.str(&self.location)
            .u8(self.outcome as u8)
            .str(&self.notes);
        w.u64(self.inspected_at)
            .u64(self.recorded_height)
            .u64(self.recorded_time);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            cert: CertId::decode_from(r)?,
            agency: IssuerId::decode_from(r)?,
            inspector: PublicKey::decode_from(r)?,
            location: r.str("inspection.location", MAX_LOCATION_LEN)?,
            outcome: InspectionOutcome::from_code(r.u8("inspection.outcome")?)?,
            notes: r.str("inspection.notes", MAX_NOTE_LEN)?,
            inspected_at: r.u64("inspection.inspected_at")?,
            recorded_height: r.u64("inspection.recorded_height")?,
            recorded_time: r.u64("inspection.recorded_time")?,
        })
    }
}

/// A consensus validator and its voting power: a genesis validator, or an update of the set
/// (power 0 removes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Validator {
    /// Its ed25519 consensus key (CometBFT's `priv_validator_key.json` public key).
    pub pub_key: PublicKey,
    /// Its voting power.
    pub power: u64,
}

/// The size of the validator set, stored at `validator_set` (present exactly when the
/// registry knows the set, i.e. its genesis listed validators).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorTotals {
    /// Validators with a power above 0 (1 to [`MAX_VALIDATORS`]).
    pub count: u64,
    /// The sum of their powers (at most [`MAX_TOTAL_VOTING_POWER`]).
    pub total_power: u64,
}

impl ValidatorTotals {
    /// The set's totals once the validator `key`, of power `current` now (0: not in the
    /// set), has power `power` (0: removed), by the registry's rules: removing a key that is
    /// not a validator (26) or the last one (27), a new validator in a full set (28), a total
    /// over [`MAX_TOTAL_VOTING_POWER`] (30). Execution applies it; a wallet checks a proposal
    /// against the proven totals with it before signing.
    pub fn after_change(
        &self,
        key: &PublicKey,
        current: u64,
        power: u64,
    ) -> Result<ValidatorTotals, crate::TxError> {
        use crate::TxError;
        let mut next = *self;
        if power == 0 {
            if current == 0 {
                return Err(TxError::ValidatorNotFound { key: *key });
            }
            if next.count <= 1 {
                return Err(TxError::LastValidator { key: *key });
            }
            next.count -= 1;
        } else if current == 0 {
            if next.count >= MAX_VALIDATORS as u64 {
                return Err(TxError::TooManyValidators {
                    max: MAX_VALIDATORS,
                });
            }
            next.count += 1;
        }
        let others = next
            .total_power
            .checked_sub(current)
            .ok_or_else(|| TxError::Internal("validator_set total below a power".into()))?;
        next.total_power = others
            .checked_add(power)
            .filter(|t| *t <= MAX_TOTAL_VOTING_POWER)
            .ok_or(TxError::TotalPowerTooHigh {
                max: MAX_TOTAL_VOTING_POWER,
            })?;
        Ok(next)
    }
}

impl Canonical for ValidatorTotals {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.count).u64(self.total_power);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = r.u64("validator_set.count")?;
        let total_power = r.u64("validator_set.total_power")?;
        if count > MAX_VALIDATORS as u64 {
            return Err(DecodeError::InvalidField {
                field: "validator_set.count",
                reason: "more than 150 validators",
            });
        }
        Ok(Self { count, total_power })
    }
}

/// A governance action, executed once `threshold` members approve it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GovAction {
    /// Register a new issuer (tag 1).
    RegisterIssuer(IssuerSpec),
    /// Suspend an active issuer (tag 2).
    SuspendIssuer {
        /// The issuer.
        id: IssuerId,
        /// Why (at most 255 bytes).
        reason: String,
    },
    /// Make a suspended issuer active again (tag 3).
    ReinstateIssuer {
        /// The issuer.
        id: IssuerId,
        /// Why (at most 255 bytes).
        reason: String,
    },
    /// Remove an active or suspended issuer for good (tag 4).
    RemoveIssuer {
        /// The issuer.
        id: IssuerId,
        /// Why (at most 255 bytes).
        reason: String,
    },
    /// Revoke any issuer's certificate (tag 5).
    RevokeCertificate {
        /// The certificate.
        cert: CertId,
        /// Why.
        reason: RevocationReason,
        /// Note (at most 255 bytes).
        note: String,
    },
    /// Set a consensus validator's voting power; power 0 removes it (tag 6). CometBFT applies
    /// the change from two blocks after the one that executes it.
    SetValidator {
        /// The validator's ed25519 consensus key.
        pub_key: PublicKey,
        /// Its new voting power (at most [`MAX_VALIDATOR_POWER`]; 0 removes it).
        power: u64,
    },
}

impl GovAction {
    /// Checks every field against its limit (texts at most 255 bytes, the issuer spec's
    /// rules, its keys valid), as building or signing a transaction does.
    pub fn validate(&self) -> Result<(), DecodeError> {
        match self {
            Self::RegisterIssuer(spec) => spec.validate(),
            Self::SuspendIssuer { reason, .. }
            | Self::ReinstateIssuer { reason, .. }
            | Self::RemoveIssuer { reason, .. } => {
                check_text("reason", reason, MAX_NOTE_LEN, false)
            }
            Self::RevokeCertificate { note, .. } => {
                check_text("revocation.note", note, MAX_NOTE_LEN, false)
            }
            Self::SetValidator { pub_key, power } => {
                pub_key.check_valid("validator.pub_key")?;
                if *power > MAX_VALIDATOR_POWER {
                    return Err(DecodeError::InvalidField {
                        field: "validator.power",
                        reason: "must be at most 2^40",
                    });
                }
                Ok(())
            }
        }
    }
}

impl Canonical for GovAction {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            Self::RegisterIssuer(spec) => {
                w.u8(1);
                spec.encode_to(w);
            }
            Self::SuspendIssuer { id, reason } => {
                w.u8(2);
                id.encode_to(w);
                w.str(reason);
            }
            Self::ReinstateIssuer { id, reason } => {
                w.u8(3);
                id.encode_to(w);
                w.str(reason);
            }
            Self::RemoveIssuer { id, reason } => {
                w.u8(4);
                id.encode_to(w);
                w.str(reason);
            }
            Self::RevokeCertificate { cert, reason, note } => {
                w.u8(5);
                cert.encode_to(w);
                w.u8(*reason as u8).str(note);
            }
            Self::SetValidator { pub_key, power } => {
                w.u8(6);
                pub_key.encode_to(w);
                w.u64(*power);
            }
        }
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8("gov_action")? {
            1 => Ok(Self::RegisterIssuer(IssuerSpec::decode_from(r)?)),
            2 => Ok(Self::SuspendIssuer {
                id: IssuerId::decode_from(r)?,
                reason: r.str("reason", MAX_NOTE_LEN)?,
            }),
            3 => Ok(Self::ReinstateIssuer {
                id: IssuerId::decode_from(r)?,
                reason: r.str("reason", MAX_NOTE_LEN)?,
            }),
            4 => Ok(Self::RemoveIssuer {
                id: IssuerId::decode_from(r)?,
                reason: r.str("reason", MAX_NOTE_LEN)?,
            }),
            5 => Ok(Self::RevokeCertificate {
                cert: CertId::decode_from(r)?,
                reason: RevocationReason::from_code(r.u8("revocation.reason")?)?,
                note: r.str("revocation.note", MAX_NOTE_LEN)?,
            }),
            6 => Ok(Self::SetValidator {
                pub_key: PublicKey::decode_from(r)?,
                power: r.u64("validator.power")?,
            }),
            v => Err(tag_error("gov_action", v)),
        }
    }
}

/// Status of a governance proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Gathering approvals. Code 1.
    Open = 1,
    /// Reached the threshold and executed. Code 2.
    Executed = 2,
}

/// A governance proposal, stored at `gov/proposal/<n>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Its number (index in the proposal counter).
    pub id: u64,
    /// What it does.
    pub action: GovAction,
    /// Approvals can be given until this block time (unix seconds, exclusive).
    pub expires_at: u64,
    /// Members that approved, in order; the proposer first.
    pub approvals: Vec<PublicKey>,
    /// Status.
    pub status: ProposalStatus,
    /// Height of the block that created it.
    pub created_height: u64,
    /// Height of the block that executed it (0 while open).
    pub executed_height: u64,
}

impl Canonical for Proposal {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.id);
        self.action.encode_to(w);
        w.u64(self.expires_at).count(self.approvals.len());
        for k in &self.approvals {
            k.encode_to(w);
        }
        w.u8(self.status as u8)
            .u64(self.created_height)
            .u64(self.executed_height);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = r.u64("proposal.id")?;
        let action = GovAction::decode_from(r)?;
        let expires_at = r.u64("proposal.expires_at")?;
        let n = r.count("proposal.approvals", MAX_GOVERNANCE_KEYS)?;
        let approvals = (0..n)
            .map(|_| PublicKey::decode_from(r))
            .collect::<Result<_, _>>()?;
        let status = match r.u8("proposal.status")? {
            1 => ProposalStatus::Open,
            2 => ProposalStatus::Executed,
            v => return Err(tag_error("proposal.status", v)),
        };
        Ok(Self {
            id,
            action,
            expires_at,
            approvals,
            status,
            created_height: r.u64("proposal.created_height")?,
            executed_height: r.u64("proposal.executed_height")?,
        })
    }
}

/// The last executed block, stored at `meta/block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockMeta {
    /// Height (0 for the genesis state).
    pub height: u64,
    /// Block time (unix seconds; the genesis time for the genesis state).
    pub time: u64,
}

impl Canonical for BlockMeta {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.height).u64(self.time);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            height: r.u64("block.height")?,
            time: r.u64("block.time")?,
        })
    }
}

/// Decodes a counter value (`.../len`) or an account sequence: a big-endian `u64`.
pub fn decode_u64(bytes: &[u8]) -> Result<u64, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = r.u64("u64")?;
    r.finish()?;
    Ok(v)
}

/// Encodes a counter or sequence value.
pub fn encode_u64(v: u64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> IssuerSpec {
        IssuerSpec {
            id: IssuerId::new("KE-KEPHIS").unwrap(),
            legal_name: "Kenya Plant Health Inspectorate Service".into(),
            country: Country::new("KE").unwrap(),
            keys: vec![PublicKey([1; 32]), PublicKey([2; 32])],
            kinds: KindSet::of(&[CertificateKind::Phytosanitary]),
            valid_from: 100,
            valid_until: 200,
        }
    }

    #[test]
    fn records_round_trip() {
        let rec = IssuerRecord {
            spec: spec(),
            status: IssuerStatus::Suspended,
            status_since: 150,
            status_reason: "audit".into(),
            registered_height: 3,
        };
        assert_eq!(IssuerRecord::from_bytes(&rec.to_bytes()).unwrap(), rec);
        let id = CertId::parse("KE-KEPHIS/PH-1").unwrap();
        let cert = CertRecord {
            id: id.clone(),
            kind: CertificateKind::Phytosanitary,
            content_hash: [9; 32],
            document_hash: Some([8; 32]),
            issued_at: 120,
            expires_at: 180,
            registered_height: 4,
            registered_time: 121,
            revocation: Some(Revocation {
                reason: RevocationReason::Fraudulent,
                note: "forged invoice".into(),
                height: 5,
                time: 130,
                by: Revoker::Governance,
                log_index: 0,
            }),
        };
        assert_eq!(CertRecord::from_bytes(&cert.to_bytes()).unwrap(), cert);
        let p = Proposal {
            id: 7,
            action: GovAction::RegisterIssuer(spec()),
            expires_at: 1000,
            approvals: vec![PublicKey([5; 32])],
            status: ProposalStatus::Open,
            created_height: 2,
            executed_height: 0,
        };
        assert_eq!(Proposal::from_bytes(&p.to_bytes()).unwrap(), p);
        let e = IssuerLogEntry {
            issuer: id.issuer,
            change: IssuerChange::Removed,
            height: 1,
            time: 2,
            proposal: Some(3),
        };
        assert_eq!(IssuerLogEntry::from_bytes(&e.to_bytes()).unwrap(), e);
    }

    #[test]
    fn spec_rules() {
        let mut s = spec();
        s.keys.push(PublicKey([1; 32]));
        assert!(s.validate().is_err());
        let mut s = spec();
        s.valid_until = s.valid_from;
        assert!(s.validate().is_err());
        let mut s = spec();
        s.legal_name.clear();
        assert!(s.validate().is_err());
        assert!(spec().is_within_validity(100));
        assert!(!spec().is_within_validity(200));
    }

    #[test]
    fn set_validator_encoding_and_rules() {
        let key = crate::devkit::dev_public_key("validator-0");
        let act = GovAction::SetValidator {
            pub_key: key,
            power: 10,
        };
        let bytes = act.to_bytes();
        let mut want = vec![6];
        want.extend_from_slice(key.as_bytes());
        want.extend_from_slice(&10u64.to_be_bytes());
        assert_eq!(bytes, want);
        assert_eq!(GovAction::from_bytes(&bytes).unwrap(), act);
        act.validate().unwrap();
        let remove = GovAction::SetValidator {
            pub_key: key,
            power: 0,
        };
        remove.validate().unwrap();
        let too_high = GovAction::SetValidator {
            pub_key: key,
            power: MAX_VALIDATOR_POWER + 1,
        };
        assert!(matches!(
            too_high.validate(),
            Err(DecodeError::InvalidField {
                field: "validator.power",
                ..
            })
        ));
        // Decoding takes any power (execution refuses it with a code, as for a hostile
        // encoder); validation refuses it before signing.
        assert_eq!(
            GovAction::from_bytes(&too_high.to_bytes()).unwrap(),
            too_high
        );
        let bad_key = GovAction::SetValidator {
            pub_key: PublicKey([0; 32]),
            power: 1,
        };
        assert!(matches!(
            bad_key.validate(),
            Err(DecodeError::InvalidField {
                field: "validator.pub_key",
                ..
            })
        ));
        // Truncated power.
        assert!(GovAction::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let totals = ValidatorTotals {
            count: 3,
            total_power: 30,
        };
        assert_eq!(
            ValidatorTotals::from_bytes(&totals.to_bytes()).unwrap(),
            totals
        );
        let over = ValidatorTotals {
            count: MAX_VALIDATORS as u64 + 1,
            total_power: 1,
        };
        assert!(ValidatorTotals::from_bytes(&over.to_bytes()).is_err());
        const { assert!(MAX_VALIDATORS as u64 * MAX_VALIDATOR_POWER <= MAX_TOTAL_VOTING_POWER) };
    }
}
