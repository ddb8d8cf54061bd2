//! The signed transaction envelope, its messages, and helpers that build and sign each kind.
//!
//! Encoding (all [`crate::codec`] rules):
//! `version:u8(=1) | chain_id:str(≤50) | signer:[32] | sequence:u64 | message | signature:[64]`.
//! The signature is ed25519 (checked with `verify_strict`) over
//! [`TX_SIGN_DOMAIN`] followed by every byte before the signature.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::certificate::{Certificate, SignedCertificate};
use crate::codec::{check_text, Canonical, DecodeError, Reader, Writer};
use crate::state::{
    GovAction, InspectionOutcome, IssuerSpec, RevocationReason, MAX_LOCATION_LEN, MAX_NOTE_LEN,
};
use crate::types::{CertId, IssuerId, PublicKey};

/// Domain separation prefix of transaction sign bytes.
pub const TX_SIGN_DOMAIN: &[u8] = b"tradeseal/tx/v1\0";
/// Envelope format version.
pub const TX_VERSION: u8 = 1;
/// Longest accepted transaction, in bytes.
pub const MAX_TX_BYTES: usize = 16 * 1024;
/// Longest chain id, in bytes (CometBFT's limit).
pub const MAX_CHAIN_ID_LEN: usize = 50;
/// How far past the signer's last accepted sequence a transaction's sequence may be (gaps
/// are allowed up to this): no single transaction can push a key's sequence near `u64::MAX`
/// and so lock the key for good (code 23).
pub const MAX_SEQUENCE_GAP: u64 = 1_000_000;

/// How far in the future (seconds past block time) an issue or inspection time may be, to
/// absorb clock differences between a clerk's machine and the chain.
pub const MAX_FUTURE_SKEW_SECS: u64 = 300;

/// A transaction message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    /// A governance member proposes an action and approves it (tag 1).
    Propose {
        /// The action.
        action: GovAction,
        /// Approvals are accepted while block time < this (unix seconds).
        expires_at: u64,
    },
    /// Another governance member approves an open proposal (tag 2).
    Approve {
        /// The proposal number.
        proposal: u64,
    },
    /// An issuer registers a certificate it signed (tag 3): the whole signed certificate,
    /// so that the chain checks the issuer's signature and takes the kind, dates, content
    /// hash and document hash from the signed text itself.
    IssueCertificate(Box<SignedCertificate>),
    /// An issuer revokes one of its certificates (tag 4).
    RevokeCertificate {
        /// The certificate; its issuer must be the signer's issuer.
        cert: CertId,
        /// Why.
        reason: RevocationReason,
        /// Note (at most 255 bytes).
        note: String,
    },
    /// An agency's inspector records an inspection (tag 5).
    RecordInspection(RecordInspection),
}

/// The body of [`Message::RecordInspection`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordInspection {
    /// The certificate inspected.
    pub cert: CertId,
    /// The inspector's agency; must be the signer's issuer.
    pub agency: IssuerId,
    /// Where.
    pub location: String,
    /// Outcome.
    pub outcome: InspectionOutcome,
    /// Notes.
    pub notes: String,
    /// When (unix seconds).
    pub inspected_at: u64,
}

impl Message {
    /// Checks every field against its limit (the certificate's rules, texts within their
    /// maxima), as building and signing do; nothing over a limit is ever cut.
    pub fn validate(&self) -> Result<(), DecodeError> {
        match self {
            Self::Propose { action, .. } => action.validate(),
            Self::Approve { .. } => Ok(()),
            Self::IssueCertificate(signed) => signed.certificate.validate(),
            Self::RevokeCertificate { note, .. } => {
                check_text("revoke.note", note, MAX_NOTE_LEN, false)
            }
            Self::RecordInspection(m) => {
                check_text("inspection.location", &m.location, MAX_LOCATION_LEN, false)?;
                check_text("inspection.notes", &m.notes, MAX_NOTE_LEN, false)
            }
        }
    }
}

