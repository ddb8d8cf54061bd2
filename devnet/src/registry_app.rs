//! The registry application behind the network's [`Application`] trait, and the sample data
//! a development network is seeded with: governance, three issuers, certificates (some
//! revoked, some expired), all signed with development keys. The samples themselves are
//! `registry`'s test helpers ([`registry::samples`]); this file derives their keys from the
//! network seed and writes them on the chain.

use ed25519_dalek::SigningKey;
use registry::state::{GovAction, Governance, RevocationReason};
use registry::{Genesis, GenesisError, RegistryConfig, TxBuilder};
use tradeseal_node::{AppState, ChainLimits, NodeApp, NodeConfig, NodeError};

use crate::app::{request, response, AppError, AppGenesis, Application};
use crate::chain::Chain;
use crate::keys::{dev_signing_key, KeyRole};
use crate::seal::now;
use light_client::types::Time;

/// Genesis time of every development chain (2026-01-01T00:00:00Z): fixed, so that a restarted
/// network rebuilds the same genesis state.
pub const GENESIS_TIME: u64 = 1_767_225_600;
/// Number of governance keys; [`GOVERNANCE_THRESHOLD`] of them must approve.
pub const GOVERNANCE_KEYS: u32 = 3;
/// Approvals needed for a governance action.
pub const GOVERNANCE_THRESHOLD: u8 = 2;
pub use registry::samples::{
    SampleCertificate, SampleIssuer, SampleStatus, Samples, REMOVED_ISSUER_REASON,
};
/// State versions kept queryable with proofs.
pub const RETAIN_VERSIONS: u64 = 10_000;

const DAY: u64 = 24 * 3600;

/// Errors while seeding.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A sample value is invalid (a bug in the samples).
    #[error("invalid sample data: {0}")]
    Invalid(String),
    /// A seed transaction was rejected.
    #[error("seed transaction rejected ({what}): code {code}: {log}")]
    Rejected {
        /// Which transaction.
        what: String,
        /// Its code.
        code: u32,
        /// The reason.
        log: String,
    },
    /// The chain failed.
    #[error(transparent)]
    Chain(#[from] crate::chain::ChainError),
}

fn invalid(e: impl std::fmt::Display) -> SeedError {
    SeedError::Invalid(e.to_string())
}

/// The governance of a development chain (keys derived from `seed`).
pub fn governance_keys(seed: &str) -> Vec<SigningKey> {
    (0..GOVERNANCE_KEYS)
        .map(|i| dev_signing_key(seed, KeyRole::Governance, i))
        .collect()
}

/// The genesis of a development chain: governance only; issuers are registered by
/// governance transactions in the first blocks.
pub fn genesis(chain_id: &str, seed: &str) -> Genesis {
    Genesis {
        chain_id: chain_id.to_string(),
        genesis_time: GENESIS_TIME,
        governance: Governance {
            threshold: GOVERNANCE_THRESHOLD,
            keys: governance_keys(seed)
                .iter()
                .map(|k| registry::PublicKey::from(&k.verifying_key()))
                .collect(),
        },
        issuers: Vec::new(),
        // The validators are CometBFT's: `InitChain` brings them.
        validators: Vec::new(),
    }
}

/// The registry as the chain's application: the production ABCI application
/// ([`NodeApp`]), in memory (the network's own store keeps the blocks and replays them on
/// start, as CometBFT's handshake does for an application at height 0).
#[derive(Debug)]
pub struct RegistryApp {
    node: NodeApp,
    app_state: AppState,
}

impl RegistryApp {
    /// The registry at the development genesis; an invalid genesis (a chain id out of its
    /// limits) is an error, and no application exists.
    pub fn new(chain_id: &str, seed: &str) -> Result<Self, GenesisError> {
        Self::with_limits(
            chain_id,
            seed,
            ChainLimits::default(),
            NodeConfig::default().max_pending_per_signer,
        )
    }

