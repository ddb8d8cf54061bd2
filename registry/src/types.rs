//! Small validated types shared by certificates, transactions and state: keys, ids, countries,
//! certificate kinds.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::codec::{Canonical, DecodeError, Reader, Writer};

/// Longest issuer id, in bytes.
pub const MAX_ISSUER_ID_LEN: usize = 32;
/// Longest certificate serial, in bytes.
pub const MAX_SERIAL_LEN: usize = 48;

/// An ed25519 public key (32 bytes) of a wallet, issuer or governance member.
///
/// Serialized as lowercase hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// Lowercase hex of the 32 bytes (the form used in state keys).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<Self, DecodeError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| DecodeError::InvalidField {
            field: "public_key",
            reason: "expected 64 hex digits",
        })?;
        Ok(Self(out))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether the bytes are a usable ed25519 public key: the canonical encoding of a curve
    /// point that is not of small order. Any other key can never make a signature that
    /// `verify_strict` accepts.
    pub fn is_valid_ed25519(&self) -> bool {
        match ed25519_dalek::VerifyingKey::from_bytes(&self.0) {
            Ok(vk) => !vk.is_weak() && vk.to_edwards().compress().to_bytes() == self.0,
            Err(_) => false,
        }
    }

    /// [`PublicKey::is_valid_ed25519`] as a field error.
    pub fn check_valid(&self, field: &'static str) -> Result<(), DecodeError> {
        if self.is_valid_ed25519() {
            Ok(())
        } else {
            Err(DecodeError::InvalidField {
                field,
                reason: "not a valid ed25519 public key (not a canonical point, or of small order)",
            })
        }
    }
}

impl From<&ed25519_dalek::VerifyingKey> for PublicKey {
    fn from(k: &ed25519_dalek::VerifyingKey) -> Self {
        Self(k.to_bytes())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

impl Canonical for PublicKey {
    fn encode_to(&self, w: &mut Writer) {
        w.raw(&self.0);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.array("public_key")?))
    }
}

fn is_id_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_')
}

fn check_id(field: &'static str, s: &str, max: usize) -> Result<(), DecodeError> {
    if s.is_empty() {
        return Err(DecodeError::InvalidField {
            field,
            reason: "must not be empty",
        });
    }
    if s.len() > max {
        return Err(DecodeError::TooLong {
            field,
            len: s.len(),
            max,
        });
    }
    if !s.bytes().all(is_id_char) {
        return Err(DecodeError::InvalidField {
            field,
            reason: "only ASCII letters, digits, '-', '.' and '_' are allowed",
        });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps an id.
            pub fn new(s: impl Into<String>) -> Result<Self, DecodeError> {
                let s = s.into();
                check_id($field, &s, $max)?;
                Ok(Self(s))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }

        impl Canonical for $name {
            fn encode_to(&self, w: &mut Writer) {
                w.str(&self.0);
            }
            fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Self::new(r.str($field, $max)?)
            }
        }
    };
}

id_type!(
    /// An issuer's id: 1-32 characters of `[A-Za-z0-9._-]`, e.g. `KE-KEPHIS`.
    IssuerId,
    "issuer_id",
    MAX_ISSUER_ID_LEN
);
id_type!(
    /// A certificate serial, unique per issuer: 1-48 characters of `[A-Za-z0-9._-]`.
    Serial,
    "serial",
    MAX_SERIAL_LEN
);

/// A certificate's id on the chain: its issuer and its serial, written `ISSUER/SERIAL`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CertId {
    /// The issuer.
    pub issuer: IssuerId,
    /// The serial, unique for that issuer.
    pub serial: Serial,
}

impl CertId {
    /// A certificate id from its parts.
    pub fn new(issuer: IssuerId, serial: Serial) -> Self {
        Self { issuer, serial }
    }

    /// Parses `ISSUER/SERIAL`.
    pub fn parse(s: &str) -> Result<Self, DecodeError> {
        let (i, n) = s.split_once('/').ok_or(DecodeError::InvalidField {
            field: "cert_id",
            reason: "expected ISSUER/SERIAL",
        })?;
        Ok(Self {
            issuer: IssuerId::new(i)?,
            serial: Serial::new(n)?,
        })
    }
}

impl fmt::Display for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.issuer, self.serial)
    }
}

impl Canonical for CertId {
    fn encode_to(&self, w: &mut Writer) {
        self.issuer.encode_to(w);
        self.serial.encode_to(w);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            issuer: IssuerId::decode_from(r)?,
            serial: Serial::decode_from(r)?,
        })
    }
}

/// An ISO 3166-1 alpha-2 country code: two ASCII capital letters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

