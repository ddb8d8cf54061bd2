//! How a full node behaves: honestly, or one of the attacks the wallet must withstand — a
//! forked chain signed by the real validators (lunatic by CometBFT's rule, as its app hashes
//! differ), headers signed by a made-up validator set (lunatic), lies in `abci_query`, a stale
//! chain, timeouts, garbage.

use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use light_client::types::ValidatorSet;

use crate::app::response;
use crate::chain::{Chain, KeyId};
use crate::seal::{seal, BlockRecord, Draft};

/// A full node's behaviour. Serialised as `{"mode": "fork", "from_height": 5}` and so on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Behaviour {
    /// Serves the canonical chain.
    #[default]
    Honest,
    /// From `from_height` on, serves a conflicting chain (other app hashes, hence other block
    /// ids) validly signed by the real validators: a light-client attack (lunatic, by
    /// CometBFT's classification, because the app hash differs).
    Fork {
        /// First conflicting height (0: the next block when set).
        #[serde(default)]
        from_height: u64,
    },
    /// From `from_height` on, serves headers signed by a made-up validator set that also
    /// appears in `validators` (a lunatic attack).
    Lunatic {
        /// First forged height (0: the next block when set).
        #[serde(default)]
        from_height: u64,
    },
    /// Answers `abci_query` with altered values (the proofs are the honest ones).
    LieValue,
    /// Answers `abci_query` with honest values and corrupted proofs.
    LieProof,
    /// Pretends the chain stopped at `height` (withholds newer headers).
    Stale {
        /// Last height served (0: the latest height when set).
        #[serde(default)]
        height: u64,
    },
    /// Accepts requests and never answers.
    Timeout,
    /// Answers every request with bytes that are not a JSON-RPC response.
    Garbage,
}

/// A behaviour that cannot be parsed from the command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown node mode {0:?}: expected honest, fork[:H], lunatic[:H], lie-value, lie-proof, stale[:H], timeout or garbage")]
pub struct ParseBehaviourError(String);

impl FromStr for Behaviour {
    type Err = ParseBehaviourError;

    /// `honest`, `fork:5`, `lunatic`, `lie-value`, `lie-proof`, `stale:10`, `timeout`, `garbage`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, arg) = s.split_once(':').unwrap_or((s, ""));
        let height = || -> Result<u64, ParseBehaviourError> {
            if arg.is_empty() {
                Ok(0)
            } else {
                arg.parse().map_err(|_| ParseBehaviourError(s.to_string()))
            }
        };
        let b = match name {
            "honest" => Self::Honest,
            "fork" => Self::Fork {
                from_height: height()?,
            },
            "lunatic" => Self::Lunatic {
                from_height: height()?,
            },
            "lie-value" => Self::LieValue,
            "lie-proof" => Self::LieProof,
            "stale" => Self::Stale { height: height()? },
            "timeout" => Self::Timeout,
            "garbage" => Self::Garbage,
            _ => return Err(ParseBehaviourError(s.to_string())),
        };
        if !arg.is_empty()
            && !matches!(
                b,
                Self::Fork { .. } | Self::Lunatic { .. } | Self::Stale { .. }
            )
        {
            return Err(ParseBehaviourError(s.to_string()));
        }
        Ok(b)
    }
}

impl Behaviour {
    /// Fills a 0 height with the chain's state now: the next block for forks, the latest
    /// block for a stale node.
    pub fn resolve(self, latest_height: u64) -> Self {
        match self {
            Self::Fork { from_height: 0 } => Self::Fork {
                from_height: latest_height + 1,
            },
            Self::Lunatic { from_height: 0 } => Self::Lunatic {
                from_height: latest_height + 1,
            },
            Self::Stale { height: 0 } => Self::Stale {
                height: latest_height.max(1),
            },
            other => other,
        }
    }
}

/// A node's view of the chain: the canonical blocks, filtered or replaced by its behaviour.
#[derive(Debug, Default)]
pub struct ChainView {
    behaviour: Behaviour,
    /// Forged blocks from the fork height on (fork and lunatic modes), built on demand.
    forged: Vec<Arc<BlockRecord>>,
}

