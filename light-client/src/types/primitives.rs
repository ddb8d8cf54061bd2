//! Small value types: hashes, addresses, keys, signatures, heights and chain ids.

use core::fmt;
use core::str::FromStr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::serde_helpers::{base64_decode, base64_encode, hex_decode};

/// Why a value could not be decoded from its text form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The text is not valid hex or base64.
    #[error("{what}: {reason}")]
    Encoding {
        /// Which kind of value was being decoded.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The decoded bytes have the wrong length.
    #[error("{what}: expected {expected} bytes, got {actual}")]
    Length {
        /// Which kind of value was being decoded.
        what: &'static str,
        /// The required length.
        expected: usize,
        /// The length found.
        actual: usize,
    },
}

macro_rules! fixed_hex_bytes {
    ($(#[$meta:meta])* $name:ident, $len:expr, $what:expr) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; $len]);

        impl $name {
            /// The length in bytes.
            pub const LENGTH: usize = $len;

            /// Wraps raw bytes.
            pub const fn new(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Copies from a slice of exactly the right length.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, DecodeError> {
                let arr: [u8; $len] = bytes.try_into().map_err(|_| DecodeError::Length {
                    what: $what,
                    expected: $len,
                    actual: bytes.len(),
                })?;
                Ok(Self(arr))
            }

            /// Upper-case hex, as CometBFT prints it.
            pub fn to_hex(&self) -> String {
                hex::encode_upper(self.0)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = DecodeError;
            fn from_str(s: &str) -> Result<Self, DecodeError> {
                let bytes = hex_decode(s).map_err(|reason| DecodeError::Encoding {
                    what: $what,
                    reason,
                })?;
                Self::from_slice(&bytes)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(de::Error::custom)
            }
        }
    };
}

fixed_hex_bytes!(
    /// A SHA-256 hash (header hash, validator-set hash, Merkle roots). JSON: upper-case hex.
    Hash,
    32,
    "hash"
);

fixed_hex_bytes!(
    /// A validator address: the first 20 bytes of SHA-256 of its ed25519 public key.
    /// JSON: upper-case hex.
    Address,
    20,
    "address"
);

impl Hash {
    /// SHA-256 of `data`.
    pub fn sha256(data: &[u8]) -> Hash {
        Hash(Sha256::digest(data).into())
    }
}

impl Address {
    /// The address CometBFT derives from an ed25519 public key (first 20 bytes of its SHA-256).
    pub fn from_public_key(key: &PublicKey) -> Address {
        let digest = Sha256::digest(key.as_bytes());
        let mut out = [0u8; 20];
        out.copy_from_slice(&digest[..20]);
        Address(out)
    }
}

/// Serde for `Option<Hash>`: the empty string (or `null`) is `None`, as CometBFT prints an
/// empty hash as `""`.
pub(crate) mod opt_hash {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<Hash>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(h) => s.serialize_str(&h.to_hex()),
            None => s.serialize_str(""),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Hash>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        match text.as_deref() {
            None | Some("") => Ok(None),
            Some(t) => t.parse().map(Some).map_err(de::Error::custom),
        }
    }
}

/// Serde for `Option<Address>`: `""` or `null` is `None` (absent commit signatures).
pub(crate) mod opt_address {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<Address>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(a) => s.serialize_str(&a.to_hex()),
            None => s.serialize_str(""),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Address>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        match text.as_deref() {
            None | Some("") => Ok(None),
            Some(t) => t.parse().map(Some).map_err(de::Error::custom),
        }
    }
}

/// Arbitrary bytes printed as upper-case hex (the header's `app_hash`, any length).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HexBytes(pub Vec<u8>);

impl HexBytes {
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for HexBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HexBytes({})", hex::encode_upper(&self.0))
    }
}

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(&self.0))
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        match text {
            None => Ok(HexBytes::default()),
            Some(t) => hex_decode(&t).map(HexBytes).map_err(de::Error::custom),
        }
    }
}

/// The amino JSON type tag CometBFT uses for ed25519 public keys.
pub const ED25519_KEY_TYPE: &str = "tendermint/PubKeyEd25519";

/// An ed25519 public key (the only validator key type this client supports).
///
/// JSON: `{"type": "tendermint/PubKeyEd25519", "value": "<base64>"}`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Wraps the 32 key bytes. Any bytes are accepted here; whether they decode to a curve
    /// point is decided when a signature is verified (ZIP-215 rules).
    pub const fn from_bytes(bytes: [u8; 32]) -> PublicKey {
        PublicKey(bytes)
    }

    /// The 32 key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The validator address of this key.
    pub fn address(&self) -> Address {
        Address::from_public_key(self)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", base64_encode(&self.0))
    }
}

