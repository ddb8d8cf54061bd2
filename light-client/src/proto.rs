//! A minimal protobuf (proto3) writer: just what the CometBFT hashes and sign-bytes need.
//!
//! Proto3 leaves zero scalars and empty bytes out; gogoproto's non-nullable embedded messages
//! are always written, even when empty. Callers choose per field, as the Go code does.

use crate::types::Time;

const WIRE_VARINT: u64 = 0;
const WIRE_FIXED64: u64 = 1;
const WIRE_LEN: u64 = 2;

/// A growable protobuf encoding buffer.
#[derive(Debug, Default, Clone)]
pub(crate) struct ProtoWriter {
    buf: Vec<u8>,
}

impl ProtoWriter {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn key(&mut self, field: u64, wire: u64) {
        self.varint((field << 3) | wire);
    }

    /// `uint64`/`uint32`/enum field, omitted when zero.
    pub(crate) fn uint(&mut self, field: u64, v: u64) {
        if v != 0 {
            self.key(field, WIRE_VARINT);
            self.varint(v);
        }
    }

    /// `int64`/`int32` field (two's complement varint), omitted when zero.
    pub(crate) fn int(&mut self, field: u64, v: i64) {
        if v != 0 {
            self.key(field, WIRE_VARINT);
            self.varint(v as u64);
        }
    }

    /// `sfixed64` field, omitted when zero.
    pub(crate) fn sfixed64(&mut self, field: u64, v: i64) {
        if v != 0 {
            self.key(field, WIRE_FIXED64);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// `bytes`/`string` field, omitted when empty.
    pub(crate) fn bytes(&mut self, field: u64, v: &[u8]) {
        if !v.is_empty() {
            self.message(field, v);
        }
    }

    /// An embedded message, always written (gogoproto `nullable = false`, or a set pointer).
    pub(crate) fn message(&mut self, field: u64, encoded: &[u8]) {
        self.key(field, WIRE_LEN);
        self.varint(encoded.len() as u64);
        self.buf.extend_from_slice(encoded);
    }
}

/// `google.protobuf.Timestamp` encoding of a time.
pub(crate) fn timestamp(t: Time) -> Vec<u8> {
    let mut w = ProtoWriter::with_capacity(16);
    w.int(1, t.unix_seconds());
    w.int(2, i64::from(t.subsec_nanos()));
    w.into_bytes()
}

/// A single-field wrapper message (`gogotypes.BytesValue`, `StringValue`, ...): field 1.
pub(crate) fn bytes_value(v: &[u8]) -> Vec<u8> {
    let mut w = ProtoWriter::with_capacity(v.len() + 2);
    w.bytes(1, v);
    w.into_bytes()
}

/// `gogotypes.Int64Value` encoding.
pub(crate) fn int64_value(v: i64) -> Vec<u8> {
    let mut w = ProtoWriter::with_capacity(11);
    w.int(1, v);
    w.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_zero_omission() {
        let mut w = ProtoWriter::default();
        w.uint(1, 0);
        w.uint(1, 300);
        w.int(2, -1);
        w.bytes(3, b"");
        w.message(4, b"");
        assert_eq!(
            w.into_bytes(),
            vec![
                0x08, 0xac, 0x02, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                0x22, 0x00
            ]
        );
    }
}