impl ChainView {
    /// A view with `behaviour` (resolved).
    pub fn new(behaviour: Behaviour) -> Self {
        Self {
            behaviour,
            forged: Vec::new(),
        }
    }

    /// The behaviour.
    pub fn behaviour(&self) -> &Behaviour {
        &self.behaviour
    }

    fn fork_start(&self) -> Option<(u64, bool)> {
        match self.behaviour {
            Behaviour::Fork { from_height } => Some((from_height.max(1), false)),
            Behaviour::Lunatic { from_height } => Some((from_height.max(1), true)),
            _ => None,
        }
    }

    /// The latest height this node admits to.
    pub fn latest_height(&self, chain: &Chain) -> u64 {
        let latest = chain.latest_height();
        match self.behaviour {
            Behaviour::Stale { height } => height.min(latest),
            _ => latest,
        }
    }

    /// The block this node serves at `height`.
    pub fn block(&mut self, chain: &Chain, height: u64) -> Option<Arc<BlockRecord>> {
        if height == 0 || height > self.latest_height(chain) {
            return None;
        }
        match self.fork_start() {
            Some((from, lunatic)) if height >= from => {
                self.forged_block(chain, from, lunatic, height)
            }
            _ => chain.blocks().get(height).cloned(),
        }
    }

    /// The validator set this node serves at `height` (up to latest + 1).
    pub fn validators(&mut self, chain: &Chain, height: u64) -> Option<Arc<ValidatorSet>> {
        let latest = self.latest_height(chain);
        if height == 0 || height > latest + 1 {
            return None;
        }
        if height == latest + 1 {
            return self.block(chain, latest).map(|b| b.next_validators.clone());
        }
        self.block(chain, height).map(|b| b.validators.clone())
    }

    fn forged_block(
        &mut self,
        chain: &Chain,
        from: u64,
        lunatic: bool,
        height: u64,
    ) -> Option<Arc<BlockRecord>> {
        let index = usize::try_from(height - from).ok()?;
        while self.forged.len() <= index {
            let h = from + u64::try_from(self.forged.len()).ok()?;
            let (canon, prev_canon) = {
                let blocks = chain.blocks();
                (blocks.get(h)?.clone(), blocks.get(h - 1).cloned())
            };
            let last = match self.forged.last() {
                Some(prev) => Some((prev.block_id, prev.commit.clone())),
                None => prev_canon.as_ref().map(|p| (p.block_id, p.commit.clone())),
            };
            let (validators, next_validators) = if lunatic {
                (
                    made_up_set(chain, &canon.validators),
                    made_up_set(chain, &canon.next_validators),
                )
            } else {
                (canon.validators.clone(), canon.next_validators.clone())
            };
            let draft = Draft {
                chain_id: canon.header.chain_id.clone(),
                app_version: canon.header.version.app,
                height: h,
                time: canon.header.time,
                last,
                txs: canon.txs.clone(),
                validators,
                next_validators,
                app_hash: forged_app_hash(&canon.header.app_hash.0),
                last_results: prev_canon.map(|p| p.tx_results.clone()).unwrap_or_default(),
            };
            let (header, block_id, commit) = seal(&draft, &|v| chain.keys().key_for(v));
            self.forged.push(Arc::new(BlockRecord {
                header,
                block_id,
                commit,
                validators: draft.validators,
                next_validators: draft.next_validators,
                txs: draft.txs,
                tx_results: canon.tx_results.clone(),
                validator_updates: canon.validator_updates.clone(),
                app_hash_after: forged_app_hash(&canon.app_hash_after),
            }));
        }
        self.forged.get(index).cloned()
    }

