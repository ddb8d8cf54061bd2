//! Attacks through the provider trait: forged and conflicting headers, silent and lying
//! nodes, expired trust. The node must never accept a forged header, must detect forks and
//! keep the evidence, and must name every node that failed.

use std::time::Duration;

use light_client::test_utils::validators;
use light_client::{Height, LightBlock};
use light_node::testing::Behaviour;
use light_node::{AttackKind, Health, SyncError, SyncState};

use crate::support::*;

#[tokio::test]
async fn syncs_a_stable_chain_in_one_skip_and_cross_checks_the_witness() {
    let chain = stable_chain(200);
    let s = setup(chain.clone(), vec![chain.clone()]).await;
    let head = s.node.sync().await.unwrap();
    assert_eq!(head.height, Height(200));
    assert_eq!(head.hash, chain[199].signed_header.header.hash());
    // Checkpoint, latest (fetched once): no intermediate block.
    assert_eq!(s.primary.light_blocks_served(), 2);
    // The latest block names the checkpoint's set: only the checkpoint's set is fetched.
    assert_eq!(s.primary.validator_sets_served(), 1);
    // The next block verifies adjacent to the head, from its commit alone.
    let next = stable_chain(201).pop().unwrap();
    s.primary.put(next.clone());
    s.witnesses[0].put(next);
    s.clock.advance(Duration::from_secs(1));
    assert_eq!(s.node.sync().await.unwrap().height, Height(201));
    assert_eq!(s.primary.validator_sets_served(), 1);
    let status = s.node.status();
    assert_eq!(status.state, SyncState::Synced);
    assert!(
        status.nodes.iter().all(|n| n.health == Health::Ok),
        "{:?}",
        status.nodes
    );
    // The checkpoint and the two heads are stored.
    assert_eq!(s.node.store().len().await.unwrap(), 3);
}

#[tokio::test]
async fn bisects_through_a_rotating_set() {
    let chain = rotating_chain(40);
    let s = setup(chain.clone(), vec![chain]).await;
    let head = s.node.sync().await.unwrap();
    assert_eq!(head.height, Height(40));
    assert!(s.primary.light_blocks_served() > 2);
    // Sets that change are fetched: never taken from the trusted ones by mistake.
    assert!(s.primary.validator_sets_served() > 1);
}

/// 9 equal validators, a third replaced every `period` blocks (as the devnet's rotating
/// chain does every 1000).
fn thirds_rotating_chain(n: u64, period: u64) -> Vec<LightBlock> {
    let pool = validators("third", 9 + 3 * (n / period + 2) as usize, 10);
    chain_with(
        n,
        |h| {
            let k = ((h - 1) / period) as usize * 3;
            pool[k..k + 9].to_vec()
        },
        |h| t(h * 5),
    )
}

/// The fewest verification steps from block 1 to the last one, computed from the chain
/// (greedy furthest-reachable: more than 1/3 of the trusted next set among the signers).
fn fewest_steps(chain: &[LightBlock]) -> u64 {
    let mut at = 0usize;
    let mut steps = 0;
    while at + 1 < chain.len() {
        let trusted = chain[at].trusted_next_validators().unwrap();
        let reach = (at + 1..chain.len())
            .rev()
            .find(|&i| {
                let signers = &chain[i].validators;
                let tallied: u64 = trusted
                    .validators()
                    .iter()
                    .filter(|v| signers.find(&v.address).is_some())
                    .map(|v| v.voting_power)
                    .sum();
                i == at + 1 || tallied * 3 > trusted.total_voting_power()
            })
            .unwrap();
        at = reach;
        steps += 1;
    }
    steps
}

#[tokio::test]
async fn a_planned_path_through_rotations_fetches_the_fewest_light_blocks() {
    let chain = thirds_rotating_chain(400, 20);
    let fewest = fewest_steps(&chain);
    assert!(fewest >= 5, "the chain needs several steps ({fewest})");
    let s = setup(chain.clone(), vec![chain.clone()]).await;
    let head = s.node.sync().await.unwrap();
    assert_eq!(head.height, Height(400));
    assert_eq!(head.hash, chain[399].signed_header.header.hash());
    // The checkpoint, then one light block per step (the latest among them): probes are
    // headers and validator sets, never light blocks.
    assert_eq!(s.primary.light_blocks_served(), 1 + fewest);
    assert!(s.primary.headers_served() > 0);
    // Every stored block is the primary's own, and each was verified in order.
    let stored = s.node.store().len().await.unwrap();
    assert_eq!(stored as u64, 1 + fewest);
    assert_eq!(s.node.status().state, SyncState::Synced);
}

