//! The signing service: a form ([`forms`]) becomes a transaction checked against the chain
//! state proven through the light node (the signer's role, the issuer active, the
//! certificate or proposal as the message needs it, the key's next sequence), then a review
//! ([`review`]) decoded back from exactly the bytes to be signed. Nothing is signed without
//! a [`Confirmation`] naming those bytes. The signature is made through the keystore (the
//! OS credential store or a PKCS#11 token, whose PIN is asked per signing session), checked,
//! and the signed transaction is written to the [`Outbox`] together with its audit entry
//! before anything is sent.

pub mod forms;
pub mod review;
mod service;

use ed25519_dalek::{Signature, VerifyingKey};
use light_client::Height;
use light_node::LightNode;
use registry::state::{
    decode_u64, BlockMeta, GovAction, Governance, IssuerRecord, IssuerStatus, Proposal,
    ProposalStatus,
};
use registry::{keys, Canonical as _, CertId, IssuerId, Message, PublicKey, Tx, TxBody, TxError};
use sha2::{Digest, Sha256};

pub use forms::{Form, FormError, ProposalForm};
pub use review::{Review, ReviewError, ReviewField};
pub use service::{key_view, outbox_item, SigningService};

use crate::audit::{AuditEvent, AuditSubject};
use crate::keystore::{KeyInfo, Keystore, KeystoreError, Pin, SigningSession};
use crate::outbox::{NewEntry, Outbox, OutboxEntry};
use crate::{Wallet, WalletError};

/// Unix seconds now (the wallet's own records; the chain's checks use block time).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// How far past the last block time the registry accepts an inspection or issue time.
const FUTURE_SKEW_SECS: u64 = 300;

/// Why a transaction was not prepared or signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// A field of the form is wrong.
    #[error("{0}")]
    Form(#[from] FormError),
    /// The proven chain state says the registry would refuse it (with the registry's code).
    #[error("the registry would refuse this (code {code}): {0}", code = .0.code())]
    WouldBeRejected(TxError),
    /// The key could not sign (wrong PIN, locked or missing token, store error).
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// The chain state could not be proven, or local storage failed.
    #[error(transparent)]
    Wallet(#[from] WalletError),
    /// The confirmation does not name the bytes reviewed.
    #[error("{0}")]
    NotConfirmed(String),
    /// The bytes could not be decoded back (a bug: they were just encoded).
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// The key's signature does not verify (a faulty token or store).
    #[error("the signature made by the key does not verify; nothing was queued")]
    BadSignature,
}

impl SignError {
    /// A stable name for the kind of error (the CLI's `error.kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            SignError::Form(_) => "invalid_form",
            SignError::WouldBeRejected(_) => "would_be_rejected",
            SignError::Keystore(e) => e.kind(),
            SignError::Wallet(WalletError::NotConfigured) => "not_configured",
            SignError::Wallet(WalletError::InvalidRequest(_)) => "invalid_request",
            SignError::Wallet(WalletError::Storage(_)) => "storage",
            SignError::Wallet(WalletError::ConfirmationRequired(_)) => "confirmation_required",
            SignError::Wallet(_) => "unproven",
            SignError::NotConfirmed(_) => "confirmation_required",
            SignError::Review(_) => "internal",
            SignError::BadSignature => "bad_signature",
        }
    }

    /// The registry's result code, when the proven state says it would refuse.
    pub fn registry_code(&self) -> Option<u32> {
        match self {
            SignError::WouldBeRejected(e) => Some(e.code()),
            _ => None,
        }
    }
}

/// A transaction ready to sign: the bytes and their review. Sign it with [`sign`] and a
/// [`Confirmation`] of its review.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What the user is shown.
    pub review: Review,
    /// The key that will sign.
    pub key_label: String,
    sign_bytes: Vec<u8>,
}

impl Prepared {
    /// The bytes that will be signed.
    pub fn sign_bytes(&self) -> &[u8] {
        &self.sign_bytes
    }
}

/// The user's explicit yes to one review: it names the SHA-256 of the bytes reviewed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// [`Review::sign_bytes_sha256`] of the review confirmed.
    pub sign_bytes_sha256: String,
}

