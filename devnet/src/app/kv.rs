//! A minimal key-value application (`key=value` transactions, no proofs) for testing the network
//! layer without the registry.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};

use super::{AppError, Application, BlockOutcome, Query, QueryResponse, TxResult};
use crate::timestamp::Timestamp;

/// Keeps every state version in memory; the app hash is SHA-256 over the sorted,
/// length-prefixed pairs. Test use only.
#[derive(Debug, Clone)]
pub struct KvApp {
    versions: Vec<BTreeMap<Vec<u8>, Vec<u8>>>,
    pending: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Default for KvApp {
    fn default() -> Self {
        Self {
            versions: vec![BTreeMap::new()],
            pending: BTreeMap::new(),
        }
    }
}

fn parse(tx: &[u8]) -> Option<(&[u8], &[u8])> {
    let pos = tx.iter().position(|b| *b == b'=')?;
    let (k, v) = (&tx[..pos], &tx[pos + 1..]);
    (!k.is_empty()).then_some((k, v))
}

fn state_hash(state: &BTreeMap<Vec<u8>, Vec<u8>>) -> Vec<u8> {
    let mut h = Sha256::new();
    for (k, v) in state {
        h.update(u64::try_from(k.len()).unwrap_or(0).to_be_bytes());
        h.update(k);
        h.update(u64::try_from(v.len()).unwrap_or(0).to_be_bytes());
        h.update(v);
    }
    h.finalize().to_vec()
}

impl Application for KvApp {
    fn genesis_app_hash(&self) -> Vec<u8> {
        state_hash(&self.versions[0])
    }

    fn check_tx(&mut self, tx: &[u8]) -> TxResult {
        match parse(tx) {
            Some((k, v)) => {
                self.pending.insert(k.to_vec(), v.to_vec());
                TxResult::default()
            }
            None => TxResult {
                code: 1,
                log: "expected key=value".into(),
                ..TxResult::default()
            },
        }
    }

    fn finalize_block(
        &mut self,
        height: u64,
        _time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<BlockOutcome, AppError> {
        let expected = u64::try_from(self.versions.len()).unwrap_or(u64::MAX);
        if height != expected {
            return Err(AppError {
                height,
                reason: format!("expected height {expected}"),
            });
        }
        let mut state = self.versions.last().cloned().unwrap_or_default();
        let tx_results = txs
            .iter()
            .map(|tx| match parse(tx) {
                Some((k, v)) => {
                    state.insert(k.to_vec(), v.to_vec());
                    TxResult {
                        log: "stored".into(),
                        ..TxResult::default()
                    }
                }
                None => TxResult {
                    code: 1,
                    log: "expected key=value".into(),
                    ..TxResult::default()
                },
            })
            .collect();
        let app_hash = state_hash(&state);
        self.versions.push(state);
        self.pending.clear();
        Ok(BlockOutcome {
            tx_results,
            app_hash,
        })
    }

    fn query(&self, query: &Query) -> QueryResponse {
        let latest = self.versions.len().saturating_sub(1);
        let version = if query.height == 0 {
            latest
        } else {
            usize::try_from(query.height).unwrap_or(usize::MAX)
        };
        let Some(state) = self.versions.get(version) else {
            return QueryResponse {
                code: 1,
                log: format!("no state version {version}, latest is {latest}"),
                ..QueryResponse::default()
            };
        };
        let value = state.get(&query.data).cloned();
        QueryResponse {
            log: if value.is_some() {
                "exists"
            } else {
                "does not exist"
            }
            .into(),
            key: query.data.clone(),
            value: value.unwrap_or_default(),
            height: u64::try_from(version).unwrap_or(0),
            ..QueryResponse::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executes_and_answers_by_version() {
        let mut app = KvApp::default();
        assert_eq!(app.check_tx(b"bad").code, 1);
        let out = app
            .finalize_block(1, Timestamp::default(), &[b"a=1".to_vec(), b"x".to_vec()])
            .unwrap();
        assert_eq!(out.tx_results[0].code, 0);
        assert_eq!(out.tx_results[1].code, 1);
        app.finalize_block(2, Timestamp::default(), &[b"a=2".to_vec()])
            .unwrap();
        let q = |h| {
            app.query(&Query {
                path: String::new(),
                data: b"a".to_vec(),
                height: h,
                prove: false,
            })
        };
        assert_eq!(q(1).value, b"1");
        assert_eq!(q(0).value, b"2");
        assert_eq!(q(9).code, 1);
        assert!(app.finalize_block(5, Timestamp::default(), &[]).is_err());
    }
}
