//! The trade certificate: its fields, canonical encoding, content hash and issuer signature.
//!
//! One definition shared by the chain application, the CLI, the local network and the wallet.
//! The content hash is what the chain records; the signature is what a QR code carries for
//! offline verification (see [`crate::qr`]).

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codec::{check_text, Canonical, DecodeError, Reader, Writer};
use crate::tx::MAX_CHAIN_ID_LEN;
use crate::types::{CertId, CertificateKind, Country, PublicKey};
#[cfg(any(test, feature = "testkit"))]
use crate::types::{IssuerId, Serial};

/// Certificate encoding format version.
pub const CERT_VERSION: u8 = 1;
/// Domain separation prefix of the content hash.
pub const CERT_HASH_DOMAIN: &[u8] = b"tradeseal/cert/v1\0";
/// Domain separation prefix of the issuer's signature.
pub const CERT_SIGN_DOMAIN: &[u8] = b"tradeseal/cert-sig/v1\0";

/// Longest party name, in bytes.
pub const MAX_PARTY_NAME_LEN: usize = 96;
/// Longest party identifier (TIN, EORI, ...), in bytes.
pub const MAX_PARTY_ID_LEN: usize = 32;
/// Longest goods description, in bytes.
pub const MAX_GOODS_LEN: usize = 200;
/// Longest quantity text, in bytes.
pub const MAX_QUANTITY_LEN: usize = 16;
/// Longest transport / invoice reference, in bytes.
pub const MAX_REF_LEN: usize = 64;
/// Longest remarks, in bytes.
pub const MAX_REMARKS_LEN: usize = 200;

/// An exporter, consignor, importer or consignee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// Name (1-96 bytes).
    pub name: String,
    /// Country.
    pub country: Country,
    /// Business identifier such as a TIN or EORI number, if any (1-32 bytes).
    pub identifier: Option<String>,
}

impl Party {
    fn validate(&self, field: &'static str, id_field: &'static str) -> Result<(), DecodeError> {
        check_text(field, &self.name, MAX_PARTY_NAME_LEN, true)?;
        if let Some(id) = &self.identifier {
            check_text(id_field, id, MAX_PARTY_ID_LEN, true)?;
        }
        Ok(())
    }
}

impl Canonical for Party {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.name);
        self.country.encode_to(w);
        w.opt(self.identifier.as_ref(), |w, s| {
            w.str(s);
        });
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let name = r.str("party.name", MAX_PARTY_NAME_LEN)?;
        non_empty("party.name", &name)?;
        let country = Country::decode_from(r)?;
        let identifier = if r.flag("party.identifier")? {
            let s = r.str("party.identifier", MAX_PARTY_ID_LEN)?;
            non_empty("party.identifier", &s)?;
            Some(s)
        } else {
            None
        };
        Ok(Self {
            name,
            country,
            identifier,
        })
    }
}

fn non_empty(field: &'static str, s: &str) -> Result<(), DecodeError> {
    if s.is_empty() {
        Err(DecodeError::InvalidField {
            field,
            reason: "must not be empty",
        })
    } else {
        Ok(())
    }
}

fn opt_str(
    r: &mut Reader<'_>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, DecodeError> {
    if r.flag(field)? {
        let s = r.str(field, max)?;
        non_empty(field, &s)?;
        Ok(Some(s))
    } else {
        Ok(None)
    }
}

/// The goods a certificate covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Goods {
    /// Description (1-200 bytes).
    pub description: String,
    /// Harmonized System code: 6 to 10 ASCII digits.
    pub hs_code: String,
    /// Quantity as a decimal number: digits with at most one `.` (1-16 bytes).
    pub quantity: String,
    /// Unit of measure, UN/ECE Recommendation 20 code: 1-3 capital letters or digits (`KGM`).
    pub unit: String,
}

impl Goods {
    fn validate(&self) -> Result<(), DecodeError> {
        check_text("goods.description", &self.description, MAX_GOODS_LEN, true)?;
        check_text("goods.quantity", &self.quantity, MAX_QUANTITY_LEN, true)?;
        let hs = self.hs_code.as_bytes();
        if !(6..=10).contains(&hs.len()) || !hs.iter().all(u8::is_ascii_digit) {
            return Err(DecodeError::InvalidField {
                field: "goods.hs_code",
                reason: "must be 6 to 10 digits",
            });
        }
        let q = self.quantity.as_bytes();
        let dots = q.iter().filter(|&&c| c == b'.').count();
        let digits_ok = q.iter().all(|&c| c.is_ascii_digit() || c == b'.');
        if q.is_empty()
            || !digits_ok
            || dots > 1
            || q.first() == Some(&b'.')
            || q.last() == Some(&b'.')
        {
            return Err(DecodeError::InvalidField {
                field: "goods.quantity",
                reason: "must be a decimal number such as 1250 or 12.5",
            });
        }
        let u = self.unit.as_bytes();
        if u.is_empty()
            || u.len() > 3
            || !u
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(DecodeError::InvalidField {
                field: "goods.unit",
                reason: "must be a UN/ECE Rec. 20 code of 1 to 3 capitals or digits",
            });
        }
        Ok(())
    }
}