impl Confirmation {
    /// The user confirmed this review.
    pub fn of(review: &Review) -> Confirmation {
        Confirmation {
            sign_bytes_sha256: review.sign_bytes_sha256.clone(),
        }
    }
}

impl Wallet {
    /// The chain id of the config in use.
    pub(crate) fn chain_id(&self) -> Result<String, WalletError> {
        self.node
            .chain_config()
            .map(|c| c.chain_id.as_str().to_owned())
            .ok_or(WalletError::NotConfigured)
    }

    /// The running light node (started, not following, when it is not running).
    pub(crate) async fn light(&self) -> Result<LightNode, WalletError> {
        match self.node.light_node().await {
            Some(n) => Ok(n),
            None => self
                .node
                .start(false)
                .await?
                .ok_or(WalletError::NotConfigured),
        }
    }
}

/// The registry state read at one proven height.
struct ChainState<'a> {
    wallet: &'a Wallet,
    chain_id: String,
    height: u64,
    block_time: u64,
    checks: Vec<String>,
}

fn proven_value<T: registry::Canonical>(what: &str, v: &[u8]) -> Result<T, SignError> {
    T::from_bytes(v)
        .map_err(|e| SignError::Wallet(WalletError::Storage(format!("proven {what}: {e}"))))
}

impl<'a> ChainState<'a> {
    async fn open(wallet: &'a Wallet) -> Result<ChainState<'a>, SignError> {
        let block = wallet.query("meta/block", None).await?;
        let meta: BlockMeta = proven_value(
            "meta/block",
            block
                .value
                .as_deref()
                .ok_or_else(|| WalletError::Storage("the chain proves no meta/block".into()))?,
        )?;
        Ok(ChainState {
            wallet,
            chain_id: wallet.chain_id()?,
            height: block.height.value(),
            block_time: meta.time,
            checks: vec![format!(
                "chain state after block {} (block time {}), proven against verified header {}",
                block.height.value(),
                review::utc(meta.time),
                block.header_height.value()
            )],
        })
    }

    async fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, SignError> {
        let key = std::str::from_utf8(key)
            .map_err(|_| WalletError::InvalidRequest("a registry key is not ASCII".into()))?;
        Ok(self
            .wallet
            .query(key, Some(Height(self.height)))
            .await?
            .value)
    }

    async fn governance(&self) -> Result<Governance, SignError> {
        let v = self
            .get(keys::GOVERNANCE)
            .await?
            .ok_or_else(|| WalletError::Storage("the chain proves no governance".into()))?;
        proven_value("gov/config", &v)
    }

    async fn issuer_of(&self, key: &PublicKey) -> Result<Option<IssuerId>, SignError> {
        match self.get(&keys::issuer_key(key)).await? {
            Some(v) => {
                let s = String::from_utf8(v)
                    .map_err(|_| WalletError::Storage("a proven issuer id is not UTF-8".into()))?;
                Ok(Some(IssuerId::new(s).map_err(|e| {
                    WalletError::Storage(format!("a proven issuer id: {e}"))
                })?))
            }
            None => Ok(None),
        }
    }

    async fn issuer(&self, id: &IssuerId) -> Result<Option<IssuerRecord>, SignError> {
        match self.get(&keys::issuer(id)).await? {
            Some(v) => Ok(Some(proven_value("issuer", &v)?)),
            None => Ok(None),
        }
    }

    async fn cert(&self, id: &CertId) -> Result<Option<registry::state::CertRecord>, SignError> {
        match self.get(&keys::cert(id)).await? {
            Some(v) => Ok(Some(proven_value("certificate", &v)?)),
            None => Ok(None),
        }
    }

    async fn account(&self, key: &PublicKey) -> Result<u64, SignError> {
        match self.get(&keys::account(key)).await? {
            Some(v) => decode_u64(&v)
                .map_err(|e| SignError::Wallet(WalletError::Storage(format!("account: {e}")))),
            None => Ok(0),
        }
    }

    /// The signer's issuer, which must be `named` (the registry's rules 5 and 21).
    async fn signer_issuer(
        &mut self,
        signer: &PublicKey,
        named: &IssuerId,
    ) -> Result<IssuerRecord, SignError> {
        let Some(own) = self.issuer_of(signer).await? else {
            return Err(SignError::WouldBeRejected(TxError::Unauthorized {
                signer: *signer,
                reason: "the key belongs to no issuer or agency",
            }));
        };
        if own != *named {
            return Err(SignError::WouldBeRejected(TxError::WrongIssuer {
                signer_issuer: own,
                named: named.clone(),
            }));
        }
        let record = self.issuer(named).await?.ok_or_else(|| {
            SignError::WouldBeRejected(TxError::IssuerNotFound { id: named.clone() })
        })?;
        self.checks
            .push(format!("the key is a key of {named} (proven)"));
        Ok(record)
    }

    async fn governance_member(&mut self, signer: &PublicKey) -> Result<Governance, SignError> {
        let gov = self.governance().await?;
        if !gov.is_member(signer) {
            return Err(SignError::WouldBeRejected(TxError::Unauthorized {
                signer: *signer,
                reason: "not a governance key",
            }));
        }
        self.checks.push(format!(
            "the key is a governance key ({} of {} approvals needed; proven)",
            gov.threshold,
            gov.keys.len()
        ));
        Ok(gov)
    }

    fn require_active(&mut self, record: &IssuerRecord) -> Result<(), SignError> {
        if record.status != IssuerStatus::Active {
            return Err(SignError::WouldBeRejected(TxError::IssuerNotActive {
                id: record.spec.id.clone(),
                status: record.status,
            }));
        }
        self.checks
            .push(format!("{} is active (proven)", record.spec.id));
        Ok(())
    }

    /// The registry's rules for `message` by `signer`, against this state.
    async fn check(&mut self, signer: &PublicKey, message: &Message) -> Result<(), SignError> {
        match message {
            Message::RevokeCertificate { cert, .. } => {
                let issuer = self.signer_issuer(signer, &cert.issuer).await?;
                if issuer.status == IssuerStatus::Removed {
                    return Err(SignError::WouldBeRejected(TxError::IssuerNotActive {
                        id: issuer.spec.id,
                        status: issuer.status,
                    }));
                }
                self.check_revocable(cert).await
            }
            Message::RecordInspection(m) => {
                let agency = self.signer_issuer(signer, &m.agency).await?;
                self.require_active(&agency)?;
                if m.inspected_at > self.block_time + FUTURE_SKEW_SECS {
                    return Err(SignError::WouldBeRejected(TxError::InvalidField {
                        field: "inspected_at",
                        reason: "more than 300 s after the last block time",
                    }));
                }
                if self.cert(&m.cert).await?.is_none() {
                    return Err(SignError::WouldBeRejected(TxError::CertificateNotFound {
                        id: m.cert.clone(),
                    }));
                }
                self.checks
                    .push(format!("certificate {} is on the chain (proven)", m.cert));
                Ok(())
            }
            Message::Propose { action, expires_at } => {
                let gov = self.governance_member(signer).await?;
                if *expires_at <= self.block_time {
                    return Err(SignError::WouldBeRejected(TxError::InvalidField {
                        field: "expires_at",
                        reason: "must be after the block time",
                    }));
                }
                self.check_action(&gov, action).await
            }
            Message::Approve { proposal } => {
                let gov = self.governance_member(signer).await?;
                let v = self.get(&keys::proposal(*proposal)).await?.ok_or(
                    SignError::WouldBeRejected(TxError::ProposalNotFound { id: *proposal }),
                )?;
                let p: Proposal = proven_value("proposal", &v)?;
                if p.status != ProposalStatus::Open {
                    return Err(SignError::WouldBeRejected(TxError::ProposalClosed {
                        id: *proposal,
                    }));
                }
                if self.block_time >= p.expires_at {
                    return Err(SignError::WouldBeRejected(TxError::ProposalExpired {
                        id: *proposal,
                        expires_at: p.expires_at,
                        time: self.block_time,
                    }));
                }
                if p.approvals.contains(signer) {
                    return Err(SignError::WouldBeRejected(TxError::AlreadyApproved {
                        id: *proposal,
                    }));
                }
                self.checks.push(format!(
                    "proposal {proposal} is open with {} of {} approvals (proven)",
                    p.approvals.iter().filter(|k| gov.is_member(k)).count(),
                    gov.threshold
                ));
                self.check_action(&gov, &p.action).await
            }
            Message::IssueCertificate(signed) => {
                let c = &signed.certificate;
                let issuer = self.signer_issuer(signer, &c.id.issuer).await?;
                self.require_active(&issuer)?;
                let spec = &issuer.spec;
                if signed.signature != forms::UNSIGNED
                    && !spec
                        .keys
                        .iter()
                        .any(|k| signed.is_signed_by(&self.chain_id, k))
                {
                    return Err(SignError::WouldBeRejected(
                        TxError::BadCertificateSignature { id: c.id.clone() },
                    ));
                }
                if !spec.kinds.contains(c.kind) {
                    return Err(SignError::WouldBeRejected(TxError::KindNotAllowed {
                        issuer: spec.id.clone(),
                        kind: c.kind,
                    }));
                }
                for t in [self.block_time, c.issued_at] {
                    if !spec.is_within_validity(t) {
                        return Err(SignError::WouldBeRejected(TxError::OutsideValidity {
                            issuer: spec.id.clone(),
                            time: t,
                            valid_from: spec.valid_from,
                            valid_until: spec.valid_until,
                        }));
                    }
                }
                if c.issued_at > self.block_time + FUTURE_SKEW_SECS {
                    return Err(SignError::WouldBeRejected(TxError::InvalidField {
                        field: "issued_at",
                        reason: "is more than 5 minutes after the block time",
                    }));
                }
                if self.cert(&c.id).await?.is_some() {
                    return Err(SignError::WouldBeRejected(TxError::CertificateExists {
                        id: c.id.clone(),
                    }));
                }
                self.checks.push(format!(
                    "{} may issue {} certificates now and at the issue time; {} is new (proven)",
                    spec.id,
                    forms::kind_name(c.kind).replace('_', " "),
                    c.id
                ));
                Ok(())
            }
        }
    }

    async fn check_revocable(&mut self, cert: &CertId) -> Result<(), SignError> {
        let record = self.cert(cert).await?.ok_or_else(|| {
            SignError::WouldBeRejected(TxError::CertificateNotFound { id: cert.clone() })
        })?;
        if record.revocation.is_some() {
            return Err(SignError::WouldBeRejected(TxError::AlreadyRevoked {
                id: cert.clone(),
            }));
        }
        self.checks.push(format!(
            "certificate {cert} is registered and not revoked (proven)"
        ));
        Ok(())
    }

    /// The action's own rules (the registry tries the action when it is proposed).
    async fn check_action(
        &mut self,
        gov: &Governance,
        action: &GovAction,
    ) -> Result<(), SignError> {
        let transition = |id: &IssuerId, allowed: &[IssuerStatus]| {
            let id = id.clone();
            let allowed = allowed.to_vec();
            move |record: Option<IssuerRecord>| -> Result<IssuerRecord, SignError> {
                let r = record.ok_or_else(|| {
                    SignError::WouldBeRejected(TxError::IssuerNotFound { id: id.clone() })
                })?;
                if !allowed.contains(&r.status) {
                    return Err(SignError::WouldBeRejected(TxError::InvalidTransition {
                        id: id.clone(),
                        from: r.status,
                    }));
                }
                Ok(r)
            }
        };
        match action {
            GovAction::RegisterIssuer(spec) => {
                if self.issuer(&spec.id).await?.is_some() {
                    return Err(SignError::WouldBeRejected(TxError::IssuerExists {
                        id: spec.id.clone(),
                    }));
                }
                for key in &spec.keys {
                    if gov.is_member(key) || self.issuer_of(key).await?.is_some() {
                        return Err(SignError::WouldBeRejected(TxError::KeyInUse { key: *key }));
                    }
                }
                self.checks.push(format!(
                    "issuer id {} and its keys are unused (proven)",
                    spec.id
                ));
            }
            GovAction::SuspendIssuer { id, .. } => {
                transition(id, &[IssuerStatus::Active])(self.issuer(id).await?)?;
                self.checks.push(format!("{id} is active (proven)"));
            }
            GovAction::ReinstateIssuer { id, .. } => {
                transition(id, &[IssuerStatus::Suspended])(self.issuer(id).await?)?;
                self.checks.push(format!("{id} is suspended (proven)"));
            }
            GovAction::RemoveIssuer { id, .. } => {
                transition(id, &[IssuerStatus::Active, IssuerStatus::Suspended])(
                    self.issuer(id).await?,
                )?;
                self.checks
                    .push(format!("{id} is active or suspended (proven)"));
            }
            GovAction::RevokeCertificate { cert, .. } => self.check_revocable(cert).await?,
            GovAction::SetValidator { pub_key, power } => {
                self.check_validator_change(pub_key, *power).await?
            }
        }
        Ok(())
    }

    /// The registry's validator rules against the proven set: known at all (25), removing a
    /// validator (26) that is not the last (27), room for a new one (28), the total (30).
    async fn check_validator_change(
        &mut self,
        key: &PublicKey,
        power: u64,
    ) -> Result<(), SignError> {
        use registry::state::ValidatorTotals;
        let Some(totals) = self.get(keys::VALIDATOR_SET).await? else {
            return Err(SignError::WouldBeRejected(TxError::ValidatorSetUnknown));
        };
        let totals: ValidatorTotals = proven_value("validator_set", &totals)?;
        let current = match self.get(&keys::validator(key)).await? {
            Some(v) => decode_u64(&v).map_err(|e| {
                SignError::Wallet(WalletError::Storage(format!("validator power: {e}")))
            })?,
            None => 0,
        };
        totals
            .after_change(key, current, power)
            .map_err(SignError::WouldBeRejected)?;
        self.checks.push(format!(
            "{} has voting power {current} of {} in a set of {} (proven)",
            key.to_hex(),
            totals.total_power,
            totals.count
        ));
        Ok(())
    }
}

/// Checks `form` for the key labelled `key_label` against the proven chain state and builds
/// the bytes to sign and their review. Signs nothing.
pub async fn prepare(
    wallet: &Wallet,
    keystore: &Keystore,
    outbox: &Outbox,
    key_label: &str,
    form: &Form,
) -> Result<Prepared, SignError> {
    let key = keystore.get(key_label).await?;
    let signer = PublicKey(key.public_key_bytes()?);
    let message = form.to_message(unix_now())?;
    let chain_id = wallet.chain_id()?;
    let mut state = match ChainState::open(wallet).await {
        Ok(state) => state,
        // An inspector in the field: an inspection record is checked against the offline
        // knowledge and queued, to be submitted when the network returns.
        Err(SignError::Wallet(e)) if is_no_network(&e) => {
            if let Message::RecordInspection(m) = &message {
                if let Some(offline) = offline_checks(wallet, &signer, m, &e).await? {
                    return finish(outbox, &key, chain_id, message, offline, None).await;
                }
            }
            return Err(SignError::Wallet(e));
        }
        Err(e) => return Err(e),
    };
    state.check(&signer, &message).await?;
    let proven = state.account(&signer).await?;
    outbox
        .remember_sequence(&chain_id, &key.public_key, proven, state.height)
        .await?;
    let checks = Checks {
        height: state.height,
        lines: state.checks,
    };
    finish(outbox, &key, chain_id, message, checks, Some(proven)).await
}

/// Proves, at one verified height, the last sequence the chain accepted from each key in the
/// keystore, and remembers it beside the outbox: what lets an inspector's device sign the
/// next one offline. Call it whenever online (an offline sync does). Answers how many keys.
pub async fn remember_sequences(
    wallet: &Wallet,
    keystore: &Keystore,
    outbox: &Outbox,
) -> Result<usize, SignError> {
    let keys = keystore.list().await?;
    if keys.is_empty() {
        return Ok(0);
    }
    let state = ChainState::open(wallet).await?;
    for key in &keys {
        let signer = PublicKey(key.public_key_bytes()?);
        let accepted = state.account(&signer).await?;
        outbox
            .remember_sequence(&state.chain_id, &key.public_key, accepted, state.height)
            .await?;
    }
    Ok(keys.len())
}

/// What was checked, and at which state height.
struct Checks {
    height: u64,
    lines: Vec<String>,
}

fn is_no_network(e: &WalletError) -> bool {
    crate::verify::unknowable(e).kind == tradeseal_api::CannotVerify::NoNetwork
}

/// The rules the offline knowledge can check for an inspection record by `signer`: the key
/// is one of the agency's and the agency is active, as of the knowledge's height. Whether the
/// certificate is registered cannot be known offline (the chain refuses the record if not,
/// and the outbox shows that). `None` when the device has no offline knowledge within the
/// trusting period.
async fn offline_checks(
    wallet: &Wallet,
    signer: &PublicKey,
    m: &registry::RecordInspection,
    why: &WalletError,
) -> Result<Option<Checks>, SignError> {
    let Some((meta, agency)) = wallet.offline_issuer(&m.agency).await? else {
        return Ok(None);
    };
    let mut lines = vec![format!(
        "offline: the network cannot be reached ({why}); checked against this device's offline knowledge as of block {} (block time {})",
        meta.height,
        review::utc(meta.block_time)
    )];
    let agency = agency.ok_or_else(|| {
        SignError::WouldBeRejected(TxError::IssuerNotFound {
            id: m.agency.clone(),
        })
    })?;
    if !agency.spec.keys.contains(signer) {
        return Err(SignError::WouldBeRejected(TxError::Unauthorized {
            signer: *signer,
            reason: "the key is not a key of the agency named (offline knowledge)",
        }));
    }
    lines.push(format!(
        "the key is a key of {} (offline knowledge)",
        m.agency
    ));
    if agency.status != IssuerStatus::Active {
        return Err(SignError::WouldBeRejected(TxError::IssuerNotActive {
            id: agency.spec.id,
            status: agency.status,
        }));
    }
    lines.push(format!("{} is active (offline knowledge)", m.agency));
    lines.push(format!(
        "not known offline: whether certificate {} is registered (the chain refuses the record if it is not)",
        m.cert
    ));
    Ok(Some(Checks {
        height: meta.height,
        lines,
    }))
}

/// The sequence after both the chain's (`proven`; `None` offline, where it cannot be known)
/// and the outbox's last, then the bytes `key` is to sign and their review.
async fn finish(
    outbox: &Outbox,
    key: &KeyInfo,
    chain_id: String,
    message: Message,
    mut checks: Checks,
    proven: Option<u64>,
) -> Result<Prepared, SignError> {
    let (key_label, public_key) = (key.label.as_str(), key.public_key.as_str());
    let signer = PublicKey(key.public_key_bytes()?);
    let queued = outbox.last_sequence(&chain_id, public_key).await?;
    let known = match proven {
        Some(_) => None,
        None => outbox.known_sequence(&chain_id, public_key).await?,
    };
    let accepted = proven.or(known.map(|(s, _)| s)).unwrap_or(0);
    let sequence = accepted.max(queued.unwrap_or(0)) + 1;
    checks.lines.push(match (proven, known, queued) {
        (Some(proven), _, Some(q)) if q >= proven => format!(
            "sequence {sequence}: after {q}, the last in the outbox (the chain has accepted up to {proven}; proven)"
        ),
        (Some(proven), _, _) => {
            format!("sequence {sequence}: the chain has accepted up to {proven} (proven)")
        }
        (None, Some((s, _)), Some(q)) if q >= s => format!(
            "sequence {sequence}: after {q}, the last in the outbox (the chain's count cannot be proven offline)"
        ),
        (None, Some((s, h)), _) => format!(
            "sequence {sequence}: the chain had accepted up to {s} at block {h} (proven then; the count now cannot be proven offline, and if the key signed elsewhere since, the chain refuses this and the outbox says so)"
        ),
        (None, None, Some(q)) => format!(
            "sequence {sequence}: after {q}, the last in the outbox (the chain's count cannot be proven offline)"
        ),
        (None, None, None) => format!(
            "sequence {sequence}: the chain's count for this key was never proven on this device and cannot be proven offline (if the key signed elsewhere, the chain refuses this and the outbox says so)"
        ),
    });
    let body = TxBody {
        chain_id,
        signer,
        sequence,
        message,
    };
    let sign_bytes = body.sign_bytes().map_err(malformed)?;
    let review = review::review(&sign_bytes, key_label, checks.lines, checks.height)?;
    Ok(Prepared {
        review,
        key_label: key_label.to_owned(),
        sign_bytes,
    })
}

/// Signs a prepared transaction after the user's [`Confirmation`] of its review (a token's
/// PIN opens the signing session), checks the signature, and queues the transaction in the
/// outbox with its audit entry. Every attempt is in the audit log, failed ones included.
pub async fn sign(
    keystore: &Keystore,
    outbox: &Outbox,
    prepared: &Prepared,
    confirmation: &Confirmation,
    pin: Option<Pin>,
) -> Result<OutboxEntry, SignError> {
    let digest = hex::encode(Sha256::digest(&prepared.sign_bytes));
    if confirmation.sign_bytes_sha256 != digest || prepared.review.sign_bytes_sha256 != digest {
        return Err(SignError::NotConfirmed(
            "the confirmation does not name the transaction reviewed: review it again".into(),
        ));
    }
    // Decoded again from the very bytes that go to the key.
    let body = review::decode_sign_bytes(&prepared.sign_bytes)?;
    let subject = AuditSubject {
        key_label: prepared.key_label.clone(),
        public_key: body.signer.to_hex(),
        chain_id: body.chain_id.clone(),
        action: prepared.review.action.clone(),
        summary: prepared.review.summary.clone(),
        sequence: Some(body.sequence),
        tx_hash: None,
    };
    let (body, signature) = match sign_in_session(keystore, &prepared.key_label, body, pin).await {
        Ok(s) => s,
        Err(e) => {
            outbox
                .audit()
                .append(AuditEvent::SignFailed, &subject, &e.to_string())
                .await?;
            return Err(e);
        }
    };
    let tx = Tx { body, signature };
    let bytes = tx.to_bytes();
    let entry = outbox
        .enqueue(NewEntry {
            chain_id: tx.body.chain_id.clone(),
            signer: tx.body.signer.to_hex(),
            key_label: prepared.key_label.clone(),
            sequence: tx.body.sequence,
            action: prepared.review.action.clone(),
            summary: prepared.review.summary.clone(),
            tx: bytes,
        })
        .await?;
    tracing::info!(
        key = %prepared.key_label,
        action = %prepared.review.action,
        sequence = tx.body.sequence,
        tx_hash = %entry.tx_hash,
        "transaction signed and queued"
    );
    Ok(entry)
}

/// A field over its limit: the registry would refuse the transaction as malformed (code 1).
fn malformed(e: registry::DecodeError) -> SignError {
    SignError::WouldBeRejected(TxError::Malformed(e))
}

fn verify(signer: &PublicKey, message: &[u8], signature: &[u8; 64]) -> Result<(), SignError> {
    let vk = VerifyingKey::from_bytes(signer.as_bytes()).map_err(|_| SignError::BadSignature)?;
    vk.verify_strict(message, &Signature::from_bytes(signature))
        .map_err(|_| SignError::BadSignature)
}

/// One signing session (one PIN): the certificate first when the key signs it here, then the
/// transaction. Every signature is checked before it is used.
async fn sign_in_session(
    keystore: &Keystore,
    label: &str,
    mut body: TxBody,
    pin: Option<Pin>,
) -> Result<(TxBody, [u8; 64]), SignError> {
    let key = keystore.get(label).await?;
    if key.public_key_bytes()? != *body.signer.as_bytes() {
        return Err(SignError::NotConfirmed(
            "the key labelled so is not the one the transaction names".into(),
        ));
    }
    let mut session = keystore.open_session(label, pin).await?;
    if let Message::IssueCertificate(signed) = &mut body.message {
        if signed.signature == forms::UNSIGNED {
            let bytes = signed
                .certificate
                .sign_bytes(&body.chain_id)
                .map_err(malformed)?;
            let (s, signature) = blocking_sign(session, bytes.clone()).await?;
            session = s;
            verify(&body.signer, &bytes, &signature)?;
            // The only change to the reviewed bytes: the certificate's signature slot.
            signed.signature = signature;
        }
    }
    let bytes = body.sign_bytes().map_err(malformed)?;
    let (_, signature) = blocking_sign(session, bytes.clone()).await?;
    verify(&body.signer, &bytes, &signature)?;
    Ok((body, signature))
}

async fn blocking_sign(
    mut session: Box<dyn SigningSession>,
    message: Vec<u8>,
) -> Result<(Box<dyn SigningSession>, [u8; 64]), SignError> {
    tokio::task::spawn_blocking(move || {
        let signature = session.sign(&message)?;
        Ok::<_, KeystoreError>((session, signature))
    })
    .await
    .map_err(|e| KeystoreError::Store(format!("a signing task failed: {e}")))?
    .map_err(SignError::from)
}
