//! The canonical binary encoding shared by transactions, certificates and state values.
//!
//! Every value has exactly one encoding: integers are fixed-width big-endian, booleans and
//! option tags are one byte that must be 0 or 1, strings are UTF-8 with a `u8` byte length
//! (so at most 255 bytes), lists carry a `u8` count. Decoding checks every length against the
//! bytes that remain before it allocates, so no input can make it allocate more than its own
//! size, and a value must consume its input exactly (no trailing bytes).
//!
//! Encoding never cuts: a string or byte field longer than 255 bytes makes the whole encoding
//! fail ([`Writer::finish`], [`Canonical::try_to_bytes`]). The types that take outside input
//! check every field's own limit before they sign or build anything (`validate` methods).

use thiserror::Error;

/// Why a byte string is not a canonical encoding of the expected value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended before the value did.
    #[error("truncated input: field `{field}` needs {needed} more bytes, {remaining} remain")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// Bytes were left after the value ended.
    #[error("{count} trailing bytes after the value")]
    TrailingBytes {
        /// How many bytes were left.
        count: usize,
    },
    /// A string field is not valid UTF-8.
    #[error("field `{field}` is not valid UTF-8")]
    InvalidUtf8 {
        /// The field being read.
        field: &'static str,
    },
    /// A length is over the field's limit.
    #[error("field `{field}` is {len} long, the limit is {max}")]
    TooLong {
        /// The field being read.
        field: &'static str,
        /// Its declared length.
        len: usize,
        /// The field's limit.
        max: usize,
    },
    /// A tag, flag or enum byte has a value that is not defined.
    #[error("field `{field}` has undefined value {value}")]
    InvalidTag {
        /// The field being read.
        field: &'static str,
        /// The value found.
        value: u64,
    },
    /// A field is syntactically valid but breaks a rule of its type.
    #[error("field `{field}` is invalid: {reason}")]
    InvalidField {
        /// The field being read.
        field: &'static str,
        /// What rule it breaks.
        reason: &'static str,
    },
}

/// The longest string or byte field the encoding can carry (its length is one byte).
pub const MAX_FIELD_LEN: usize = u8::MAX as usize;

/// Checks a text field against its limit: at most `max` bytes, and not empty when `required`.
pub fn check_text(
    field: &'static str,
    s: &str,
    max: usize,
    required: bool,
) -> Result<(), DecodeError> {
    if s.len() > max {
        return Err(DecodeError::TooLong {
            field,
            len: s.len(),
            max,
        });
    }
    if required && s.is_empty() {
        return Err(DecodeError::InvalidField {
            field,
            reason: "must not be empty",
        });
    }
    Ok(())
}

/// Appends canonical encodings to a byte buffer.
///
/// A string or byte field over [`MAX_FIELD_LEN`] bytes is not written, and the writer
/// remembers it: [`Writer::finish`] then fails, so no encoding is ever silently cut.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
    /// The length of the first field that was too long for the encoding.
    overflow: Option<usize>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written, or [`DecodeError::TooLong`] when a string or byte field was over
    /// [`MAX_FIELD_LEN`] bytes.
    pub fn finish(self) -> Result<Vec<u8>, DecodeError> {
        match self.overflow {
            None => Ok(self.buf),
            Some(len) => Err(DecodeError::TooLong {
                field: "string",
                len,
                max: MAX_FIELD_LEN,
            }),
        }
    }

    /// The bytes written.
    ///
    /// # Panics
    ///
    /// When a string or byte field was over [`MAX_FIELD_LEN`] bytes: encoding such a value is
    /// a bug of the caller, which must validate outside input first (or use
    /// [`Writer::finish`]). Nothing is ever cut.
    pub fn into_bytes(self) -> Vec<u8> {
        match self.finish() {
            Ok(bytes) => bytes,
            Err(e) => panic!("canonical encoding of an unvalidated value: {e}"),
        }
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Appends a big-endian `u16`.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends a big-endian `u32`.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends a big-endian `u64`.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends raw bytes with no length (fixed-size fields).
    pub fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(v);
        self
    }

    /// Appends a `u8` length then the bytes. A field over [`MAX_FIELD_LEN`] bytes is not
    /// written and makes [`Writer::finish`] fail (never cut).
    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        match u8::try_from(v.len()) {
            Ok(len) => {
                self.u8(len);
                self.buf.extend_from_slice(v);
            }
            Err(_) => {
                self.overflow.get_or_insert(v.len());
            }
        }
        self
    }

    /// Appends a list count (one byte). A count over 255 is not written and makes
    /// [`Writer::finish`] fail (never wrapped).
    pub fn count(&mut self, n: usize) -> &mut Self {
        match u8::try_from(n) {
            Ok(n) => {
                self.u8(n);
            }
            Err(_) => {
                self.overflow.get_or_insert(n);
            }
        }
        self
    }

    /// Appends a string as its UTF-8 bytes with a `u8` length.
    pub fn str(&mut self, v: &str) -> &mut Self {
        self.bytes(v.as_bytes())
    }

    /// Appends an option tag (0 or 1) and, when present, the value.
    pub fn opt<T>(&mut self, v: Option<&T>, f: impl FnOnce(&mut Self, &T)) -> &mut Self {
        match v {
            None => {
                self.u8(0);
            }
            Some(x) => {
                self.u8(1);
                f(self, x);
            }
        }
        self
    }
}