    /// A registry with the chain's `limits` in its genesis, and the node's per-signer
    /// mempool bound set to `max_pending_per_signer` (the network sets it to its mempool's
    /// size, so that benchmarks flooding one signer's transactions meet the mempool's bound,
    /// not a production node's).
    pub fn with_limits(
        chain_id: &str,
        seed: &str,
        limits: ChainLimits,
        max_pending_per_signer: usize,
    ) -> Result<Self, GenesisError> {
        let genesis = genesis(chain_id, seed);
        genesis.validate()?;
        let app_state = AppState::from_genesis(&genesis, limits);
        let config = NodeConfig {
            registry: RegistryConfig {
                retain_versions: Some(RETAIN_VERSIONS),
            },
            max_pending_per_signer,
            ..NodeConfig::default()
        };
        Ok(Self {
            node: NodeApp::in_memory(config),
            app_state,
        })
    }

    /// The application (for in-process inspection).
    pub fn node(&self) -> &NodeApp {
        &self.node
    }
}

fn app_error(height: u64) -> impl FnOnce(NodeError) -> AppError {
    move |e| AppError {
        height,
        reason: e.to_string(),
    }
}

impl Application for RegistryApp {
    fn genesis(&self) -> AppGenesis {
        AppGenesis {
            time_secs: GENESIS_TIME as i64,
            // A struct of strings, numbers and lists: writing it cannot fail.
            app_state: serde_json::to_value(&self.app_state).ok(),
        }
    }

    fn info(&self, req: &request::Info) -> response::Info {
        self.node.info(req)
    }

    fn init_chain(&mut self, req: request::InitChain) -> Result<response::InitChain, AppError> {
        self.node.init_chain(&req).map_err(app_error(0))
    }

    fn check_tx(&mut self, req: request::CheckTx) -> response::CheckTx {
        self.node.check_tx(&req)
    }

    fn prepare_proposal(
        &mut self,
        req: request::PrepareProposal,
    ) -> Result<response::PrepareProposal, AppError> {
        let height = req.height.value();
        self.node.prepare_proposal(&req).map_err(app_error(height))
    }

    fn process_proposal(&mut self, req: request::ProcessProposal) -> response::ProcessProposal {
        self.node.process_proposal(&req)
    }

    fn finalize_block(
        &mut self,
        req: request::FinalizeBlock,
    ) -> Result<response::FinalizeBlock, AppError> {
        let height = req.height.value();
        self.node.finalize_block(&req).map_err(app_error(height))
    }

    fn commit(&mut self, height: u64) -> Result<response::Commit, AppError> {
        self.node.commit().map_err(app_error(height))
    }

    fn query(&self, req: &request::Query) -> response::Query {
        self.node.query(req)
    }
}

/// Builds the sample data ([`registry::samples`], with the development keys of `seed`).
/// `base_time` (the time of block 1) anchors every date, so the same chain always gets the
/// same samples.
pub fn samples(chain_id: &str, seed: &str, base_time: Time) -> Result<Samples, SeedError> {
    let now = u64::try_from(base_time.unix_seconds())
        .unwrap_or(GENESIS_TIME)
        .max(GENESIS_TIME);
    registry::samples::samples(chain_id, GENESIS_TIME, now, governance_keys(seed), |i| {
        dev_signing_key(seed, KeyRole::Issuer, i)
    })
    .map_err(invalid)
}

/// A sample transaction: what it does, and its bytes or why it could not be built.
type SampleTx = (String, Result<Vec<u8>, registry::DecodeError>);

fn submit_all(chain: &Chain, txs: Vec<SampleTx>) -> Result<(), SeedError> {
    for (what, tx) in txs {
        let tx = tx.map_err(|e| SeedError::Invalid(format!("{what}: {e}")))?;
        let r = chain.submit_tx(tx).map_err(|e| SeedError::Rejected {
            what: what.clone(),
            code: 0,
            log: e.to_string(),
        })?;
        if r.code.is_err() {
            return Err(SeedError::Rejected {
                what,
                code: r.code.value(),
                log: r.log,
            });
        }
    }
    let block = chain.produce_block(now())?;
    if let Some((i, r)) = block
        .tx_results
        .iter()
        .enumerate()
        .find(|(_, r)| r.code.is_err())
    {
        return Err(SeedError::Rejected {
            what: format!("tx {i} of block {}", block.height()),
            code: r.code.value(),
            log: r.log.clone(),
        });
    }
    Ok(())
}