impl Canonical for Message {
    fn encode_to(&self, w: &mut Writer) {
        match self {
            Self::Propose { action, expires_at } => {
                w.u8(1);
                action.encode_to(w);
                w.u64(*expires_at);
            }
            Self::Approve { proposal } => {
                w.u8(2).u64(*proposal);
            }
            Self::IssueCertificate(signed) => {
                w.u8(3);
                signed.encode_to(w);
            }
            Self::RevokeCertificate { cert, reason, note } => {
                w.u8(4);
                cert.encode_to(w);
                w.u8(*reason as u8).str(note);
            }
            Self::RecordInspection(m) => {
                w.u8(5);
                m.cert.encode_to(w);
                m.agency.encode_to(w);
                w.str(&m.location)
                    .u8(m.outcome as u8)
                    .str(&m.notes)
                    .u64(m.inspected_at);
            }
        }
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8("message")? {
            1 => Ok(Self::Propose {
                action: GovAction::decode_from(r)?,
                expires_at: r.u64("propose.expires_at")?,
            }),
            2 => Ok(Self::Approve {
                proposal: r.u64("approve.proposal")?,
            }),
            3 => Ok(Self::IssueCertificate(Box::new(
                SignedCertificate::decode_from(r)?,
            ))),
            4 => Ok(Self::RevokeCertificate {
                cert: CertId::decode_from(r)?,
                reason: RevocationReason::from_code(r.u8("revoke.reason")?)?,
                note: r.str("revoke.note", MAX_NOTE_LEN)?,
            }),
            5 => Ok(Self::RecordInspection(RecordInspection {
                cert: CertId::decode_from(r)?,
                agency: IssuerId::decode_from(r)?,
                location: r.str("inspection.location", MAX_LOCATION_LEN)?,
                outcome: InspectionOutcome::from_code(r.u8("inspection.outcome")?)?,
                notes: r.str("inspection.notes", MAX_NOTE_LEN)?,
                inspected_at: r.u64("inspection.inspected_at")?,
            })),
            v => Err(DecodeError::InvalidTag {
                field: "message",
                value: u64::from(v),
            }),
        }
    }
}

/// The unsigned part of a transaction: what the signer sees and signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxBody {
    /// The chain this transaction is for.
    pub chain_id: String,
    /// The signer's public key.
    pub signer: PublicKey,
    /// Greater than the signer's last accepted sequence (the first is ≥ 1).
    pub sequence: u64,
    /// What to do.
    pub message: Message,
}

impl TxBody {
    fn encode_unsigned(&self, w: &mut Writer) {
        w.u8(TX_VERSION).str(&self.chain_id);
        self.signer.encode_to(w);
        w.u64(self.sequence);
        self.message.encode_to(w);
    }

    /// Checks every field against its limit: the chain id (at most 50 bytes) and the
    /// message's fields ([`Message::validate`]).
    pub fn validate(&self) -> Result<(), DecodeError> {
        check_text("tx.chain_id", &self.chain_id, MAX_CHAIN_ID_LEN, false)?;
        self.message.validate()
    }

    /// The bytes the signer signs: [`TX_SIGN_DOMAIN`] then the unsigned encoding. Fails,
    /// naming the field, when a field is over its limit ([`TxBody::validate`]).
    pub fn sign_bytes(&self) -> Result<Vec<u8>, DecodeError> {
        self.validate()?;
        self.encode_sign_bytes()
    }

    /// The sign bytes of a body as it is (a decoded one: its rules are the chain's to judge).
    fn encode_sign_bytes(&self) -> Result<Vec<u8>, DecodeError> {
        let mut w = Writer::new();
        w.raw(TX_SIGN_DOMAIN);
        self.encode_unsigned(&mut w);
        w.finish()
    }

    /// Signs with `key`, whose public key must be `self.signer` (else the chain rejects it);
    /// refuses a body with a field over its limit.
    pub fn sign(self, key: &SigningKey) -> Result<Tx, DecodeError> {
        let signature = key.sign(&self.sign_bytes()?).to_bytes();
        Ok(Tx {
            body: self,
            signature,
        })
    }
}

/// A signed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tx {
    /// What was signed.
    pub body: TxBody,
    /// ed25519 signature over [`TxBody::sign_bytes`].
    pub signature: [u8; 64],
}

impl Tx {
    /// Checks the signature with `verify_strict` against the signer key.
    pub fn verify_signature(&self) -> bool {
        let Ok(bytes) = self.body.encode_sign_bytes() else {
            return false;
        };
        let Ok(vk) = VerifyingKey::from_bytes(self.body.signer.as_bytes()) else {
            return false;
        };
        let sig = Signature::from_bytes(&self.signature);
        vk.verify_strict(&bytes, &sig).is_ok()
    }

    /// Decodes a transaction (size limit, version and canonical encoding checked; the
    /// signature is not checked here).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > MAX_TX_BYTES {
            return Err(DecodeError::TooLong {
                field: "tx",
                len: bytes.len(),
                max: MAX_TX_BYTES,
            });
        }
        Self::from_bytes(bytes)
    }

    /// SHA-256 of the encoded transaction (the CometBFT transaction hash).
    pub fn hash(bytes: &[u8]) -> [u8; 32] {
        Sha256::digest(bytes).into()
    }
}