#[derive(Serialize, Deserialize)]
struct TaggedKey<'a> {
    #[serde(rename = "type")]
    kind: std::borrow::Cow<'a, str>,
    value: std::borrow::Cow<'a, str>,
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TaggedKey {
            kind: ED25519_KEY_TYPE.into(),
            value: base64_encode(&self.0).into(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let tagged = TaggedKey::deserialize(d)?;
        if tagged.kind != ED25519_KEY_TYPE {
            return Err(de::Error::custom(format_args!(
                "unsupported public key type {:?} (only {ED25519_KEY_TYPE:?} is supported)",
                tagged.kind
            )));
        }
        let bytes = base64_decode(&tagged.value).map_err(de::Error::custom)?;
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            de::Error::custom(format_args!(
                "ed25519 public key must be 32 bytes, got {}",
                bytes.len()
            ))
        })?;
        Ok(PublicKey(arr))
    }
}

/// A validator's signature bytes (64 bytes for a well-formed ed25519 signature; other lengths
/// are kept so that they are rejected at verification, exactly where CometBFT rejects them).
/// JSON: base64.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Signature(Vec<u8>);

impl Signature {
    /// Wraps signature bytes.
    pub fn new(bytes: Vec<u8>) -> Signature {
        Signature(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes as a fixed array when they are exactly 64 bytes long.
    pub fn to_array(&self) -> Option<[u8; 64]> {
        self.0.as_slice().try_into().ok()
    }
}

impl From<[u8; 64]> for Signature {
    fn from(bytes: [u8; 64]) -> Signature {
        Signature(bytes.to_vec())
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", base64_encode(&self.0))
    }
}

/// Serde for `Option<Signature>`: `null` or `""` is `None`.
pub(crate) mod opt_signature {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<Signature>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(sig) => s.serialize_str(&base64_encode(&sig.0)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Signature>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(d)?;
        match text.as_deref() {
            None | Some("") => Ok(None),
            Some(t) => {
                let bytes = base64_decode(t).map_err(de::Error::custom)?;
                if bytes.len() > 64 {
                    return Err(de::Error::custom(format_args!(
                        "signature longer than 64 bytes ({})",
                        bytes.len()
                    )));
                }
                Ok(Some(Signature(bytes)))
            }
        }
    }
}

/// A block height (a positive int64 in CometBFT). JSON: decimal string.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Height(#[serde(with = "crate::serde_helpers::str_u64")] pub u64);

impl Height {
    /// The height as a number.
    pub fn value(self) -> u64 {
        self.0
    }

    /// The next height, or `None` past `i64::MAX`.
    pub fn increment(self) -> Option<Height> {
        let next = self.0.checked_add(1)?;
        (next <= i64::MAX as u64).then_some(Height(next))
    }
}

impl From<u64> for Height {
    fn from(v: u64) -> Height {
        Height(v)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Height({})", self.0)
    }
}

/// The longest chain id CometBFT accepts in a header.
pub const MAX_CHAIN_ID_LEN: usize = 50;

/// A chain id (`"mocha-4"`). JSON: string.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ChainId(String);

impl ChainId {
    /// Wraps a chain id (length is checked by header validation, not here).
    pub fn new(id: impl Into<String>) -> ChainId {
        ChainId(id.into())
    }

    /// The chain id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ChainId {
    fn from(s: &str) -> ChainId {
        ChainId(s.to_owned())
    }
}

impl fmt::Display for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainId({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_is_first_20_bytes_of_sha256() {
        // Celestia mocha-4 validator at height 3000.
        let key: PublicKey = serde_json::from_str(
            r#"{"type":"tendermint/PubKeyEd25519","value":"l/qNaf4JDxnhP+6Pf+2OSAJYksSIkjyefYCDvZPoahA="}"#,
        )
        .unwrap();
        assert_eq!(
            key.address().to_hex(),
            "7619BFC85B72E319BF414A784D4DE40EE9B92C16"
        );
    }

    #[test]
    fn hash_json_is_upper_hex_and_rejects_bad_lengths() {
        let h: Hash = serde_json::from_str(
            "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"",
        )
        .unwrap();
        assert_eq!(h, Hash::sha256(b""));
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\""
        );
        assert!(serde_json::from_str::<Hash>("\"ABCD\"").is_err());
        assert!(serde_json::from_str::<Hash>("\"zz\"").is_err());
    }

    #[test]
    fn rejects_other_key_types() {
        let err = serde_json::from_str::<PublicKey>(
            r#"{"type":"tendermint/PubKeySecp256k1","value":"AA=="}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unsupported public key type"));
    }

    #[test]
    fn heights_are_strings() {
        assert_eq!(serde_json::to_string(&Height(7)).unwrap(), "\"7\"");
        assert_eq!(serde_json::from_str::<Height>("\"7\"").unwrap(), Height(7));
        assert!(serde_json::from_str::<Height>("\"-1\"").is_err());
        assert!(serde_json::from_str::<Height>("\"1e3\"").is_err());
    }
}
