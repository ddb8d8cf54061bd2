//! The registry's two append-only logs (the issuer log and the revocation log) as a client
//! reads them in bulk: the running hash-chain head the chain keeps for each log, its
//! recomputation, and the canonical encoding of a page of entries answered without proofs.
//!
//! A client proves the head (one ICS-23 proof), fetches the entries it lacks page by page with
//! no proof, recomputes the head from the one it held over the fetched entries, and accepts
//! them only if the result equals the proven head: a node that changes, drops, adds or
//! reorders an entry cannot make the recomputation match (SHA-256 collision resistance).
//! Specified in `docs/protocol.md` §4 and §6.

use sha2::{Digest, Sha256};

use crate::codec::{Canonical, DecodeError, Reader, Writer};
use crate::keys;

/// The hash-chain head of an empty log.
pub const EMPTY_HEAD: [u8; 32] = [0; 32];
/// At most this many entries in one page.
pub const MAX_PAGE_ENTRIES: u32 = 1000;
/// At most this many bytes of entries (their length prefixes included) in one page; a page
/// holds at least one entry, whatever its size.
pub const MAX_PAGE_BYTES: usize = 256 * 1024;
/// The largest entry a page decoder accepts (an entry is a few dozen bytes).
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;

/// One of the registry's logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Log {
    /// `issuer_log/<n>`: [`crate::state::IssuerLogEntry`].
    Issuer,
    /// `revocation_log/<n>`: [`crate::state::RevocationEntry`].
    Revocation,
}

impl Log {
    /// Both logs.
    pub const ALL: [Log; 2] = [Log::Issuer, Log::Revocation];

    /// Its name in keys, paths and messages.
    pub fn name(self) -> &'static str {
        match self {
            Log::Issuer => "issuer_log",
            Log::Revocation => "revocation_log",
        }
    }

    /// The key of its length (`u64`).
    pub fn len_key(self) -> &'static [u8] {
        match self {
            Log::Issuer => keys::ISSUER_LOG_LEN,
            Log::Revocation => keys::REVOCATION_LOG_LEN,
        }
    }

    /// The key of its head ([`LogHead`]).
    pub fn head_key(self) -> &'static [u8] {
        match self {
            Log::Issuer => keys::ISSUER_LOG_HEAD,
            Log::Revocation => keys::REVOCATION_LOG_HEAD,
        }
    }

    /// The key of entry `n`.
    pub fn entry_key(self, n: u64) -> Vec<u8> {
        match self {
            Log::Issuer => keys::issuer_log(n),
            Log::Revocation => keys::revocation_log(n),
        }
    }

    /// The `abci_query` path of its pages.
    pub fn page_path(self) -> &'static str {
        match self {
            Log::Issuer => PAGE_PATH_ISSUER,
            Log::Revocation => PAGE_PATH_REVOCATION,
        }
    }

    /// The log a page path names.
    pub fn from_page_path(path: &str) -> Option<Log> {
        match path {
            PAGE_PATH_ISSUER => Some(Log::Issuer),
            PAGE_PATH_REVOCATION => Some(Log::Revocation),
            _ => None,
        }
    }

    /// The domain that starts every hash of its chain (distinct per log, so that a head of
    /// one log is never a head of the other).
    pub fn domain(self) -> &'static [u8] {
        match self {
            Log::Issuer => b"tradeseal-registry/issuer-log-head/v1\0",
            Log::Revocation => b"tradeseal-registry/revocation-log-head/v1\0",
        }
    }

    /// The head after appending entry `n` (its canonical bytes `entry`) to a log whose head
    /// was `previous`: `SHA-256(domain || previous || n as u64 BE || entry)`.
    pub fn step(self, previous: &[u8; 32], n: u64, entry: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.domain());
        h.update(previous);
        h.update(n.to_be_bytes());
        h.update(entry);
        h.finalize().into()
    }

    /// The head after appending `entries`, in order, to a log whose head is `from`.
    pub fn extend<'a>(self, from: LogHead, entries: impl IntoIterator<Item = &'a [u8]>) -> LogHead {
        let mut head = from;
        for entry in entries {
            head.head = self.step(&head.head, head.len, entry);
            head.len += 1;
        }
        head
    }
}

/// The `abci_query` path of issuer-log pages.
pub const PAGE_PATH_ISSUER: &str = "/log/issuer";
/// The `abci_query` path of revocation-log pages.
pub const PAGE_PATH_REVOCATION: &str = "/log/revocation";

/// A log's length and hash-chain head, stored at `<log>/head` (its length equals
/// `<log>/len`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogHead {
    /// Entries in the log.
    pub len: u64,
    /// The chain's head after those entries ([`EMPTY_HEAD`] for none).
    pub head: [u8; 32],
}

impl LogHead {
    /// The head of an empty log.
    pub const EMPTY: LogHead = LogHead {
        len: 0,
        head: EMPTY_HEAD,
    };
}

