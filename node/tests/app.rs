//! `NodeApp` without the socket: the rules that a CometBFT session rarely reaches (a foreign
//! or damaged data directory, a refused genesis, the mempool bound per signer, a block
//! finalized but not yet committed).

use prost::bytes::Bytes;
use registry::devkit::{demo_genesis, dev_key};
use registry::{sample_certificate, Serial, TxBuilder};
use tendermint::abci::request::{self, CheckTxKind};
use tendermint_proto::google::protobuf::{Duration as PbDuration, Timestamp};
use tendermint_proto::v0_38::abci::{
    CommitInfo, RequestFinalizeBlock, RequestInitChain, RequestProcessProposal, ValidatorUpdate,
};
use tendermint_proto::v0_38::crypto::{public_key::Sum, PublicKey as ProtoKey};
use tendermint_proto::v0_38::types::{
    AbciParams, BlockParams, ConsensusParams, EvidenceParams, ValidatorParams, VersionParams,
};
use tradeseal_node::app::codes;
use tradeseal_node::blocklog::{BlockRecord, LOG_FILE};
use tradeseal_node::genesis::AppStateError;
use tradeseal_node::{AppState, ChainLimits, NodeApp, NodeConfig, NodeError};

const CHAIN_ID: &str = "tradeseal-app-test";
const GENESIS_TIME: u64 = 1_767_225_600;

fn init(app_state: &AppState, chain_id: &str, initial_height: i64) -> request::InitChain {
    init_with(app_state, chain_id, initial_height, Vec::new())
}

/// InitChain with CometBFT's validators.
fn init_with(
    app_state: &AppState,
    chain_id: &str,
    initial_height: i64,
    validators: Vec<ValidatorUpdate>,
) -> request::InitChain {
    RequestInitChain {
        time: Some(Timestamp {
            seconds: GENESIS_TIME as i64,
            nanos: 0,
        }),
        chain_id: chain_id.into(),
        consensus_params: Some(ConsensusParams {
            block: Some(BlockParams {
                max_bytes: 22_020_096,
                max_gas: -1,
            }),
            evidence: Some(EvidenceParams {
                max_age_num_blocks: 100_000,
                max_age_duration: Some(PbDuration {
                    seconds: 172_800,
                    nanos: 0,
                }),
                max_bytes: 1_048_576,
            }),
            validator: Some(ValidatorParams {
                pub_key_types: vec!["ed25519".into()],
            }),
            version: Some(VersionParams { app: 0 }),
            abci: Some(AbciParams::default()),
        }),
        validators,
        app_state_bytes: serde_json::to_vec(app_state).unwrap().into(),
        initial_height,
    }
    .try_into()
    .unwrap()
}

fn demo_state() -> AppState {
    AppState::from_genesis(
        &demo_genesis(CHAIN_ID, GENESIS_TIME),
        ChainLimits::default(),
    )
}

fn finalize(height: i64, txs: &[Vec<u8>]) -> request::FinalizeBlock {
    RequestFinalizeBlock {
        txs: txs.iter().map(|t| Bytes::copy_from_slice(t)).collect(),
        decided_last_commit: Some(CommitInfo::default()),
        misbehavior: Vec::new(),
        hash: Bytes::from(vec![height as u8; 32]),
        height,
        time: Some(Timestamp {
            seconds: GENESIS_TIME as i64 + height,
            nanos: 0,
        }),
        next_validators_hash: Bytes::from(vec![1u8; 32]),
        proposer_address: Bytes::from(vec![2u8; 20]),
    }
    .try_into()
    .unwrap()
}

fn issue(seq: u64, serial: &str) -> Vec<u8> {
    let key = dev_key("issuer-ke-kephis");
    TxBuilder::new(CHAIN_ID, &key)
        .issue(
            seq,
            &sample_certificate(Serial::new(serial).unwrap(), GENESIS_TIME),
        )
        .unwrap()
}

fn check(app: &mut NodeApp, tx: &[u8]) -> u32 {
    app.check_tx(&request::CheckTx {
        tx: Bytes::copy_from_slice(tx),
        kind: CheckTxKind::New,
    })
    .code
    .value()
}

fn query_height(app: &NodeApp, path: &str) -> (u32, i64, bool) {
    let q = app.query(&request::Query {
        data: Bytes::new(),
        path: path.into(),
        height: 0u32.into(),
        prove: false,
    });
    (q.code.value(), q.height.value() as i64, !q.value.is_empty())
}

fn info_request() -> request::Info {
    request::Info {
        version: "0.38.17".into(),
        block_version: 11,
        p2p_version: 8,
        abci_version: "2.0.0".into(),
    }
}

