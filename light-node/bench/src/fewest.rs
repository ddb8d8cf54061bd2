//! The fewest light blocks any schedule needs to go from a trusted height to a target,
//! computed offline from the chain's validator sets and commits: greedy furthest-reachable
//! skipping with CometBFT's rules (a block is reachable from trusted height t when it is
//! t + 1, or when validators of t's next set that signed it hold more than 1/3 of that set's
//! power; every block also needs more than 2/3 of its own set, which the devnet's commits
//! always have, and is checked here).

use anyhow::bail;
use devnet::{BlockRecord, Chain};
use light_client::types::{Address, BlockIdFlag, ValidatorSet};
use std::sync::Arc;

/// Consecutive heights, up to `last`, whose blocks are signed by the same validators.
struct Segment {
    last: u64,
    /// Signers' addresses.
    signers: Vec<Address>,
}

fn signers(block: &BlockRecord) -> anyhow::Result<Vec<Address>> {
    let set = &block.validators;
    let mut out: Vec<Address> = block
        .commit
        .signatures
        .iter()
        .filter(|s| s.block_id_flag == BlockIdFlag::Commit)
        .filter_map(|s| s.validator_address)
        .collect();
    let signed: u64 = out
        .iter()
        .filter_map(|a| set.find(a))
        .map(|(_, v)| v.voting_power)
        .sum();
    if signed * 3 <= set.total_voting_power() * 2 {
        bail!(
            "block {} has only {signed} of {} signed",
            block.height(),
            set.total_voting_power()
        );
    }
    out.sort();
    Ok(out)
}

/// More than 1/3 of `trusted`'s power among `signers` (CometBFT's trust level 1/3: the
/// tally must exceed `total * 1 / 3` rounded down).
fn trusts(trusted: &ValidatorSet, signers: &[Address]) -> bool {
    let tallied: u64 = trusted
        .validators()
        .iter()
        .filter(|v| signers.binary_search(&v.address).is_ok())
        .map(|v| v.voting_power)
        .sum();
    tallied > trusted.total_voting_power() / 3
}

/// The fewest light blocks (verification steps, the target included) from trusted height
/// `from` to `to`.
pub fn fewest(chain: &Chain, from: u64, to: u64) -> anyhow::Result<u64> {
    if to <= from {
        return Ok(0);
    }
    let blocks = chain.blocks();
    let get = |h: u64| -> anyhow::Result<Arc<BlockRecord>> {
        match blocks.get(h) {
            Some(b) => Ok(b.clone()),
            None => bail!("the chain has no block {h}"),
        }
    };
    let mut segments: Vec<Segment> = Vec::new();
    for h in from + 1..=to {
        let block = get(h)?;
        let s = signers(&block)?;
        match segments.last_mut() {
            Some(seg) if seg.signers == s => seg.last = h,
            _ => segments.push(Segment {
                last: h,
                signers: s,
            }),
        }
    }
    let mut trusted = from;
    let mut steps = 0;
    loop {
        let next_set = get(trusted)?.next_validators.clone();
        let target_seg = segments.last().expect("from < to");
        if trusted + 1 == to || trusts(&next_set, &target_seg.signers) {
            return Ok(steps + 1);
        }
        // The furthest height below the target reachable from `trusted` (the adjacent one
        // always is).
        let mut best = trusted + 1;
        for seg in &segments {
            if seg.last <= trusted + 1 {
                continue;
            }
            if trusts(&next_set, &seg.signers) {
                best = best.max(seg.last.min(to - 1));
            }
        }
        trusted = best;
        steps += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use devnet::{Devnet, DevnetConfig};

    async fn chain(rotate_every: u64) -> Devnet {
        Devnet::start(DevnetConfig {
            validators: 9,
            history_blocks: 600,
            rotate_every,
            block_interval: std::time::Duration::from_secs(60),
            app: devnet::AppKind::Kv,
            ..DevnetConfig::for_tests()
        })
        .await
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_stable_set_is_one_skip() {
        let net = chain(0).await;
        assert_eq!(fewest(net.chain(), 1, 600).unwrap(), 1);
        assert_eq!(fewest(net.chain(), 5, 6).unwrap(), 1);
        assert_eq!(fewest(net.chain(), 6, 6).unwrap(), 0);
        net.shutdown().await;
    }

    /// A third replaced every 100 blocks: from a trusted block, the set after the next
    /// rotation still holds 2/3 of the trusted power, the one after that only 1/3, which is
    /// not more than 1/3: each skip reaches the end of the next set's span.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_rotating_set_skips_two_rotations_at_a_time() {
        let net = chain(100).await;
        // Sets change at 101, 201, ...: from 1 the furthest is 200, then 400, then 600.
        assert_eq!(fewest(net.chain(), 1, 600).unwrap(), 3);
        // From 200 (its next set starts at 201): 400, then 600.
        assert_eq!(fewest(net.chain(), 200, 600).unwrap(), 2);
        // From 150: its next set is that of 101-200, which reaches 300.
        assert_eq!(fewest(net.chain(), 150, 300).unwrap(), 1);
        assert_eq!(fewest(net.chain(), 150, 301).unwrap(), 2);
        net.shutdown().await;
    }
}