#[tokio::test]
async fn misleading_probe_headers_only_cost_fetches() {
    let chain = thirds_rotating_chain(200, 20);
    let s = setup(chain.clone(), vec![chain.clone()]).await;
    s.primary.set_behaviour(Behaviour::MisleadingHeaders);
    let head = s.node.sync().await.unwrap();
    // The plan was wrong; bisection took over from what verified; nothing false is trusted.
    assert_eq!(head.height, Height(200));
    assert_eq!(head.hash, chain[199].signed_header.header.hash());
    for h in 1..=200u64 {
        if let Some(stored) = s.node.store().get(Height(h)).await.unwrap() {
            assert_eq!(
                stored.signed_header.header.hash(),
                chain[h as usize - 1].signed_header.header.hash()
            );
        }
    }
    assert_eq!(s.node.status().state, SyncState::Synced);
}

#[tokio::test]
async fn a_wrong_checkpoint_block_is_never_trusted() {
    let chain = stable_chain(10);
    let other = chain_with(10, |_| validators("x", 4, 10), |h| t(h * 5));
    // The config trusts chain[0]; the primary serves another chain's block at that height.
    let s = setup(chain.clone(), vec![]).await;
    s.primary.put(other[0].clone());
    let err = s.node.sync().await.unwrap_err();
    assert!(
        matches!(err, SyncError::NoUsableNode(ref why) if why.contains("checkpoint")),
        "{err}"
    );
    assert!(s.node.store().is_empty().await.unwrap());
    assert_eq!(s.node.status().nodes[0].health, Health::Faulty);
}

#[tokio::test]
async fn a_silent_primary_is_replaced_by_a_witness() {
    let chain = stable_chain(30);
    let s = setup(chain.clone(), vec![chain.clone(), chain]).await;
    s.primary.set_behaviour(Behaviour::Silent);
    let head = s.node.sync().await.unwrap();
    assert_eq!(head.height, Height(30));
    let status = s.node.status();
    let old = status
        .nodes
        .iter()
        .find(|n| n.url == "mem://primary")
        .unwrap();
    assert!(!old.primary);
    assert_eq!(old.health, Health::Silent);
    assert!(status.nodes[0].primary && status.nodes[0].url.starts_with("mem://witness"));
}

#[tokio::test]
async fn a_forged_header_from_the_primary_is_rejected_and_the_primary_replaced() {
    let chain = stable_chain(30);
    // The primary's latest block is signed by validators nobody trusts (a lunatic primary).
    let forged = chain_with(30, |_| validators("forger", 4, 10), |h| t(h * 5));
    let s = setup(chain.clone(), vec![chain.clone()]).await;
    s.primary.put(forged[29].clone());
    let head = s.node.sync().await.unwrap();
    assert_eq!(head.hash, chain[29].signed_header.header.hash());
    let status = s.node.status();
    let liar = status
        .nodes
        .iter()
        .find(|n| n.url == "mem://primary")
        .unwrap();
    assert_eq!(liar.health, Health::Faulty);
    assert!(
        liar.detail.as_deref().unwrap().contains("invalid header"),
        "{:?}",
        liar.detail
    );
}

#[tokio::test]
async fn every_node_failing_is_offline_with_each_reason_and_nothing_trusted() {
    let chain = stable_chain(10);
    let s = setup(chain.clone(), vec![chain]).await;
    s.primary.set_behaviour(Behaviour::Garbage);
    s.witnesses[0].set_behaviour(Behaviour::Silent);
    let err = s.node.sync().await.unwrap_err();
    let SyncError::NoUsableNode(why) = err else {
        panic!("{err}")
    };
    assert!(
        why.contains("mem://primary") && why.contains("mem://witness-0"),
        "{why}"
    );
    assert!(matches!(s.node.status().state, SyncState::Offline { .. }));
}

#[tokio::test]
async fn a_validly_signed_conflicting_witness_header_is_a_fork_with_evidence() {
    let vals = validators("v", 4, 10);
    let chain = stable_chain(20);
    // Same validators sign another block 20 (another time): equivocation.
    let mut fork = chain.clone();
    let forked = chain_with(
        20,
        |_| vals.clone(),
        |h| if h == 20 { t(h * 5 + 1) } else { t(h * 5) },
    );
    fork[19] = forked[19].clone();
    let s = setup(chain.clone(), vec![fork]).await;
    let err = s.node.sync().await.unwrap_err();
    let SyncError::ForkDetected(report) = err else {
        panic!("{err}")
    };
    assert_eq!(report.conflict_height, Height(20));
    assert_eq!(report.common_height, Height(1));
    assert_eq!(report.attack, AttackKind::Equivocation);
    assert_eq!(report.byzantine_validators.len(), 4);
    assert_eq!(report.witness, "mem://witness-0");
    // Evidence against the primary went to the witness, and against the witness to the primary.
    assert_eq!(s.witnesses[0].evidence().len(), 1);
    assert_eq!(s.primary.evidence().len(), 1);
    let ev = &s.witnesses[0].evidence()[0];
    assert_eq!(ev["type"], "tendermint/LightClientAttackEvidence");
    assert_eq!(ev["value"]["common_height"], "20");
    // Kept in the store; nothing new trusted; the node refuses to go on.
    assert_eq!(s.node.store().evidence().await.unwrap().len(), 1);
    assert_eq!(
        s.node.store().latest().await.unwrap().unwrap().height(),
        Height(1)
    );
    assert!(matches!(
        s.node.sync().await,
        Err(SyncError::ForkDetected(_))
    ));
    assert!(matches!(
        s.node.status().state,
        SyncState::ForkDetected { .. }
    ));
    // Both nodes are marked, and neither is accused alone: one of the two is lying.
    let nodes = s.node.status().nodes;
    assert_eq!(nodes.len(), 2);
    for node in &nodes {
        assert_eq!(node.health, Health::Forked, "{}", node.url);
        let detail = node.detail.as_deref().unwrap_or_default();
        assert!(detail.contains("one of the two is lying"), "{detail}");
        assert!(detail.contains("height 20"), "{detail}");
    }

    // Recovery once the user removed the forked witness: back to the common height.
    s.node.recover_from_fork().await.unwrap();
    assert_eq!(s.node.status().state, SyncState::Starting);
}