impl Canonical for Tx {
    fn encode_to(&self, w: &mut Writer) {
        self.body.encode_unsigned(w);
        w.raw(&self.signature);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u8("tx.version")?;
        if version != TX_VERSION {
            return Err(DecodeError::InvalidTag {
                field: "tx.version",
                value: u64::from(version),
            });
        }
        let chain_id = r.str("tx.chain_id", MAX_CHAIN_ID_LEN)?;
        let signer = PublicKey::decode_from(r)?;
        let sequence = r.u64("tx.sequence")?;
        let message = Message::decode_from(r)?;
        let signature = r.array("tx.signature")?;
        Ok(Self {
            body: TxBody {
                chain_id,
                signer,
                sequence,
                message,
            },
            signature,
        })
    }
}

/// Builds and signs transactions for one key on one chain (used by the local network's
/// seeder, the CLI and tests). Every method refuses, naming the field, a transaction with a
/// field over its limit ([`TxBody::validate`]).
#[derive(Debug)]
pub struct TxBuilder<'a> {
    chain_id: &'a str,
    key: &'a SigningKey,
}

impl<'a> TxBuilder<'a> {
    /// A builder signing with `key` for `chain_id`.
    pub fn new(chain_id: &'a str, key: &'a SigningKey) -> Self {
        Self { chain_id, key }
    }

    /// The signer's public key.
    pub fn signer(&self) -> PublicKey {
        PublicKey::from(&self.key.verifying_key())
    }

    /// Signs any message with the given sequence; returns the encoded transaction.
    pub fn build(&self, sequence: u64, message: Message) -> Result<Vec<u8>, DecodeError> {
        TxBody {
            chain_id: self.chain_id.to_owned(),
            signer: self.signer(),
            sequence,
            message,
        }
        .sign(self.key)?
        .try_to_bytes()
    }

    /// A governance proposal (the proposer's approval included).
    pub fn propose(
        &self,
        sequence: u64,
        action: GovAction,
        expires_at: u64,
    ) -> Result<Vec<u8>, DecodeError> {
        self.build(sequence, Message::Propose { action, expires_at })
    }

    /// A governance approval.
    pub fn approve(&self, sequence: u64, proposal: u64) -> Result<Vec<u8>, DecodeError> {
        self.build(sequence, Message::Approve { proposal })
    }

    /// Signs `cert` with this builder's key (an issuer key) and registers it.
    pub fn issue(&self, sequence: u64, cert: &Certificate) -> Result<Vec<u8>, DecodeError> {
        let signed = cert.clone().sign(self.chain_id, self.key)?;
        self.issue_signed(sequence, &signed)
    }

    /// Registers a certificate signed beforehand (by any key of the issuer).
    pub fn issue_signed(
        &self,
        sequence: u64,
        signed: &SignedCertificate,
    ) -> Result<Vec<u8>, DecodeError> {
        self.build(
            sequence,
            Message::IssueCertificate(Box::new(signed.clone())),
        )
    }

    /// Revokes a certificate.
    pub fn revoke(
        &self,
        sequence: u64,
        cert: CertId,
        reason: RevocationReason,
        note: &str,
    ) -> Result<Vec<u8>, DecodeError> {
        self.build(
            sequence,
            Message::RevokeCertificate {
                cert,
                reason,
                note: note.to_owned(),
            },
        )
    }

    /// Records an inspection.
    pub fn record_inspection(
        &self,
        sequence: u64,
        inspection: RecordInspection,
    ) -> Result<Vec<u8>, DecodeError> {
        self.build(sequence, Message::RecordInspection(inspection))
    }

    /// Proposes registering an issuer (governance).
    pub fn register_issuer(
        &self,
        sequence: u64,
        spec: IssuerSpec,
        expires_at: u64,
    ) -> Result<Vec<u8>, DecodeError> {
        self.propose(sequence, GovAction::RegisterIssuer(spec), expires_at)
    }

    /// Proposes suspending an issuer (governance).
    pub fn suspend_issuer(
        &self,
        sequence: u64,
        id: IssuerId,
        reason: &str,
        expires_at: u64,
    ) -> Result<Vec<u8>, DecodeError> {
        let action = GovAction::SuspendIssuer {
            id,
            reason: reason.to_owned(),
        };
        self.propose(sequence, action, expires_at)
    }

