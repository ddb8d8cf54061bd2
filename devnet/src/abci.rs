//! The ABCI requests CometBFT sends for a chain and its blocks, built from the network's
//! records (`light_client` types) in tendermint-rs's types: `Info`, `InitChain` with the
//! genesis validators and consensus parameters, `PrepareProposal`, `ProcessProposal` and
//! `FinalizeBlock` with the previous commit's votes, `CheckTx`, `Query`.

use light_client::types::{Address, BlockIdFlag, Commit, Hash, Time, ValidatorSet};
use tradeseal_node::tendermint::abci::types::{
    self as abci_types, BlockSignatureInfo, CommitInfo, ExtendedCommitInfo, ExtendedVoteInfo,
    VoteInfo,
};
use tradeseal_node::tendermint::{self as tm, block, consensus, evidence, public_key, vote};

use crate::app::{request, AppError, AppGenesis};
use crate::seal::{BlockRecord, BLOCK_MAX_BYTES, BLOCK_MAX_GAS};

/// CometBFT's default `evidence.max_age_num_blocks`.
const EVIDENCE_MAX_AGE_BLOCKS: u64 = 100_000;
/// CometBFT's default `evidence.max_age_duration` (48 h).
const EVIDENCE_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(48 * 3600);
/// CometBFT's default `evidence.max_bytes`.
const EVIDENCE_MAX_BYTES: i64 = 1_048_576;

fn fail(height: u64, what: &str, e: impl std::fmt::Display) -> AppError {
    AppError {
        height,
        reason: format!("{what}: {e}"),
    }
}

/// A time as tendermint-rs's.
pub fn time(t: Time, height: u64) -> Result<tm::Time, AppError> {
    tm::Time::from_unix_timestamp(t.unix_seconds(), t.subsec_nanos())
        .map_err(|e| fail(height, "block time", e))
}

/// A height as tendermint-rs's.
pub fn height(h: u64) -> Result<block::Height, AppError> {
    block::Height::try_from(h).map_err(|e| fail(h, "height", e))
}

fn hash(h: &Hash) -> tm::Hash {
    tm::Hash::Sha256(*h.as_bytes())
}

fn account(a: &Address) -> tm::account::Id {
    tm::account::Id::new(*a.as_bytes())
}

fn power(p: u64, height: u64) -> Result<vote::Power, AppError> {
    vote::Power::try_from(p).map_err(|e| fail(height, "voting power", e))
}

/// The `Info` request of a starting node.
pub fn info() -> request::Info {
    request::Info {
        version: crate::rpc::COMETBFT_VERSION.into(),
        block_version: light_client::types::BLOCK_PROTOCOL,
        p2p_version: 8,
        abci_version: "2.0.0".into(),
    }
}

/// CometBFT's default consensus parameters (what `consensus_hash` commits to, and what the
/// `genesis` and `consensus_params` endpoints show).
pub fn consensus_params() -> consensus::Params {
    consensus::Params {
        block: block::Size {
            max_bytes: u64::try_from(BLOCK_MAX_BYTES).unwrap_or(0),
            max_gas: BLOCK_MAX_GAS,
            time_iota_ms: block::Size::default_time_iota_ms(),
        },
        evidence: evidence::Params {
            max_age_num_blocks: EVIDENCE_MAX_AGE_BLOCKS,
            max_age_duration: evidence::Duration(EVIDENCE_MAX_AGE),
            max_bytes: EVIDENCE_MAX_BYTES,
        },
        validator: consensus::params::ValidatorParams {
            pub_key_types: vec![public_key::Algorithm::Ed25519],
        },
        version: Some(consensus::params::VersionParams { app: 0 }),
        abci: consensus::params::AbciParams::default(),
    }
}

