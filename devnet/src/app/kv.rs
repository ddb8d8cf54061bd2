//! A minimal key-value application (`key=value` transactions, no proofs) for testing the network
//! layer without the registry.

use std::collections::BTreeMap;

use sha2::{Digest as _, Sha256};
use tradeseal_node::tendermint::{block, AppHash};

use super::{request, response, AppError, AppGenesis, Application, Code, ExecTxResult};

/// Keeps every state version in memory; the app hash is SHA-256 over the sorted,
/// length-prefixed pairs. Test use only.
#[derive(Debug, Clone)]
pub struct KvApp {
    versions: Vec<BTreeMap<Vec<u8>, Vec<u8>>>,
    /// The state finalized and not yet committed.
    finalized: Option<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl Default for KvApp {
    fn default() -> Self {
        Self {
            versions: vec![BTreeMap::new()],
            finalized: None,
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

fn app_hash(bytes: Vec<u8>) -> AppHash {
    AppHash::try_from(bytes).unwrap_or_default()
}

fn height(h: u64) -> block::Height {
    block::Height::try_from(h).unwrap_or_default()
}

const MALFORMED: &str = "expected key=value";

impl KvApp {
    fn latest(&self) -> u64 {
        u64::try_from(self.versions.len().saturating_sub(1)).unwrap_or(u64::MAX)
    }
}

impl Application for KvApp {
    fn genesis(&self) -> AppGenesis {
        AppGenesis {
            time_secs: crate::registry_app::GENESIS_TIME as i64,
            app_state: None,
        }
    }

    fn info(&self, _req: &request::Info) -> response::Info {
        let latest = self.latest();
        response::Info {
            data: "kv".into(),
            last_block_height: height(latest),
            last_block_app_hash: if latest == 0 {
                AppHash::default()
            } else {
                app_hash(state_hash(&self.versions[self.versions.len() - 1]))
            },
            ..Default::default()
        }
    }

    fn init_chain(&mut self, _req: request::InitChain) -> Result<response::InitChain, AppError> {
        *self = Self::default();
        Ok(response::InitChain {
            consensus_params: None,
            validators: Vec::new(),
            app_hash: app_hash(state_hash(&self.versions[0])),
        })
    }

    fn check_tx(&mut self, req: request::CheckTx) -> response::CheckTx {
        match parse(&req.tx) {
            Some(_) => response::CheckTx::default(),
            None => response::CheckTx {
                code: Code::from(1),
                log: MALFORMED.into(),
                ..Default::default()
            },
        }
    }

    fn prepare_proposal(
        &mut self,
        req: request::PrepareProposal,
    ) -> Result<response::PrepareProposal, AppError> {
        Ok(response::PrepareProposal { txs: req.txs })
    }

    fn process_proposal(&mut self, _req: request::ProcessProposal) -> response::ProcessProposal {
        response::ProcessProposal::Accept
    }

    fn finalize_block(
        &mut self,
        req: request::FinalizeBlock,
    ) -> Result<response::FinalizeBlock, AppError> {
        let h = req.height.value();
        let expected = self.latest() + 1;
        if h != expected || self.finalized.is_some() {
            return Err(AppError {
                height: h,
                reason: format!("expected FinalizeBlock of height {expected}"),
            });
        }
        let mut state = self.versions.last().cloned().unwrap_or_default();
        let tx_results = req
            .txs
            .iter()
            .map(|tx| match parse(tx) {
                Some((k, v)) => {
                    state.insert(k.to_vec(), v.to_vec());
                    ExecTxResult {
                        log: "stored".into(),
                        ..Default::default()
                    }
                }
                None => ExecTxResult {
                    code: Code::from(1),
                    log: MALFORMED.into(),
                    ..Default::default()
                },
            })
            .collect();
        let hash = app_hash(state_hash(&state));
        self.finalized = Some(state);
        Ok(response::FinalizeBlock {
            events: Vec::new(),
            tx_results,
            validator_updates: Vec::new(),
            consensus_param_updates: None,
            app_hash: hash,
        })
    }

    fn commit(&mut self, h: u64) -> Result<response::Commit, AppError> {
        let state = self.finalized.take().ok_or_else(|| AppError {
            height: h,
            reason: "Commit without FinalizeBlock".into(),
        })?;
        self.versions.push(state);
        Ok(response::Commit::default())
    }

    fn query(&self, req: &request::Query) -> response::Query {
        let latest = self.latest();
        let version = match req.height.value() {
            0 => latest,
            v => v,
        };
        let Some(state) = usize::try_from(version)
            .ok()
            .and_then(|v| self.versions.get(v))
        else {
            return response::Query {
                code: Code::from(1),
                log: format!("no state version {version}, latest is {latest}"),
                ..Default::default()
            };
        };
        let value = state.get(&req.data[..]).cloned();
        response::Query {
            log: if value.is_some() {
                "exists"
            } else {
                "does not exist"
            }
            .into(),
            key: req.data.clone(),
            value: value.unwrap_or_default().into(),
            height: height(version),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeseal_node::tendermint::Time;

    fn finalize(
        app: &mut KvApp,
        h: u64,
        txs: &[&[u8]],
    ) -> Result<response::FinalizeBlock, AppError> {
        app.finalize_block(request::FinalizeBlock {
            txs: txs.iter().map(|t| t.to_vec().into()).collect(),
            decided_last_commit: tradeseal_node::tendermint::abci::types::CommitInfo {
                round: block::Round::default(),
                votes: Vec::new(),
            },
            misbehavior: Vec::new(),
            hash: tradeseal_node::tendermint::Hash::None,
            height: height(h),
            time: Time::unix_epoch(),
            next_validators_hash: tradeseal_node::tendermint::Hash::None,
            proposer_address: tradeseal_node::tendermint::account::Id::new([0; 20]),
        })
    }

    #[test]
    fn executes_and_answers_by_version() {
        let mut app = KvApp::default();
        let check = app.check_tx(request::CheckTx {
            tx: b"bad".to_vec().into(),
            kind: request::CheckTxKind::New,
        });
        assert_eq!(check.code.value(), 1);
        let out = finalize(&mut app, 1, &[b"a=1", b"x"]).unwrap();
        assert_eq!(out.tx_results[0].code.value(), 0);
        assert_eq!(out.tx_results[1].code.value(), 1);
        app.commit(1).unwrap();
        finalize(&mut app, 2, &[b"a=2"]).unwrap();
        app.commit(2).unwrap();
        let q = |h: u64| {
            app.query(&request::Query {
                path: String::new(),
                data: b"a".to_vec().into(),
                height: height(h),
                prove: false,
            })
        };
        assert_eq!(&q(1).value[..], b"1");
        assert_eq!(&q(0).value[..], b"2");
        assert_eq!(q(9).code.value(), 1);
        assert!(finalize(&mut app, 5, &[]).is_err());
        assert!(app.commit(3).is_err(), "nothing finalized");
    }
}
