//! Serde adapters for the CometBFT JSON-RPC conventions: int64 as strings, hex and base64 bytes,
//! `null` for an empty list.

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serializer};

use crate::types::MAX_VOTES_COUNT;

/// A JSON integer given either as a number or as a decimal string.
struct IntVisitor {
    what: &'static str,
}

impl Visitor<'_> for IntVisitor {
    type Value = i128;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (an integer or a decimal string)", self.what)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i128, E> {
        Ok(i128::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i128, E> {
        Ok(i128::from(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i128, E> {
        let digits = v.strip_prefix('-').unwrap_or(v);
        if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(E::custom(format_args!(
                "expected {} as a decimal string, got {v:?}",
                self.what
            )));
        }
        v.parse::<i128>()
            .map_err(|_| E::custom(format_args!("{} out of range: {v:?}", self.what)))
    }
}

fn int_in_range<'de, D: Deserializer<'de>>(
    d: D,
    what: &'static str,
    min: i128,
    max: i128,
) -> Result<i128, D::Error> {
    let v = d.deserialize_any(IntVisitor { what })?;
    if v < min || v > max {
        return Err(de::Error::custom(format_args!(
            "{what} out of range ({min}..={max}): {v}"
        )));
    }
    Ok(v)
}

/// A non-negative int64 carried as a decimal string (`"3000"`); numbers are accepted too.
pub(crate) mod str_u64 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let v = int_in_range(d, "non-negative int64", 0, i128::from(i64::MAX))?;
        u64::try_from(v).map_err(de::Error::custom)
    }
}

/// A signed int64 carried as a decimal string; numbers are accepted too.
pub(crate) mod str_i64 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let v = int_in_range(d, "int64", i128::from(i64::MIN), i128::from(i64::MAX))?;
        i64::try_from(v).map_err(de::Error::custom)
    }
}

/// A non-negative int32 printed as a JSON number (`round`, `total`); strings are accepted too.
pub(crate) mod num_u32 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(*v)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let v = int_in_range(d, "non-negative int32", 0, i128::from(i32::MAX))?;
        u32::try_from(v).map_err(de::Error::custom)
    }
}

/// Standard base64 (with padding), as Go's `encoding/json` prints `[]byte`.
pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("invalid base64 ({e})"))
}

/// Standard base64 with padding.
pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Hex in either case (CometBFT prints upper case).
pub(crate) fn hex_decode(text: &str) -> Result<Vec<u8>, String> {
    hex::decode(text).map_err(|e| format!("invalid hex ({e})"))
}

/// A list as Go's JSON encoder prints it, bounded by CometBFT's `MaxVotesCount`: `null` (a nil
/// slice) is the empty list; more than [`MAX_VOTES_COUNT`] elements are refused while reading,
/// before the rest is decoded (commit signatures, validators).
pub(crate) fn votes_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    d.deserialize_option(NullableList {
        max: MAX_VOTES_COUNT,
        marker: PhantomData,
    })
}

struct NullableList<T> {
    max: usize,
    marker: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for NullableList<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {} elements, or null", self.max)
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
        while let Some(item) = seq.next_element()? {
            if out.len() == self.max {
                return Err(de::Error::custom(format_args!(
                    "more than {} elements (CometBFT's MaxVotesCount)",
                    self.max
                )));
            }
            out.push(item);
        }
        Ok(out)
    }
}