/// The `InitChain` request of a chain: its id, the genesis time, the genesis validators and
/// the application's `app_state`.
pub fn init_chain(
    chain_id: &str,
    genesis: &AppGenesis,
    validators: &ValidatorSet,
) -> Result<request::InitChain, AppError> {
    let updates = validators
        .validators()
        .iter()
        .map(|v| {
            Ok(crate::app::ValidatorUpdate {
                pub_key: tm::PublicKey::from_raw_ed25519(v.pub_key.as_bytes())
                    .ok_or_else(|| fail(0, "genesis validator", "not an ed25519 key"))?,
                power: power(v.voting_power, 0)?,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let app_state_bytes = match &genesis.app_state {
        Some(v) => serde_json::to_vec(v).map_err(|e| fail(0, "app_state", e))?,
        None => Vec::new(),
    };
    Ok(request::InitChain {
        time: tm::Time::from_unix_timestamp(genesis.time_secs, 0)
            .map_err(|e| fail(0, "genesis time", e))?,
        chain_id: chain_id.to_owned(),
        consensus_params: consensus_params(),
        validators: updates,
        app_state_bytes: app_state_bytes.into(),
        initial_height: height(1)?,
    })
}

/// The votes of `commit` (signed by `set`), as the next block's requests carry them: every
/// validator of the set with its power and whether it signed.
fn votes(commit: &Commit, set: &ValidatorSet) -> Result<Vec<VoteInfo>, AppError> {
    let h = commit.height.value();
    set.validators()
        .iter()
        .zip(&commit.signatures)
        .map(|(v, sig)| {
            let flag = match sig.block_id_flag {
                BlockIdFlag::Absent => block::BlockIdFlag::Absent,
                BlockIdFlag::Commit => block::BlockIdFlag::Commit,
                BlockIdFlag::Nil => block::BlockIdFlag::Nil,
            };
            Ok(VoteInfo {
                validator: abci_types::Validator {
                    address: *v.address.as_bytes(),
                    power: power(v.voting_power, h)?,
                },
                sig_info: BlockSignatureInfo::Flag(flag),
            })
        })
        .collect()
}

/// The previous block's commit as `FinalizeBlock` and `ProcessProposal` carry it (no votes at
/// height 1).
pub fn commit_info(last: Option<&BlockRecord>) -> Result<CommitInfo, AppError> {
    Ok(match last {
        Some(b) => CommitInfo {
            round: block::Round::from(u16::try_from(b.commit.round).unwrap_or(u16::MAX)),
            votes: votes(&b.commit, &b.validators)?,
        },
        None => CommitInfo {
            round: block::Round::default(),
            votes: Vec::new(),
        },
    })
}

/// The previous block's commit as `PrepareProposal` carries it (vote extensions are off: none
/// are attached).
fn extended_commit_info(last: Option<&BlockRecord>) -> Result<ExtendedCommitInfo, AppError> {
    let info = commit_info(last)?;
    Ok(ExtendedCommitInfo {
        round: info.round,
        votes: info
            .votes
            .into_iter()
            .map(|v| ExtendedVoteInfo {
                validator: v.validator,
                sig_info: v.sig_info,
                vote_extension: Default::default(),
                extension_signature: None,
            })
            .collect(),
    })
}

/// What a block's proposal requests share.
pub struct Proposal<'a> {
    /// The height.
    pub height: u64,
    /// The block time.
    pub time: Time,
    /// The header's `next_validators_hash`.
    pub next_validators_hash: Hash,
    /// The proposer.
    pub proposer: Address,
    /// The previous block (none at height 1).
    pub last: Option<&'a BlockRecord>,
}

fn to_bytes(txs: &[Vec<u8>]) -> Vec<bytes::Bytes> {
    txs.iter().map(|t| bytes::Bytes::from(t.clone())).collect()
}

/// `PrepareProposal` of the mempool's `txs`, at most `max_tx_bytes` of them.
pub fn prepare(
    p: &Proposal<'_>,
    txs: &[Vec<u8>],
    max_tx_bytes: i64,
) -> Result<request::PrepareProposal, AppError> {
    Ok(request::PrepareProposal {
        max_tx_bytes,
        txs: to_bytes(txs),
        local_last_commit: Some(extended_commit_info(p.last)?),
        misbehavior: Vec::new(),
        height: height(p.height)?,
        time: time(p.time, p.height)?,
        next_validators_hash: hash(&p.next_validators_hash),
        proposer_address: account(&p.proposer),
    })
}

/// `ProcessProposal` of the sealed block `record`: what `FinalizeBlock` of it will carry,
/// the previous commit as the proposal's.
pub fn process(
    record: &BlockRecord,
    last: Option<&BlockRecord>,
) -> Result<request::ProcessProposal, AppError> {
    let f = finalize(record, last)?;
    Ok(request::ProcessProposal {
        txs: f.txs,
        proposed_last_commit: Some(f.decided_last_commit),
        misbehavior: f.misbehavior,
        hash: f.hash,
        height: f.height,
        time: f.time,
        next_validators_hash: f.next_validators_hash,
        proposer_address: f.proposer_address,
    })
}

/// `FinalizeBlock` of the decided block `record` (also how a stored block is replayed).
pub fn finalize(
    record: &BlockRecord,
    last: Option<&BlockRecord>,
) -> Result<request::FinalizeBlock, AppError> {
    let h = record.height();
    Ok(request::FinalizeBlock {
        txs: to_bytes(&record.txs),
        decided_last_commit: commit_info(last)?,
        misbehavior: Vec::new(),
        hash: hash(&record.block_id.hash),
        height: height(h)?,
        time: time(record.header.time, h)?,
        next_validators_hash: hash(&record.header.next_validators_hash),
        proposer_address: account(&record.header.proposer_address),
    })
}

/// `CheckTx` of a new transaction, or the recheck of one still queued after a commit.
pub fn check(tx: &[u8], recheck: bool) -> request::CheckTx {
    request::CheckTx {
        tx: bytes::Bytes::from(tx.to_vec()),
        kind: if recheck {
            request::CheckTxKind::Recheck
        } else {
            request::CheckTxKind::New
        },
    }
}

/// A `Query` (`height` 0: the latest committed state).
pub fn query(path: &str, data: &[u8], at: u64, prove: bool) -> request::Query {
    request::Query {
        data: bytes::Bytes::from(data.to_vec()),
        path: path.to_owned(),
        height: block::Height::try_from(at).unwrap_or_default(),
        prove,
    }
}