#[test]
fn a_refused_genesis_is_an_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = NodeApp::open(dir.path(), NodeConfig::default()).unwrap();
    assert!(matches!(
        app.init_chain(&init(&demo_state(), "another-chain", 1)),
        Err(NodeError::AppState(_))
    ));
    assert!(matches!(
        app.init_chain(&init(&demo_state(), CHAIN_ID, 5)),
        Err(NodeError::InitialHeight(5))
    ));
    let mut bad = demo_state();
    bad.governance.threshold = 0;
    assert!(matches!(
        app.init_chain(&init(&bad, CHAIN_ID, 1)),
        Err(NodeError::AppState(_))
    ));
    assert_eq!(
        check(&mut app, &issue(1, "PH-1")),
        codes::NOT_INITIALIZED,
        "no chain yet"
    );
    assert!(!dir.path().join("genesis.json").exists());
}

#[test]
fn a_stored_genesis_the_registry_refuses_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut app = NodeApp::open(dir.path(), NodeConfig::default()).unwrap();
        app.init_chain(&init(&demo_state(), CHAIN_ID, 1)).unwrap();
    }
    let path = dir.path().join("genesis.json");
    let mut stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    stored["governance"]["threshold"] = 0.into();
    std::fs::write(&path, stored.to_string()).unwrap();
    let err = NodeApp::open(dir.path(), NodeConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            NodeError::StoredGenesis(AppStateError::Invalid(registry::GenesisError::Invalid(_)))
        ),
        "{err:?}"
    );
}

#[test]
fn the_mempool_admits_a_bounded_number_of_transactions_per_signer_until_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let config = NodeConfig {
        max_pending_per_signer: 2,
        ..NodeConfig::default()
    };
    let mut app = NodeApp::open(dir.path(), config).unwrap();
    app.init_chain(&init(&demo_state(), CHAIN_ID, 1)).unwrap();
    assert_eq!(check(&mut app, &issue(1, "PH-1")), 0);
    assert_eq!(check(&mut app, &issue(2, "PH-2")), 0);
    assert_eq!(check(&mut app, &issue(3, "PH-3")), codes::TOO_MANY_PENDING);
    // Another signer is not held up.
    let gov = dev_key("gov-0");
    let approve = TxBuilder::new(CHAIN_ID, &gov).approve(1, 0).unwrap();
    assert_eq!(check(&mut app, &approve), 15, "proposal 0 does not exist");
    // A commit empties the bound; CometBFT's recheck fills it again from what is left.
    app.finalize_block(&finalize(1, &[issue(1, "PH-1")]))
        .unwrap();
    app.commit().unwrap();
    assert_eq!(check(&mut app, &issue(3, "PH-3")), 0);
    assert_eq!(check(&mut app, &issue(3, "PH-4")), codes::SEQUENCE_PENDING);
}

#[test]
fn unknown_signers_are_refused_before_their_signature_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = NodeApp::open(dir.path(), NodeConfig::default()).unwrap();
    app.init_chain(&init(&demo_state(), CHAIN_ID, 1)).unwrap();
    let stranger = dev_key("stranger");
    let mut tx = TxBuilder::new(CHAIN_ID, &stranger)
        .issue(
            1,
            &sample_certificate(Serial::new("PH-1").unwrap(), GENESIS_TIME),
        )
        .unwrap();
    assert_eq!(check(&mut app, &tx), 5);
    // With its signature broken it is still refused as an unknown signer (the registry
    // alone would say 3, invalid signature: it checks the signature first).
    let last = tx.len() - 1;
    tx[last] ^= 1;
    let r = app.check_tx(&request::CheckTx {
        tx: tx.into(),
        kind: CheckTxKind::New,
    });
    assert_eq!((r.code.value(), r.codespace.as_str()), (5, "registry"));
    assert!(
        r.log.contains("neither a governance key nor an issuer"),
        "{}",
        r.log
    );
}

#[test]
fn a_finalized_block_is_invisible_until_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = NodeApp::open(dir.path(), NodeConfig::default()).unwrap();
    app.init_chain(&init(&demo_state(), CHAIN_ID, 1)).unwrap();
    app.finalize_block(&finalize(1, &[])).unwrap();
    app.commit().unwrap();
    let f = app
        .finalize_block(&finalize(2, &[issue(1, "PH-1")]))
        .unwrap();
    assert_eq!(f.tx_results[0].code.value(), 0);
    let info = app.info(&info_request());
    assert_eq!(info.last_block_height.value(), 1);
    // CometBFT restarted before its Commit replays the block: the same answer; another
    // block at that point is a broken session.
    let again = app
        .finalize_block(&finalize(2, &[issue(1, "PH-1")]))
        .unwrap();
    assert_eq!(again, f);
    assert!(matches!(
        app.finalize_block(&finalize(2, &[])),
        Err(NodeError::Block { height: 2, .. })
    ));
    assert_eq!(
        query_height(&app, "/store/cert/KE-KEPHIS/PH-1"),
        (0, 1, false),
        "the query answers from the committed version 1"
    );
    app.commit().unwrap();
    assert_eq!(app.info(&info_request()).last_block_height.value(), 2);
    assert_eq!(
        query_height(&app, "/store/cert/KE-KEPHIS/PH-1"),
        (0, 2, true)
    );
    // Commit twice, or InitChain once blocks are committed, is a broken session.
    assert!(matches!(app.commit(), Err(NodeError::NothingToCommit)));
    assert!(matches!(
        app.init_chain(&init(&demo_state(), CHAIN_ID, 1)),
        Err(NodeError::AlreadyInitialized(2))
    ));
}