    /// Proposes reinstating a suspended issuer (governance).
    pub fn reinstate_issuer(
        &self,
        sequence: u64,
        id: IssuerId,
        reason: &str,
        expires_at: u64,
    ) -> Result<Vec<u8>, DecodeError> {
        let action = GovAction::ReinstateIssuer {
            id,
            reason: reason.to_owned(),
        };
        self.propose(sequence, action, expires_at)
    }

    /// Proposes removing an issuer for good (governance).
    pub fn remove_issuer(
        &self,
        sequence: u64,
        id: IssuerId,
        reason: &str,
        expires_at: u64,
    ) -> Result<Vec<u8>, DecodeError> {
        let action = GovAction::RemoveIssuer {
            id,
            reason: reason.to_owned(),
        };
        self.propose(sequence, action, expires_at)
    }

    /// Proposes setting a consensus validator's voting power, 0 removing it (governance).
    pub fn set_validator(
        &self,
        sequence: u64,
        pub_key: PublicKey,
        power: u64,
        expires_at: u64,
    ) -> Result<Vec<u8>, DecodeError> {
        self.propose(
            sequence,
            GovAction::SetValidator { pub_key, power },
            expires_at,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    #[test]
    fn sign_encode_decode_verify() {
        let k = key(1);
        let b = TxBuilder::new("tradeseal-test", &k);
        let bytes = b.approve(3, 9).unwrap();
        let tx = Tx::decode(&bytes).unwrap();
        assert_eq!(tx.body.sequence, 3);
        assert_eq!(tx.body.message, Message::Approve { proposal: 9 });
        assert!(tx.verify_signature());
        assert_eq!(tx.to_bytes(), bytes);

        let mut tampered = bytes.clone();
        let seq_at = 1 + 1 + "tradeseal-test".len() + 32 + 7;
        tampered[seq_at] ^= 1;
        assert!(!Tx::decode(&tampered).unwrap().verify_signature());

        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(
            Tx::decode(&extra),
            Err(DecodeError::TrailingBytes { count: 1 })
        );
        assert!(Tx::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(Tx::decode(&vec![1; MAX_TX_BYTES + 1]).is_err());
    }

    #[test]
    fn sign_bytes_are_domain_separated() {
        let k = key(2);
        let tx = Tx::decode(&TxBuilder::new("c", &k).approve(1, 1).unwrap()).unwrap();
        assert!(tx.body.sign_bytes().unwrap().starts_with(TX_SIGN_DOMAIN));
    }

    #[test]
    fn fields_over_their_limit_are_refused_at_building_and_signing() {
        let k = key(3);
        let b = TxBuilder::new("tradeseal-test", &k);
        let id = CertId::parse("KE-KEPHIS/PH-1").unwrap();
        // 254 ASCII bytes and a 2-byte character: a cut at 255 would split the character.
        let note = format!("{}é", "n".repeat(254));
        let err = b
            .revoke(1, id.clone(), RevocationReason::Other, &note)
            .unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLong {
                field: "revoke.note",
                len: 256,
                max: MAX_NOTE_LEN
            }
        );
        assert!(err.to_string().contains("revoke.note"), "{err}");
        // Each field has its own limit, under 255: a 65-byte location.
        let inspection = RecordInspection {
            cert: id.clone(),
            agency: IssuerId::new("NL-CUSTOMS").unwrap(),
            location: "L".repeat(MAX_LOCATION_LEN + 1),
            outcome: InspectionOutcome::Compliant,
            notes: String::new(),
            inspected_at: 0,
        };
        assert!(matches!(
            b.record_inspection(1, inspection),
            Err(DecodeError::TooLong {
                field: "inspection.location",
                ..
            })
        ));
        // Signing a body directly, and its sign bytes, refuse it too.
        let body = TxBody {
            chain_id: "c".repeat(MAX_CHAIN_ID_LEN + 1),
            signer: b.signer(),
            sequence: 1,
            message: Message::Approve { proposal: 0 },
        };
        assert!(body.sign_bytes().is_err());
        assert!(matches!(
            body.sign(&k),
            Err(DecodeError::TooLong {
                field: "tx.chain_id",
                ..
            })
        ));
        // At the limit is fine, and decodes back to the same text.
        let ok = b
            .revoke(2, id, RevocationReason::Other, &"é".repeat(127))
            .unwrap();
        let Message::RevokeCertificate { note, .. } = Tx::decode(&ok).unwrap().body.message else {
            panic!("not a revocation")
        };
        assert_eq!(note, "é".repeat(127));
    }
}
