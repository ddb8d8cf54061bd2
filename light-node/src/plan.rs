//! Planning a skipping path before fetching it: where a trusted block cannot reach the target
//! directly, headers probed in batches locate the heights where the validator set changes,
//! one set per distinct hash is fetched, and the fewest steps whose trusted overlap passes
//! are chosen greedily (furthest reachable first). Only a plan: every block of the path is
//! still fetched whole and verified by `light_client` against its full validator set, and a
//! step that does not verify hands over to bisection.

use std::collections::{BTreeMap, HashMap, HashSet};

use light_client::{Address, Hash, Header, Height, LightBlock, TrustLevel, ValidatorSet};

use crate::provider::Provider;

/// Heights probed evenly between the trusted height and the target in the first round: at
/// least this many, and enough that the grid's intervals are at most [`GRID_SPACING`] wide.
const GRID: u64 = 64;
/// `(PER_INTERVAL + 1)^5`: five rounds locate any change inside an interval this wide.
const GRID_SPACING: u64 = 1024;
/// The most heights in the first round.
const MAX_GRID: u64 = 4_096;
/// Heights probed in each interval still holding an unlocated change, per round.
const PER_INTERVAL: u64 = 3;
/// The most headers probed for one plan (a node answering nonsense cannot make the planner
/// ask forever), and the most rounds.
const MAX_PROBES: usize = 8_192;
const MAX_ROUNDS: usize = 16;
/// The most validator sets fetched for one plan: a node naming a new set at every probed
/// height gets bisection instead.
const MAX_SETS: usize = 1_024;

/// A planned path: the heights to verify in order (the target last, when it is reachable)
/// and the validator sets seen on the way (for completing the path's light blocks).
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Heights to verify, increasing.
    pub path: Vec<Height>,
    /// Validator sets fetched while planning.
    pub sets: Vec<ValidatorSet>,
}

/// What a probed header says about the validator sets at its height and the next.
#[derive(Debug, Clone, Copy)]
struct Point {
    validators: Hash,
    next: Hash,
}

impl Point {
    fn of(header: &Header) -> Point {
        Point {
            validators: header.validators_hash,
            next: header.next_validators_hash,
        }
    }
}

/// Plans a path from `trusted` to `target` with headers and validator sets from `provider`.
/// `None` when nothing useful can be planned (a gap of two or less, or the node does not
/// answer the probes consistently): the caller bisects instead.
pub(crate) async fn plan(
    provider: &dyn Provider,
    trusted: &LightBlock,
    target: &LightBlock,
    level: TrustLevel,
) -> Option<Plan> {
    let from = trusted.height().value();
    let to = target.height().value();
    if to <= from + 2 {
        return None;
    }
    let mut points: BTreeMap<u64, Point> = BTreeMap::new();
    points.insert(from, Point::of(&trusted.signed_header.header));
    points.insert(to, Point::of(&target.signed_header.header));

    // Round 1: an even grid. Then, while an interval's ends disagree (the set after its
    // first height is not the set at its last), probe inside it.
    let gap = to - from;
    let grid = GRID
        .max(gap.div_ceil(GRID_SPACING))
        .min(MAX_GRID)
        .min(gap - 1);
    let mut asks: Vec<u64> = (1..=grid)
        .map(|k| from + k * gap / (grid + 1))
        .filter(|h| *h > from && *h < to)
        .collect();
    asks.dedup();
    // The sets already held (the trusted and target blocks'); the others are fetched, one per
    // distinct hash, at the first height known to have it: those seen by earlier rounds
    // while the next round is probed, the rest after the last round.
    let mut sets: HashMap<Hash, ValidatorSet> = HashMap::new();
    for set in [
        Some(&trusted.validators),
        trusted.next_validators.as_ref(),
        Some(&target.validators),
        target.next_validators.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        sets.insert(set.hash(), set.clone());
    }
    let mut probed = 0usize;
    for round in 0..MAX_ROUNDS {
        if round >= 2 {
            // Only the ends of the sets the path will land on must be found to the block;
            // a change the path steps over needs no more probes.
            let over = stepped_over(&points, &sets, from, to, level);
            asks.retain(|&h| {
                points
                    .range(..h)
                    .next_back()
                    .is_none_or(|(x, _)| !over.contains(x))
            });
        }
        if asks.is_empty() || probed + asks.len() > MAX_PROBES {
            break;
        }
        probed += asks.len();
        let heights: Vec<Height> = asks.iter().map(|&h| Height(h)).collect();
        // The sets seen so far are fetched alongside (no round trip of their own).
        let wanted = if round >= 1 {
            wanted_sets(&points, &sets)
        } else {
            BTreeMap::new()
        };
        if wanted.len() + sets.len() > MAX_SETS {
            return None;
        }
        let set_heights: Vec<Height> = wanted.values().map(|&h| Height(h)).collect();
        let (headers, fetched) = futures_util::future::join(
            provider.headers(&heights),
            provider.validator_sets(&set_heights),
        )
        .await;
        for (h, answer) in asks.iter().zip(headers) {
            points.insert(*h, Point::of(&answer.ok()?));
        }
        keep_sets(&wanted, fetched, &mut sets)?;
        asks = open_intervals(&points)?;
    }

    let wanted = wanted_sets(&points, &sets);
    if wanted.len() + sets.len() > MAX_SETS {
        return None;
    }
    if !wanted.is_empty() {
        let heights: Vec<Height> = wanted.values().map(|&h| Height(h)).collect();
        keep_sets(&wanted, provider.validator_sets(&heights).await, &mut sets)?;
    }

    let path = greedy(&points, &sets, from, to, level);
    (!path.is_empty()).then(|| Plan {
        path,
        sets: sets.into_values().collect(),
    })
}