impl Canonical for LogHead {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.len).raw(&self.head);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            len: r.u64("log_head.len")?,
            head: r.array("log_head.head")?,
        })
    }
}

/// What a page query asks (its `abci_query` data): entries `from ..` , at most `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The first entry's index.
    pub from: u64,
    /// How many entries, 1 to [`MAX_PAGE_ENTRIES`].
    pub count: u32,
}

impl Canonical for PageRequest {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.from).u32(self.count);
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            from: r.u64("page.from")?,
            count: r.u32("page.count")?,
        })
    }
}

/// A page of log entries (the answer's value): entries `from .. from + entries.len()`, each
/// its canonical bytes as stored. Not proven: the client checks it against a proven head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The first entry's index.
    pub from: u64,
    /// The entries, in log order.
    pub entries: Vec<Vec<u8>>,
}

impl Canonical for Page {
    fn encode_to(&self, w: &mut Writer) {
        w.u64(self.from).u32(self.entries.len() as u32);
        for e in &self.entries {
            w.u32(e.len() as u32).raw(e);
        }
    }
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let from = r.u64("page.from")?;
        let count = r.u32("page.count")?;
        if count > MAX_PAGE_ENTRIES {
            return Err(DecodeError::TooLong {
                field: "page.count",
                len: count as usize,
                max: MAX_PAGE_ENTRIES as usize,
            });
        }
        let mut entries = Vec::with_capacity((count as usize).min(r.remaining() / 4));
        for _ in 0..count {
            let len = r.u32("page.entry_len")? as usize;
            if len > MAX_ENTRY_BYTES {
                return Err(DecodeError::TooLong {
                    field: "page.entry",
                    len,
                    max: MAX_ENTRY_BYTES,
                });
            }
            entries.push(r.take("page.entry", len)?.to_vec());
        }
        Ok(Self { from, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        // SHA-256("tradeseal-registry/revocation-log-head/v1\0" || 32 zero bytes ||
        // 00 00 00 00 00 00 00 00 || "abc"), computed independently with `sha256sum`.
        let one = Log::Revocation.step(&EMPTY_HEAD, 0, b"abc");
        assert_eq!(
            hex::encode(one),
            "969ab3a4d4cd0a663067145155474a961368e632f0b623b6d159804df118f027"
        );
        let two = Log::Issuer.step(&EMPTY_HEAD, 0, b"abc");
        assert_eq!(
            hex::encode(two),
            "2b378c0cf1233aa854c6781c3386a94c524143595198f430d47a63dc99d125a4"
        );
        let head = Log::Revocation.extend(LogHead::EMPTY, [&b"abc"[..], b"de"]);
        assert_eq!(head.len, 2);
        assert_eq!(head.head, Log::Revocation.step(&one, 1, b"de"));
    }

    #[test]
    fn order_and_content_change_the_head() {
        let log = Log::Revocation;
        let a: &[u8] = b"first";
        let b: &[u8] = b"second";
        let base = log.extend(LogHead::EMPTY, [a, b]);
        assert_ne!(base, log.extend(LogHead::EMPTY, [b, a]));
        assert_ne!(base, log.extend(LogHead::EMPTY, [a]));
        assert_ne!(base, log.extend(LogHead::EMPTY, [a, b, b]));
        assert_ne!(base, log.extend(LogHead::EMPTY, [a, b"secone"]));
        // Extending in two steps is extending once.
        let half = log.extend(LogHead::EMPTY, [a]);
        assert_eq!(base, log.extend(half, [b]));
    }

    #[test]
    fn encodings_round_trip_and_refuse_garbage() {
        let head = LogHead {
            len: 7,
            head: [9; 32],
        };
        assert_eq!(LogHead::from_bytes(&head.to_bytes()).unwrap(), head);
        assert_eq!(head.to_bytes().len(), 40);
        let req = PageRequest { from: 5, count: 3 };
        assert_eq!(
            req.to_bytes(),
            [0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 3].to_vec()
        );
        assert_eq!(PageRequest::from_bytes(&req.to_bytes()).unwrap(), req);
        let page = Page {
            from: 10,
            entries: vec![b"x".to_vec(), Vec::new(), b"yz".to_vec()],
        };
        let bytes = page.to_bytes();
        assert_eq!(Page::from_bytes(&bytes).unwrap(), page);
        assert!(Page::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        let mut extra = bytes;
        extra.push(0);
        assert!(Page::from_bytes(&extra).is_err());
        // A count over the bound is refused before anything is read.
        let mut huge = Writer::new();
        huge.u64(0).u32(MAX_PAGE_ENTRIES + 1);
        assert!(Page::from_bytes(&huge.into_bytes()).is_err());
        assert_eq!(
            Log::from_page_path("/log/revocation"),
            Some(Log::Revocation)
        );
        assert_eq!(Log::from_page_path("/log/issuer"), Some(Log::Issuer));
        assert_eq!(Log::from_page_path("/log/other"), None);
    }
}