impl Canonical for Goods {
    fn encode_to(&self, w: &mut Writer) {
        w.str(&self.description)
            .str(&self.hs_code)
            .str(&self.quantity)
            .str(&self.unit);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let g = Self {
            description: r.str("goods.description", MAX_GOODS_LEN)?,
            hs_code: r.str("goods.hs_code", 10)?,
            quantity: r.str("goods.quantity", MAX_QUANTITY_LEN)?,
            unit: r.str("goods.unit", 3)?,
        };
        g.validate()?;
        Ok(g)
    }
}

/// A trade certificate (format version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    /// Its kind.
    pub kind: CertificateKind,
    /// Issuer id and serial.
    pub id: CertId,
    /// Exporter / consignor.
    pub exporter: Party,
    /// Importer / consignee.
    pub importer: Party,
    /// The goods.
    pub goods: Goods,
    /// Country of origin of the goods.
    pub origin: Country,
    /// Country of destination.
    pub destination: Country,
    /// Issue time (unix seconds).
    pub issued_at: u64,
    /// Expiry (unix seconds, exclusive); after `issued_at`.
    pub expires_at: u64,
    /// Means of transport and its reference (vessel and voyage, flight, truck plate), if any.
    pub transport: Option<String>,
    /// Commercial invoice number, if any.
    pub invoice: Option<String>,
    /// Remarks (additional declarations, treatment, ...), if any.
    pub remarks: Option<String>,
    /// SHA-256 of the certificate document (PDF) holding the full text, if any.
    pub document_hash: Option<[u8; 32]>,
}

impl Certificate {
    /// Checks every field rule the type cannot express: each text within its limit (§8 of
    /// the protocol; optional texts, when present, not empty), the goods syntax, the dates.
    /// Signing and encoding for a QR code check this first.
    pub fn validate(&self) -> Result<(), DecodeError> {
        self.exporter
            .validate("exporter.name", "exporter.identifier")?;
        self.importer
            .validate("importer.name", "importer.identifier")?;
        self.goods.validate()?;
        for (field, text, max) in [
            ("transport", &self.transport, MAX_REF_LEN),
            ("invoice", &self.invoice, MAX_REF_LEN),
            ("remarks", &self.remarks, MAX_REMARKS_LEN),
        ] {
            if let Some(t) = text {
                check_text(field, t, max, true)?;
            }
        }
        if self.expires_at <= self.issued_at {
            return Err(DecodeError::InvalidField {
                field: "expires_at",
                reason: "must be after issued_at",
            });
        }
        Ok(())
    }

    /// SHA-256 of [`CERT_HASH_DOMAIN`] followed by the canonical encoding: the value the chain
    /// records in the certificate record.
    pub fn content_hash(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(CERT_HASH_DOMAIN);
        h.update(self.to_bytes());
        h.finalize().into()
    }

    /// The bytes an issuer signs: [`CERT_SIGN_DOMAIN`], the chain id (`u8` length + UTF-8),
    /// then the canonical encoding. Binding the chain id keeps a test network's certificates
    /// from verifying on another network. Fails, naming the field, when the certificate
    /// breaks a rule ([`Certificate::validate`]) or the chain id is not 1 to 50 bytes.
    pub fn sign_bytes(&self, chain_id: &str) -> Result<Vec<u8>, DecodeError> {
        check_text("chain_id", chain_id, MAX_CHAIN_ID_LEN, true)?;
        self.validate()?;
        let mut w = Writer::new();
        w.raw(CERT_SIGN_DOMAIN).str(chain_id);
        self.encode_to(&mut w);
        w.finish()
    }

    /// Whether `document` (the PDF bytes) is the certificate's document: its SHA-256 equals
    /// `document_hash`. False when the certificate names no document.
    pub fn document_matches(&self, document: &[u8]) -> bool {
        let h: [u8; 32] = Sha256::digest(document).into();
        self.document_hash == Some(h)
    }

    /// Signs the certificate with an issuer key; refuses (naming the field) a certificate
    /// that breaks a rule, e.g. a text over its limit, rather than sign something else.
    pub fn sign(self, chain_id: &str, key: &SigningKey) -> Result<SignedCertificate, DecodeError> {
        let signature = key.sign(&self.sign_bytes(chain_id)?).to_bytes();
        Ok(SignedCertificate {
            certificate: self,
            signature,
        })
    }
}

