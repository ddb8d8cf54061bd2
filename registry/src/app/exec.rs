//! One transaction's execution: its view of the state (the committed version, then the
//! block's earlier writes, then its own), the envelope's checks (chain id, signature,
//! sequence), the signer's role, and the dispatch of each message to its topic.

use std::collections::BTreeMap;

use jmt::KeyHash;
use sha2::Sha256;

use super::{Event, Registry};
use crate::codec::Canonical;
use crate::error::TxError;
use crate::keys;
use crate::log::{Log, LogHead};
use crate::state::{decode_u64, encode_u64, Governance, IssuerRecord};
use crate::tx::{Message, Tx, MAX_SEQUENCE_GAP};
use crate::types::{IssuerId, PublicKey};

/// Who a signer is.
pub(super) enum Role {
    Governance(Governance),
    Issuer(IssuerRecord),
    Unknown,
}

/// One transaction's execution: reads see the committed state, then the block's earlier
/// writes, then this transaction's own; writes are kept apart until it succeeds.
pub(super) struct Exec<'a> {
    pub(super) reg: &'a Registry,
    pub(super) block: &'a BTreeMap<Vec<u8>, Vec<u8>>,
    pub(super) writes: BTreeMap<Vec<u8>, Vec<u8>>,
    pub(super) events: Vec<Event>,
    pub(super) height: u64,
    pub(super) time: u64,
}

impl<'a> Exec<'a> {
    pub(super) fn new(
        reg: &'a Registry,
        block: &'a BTreeMap<Vec<u8>, Vec<u8>>,
        height: u64,
        time: u64,
    ) -> Self {
        Self {
            reg,
            block,
            writes: BTreeMap::new(),
            events: Vec::new(),
            height,
            time,
        }
    }

    pub(super) fn get(&self, key: &[u8]) -> Option<&[u8]> {
        if let Some(v) = self.writes.get(key) {
            return Some(v);
        }
        if let Some(v) = self.block.get(key) {
            return Some(v);
        }
        self.reg
            .store
            .value_at(self.reg.version, KeyHash::with::<Sha256>(key))
    }

    pub(super) fn read<T: Canonical>(&self, key: &[u8]) -> Result<Option<T>, TxError> {
        match self.get(key) {
            None => Ok(None),
            Some(b) => T::from_bytes(b).map(Some).map_err(|e| {
                TxError::Internal(format!(
                    "stored value at {:?}: {e}",
                    String::from_utf8_lossy(key)
                ))
            }),
        }
    }

    pub(super) fn counter(&self, key: &[u8]) -> Result<u64, TxError> {
        match self.get(key) {
            None => Ok(0),
            Some(b) => decode_u64(b).map_err(|e| TxError::Internal(format!("counter: {e}"))),
        }
    }

    pub(super) fn put<T: Canonical>(&mut self, key: Vec<u8>, value: &T) {
        self.writes.insert(key, value.to_bytes());
    }

    /// Appends to a list with a `len` counter (no head); returns the new entry's index.
    pub(super) fn append<T: Canonical>(
        &mut self,
        len_key: &[u8],
        entry_key: impl Fn(u64) -> Vec<u8>,
        entry: &T,
    ) -> Result<u64, TxError> {
        let n = self.counter(len_key)?;
        self.put(entry_key(n), entry);
        self.writes.insert(len_key.to_vec(), encode_u64(n + 1));
        Ok(n)
    }

    /// Appends to a log: the entry at `<log>/<n>`, the length `<log>/len` and the hash-chain
    /// head `<log>/head` updated together; returns the new entry's index. A log without a head
    /// (its entries written before heads existed, or only by the genesis) gets one computed
    /// over all its entries first.
    pub(super) fn append_log<T: Canonical>(&mut self, log: Log, entry: &T) -> Result<u64, TxError> {
        let n = self.counter(log.len_key())?;
        let previous = match self.read::<LogHead>(log.head_key())? {
            Some(head) => head,
            None => {
                let mut head = LogHead::EMPTY;
                for i in 0..n {
                    let bytes = self.get(&log.entry_key(i)).ok_or_else(|| {
                        TxError::Internal(format!("{} entry {i} of {n} is missing", log.name()))
                    })?;
                    head = log.extend(head, [bytes]);
                }
                head
            }
        };
        if previous.len != n {
            return Err(TxError::Internal(format!(
                "{} head covers {} entries, the log has {n}",
                log.name(),
                previous.len
            )));
        }
        let bytes = entry.to_bytes();
        let head = log.extend(previous, [bytes.as_slice()]);
        self.writes.insert(log.entry_key(n), bytes);
        self.writes
            .insert(log.len_key().to_vec(), encode_u64(n + 1));
        self.put(log.head_key().to_vec(), &head);
        Ok(n)
    }

    pub(super) fn event(&mut self, kind: &str, attributes: &[(&str, String)]) {
        self.events.push(Event::new(kind, attributes));
    }

    pub(super) fn apply(&mut self, bytes: &[u8]) -> Result<(), TxError> {
        let tx = Tx::decode(bytes)?;
        let body = &tx.body;
        if body.chain_id != self.reg.chain_id {
            return Err(TxError::WrongChainId {
                expected: self.reg.chain_id.clone(),
                got: body.chain_id.clone(),
            });
        }
        if !tx.verify_signature() {
            return Err(TxError::BadSignature);
        }
        let last = self.counter(&keys::account(&body.signer))?;
        if body.sequence <= last {
            return Err(TxError::BadSequence {
                last,
                got: body.sequence,
            });
        }
        if body.sequence - last > MAX_SEQUENCE_GAP {
            return Err(TxError::SequenceTooFar {
                last,
                got: body.sequence,
                max_gap: MAX_SEQUENCE_GAP,
            });
        }
        let signer = body.signer;
        let role = self.role(&signer)?;
        match &body.message {
            Message::Propose { action, expires_at } => {
                self.propose(signer, role, action, *expires_at)?
            }
            Message::Approve { proposal } => self.approve(signer, role, *proposal)?,
            Message::IssueCertificate(m) => self.issue(signer, role, m)?,
            Message::RevokeCertificate { cert, reason, note } => {
                self.revoke_by_issuer(signer, role, cert, *reason, note)?
            }
            Message::RecordInspection(m) => self.inspect(signer, role, m)?,
        }
        self.writes
            .insert(keys::account(&signer), encode_u64(body.sequence));
        Ok(())
    }

    pub(super) fn governance(&self) -> Result<Governance, TxError> {
        self.read(keys::GOVERNANCE)?
            .ok_or_else(|| TxError::Internal("governance missing".into()))
    }

    pub(super) fn issuer(&self, id: &IssuerId) -> Result<IssuerRecord, TxError> {
        self.read(&keys::issuer(id))?
            .ok_or_else(|| TxError::IssuerNotFound { id: id.clone() })
    }

    pub(super) fn role(&self, signer: &PublicKey) -> Result<Role, TxError> {
        let gov = self.governance()?;
        if gov.is_member(signer) {
            return Ok(Role::Governance(gov));
        }
        match self.get(&keys::issuer_key(signer)) {
            None => Ok(Role::Unknown),
            Some(id) => {
                let id = std::str::from_utf8(id)
                    .ok()
                    .and_then(|s| IssuerId::new(s).ok())
                    .ok_or_else(|| TxError::Internal("issuer key index".into()))?;
                Ok(Role::Issuer(self.issuer(&id)?))
            }
        }
    }
}