/// Keeps the sets answered for `wanted` (each hash with the height it was asked at); `None`
/// when one is missing or is not the set its hash names.
fn keep_sets(
    wanted: &BTreeMap<Hash, u64>,
    answers: Vec<Result<ValidatorSet, crate::provider::ProviderError>>,
    sets: &mut HashMap<Hash, ValidatorSet>,
) -> Option<()> {
    if answers.len() != wanted.len() {
        return None;
    }
    for (hash, answer) in wanted.keys().zip(answers) {
        let set = answer.ok()?;
        if set.hash() != *hash {
            return None;
        }
        sets.insert(*hash, set);
    }
    Some(())
}

/// The sets named by `points` that are not in `sets`, each with the first height known to
/// be signed by it.
fn wanted_sets(
    points: &BTreeMap<u64, Point>,
    sets: &HashMap<Hash, ValidatorSet>,
) -> BTreeMap<Hash, u64> {
    let mut wanted: BTreeMap<Hash, u64> = BTreeMap::new();
    for (&h, p) in points {
        for (hash, at) in [(p.validators, h), (p.next, h + 1)] {
            if !sets.contains_key(&hash) {
                let slot = wanted.entry(hash).or_insert(at);
                *slot = (*slot).min(at);
            }
        }
    }
    wanted
}