/// Writes the samples on the chain, one block per phase (each phase's transactions need the
/// previous phase committed to pass CheckTx): governance proposals, approvals, certificates,
/// revocations.
pub fn submit_samples(chain: &Chain, samples: &Samples) -> Result<(), SeedError> {
    let chain_id = samples.chain_id.as_str();
    let [proposer, approver, ..] = samples.governance.as_slice() else {
        return Err(SeedError::Invalid("need two governance keys".into()));
    };
    let expires = u64::try_from(now().unix_seconds()).unwrap_or(GENESIS_TIME) + 7 * DAY;
    let p = TxBuilder::new(chain_id, proposer);
    let proposals = samples
        .issuers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let seq = u64::try_from(i).unwrap_or(0) + 1;
            (
                format!("propose {}", s.spec.id),
                p.propose(seq, GovAction::RegisterIssuer(s.spec.clone()), expires),
            )
        })
        .collect();
    submit_all(chain, proposals)?;
    let a = TxBuilder::new(chain_id, approver);
    let approvals = (0..samples.issuers.len())
        .map(|i| {
            let id = u64::try_from(i).unwrap_or(0);
            (format!("approve proposal {id}"), a.approve(id + 1, id))
        })
        .collect();
    submit_all(chain, approvals)?;
    let mut issues = Vec::new();
    let mut revokes = Vec::new();
    for issuer in &samples.issuers {
        let b = TxBuilder::new(chain_id, &issuer.key);
        let mine: Vec<_> = samples
            .certificates
            .iter()
            .filter(|c| c.signed.certificate.id.issuer == issuer.spec.id)
            .collect();
        let mut seq = 0;
        for c in &mine {
            seq += 1;
            issues.push((
                format!("issue {}", c.signed.certificate.id),
                b.issue_signed(seq, &c.signed),
            ));
        }
        for c in mine.iter().filter(|c| c.status == SampleStatus::Revoked) {
            seq += 1;
            revokes.push((
                format!("revoke {}", c.signed.certificate.id),
                b.revoke(
                    seq,
                    c.signed.certificate.id.clone(),
                    RevocationReason::Cancelled,
                    "shipment cancelled (devnet sample)",
                ),
            ));
        }
    }
    submit_all(chain, issues)?;
    submit_all(chain, revokes)?;
    // Governance removes the issuers meant to be removed, after their certificates are in.
    let removed: Vec<_> = samples
        .issuers
        .iter()
        .filter(|s| s.removed)
        .map(|s| s.spec.id.clone())
        .collect();
    let first = samples.issuers.len();
    let proposals = removed
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let seq = u64::try_from(first + i).unwrap_or(0) + 1;
            let action = GovAction::RemoveIssuer {
                id: id.clone(),
                reason: REMOVED_ISSUER_REASON.into(),
            };
            (
                format!("propose removing {id}"),
                p.propose(seq, action, expires),
            )
        })
        .collect();
    submit_all(chain, proposals)?;
    let approvals = (0..removed.len())
        .map(|i| {
            let n = u64::try_from(first + i).unwrap_or(0);
            (format!("approve proposal {n}"), a.approve(n + 1, n))
        })
        .collect();
    submit_all(chain, approvals)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_genesis_is_an_error_not_an_application() {
        let long = "c".repeat(registry::MAX_CHAIN_ID_LEN + 1);
        assert!(matches!(
            RegistryApp::new(&long, "seed"),
            Err(GenesisError::Invalid(_))
        ));
        let app = RegistryApp::new("tradeseal-devnet", "seed").unwrap();
        let state = app.genesis().app_state.unwrap();
        let parsed = AppState::parse(state.to_string().as_bytes()).unwrap();
        assert_eq!(
            parsed.into_stored().unwrap().0,
            genesis("tradeseal-devnet", "seed")
        );
    }
}