impl Country {
    /// Validates a two-letter code such as `KE`.
    pub fn new(s: &str) -> Result<Self, DecodeError> {
        let b = s.as_bytes();
        if b.len() == 2 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Self([b[0], b[1]]))
        } else {
            Err(DecodeError::InvalidField {
                field: "country",
                reason: "expected two capital letters (ISO 3166-1 alpha-2)",
            })
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII capitals by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Country({})", self.as_str())
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Country {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::new(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl Canonical for Country {
    fn encode_to(&self, w: &mut Writer) {
        w.raw(&self.0);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let b: [u8; 2] = r.array("country")?;
        let s =
            std::str::from_utf8(&b).map_err(|_| DecodeError::InvalidUtf8 { field: "country" })?;
        Self::new(s)
    }
}

/// The kind of a trade certificate. The numeric codes are part of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateKind {
    /// Certificate of origin (preferential or non-preferential). Code 1.
    CertificateOfOrigin = 1,
    /// Phytosanitary certificate (plants and plant products). Code 2.
    Phytosanitary = 2,
    /// Veterinary / sanitary certificate (animals and animal products). Code 3.
    Veterinary = 3,
    /// Import licence. Code 4.
    ImportLicence = 4,
    /// Export licence. Code 5.
    ExportLicence = 5,
    /// Permit (e.g. CITES, controlled goods). Code 6.
    Permit = 6,
    /// Certificate of conformity / inspection. Code 7.
    Conformity = 7,
    /// Fumigation / treatment certificate. Code 8.
    Fumigation = 8,
    /// Authorised economic operator (AEO) authorisation. Code 9.
    AeoAuthorisation = 9,
}

impl CertificateKind {
    /// Every kind, in code order.
    pub const ALL: [CertificateKind; 9] = [
        Self::CertificateOfOrigin,
        Self::Phytosanitary,
        Self::Veterinary,
        Self::ImportLicence,
        Self::ExportLicence,
        Self::Permit,
        Self::Conformity,
        Self::Fumigation,
        Self::AeoAuthorisation,
    ];

    /// The protocol code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The kind with this code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// This kind's bit in a [`KindSet`].
    pub fn bit(self) -> u32 {
        1u32 << self.code()
    }
}

impl Canonical for CertificateKind {
    fn encode_to(&self, w: &mut Writer) {
        w.u8(self.code());
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let v = r.u8("kind")?;
        Self::from_code(v).ok_or(DecodeError::InvalidTag {
            field: "kind",
            value: u64::from(v),
        })
    }
}

/// A set of certificate kinds, encoded as a `u32` bit mask (bit `code`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "Vec<CertificateKind>", into = "Vec<CertificateKind>")]
pub struct KindSet(u32);

impl KindSet {
    /// The set of the given kinds.
    pub fn of(kinds: &[CertificateKind]) -> Self {
        Self(kinds.iter().fold(0, |m, k| m | k.bit()))
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: CertificateKind) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The raw mask.
    pub fn mask(self) -> u32 {
        self.0
    }

    /// The kinds in code order.
    pub fn kinds(self) -> Vec<CertificateKind> {
        CertificateKind::ALL
            .into_iter()
            .filter(|k| self.contains(*k))
            .collect()
    }
}

impl From<Vec<CertificateKind>> for KindSet {
    fn from(v: Vec<CertificateKind>) -> Self {
        Self::of(&v)
    }
}

impl From<KindSet> for Vec<CertificateKind> {
    fn from(s: KindSet) -> Self {
        s.kinds()
    }
}

impl Canonical for KindSet {
    fn encode_to(&self, w: &mut Writer) {
        w.u32(self.0);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let m = r.u32("kinds")?;
        let valid = KindSet::of(&CertificateKind::ALL).0;
        if m & !valid != 0 {
            return Err(DecodeError::InvalidTag {
                field: "kinds",
                value: u64::from(m),
            });
        }
        Ok(Self(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_validated() {
        assert!(IssuerId::new("KE-KEPHIS").is_ok());
        assert!(IssuerId::new("").is_err());
        assert!(IssuerId::new("a/b").is_err());
        assert!(IssuerId::new("x".repeat(33)).is_err());
        assert!(Serial::new("COO.2026_000123").is_ok());
        let id = CertId::parse("KE-KEPHIS/PH-1").unwrap();
        assert_eq!(id.to_string(), "KE-KEPHIS/PH-1");
        assert_eq!(CertId::from_bytes(&id.to_bytes()).unwrap(), id);
        assert!(CertId::parse("nope").is_err());
    }

    #[test]
    fn public_keys_must_be_usable_points() {
        let real = PublicKey::from(&crate::devkit::dev_key("k").verifying_key());
        assert!(real.is_valid_ed25519());
        // The identity (small order), and a y coordinate that is not on the curve.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(!PublicKey(identity).is_valid_ed25519());
        assert!(!PublicKey([0; 32]).is_valid_ed25519());
        let off_curve = (0u8..=255)
            .map(|b| PublicKey([b; 32]))
            .find(|k| ed25519_dalek::VerifyingKey::from_bytes(k.as_bytes()).is_err())
            .expect("some repeated byte is not a point");
        assert!(off_curve.check_valid("k").is_err());
        // A non-canonical encoding of a point (y = p + 1, which is y = 1 reduced).
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        assert!(!PublicKey(non_canonical).is_valid_ed25519());
    }

    #[test]
    fn countries_and_kinds() {
        assert_eq!(Country::new("KE").unwrap().as_str(), "KE");
        assert!(Country::new("ke").is_err());
        assert!(Country::new("KEN").is_err());
        assert!(Country::from_bytes(b"k1").is_err());
        for k in CertificateKind::ALL {
            assert_eq!(CertificateKind::from_code(k.code()), Some(k));
        }
        assert_eq!(CertificateKind::from_code(0), None);
        let set = KindSet::of(&[CertificateKind::Phytosanitary, CertificateKind::Permit]);
        assert!(set.contains(CertificateKind::Permit));
        assert!(!set.contains(CertificateKind::Veterinary));
        assert_eq!(KindSet::from_bytes(&set.to_bytes()).unwrap(), set);
        assert!(KindSet::from_bytes(&1u32.to_be_bytes()).is_err());
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["phytosanitary","permit"]"#);
    }
}
