//! Serde helper for the network's own storage format: byte vectors as lower-case hex strings
//! in human-readable formats (JSON), as byte strings in binary ones (CBOR block rows).

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize as _, Serializer};

/// Serialises bytes: hex in human-readable formats, a byte string otherwise.
pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        s.serialize_str(&hex::encode(bytes))
    } else {
        s.serialize_bytes(bytes)
    }
}

/// Deserialises bytes written by [`serialize`].
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    if d.is_human_readable() {
        let s = String::deserialize(d)?;
        hex::decode(s).map_err(de::Error::custom)
    } else {
        d.deserialize_byte_buf(BytesVisitor)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a byte string")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}

/// The same for lists of byte vectors.
pub mod list {
    use serde::ser::SerializeSeq as _;
    use serde::{Deserialize, Deserializer, Serializer};

    /// One byte vector, through the parent module's representation.
    #[derive(serde::Serialize, Deserialize)]
    struct Item(#[serde(with = "super")] Vec<u8>);

    /// Serialises a list of byte vectors.
    pub fn serialize<S: Serializer>(items: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(items.len()))?;
        for item in items {
            seq.serialize_element(&ItemRef(item))?;
        }
        seq.end()
    }

    struct ItemRef<'a>(&'a [u8]);

    impl serde::Serialize for ItemRef<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            super::serialize(self.0, s)
        }
    }

    /// Deserialises a list written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        Ok(Vec::<Item>::deserialize(d)?
            .into_iter()
            .map(|i| i.0)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Row {
        #[serde(with = "super")]
        one: Vec<u8>,
        #[serde(with = "super::list")]
        many: Vec<Vec<u8>>,
    }

    #[test]
    fn hex_in_json_bytes_in_cbor() {
        let row = Row {
            one: vec![0xab, 0x01],
            many: vec![vec![], vec![0xff]],
        };
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(json, r#"{"one":"ab01","many":["","ff"]}"#);
        assert_eq!(serde_json::from_str::<Row>(&json).unwrap(), row);
        let mut cbor = Vec::new();
        ciborium::into_writer(&row, &mut cbor).unwrap();
        assert!(cbor.len() < json.len());
        assert_eq!(
            ciborium::from_reader::<Row, _>(cbor.as_slice()).unwrap(),
            row
        );
    }
}