    /// Alters a query answer according to the behaviour (lying modes only).
    pub fn doctor_query(&self, mut response: response::Query) -> response::Query {
        match self.behaviour {
            Behaviour::LieValue => {
                let mut value = response.value.to_vec();
                if value.is_empty() {
                    value = b"forged".to_vec();
                    response.code = crate::app::Code::Ok;
                } else if let Some(last) = value.last_mut() {
                    *last ^= 0x01;
                }
                response.value = value.into();
            }
            Behaviour::LieProof => {
                if let Some(proof) = response.proof.as_mut() {
                    for op in &mut proof.ops {
                        let mid = op.data.len() / 2;
                        if let Some(b) = op.data.get_mut(mid) {
                            *b ^= 0xff;
                        }
                    }
                }
            }
            _ => {}
        }
        response
    }
}

/// A different app hash of the same length: what a forked state would commit to.
fn forged_app_hash(real: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(b"tradeseal-devnet/forged-state");
    h.update(real);
    let digest = h.finalize();
    let len = if real.is_empty() {
        32
    } else {
        real.len().min(32)
    };
    digest[..len].to_vec()
}

/// A made-up validator set the size and powers of `real`, with keys no one else has.
fn made_up_set(chain: &Chain, real: &ValidatorSet) -> Arc<ValidatorSet> {
    let validators = real
        .validators()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let id = KeyId {
                lunatic: true,
                index: u32::try_from(i).unwrap_or(u32::MAX),
            };
            chain.keys().validator(id, v.voting_power)
        })
        .collect();
    // As many distinct keys as the real set, with its powers: a set the real one could be.
    Arc::new(ValidatorSet::new(validators, None).unwrap_or_else(|_| real.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeseal_node::tendermint::merkle::proof::{ProofOp, ProofOps};

    #[test]
    fn parses_command_line_modes() {
        assert_eq!("honest".parse::<Behaviour>().unwrap(), Behaviour::Honest);
        assert_eq!(
            "fork:5".parse::<Behaviour>().unwrap(),
            Behaviour::Fork { from_height: 5 }
        );
        assert_eq!(
            "lunatic".parse::<Behaviour>().unwrap(),
            Behaviour::Lunatic { from_height: 0 }
        );
        assert_eq!(
            "stale:3".parse::<Behaviour>().unwrap(),
            Behaviour::Stale { height: 3 }
        );
        assert!("timeout:3".parse::<Behaviour>().is_err());
        assert!("fork:x".parse::<Behaviour>().is_err());
        assert!("evil".parse::<Behaviour>().is_err());
        assert_eq!(
            Behaviour::Fork { from_height: 0 }.resolve(7),
            Behaviour::Fork { from_height: 8 }
        );
        assert_eq!(
            Behaviour::Stale { height: 0 }.resolve(7),
            Behaviour::Stale { height: 7 }
        );
    }

    #[test]
    fn json_form_is_tagged() {
        let b: Behaviour = serde_json::from_str(r#"{"mode":"fork","from_height":4}"#).unwrap();
        assert_eq!(b, Behaviour::Fork { from_height: 4 });
        let b: Behaviour = serde_json::from_str(r#"{"mode":"lie-proof"}"#).unwrap();
        assert_eq!(b, Behaviour::LieProof);
        assert_eq!(
            serde_json::to_value(Behaviour::Timeout).unwrap(),
            serde_json::json!({"mode":"timeout"})
        );
    }

    #[test]
    fn lies_change_what_they_say() {
        let honest = response::Query {
            value: b"abc".to_vec().into(),
            proof: Some(ProofOps {
                ops: vec![ProofOp {
                    field_type: "ics23:jmt".into(),
                    key: b"k".to_vec(),
                    data: vec![1, 2, 3],
                }],
            }),
            ..response::Query::default()
        };
        let lie = ChainView::new(Behaviour::LieValue).doctor_query(honest.clone());
        assert_ne!(lie.value, honest.value);
        assert_eq!(lie.proof, honest.proof);
        let lie = ChainView::new(Behaviour::LieProof).doctor_query(honest.clone());
        assert_eq!(lie.value, honest.value);
        assert_ne!(lie.proof, honest.proof);
        assert_eq!(
            ChainView::new(Behaviour::Honest).doctor_query(honest.clone()),
            honest
        );
        assert_ne!(forged_app_hash(&[7; 32]), vec![7; 32]);
    }
}
