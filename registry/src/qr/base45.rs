//! Base45 (RFC 9285): bytes as text in the QR alphanumeric character set.

use thiserror::Error;

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a text is not valid base45.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Base45Error {
    /// A character outside the base45 alphabet.
    #[error("character {byte:#04x} at position {position} is not in the base45 alphabet")]
    InvalidCharacter {
        /// Offset in the base45 text.
        position: usize,
        /// The byte found.
        byte: u8,
    },
    /// The text length leaves a single trailing character (length ≡ 1 mod 3).
    #[error("base45 text length {len} is invalid")]
    InvalidLength {
        /// The text length.
        len: usize,
    },
    /// A group encodes a value too large for its byte count.
    #[error("base45 group at position {position} is out of range")]
    OutOfRange {
        /// Offset of the group.
        position: usize,
    },
}

/// The length of the base45 text of `n` bytes.
pub const fn encoded_len(n: usize) -> usize {
    n / 2 * 3 + n % 2 * 2
}

/// Encodes bytes as base45 text (3 characters per 2 bytes, 2 for a final odd byte).
pub fn encode(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(2) * 3);
    let push = |out: &mut String, v: usize| out.push(char::from(ALPHABET[v % 45]));
    for chunk in input.chunks(2) {
        if let [a, b] = chunk {
            let n = usize::from(*a) * 256 + usize::from(*b);
            push(&mut out, n);
            push(&mut out, n / 45);
            push(&mut out, n / 2025);
        } else {
            let n = usize::from(chunk[0]);
            push(&mut out, n);
            push(&mut out, n / 45);
        }
    }
    out
}

fn value(position: usize, byte: u8) -> Result<u32, Base45Error> {
    ALPHABET
        .iter()
        .position(|&c| c == byte)
        .map(|v| v as u32)
        .ok_or(Base45Error::InvalidCharacter { position, byte })
}

/// Decodes base45 text; strict (rejects out-of-range groups and bad lengths).
pub fn decode(input: &[u8]) -> Result<Vec<u8>, Base45Error> {
    if input.len() % 3 == 1 {
        return Err(Base45Error::InvalidLength { len: input.len() });
    }
    let mut out = Vec::with_capacity(input.len() / 3 * 2 + 1);
    for (i, group) in input.chunks(3).enumerate() {
        let pos = i * 3;
        let mut n = 0u32;
        let mut scale = 1u32;
        for (j, &c) in group.iter().enumerate() {
            n += value(pos + j, c)? * scale;
            scale *= 45;
        }
        if group.len() == 3 {
            let v = u16::try_from(n).map_err(|_| Base45Error::OutOfRange { position: pos })?;
            out.extend_from_slice(&v.to_be_bytes());
        } else {
            let v = u8::try_from(n).map_err(|_| Base45Error::OutOfRange { position: pos })?;
            out.push(v);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode(b"QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(decode(b"GGW"), Err(Base45Error::OutOfRange { position: 0 }));
        assert_eq!(decode(b"ZZ"), Err(Base45Error::OutOfRange { position: 0 }));
        assert_eq!(decode(b"A"), Err(Base45Error::InvalidLength { len: 1 }));
        assert_eq!(
            decode(b"ab1"),
            Err(Base45Error::InvalidCharacter {
                position: 0,
                byte: b'a'
            })
        );
    }

    #[test]
    fn round_trips_all_lengths() {
        let data: Vec<u8> = (0..=255u8).collect();
        for n in 0..data.len() {
            assert_eq!(encode(&data[..n]).len(), encoded_len(n));
            assert_eq!(decode(encode(&data[..n]).as_bytes()).unwrap(), &data[..n]);
        }
        assert_eq!(
            decode(encode(&[0xff, 0xff]).as_bytes()).unwrap(),
            [0xff, 0xff]
        );
    }
}