/// Reads canonical encodings from a byte slice, never reading past it.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.input.len()
    }

    /// Fails unless every byte has been read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                count: self.input.len(),
            })
        }
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, field: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.input.len() {
            return Err(DecodeError::Truncated {
                field,
                needed: n,
                remaining: self.input.len(),
            });
        }
        let (head, tail) = self.input.split_at(n);
        self.input = tail;
        Ok(head)
    }

    /// Takes a fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(field, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// Reads a big-endian `u16`.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `u32`.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// Reads a big-endian `u64`.
    pub fn u64(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// Reads a `u8`-length byte string of at most `max` bytes.
    pub fn bytes(&mut self, field: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        let len = usize::from(self.u8(field)?);
        if len > max {
            return Err(DecodeError::TooLong { field, len, max });
        }
        self.take(field, len)
    }

    /// Reads a `u8`-length UTF-8 string of at most `max` bytes.
    pub fn str(&mut self, field: &'static str, max: usize) -> Result<String, DecodeError> {
        let bytes = self.bytes(field, max)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8 { field })
    }

    /// Reads an option tag: `false` for 0, `true` for 1, an error otherwise.
    pub fn flag(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(DecodeError::InvalidTag {
                field,
                value: u64::from(v),
            }),
        }
    }

    /// Reads a list count of at most `max` items.
    pub fn count(&mut self, field: &'static str, max: usize) -> Result<usize, DecodeError> {
        let n = usize::from(self.u8(field)?);
        if n > max {
            return Err(DecodeError::TooLong { field, len: n, max });
        }
        Ok(n)
    }
}

/// A value with a canonical encoding.
pub trait Canonical: Sized {
    /// Appends the encoding to `w`.
    fn encode_to(&self, w: &mut Writer);
    /// Reads one value from `r`.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// The canonical encoding of a value that holds no field over [`MAX_FIELD_LEN`] bytes,
    /// as every decoded or validated value does.
    ///
    /// # Panics
    ///
    /// On a value with a longer field (a caller bug: validate outside input, or use
    /// [`Canonical::try_to_bytes`]).
    fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode_to(&mut w);
        w.into_bytes()
    }

    /// The canonical encoding, or [`DecodeError::TooLong`] when a string or byte field is over
    /// [`MAX_FIELD_LEN`] bytes (nothing is ever cut).
    fn try_to_bytes(&self) -> Result<Vec<u8>, DecodeError> {
        let mut w = Writer::new();
        self.encode_to(&mut w);
        w.finish()
    }

    /// Decodes a value that must use all of `bytes`.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_primitives() {
        let mut w = Writer::new();
        w.u8(7)
            .u16(300)
            .u32(70_000)
            .u64(u64::MAX)
            .str("héllo")
            .raw(&[1, 2]);
        w.opt(Some(&5u8), |w, v| {
            w.u8(*v);
        });
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.u8("a").unwrap(), 7);
        assert_eq!(r.u16("b").unwrap(), 300);
        assert_eq!(r.u32("c").unwrap(), 70_000);
        assert_eq!(r.u64("d").unwrap(), u64::MAX);
        assert_eq!(r.str("e", 10).unwrap(), "héllo");
        assert_eq!(r.take("f", 2).unwrap(), &[1, 2]);
        assert!(r.flag("g").unwrap());
        assert_eq!(r.u8("h").unwrap(), 5);
        r.finish().unwrap();
    }

    #[test]
    fn rejects_bad_input_precisely() {
        let mut r = Reader::new(&[5, b'a']);
        assert_eq!(
            r.str("name", 10),
            Err(DecodeError::Truncated {
                field: "name",
                needed: 5,
                remaining: 1
            })
        );
        let mut r = Reader::new(&[11]);
        assert_eq!(
            r.str("name", 10),
            Err(DecodeError::TooLong {
                field: "name",
                len: 11,
                max: 10
            })
        );
        let mut r = Reader::new(&[2]);
        assert_eq!(
            r.flag("opt"),
            Err(DecodeError::InvalidTag {
                field: "opt",
                value: 2
            })
        );
        let mut r = Reader::new(&[2, 0xff, 0xfe]);
        assert_eq!(r.str("s", 10), Err(DecodeError::InvalidUtf8 { field: "s" }));
        let r = Reader::new(&[1]);
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes { count: 1 }));
    }

    #[test]
    fn long_strings_are_refused_never_cut() {
        // 254 ASCII bytes then a 2-byte character: a cut at 255 would split it.
        let s = format!("{}é", "a".repeat(254));
        assert_eq!(s.len(), 256);
        let mut w = Writer::new();
        w.u8(1).str(&s).u8(2);
        assert_eq!(
            w.finish(),
            Err(DecodeError::TooLong {
                field: "string",
                len: 256,
                max: MAX_FIELD_LEN
            })
        );
        let exact = "b".repeat(255);
        let mut w = Writer::new();
        w.str(&exact);
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len(), 256);
        assert_eq!(Reader::new(&bytes).str("s", 255).unwrap(), exact);
        let mut w = Writer::new();
        w.count(256);
        assert!(w.finish().is_err(), "a list count is never wrapped");
        let caught = std::panic::catch_unwind(|| {
            let mut w = Writer::new();
            w.str(&s);
            w.into_bytes()
        });
        assert!(caught.is_err(), "into_bytes must not return a cut encoding");
    }
}