impl Canonical for Certificate {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(CERT_VERSION);
        self.kind.encode_to(w);
        self.id.encode_to(w);
        self.exporter.encode_to(w);
        self.importer.encode_to(w);
        self.goods.encode_to(w);
        self.origin.encode_to(w);
        self.destination.encode_to(w);
        w.u64(self.issued_at).u64(self.expires_at);
        for s in [&self.transport, &self.invoice, &self.remarks] {
            w.opt(s.as_ref(), |w, s| {
                w.str(s);
            });
        }
        w.opt(self.document_hash.as_ref(), |w, h| {
            w.raw(h);
        });
    }

    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u8("cert.version")?;
        if version != CERT_VERSION {
            return Err(DecodeError::InvalidTag {
                field: "cert.version",
                value: u64::from(version),
            });
        }
        let c = Self {
            kind: CertificateKind::decode_from(r)?,
            id: CertId::decode_from(r)?,
            exporter: Party::decode_from(r)?,
            importer: Party::decode_from(r)?,
            goods: Goods::decode_from(r)?,
            origin: Country::decode_from(r)?,
            destination: Country::decode_from(r)?,
            issued_at: r.u64("issued_at")?,
            expires_at: r.u64("expires_at")?,
            transport: opt_str(r, "transport", MAX_REF_LEN)?,
            invoice: opt_str(r, "invoice", MAX_REF_LEN)?,
            remarks: opt_str(r, "remarks", MAX_REMARKS_LEN)?,
            document_hash: if r.flag("document_hash")? {
                Some(r.array("document_hash")?)
            } else {
                None
            },
        };
        c.validate()?;
        Ok(c)
    }
}

/// A certificate with its issuer's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedCertificate {
    /// The certificate.
    pub certificate: Certificate,
    /// ed25519 signature over [`Certificate::sign_bytes`] (hex in JSON).
    #[serde(with = "hex_signature")]
    pub signature: [u8; 64],
}

/// A 64-byte signature as lowercase hex in serde formats.
mod hex_signature {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(sig: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(sig))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(&text).map_err(D::Error::custom)?;
        bytes
            .try_into()
            .map_err(|_| D::Error::custom("a signature is 64 bytes"))
    }
}

impl SignedCertificate {
    /// Whether the signature verifies (`verify_strict`) with `key` for `chain_id`.
    pub fn is_signed_by(&self, chain_id: &str, key: &PublicKey) -> bool {
        let Ok(bytes) = self.certificate.sign_bytes(chain_id) else {
            return false;
        };
        let Ok(vk) = VerifyingKey::from_bytes(key.as_bytes()) else {
            return false;
        };
        let sig = Signature::from_bytes(&self.signature);
        vk.verify_strict(&bytes, &sig).is_ok()
    }
}

impl Canonical for SignedCertificate {
    fn encode_to(&self, w: &mut Writer) {
        self.certificate.encode_to(w);
        w.raw(&self.signature);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            certificate: Certificate::decode_from(r)?,
            signature: r.array("signature")?,
        })
    }
}

/// A typical certificate for examples and tests: a Kenyan phytosanitary certificate for cut
/// roses to the Netherlands, issued by `KE-KEPHIS`, 371 bytes signed. Feature `testkit`.
#[cfg(any(test, feature = "testkit"))]
pub fn sample_certificate(serial: Serial, issued_at: u64) -> Certificate {
    let country = |s| Country::new(s).expect("constant country code is valid");
    Certificate {
        kind: CertificateKind::Phytosanitary,
        id: CertId::new(
            IssuerId::new("KE-KEPHIS").expect("constant id is valid"),
            serial,
        ),
        exporter: Party {
            name: "Rift Valley Roses Ltd".into(),
            country: country("KE"),
            identifier: Some("P051234567X".into()),
        },
        importer: Party {
            name: "Aalsmeer Flower Imports B.V.".into(),
            country: country("NL"),
            identifier: Some("NL823456789B01".into()),
        },
        goods: Goods {
            description: "Fresh cut roses (Rosa spp.), 480 cartons".into(),
            hs_code: "060311".into(),
            quantity: "9600".into(),
            unit: "KGM".into(),
        },
        origin: country("KE"),
        destination: country("NL"),
        issued_at,
        expires_at: issued_at.saturating_add(14 * 24 * 3600),
        transport: Some("Air KQ0112 NBO-AMS".into()),
        invoice: Some("INV-2026-04417".into()),
        remarks: Some("Free from quarantine pests; inspected at JKIA".into()),
        document_hash: Some(Sha256::digest(b"sample certificate document").into()),
    }
}