#[test]
fn a_log_that_replays_to_another_app_hash_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = NodeApp::open(dir.path(), NodeConfig::default()).unwrap();
    app.init_chain(&init(&demo_state(), CHAIN_ID, 1)).unwrap();
    let f = app
        .finalize_block(&finalize(1, &[issue(1, "PH-1")]))
        .unwrap();
    app.commit().unwrap();
    drop(app);
    // The same block recorded with another app hash, checksum and all: not a torn write but
    // a log from another binary or chain.
    let good: [u8; 32] = f.app_hash.as_bytes().try_into().unwrap();
    let mut forged = BlockRecord {
        height: 1,
        time: GENESIS_TIME + 1,
        app_hash: good,
        txs: vec![issue(1, "PH-1")],
    };
    forged.app_hash[0] ^= 1;
    let log = dir.path().join(LOG_FILE);
    let mut bytes = tradeseal_node::blocklog::LOG_MAGIC.to_vec();
    bytes.extend(forged.to_record());
    std::fs::write(&log, bytes).unwrap();
    assert!(matches!(
        NodeApp::open(dir.path(), NodeConfig::default()),
        Err(NodeError::ReplayMismatch { height: 1, .. })
    ));
}

/// CometBFT's update for a development key's public key.
fn cometbft_validator(label: &str, power: i64) -> ValidatorUpdate {
    ValidatorUpdate {
        pub_key: Some(ProtoKey {
            sum: Some(Sum::Ed25519(
                registry::devkit::dev_public_key(label).as_bytes().to_vec(),
            )),
        }),
        power,
    }
}

#[test]
fn validator_changes_reach_finalize_block_through_process_proposal_and_the_stored_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = NodeApp::open(dir.path(), NodeConfig::default()).unwrap();
    // Two listings of one key: the registry refuses the genesis, nothing is written.
    let twice = vec![
        cometbft_validator("validator-0", 10),
        cometbft_validator("validator-0", 5),
    ];
    assert!(matches!(
        app.init_chain(&init_with(&demo_state(), CHAIN_ID, 1, twice)),
        Err(NodeError::AppState(AppStateError::Invalid(
            registry::GenesisError::DuplicateValidator(_)
        )))
    ));
    assert!(!dir.path().join("genesis.json").exists());
    let validators = vec![cometbft_validator("validator-0", 10)];
    let init = app
        .init_chain(&init_with(&demo_state(), CHAIN_ID, 1, validators))
        .unwrap();
    assert!(init.validators.is_empty(), "CometBFT keeps its own");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("genesis.json")).unwrap())
            .unwrap();
    let v0 = registry::devkit::dev_public_key("validator-0");
    assert_eq!(stored["validators"][0]["pub_key"], v0.to_hex());

    let v1 = registry::devkit::dev_public_key("validator-1");
    let (g0, g1) = (dev_key("gov-0"), dev_key("gov-1"));
    let propose = TxBuilder::new(CHAIN_ID, &g0)
        .set_validator(1, v1, 7, GENESIS_TIME + 3600)
        .unwrap();
    let f = app.finalize_block(&finalize(1, &[propose])).unwrap();
    assert_eq!(f.tx_results[0].code.value(), 0, "{}", f.tx_results[0].log);
    assert!(f.validator_updates.is_empty());
    app.commit().unwrap();
    // The approval, executed by ProcessProposal and taken over by FinalizeBlock.
    let approve = TxBuilder::new(CHAIN_ID, &g1).approve(1, 0).unwrap();
    let process: request::ProcessProposal = RequestProcessProposal {
        txs: vec![Bytes::copy_from_slice(&approve)],
        proposed_last_commit: Some(CommitInfo::default()),
        misbehavior: Vec::new(),
        hash: Bytes::from(vec![2u8; 32]),
        height: 2,
        time: Some(Timestamp {
            seconds: GENESIS_TIME as i64 + 2,
            nanos: 0,
        }),
        next_validators_hash: Bytes::from(vec![1u8; 32]),
        proposer_address: Bytes::from(vec![2u8; 20]),
    }
    .try_into()
    .unwrap();
    assert_eq!(
        app.process_proposal(&process),
        tendermint::abci::response::ProcessProposal::Accept
    );
    let f = app.finalize_block(&finalize(2, &[approve])).unwrap();
    assert_eq!(f.tx_results[0].code.value(), 0, "{}", f.tx_results[0].log);
    let want = tendermint::validator::Update {
        pub_key: tendermint::PublicKey::from_raw_ed25519(v1.as_bytes()).unwrap(),
        power: 7u32.into(),
    };
    assert_eq!(f.validator_updates, vec![want]);
    app.commit().unwrap();
    drop(app);
    // Rebuilt from the stored genesis and the log: the same set.
    let app = NodeApp::open(dir.path(), NodeConfig::default()).unwrap();
    let reg = app.registry().unwrap();
    assert_eq!(reg.validator_power(&v0), Some(10));
    assert_eq!(reg.validator_power(&v1), Some(7));
}