/// The probed heights `x` whose interval to the next probed height holds a change the greedy
/// path steps over: walked over the distinct sets the probes have seen so far, in order, only
/// the ends of the sets the path lands on must be found to the block. The walk stops at a set
/// not fetched yet (everything after it is still refined).
fn stepped_over(
    points: &BTreeMap<u64, Point>,
    sets: &HashMap<Hash, ValidatorSet>,
    from: u64,
    to: u64,
    level: TrustLevel,
) -> HashSet<u64> {
    // The distinct sets in the order they sign blocks after `from`, and for each probed
    // height the position of the set that signs the block after it.
    let mut sequence: Vec<Hash> = Vec::new();
    let mut next_at: BTreeMap<u64, usize> = BTreeMap::new();
    for (&h, p) in points.range(from..=to) {
        if h > from && sequence.last() != Some(&p.validators) {
            sequence.push(p.validators);
        }
        if h < to {
            if sequence.last() != Some(&p.next) {
                sequence.push(p.next);
            }
            next_at.insert(h, sequence.len() - 1);
        }
    }
    // Positions `i` whose change (set `i` to set `i + 1`) is stepped over.
    let mut over: HashSet<usize> = HashSet::new();
    let mut at = 0;
    'walk: while at + 1 < sequence.len() {
        let Some(trusted) = sets.get(&sequence[at]) else {
            break;
        };
        let mut furthest = at;
        for (j, hash) in sequence.iter().enumerate().skip(at + 1) {
            let Some(signing) = sets.get(hash) else {
                over.extend(at..furthest);
                break 'walk;
            };
            if reaches_set(trusted, signing, level) {
                furthest = j;
            }
        }
        over.extend(at..furthest);
        at = furthest + 1;
    }
    next_at
        .into_iter()
        .filter(|(_, i)| over.contains(i))
        .map(|(h, _)| h)
        .collect()
}

/// Whether the members of `signing` hold more than `level` of `trusted`'s power.
fn reaches_set(trusted: &ValidatorSet, signing: &ValidatorSet, level: TrustLevel) -> bool {
    let signers: HashSet<Address> = signing.validators().iter().map(|v| v.address).collect();
    let tallied: u64 = trusted
        .validators()
        .iter()
        .filter(|v| signers.contains(&v.address))
        .map(|v| v.voting_power)
        .sum();
    tallied > level.power_needed(trusted.total_voting_power())
}

/// The heights to probe next: up to [`PER_INTERVAL`] evenly inside each interval between
/// probed heights whose ends disagree. `None` when two adjacent headers contradict each
/// other (the first names a next set the second is not signed by).
fn open_intervals(points: &BTreeMap<u64, Point>) -> Option<Vec<u64>> {
    let mut asks = Vec::new();
    for ((&x, px), (&y, py)) in points.iter().zip(points.iter().skip(1)) {
        if px.next == py.validators {
            continue;
        }
        let inside = y - x - 1;
        if inside == 0 {
            return None;
        }
        let k = PER_INTERVAL.min(inside);
        asks.extend((1..=k).map(|i| x + i * (y - x) / (k + 1)));
    }
    asks.dedup();
    Some(asks)
}

/// Greedy furthest-reachable steps from `from` over the probed heights: a height is
/// reachable from a trusted one when it is the next height signed by the trusted next set,
/// or when validators of the trusted next set that belong to its set hold more than `level`
/// of the trusted set's power (assuming they sign, as on a live chain; verification decides).
fn greedy(
    points: &BTreeMap<u64, Point>,
    sets: &HashMap<Hash, ValidatorSet>,
    from: u64,
    to: u64,
    level: TrustLevel,
) -> Vec<Height> {
    let members: HashMap<Hash, HashSet<Address>> = sets
        .iter()
        .map(|(hash, set)| (*hash, set.validators().iter().map(|v| v.address).collect()))
        .collect();
    let mut reach: HashMap<(Hash, Hash), bool> = HashMap::new();
    let mut reaches = |trusted: Hash, signing: Hash| -> bool {
        *reach.entry((trusted, signing)).or_insert_with(|| {
            let (Some(set), Some(signers)) = (sets.get(&trusted), members.get(&signing)) else {
                return false;
            };
            let tallied: u64 = set
                .validators()
                .iter()
                .filter(|v| signers.contains(&v.address))
                .map(|v| v.voting_power)
                .sum();
            tallied > level.power_needed(set.total_voting_power())
        })
    };
    let mut path = Vec::new();
    let mut at = from;
    while at < to {
        let trusted_next = points[&at].next;
        let step = points
            .range(at + 1..)
            .rev()
            .find(|(&h, p)| {
                (h == at + 1 && p.validators == trusted_next) || reaches(trusted_next, p.validators)
            })
            .map(|(&h, _)| h);
        match step {
            Some(h) => {
                path.push(Height(h));
                at = h;
            }
            None => break,
        }
    }
    path
}
