//! Every block the network makes verifies with the `light-client` crate, adjacent and
//! skipping, across validator-set changes and with 150 validators.

use devnet::AppKind;
use light_client::verify::{verify, Options, Verdict};

use crate::support::{self, light_block, now};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_block_verifies_adjacent_and_skipping() {
    let net = support::start(support::config(AppKind::Kv)).await;
    support::wait_height(&net, 8).await;
    let url = &net.rpc_urls()[0];
    let mut blocks = Vec::new();
    for h in 1..=8 {
        blocks.push(light_block(url, h).await);
    }
    let opts = Options::default();
    for pair in blocks.windows(2) {
        assert_eq!(
            verify(&pair[1], &pair[0], &opts, now()),
            Verdict::Success,
            "adjacent {}",
            pair[1].height()
        );
        assert_eq!(
            pair[1].signed_header.header.last_block_id.map(|id| id.hash),
            Some(pair[0].signed_header.commit.block_id.hash),
            "chained by last_block_id"
        );
    }
    assert_eq!(
        verify(&blocks[7], &blocks[0], &opts, now()),
        Verdict::Success,
        "skipping 1 -> 8"
    );
    assert_eq!(
        verify(&blocks[4], &blocks[1], &opts, now()),
        Verdict::Success,
        "skipping 2 -> 5"
    );
    // Every node serves the same chain.
    for other in &net.rpc_urls()[1..] {
        let b = light_block(other, 5).await;
        assert_eq!(b.signed_header, blocks[4].signed_header);
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validator_set_changes_follow_next_validators_hash() {
    let net = support::start(support::config(AppKind::Kv)).await;
    let url = net.rpc_urls()[0].clone();
    let first = light_block(&url, 1).await;
    // Add validators 4 and 5, remove 0: 3 of the 4 original validators stay.
    net.update_validator(4, 10).unwrap();
    net.update_validator(5, 10).unwrap();
    net.update_validator(0, 0).unwrap();
    assert!(
        net.update_validator(9, -1).is_err(),
        "negative power is refused"
    );
    let start = net.chain().latest_height();
    support::wait_height(&net, start + 4).await;
    // Find the header announcing the change.
    let mut change = None;
    for h in 1..=start + 3 {
        let b = light_block(&url, h).await;
        let header = &b.signed_header.header;
        if header.next_validators_hash != header.validators_hash {
            change = Some(h);
            break;
        }
    }
    let h = change.expect("a header announces the new set");
    let before = light_block(&url, h).await;
    let after = light_block(&url, h + 1).await;
    assert_eq!(
        before.signed_header.header.next_validators_hash,
        after.signed_header.header.validators_hash
    );
    // The three updates are queued one by one: a block may be sealed between them, so the
    // first changed set has 5 validators (all three in) or 6 (the removal comes a block later).
    let changed = after.validators.validators().len();
    assert!(
        changed == 5 || changed == 6,
        "{changed} validators after the change"
    );
    assert_eq!(before.validators.validators().len(), 4);
    assert_eq!(
        verify(&after, &before, &Options::default(), now()),
        Verdict::Success,
        "adjacent across the change"
    );
    assert_eq!(
        verify(&after, &first, &Options::default(), now()),
        Verdict::Success,
        "skipping across the change"
    );

    // Replace the whole set: skipping from the old set lacks trust, adjacent steps verify.
    for k in [10, 11, 12] {
        net.update_validator(k, 7).unwrap();
    }
    for k in [1, 2, 3, 4, 5] {
        net.update_validator(k, 0).unwrap();
    }
    let mark = net.chain().latest_height();
    support::wait_height(&net, mark + 4).await;
    let latest = net.chain().latest_height();
    let tip = light_block(&url, latest).await;
    assert_eq!(tip.validators.validators().len(), 3);
    match verify(&tip, &first, &Options::default(), now()) {
        Verdict::NotEnoughTrust(_) => {}
        other => panic!("expected not enough trust, got {other:?}"),
    }
    let mut trusted = after;
    for h in (trusted.height().value() + 1)..=latest {
        let next = light_block(&url, h).await;
        assert_eq!(
            verify(&next, &trusted, &Options::default(), now()),
            Verdict::Success,
            "adjacent {h}"
        );
        trusted = next;
    }
    net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_of_150_validators_verifies() {
    let mut config = support::config(AppKind::Kv);
    config.validators = 150;
    config.nodes = 1;
    let net = support::start(config).await;
    support::wait_height(&net, 3).await;
    let url = &net.rpc_urls()[0];
    let b1 = light_block(url, 1).await;
    let b2 = light_block(url, 2).await;
    let b3 = light_block(url, 3).await;
    assert_eq!(b1.validators.validators().len(), 150);
    assert_eq!(b1.signed_header.commit.signatures.len(), 150);
    assert_eq!(
        verify(&b2, &b1, &Options::default(), now()),
        Verdict::Success
    );
    assert_eq!(
        verify(&b3, &b1, &Options::default(), now()),
        Verdict::Success
    );
    net.shutdown().await;
}