fn page(
    app: &NodeApp,
    path: &str,
    from: u64,
    count: u32,
    height: u32,
) -> tendermint::abci::response::Query {
    use registry::Canonical as _;
    app.query(&request::Query {
        data: registry::log::PageRequest { from, count }.to_bytes().into(),
        path: path.into(),
        height: height.into(),
        prove: true,
    })
}

#[test]
fn log_pages_are_served_at_a_committed_height_and_match_the_proven_head() {
    use registry::log::{Log, LogHead, Page};
    use registry::state::RevocationReason;
    use registry::Canonical as _;

    let dir = tempfile::tempdir().unwrap();
    let mut app = NodeApp::open(dir.path(), NodeConfig::default()).unwrap();
    app.init_chain(&init(&demo_state(), CHAIN_ID, 1)).unwrap();
    app.finalize_block(&finalize(1, &[issue(1, "PH-1"), issue(2, "PH-2")]))
        .unwrap();
    app.commit().unwrap();
    let key = dev_key("issuer-ke-kephis");
    let revoke = |seq: u64, serial: &str| {
        TxBuilder::new(CHAIN_ID, &key)
            .revoke(
                seq,
                registry::CertId::parse(&format!("KE-KEPHIS/{serial}")).unwrap(),
                RevocationReason::Superseded,
                "",
            )
            .unwrap()
    };
    let f = app
        .finalize_block(&finalize(2, &[revoke(3, "PH-1"), revoke(4, "PH-2")]))
        .unwrap();
    assert!(f.tx_results.iter().all(|r| r.code.value() == 0));
    // Before the commit the committed version (1) has no revocation: past the end.
    let q = page(&app, "/log/revocation", 0, 2, 0);
    assert_eq!((q.code.value(), q.height.value()), (105, 1), "{}", q.log);
    app.commit().unwrap();

    let q = page(&app, "/log/revocation", 0, 2, 0);
    assert_eq!(q.code.value(), 0, "{}", q.log);
    assert_eq!(q.height.value(), 2);
    assert!(
        q.proof.is_none(),
        "a page carries no proof, even when asked"
    );
    let p = Page::from_bytes(&q.value).unwrap();
    assert_eq!((p.from, p.entries.len()), (0, 2));
    // The page's entries are the proven ones and chain to the proven head.
    let proven = |key: &[u8]| {
        let q = app.query(&request::Query {
            data: Bytes::copy_from_slice(key),
            path: "/key".into(),
            height: 2u32.into(),
            prove: true,
        });
        assert_eq!(q.code.value(), 0);
        assert!(q.proof.is_some());
        q.value.to_vec()
    };
    for (n, entry) in p.entries.iter().enumerate() {
        assert_eq!(&proven(&Log::Revocation.entry_key(n as u64)), entry);
    }
    let head = LogHead::from_bytes(&proven(Log::Revocation.head_key())).unwrap();
    assert_eq!(
        Log::Revocation.extend(LogHead::EMPTY, p.entries.iter().map(Vec::as_slice)),
        head
    );
    // At the earlier committed height, and the bounds.
    assert_eq!(page(&app, "/log/revocation", 0, 1, 1).code.value(), 105);
    assert_eq!(page(&app, "/log/revocation", 0, 1, 3).code.value(), 103);
    assert_eq!(page(&app, "/log/revocation", 0, 0, 0).code.value(), 104);
    assert_eq!(page(&app, "/log/revocation", 1, 2, 0).code.value(), 105);
    let issuers = page(&app, "/log/issuer", 0, 3, 0);
    assert_eq!(issuers.code.value(), 0, "{}", issuers.log);
    assert_eq!(Page::from_bytes(&issuers.value).unwrap().entries.len(), 3);
}