#[tokio::test]
async fn a_conflicting_header_that_does_not_verify_only_marks_the_witness() {
    let chain = stable_chain(20);
    let mut lie = chain.clone();
    lie[19] = chain_with(20, |_| validators("liar", 4, 10), |h| t(h * 5))[19].clone();
    let s = setup(chain.clone(), vec![lie]).await;
    let head = s.node.sync().await.unwrap();
    assert_eq!(head.height, Height(20));
    let w = &s.node.status().nodes[1];
    assert_eq!(w.health, Health::Faulty);
    assert!(
        w.detail.as_deref().unwrap().contains("does not verify"),
        "{:?}",
        w.detail
    );
    assert!(s.primary.evidence().is_empty());
}

#[tokio::test]
async fn a_silent_or_lagging_witness_is_reported_and_not_waited_for() {
    let chain = stable_chain(20);
    let s = setup(chain.clone(), vec![chain.clone(), chain[..10].to_vec()]).await;
    s.witnesses[0].set_behaviour(Behaviour::Silent);
    s.node.sync().await.unwrap();
    let nodes = s.node.status().nodes;
    assert_eq!(nodes[1].health, Health::Silent);
    assert_eq!(nodes[2].health, Health::Lagging);
}

#[tokio::test]
async fn expired_trust_stops_the_node_and_says_so() {
    let chain = stable_chain(20);
    let s = setup(chain.clone(), vec![]).await;
    s.node.sync().await.unwrap();
    s.clock.advance(Duration::from_secs(15 * 24 * 3600));
    let err = s.node.sync().await.unwrap_err();
    assert!(
        matches!(
            err,
            SyncError::TrustExpired {
                height: Height(20),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("fresh checkpoint"));
    assert!(matches!(
        s.node.status().state,
        SyncState::TrustExpired { .. }
    ));
}

#[tokio::test]
async fn a_header_from_the_future_is_not_trusted() {
    let chain = stable_chain(20);
    let s = setup(chain.clone(), vec![]).await;
    // The clock is 60 s behind the primary's latest header.
    s.clock.set(
        chain[19]
            .time()
            .checked_sub(Duration::from_secs(60))
            .unwrap(),
    );
    assert!(s.node.sync().await.is_err());
    let stored = s.node.store().latest().await.unwrap().unwrap();
    assert_eq!(stored.height(), Height(1));
}

#[tokio::test]
async fn a_stale_primary_is_noticed_and_a_witness_ahead_takes_over() {
    let chain = stable_chain(40);
    let s = setup(chain[..20].to_vec(), vec![chain.clone()]).await;
    // The primary stopped at 20; the chain (and the witness) went on to 40, and time passed.
    s.clock.set(chain[39].time());
    s.node.sync().await.unwrap();
    let status = s.node.status();
    assert!(
        matches!(status.state, SyncState::Stale { ref reason } if reason.contains("witness-0")),
        "{:?}",
        status.state
    );
    assert_eq!(status.nodes[0].url, "mem://witness-0");
    let head = s.node.sync().await.unwrap();
    assert_eq!(head.height, Height(40));
    assert_eq!(s.node.status().state, SyncState::Synced);
}

#[tokio::test]
async fn a_hanging_witness_holds_up_the_sync_only_until_its_deadline() {
    let chain = stable_chain(20);
    let s = setup(chain.clone(), vec![chain.clone(), chain]).await;
    s.witnesses[0].set_behaviour(Behaviour::Hang);
    let started = std::time::Instant::now();
    s.node.sync().await.unwrap();
    // The default deadline is 3 s; nothing waits for the hanging witness beyond it.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let nodes = s.node.status().nodes;
    assert_eq!(nodes[1].health, Health::Silent, "{nodes:?}");
    assert_eq!(nodes[2].health, Health::Ok);
    assert_eq!(s.node.status().state, SyncState::Synced);
}
