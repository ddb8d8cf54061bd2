//! The in-memory versioned node store behind the Jellyfish Merkle tree, with pruning.
//!
//! Holds the tree nodes, every key's value history (leaves only hold value hashes), and the
//! key preimages that ICS-23 non-existence proofs need. Versions older than the retention
//! window are pruned: stale nodes are dropped and value histories compacted.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jmt::storage::{
    HasPreimage, LeafNode, Node, NodeKey, StaleNodeIndex, TreeReader, TreeUpdateBatch,
};
use jmt::{KeyHash, OwnedValue, Version};

/// A value history: `(version, value)` pairs in increasing version order; `None` is a deletion.
type History = Vec<(Version, Option<OwnedValue>)>;

/// The tree's storage, kept in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    nodes: HashMap<NodeKey, Node>,
    values: HashMap<KeyHash, History>,
    preimages: HashMap<KeyHash, Vec<u8>>,
    stale: BTreeSet<StaleNodeIndex>,
    /// Keys written at each version not yet compacted.
    writes: BTreeMap<Version, Vec<KeyHash>>,
}

/// Sizes of the store, for monitoring and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    /// Tree nodes held.
    pub nodes: usize,
    /// Distinct keys ever written.
    pub keys: usize,
    /// Stale nodes waiting to be pruned.
    pub stale_nodes: usize,
}

impl MemoryStore {
    /// Records a key's preimage (needed for non-existence proofs that name it as a neighbour).
    pub fn put_preimage(&mut self, key_hash: KeyHash, key: &[u8]) {
        self.preimages
            .entry(key_hash)
            .or_insert_with(|| key.to_vec());
    }

    /// Applies a batch produced by the tree for a new version.
    pub fn apply(&mut self, batch: TreeUpdateBatch) {
        for (k, n) in batch.node_batch.nodes() {
            self.nodes.insert(k.clone(), n.clone());
        }
        for ((version, key_hash), value) in batch.node_batch.values() {
            let h = self.values.entry(*key_hash).or_default();
            match h.last_mut() {
                Some((v, old)) if v == version => *old = value.clone(),
                _ => h.push((*version, value.clone())),
            }
            self.writes.entry(*version).or_default().push(*key_hash);
        }
        self.stale.extend(batch.stale_node_index_batch);
    }

    /// The latest value of `key_hash` at or before `version`.
    pub fn value_at(&self, version: Version, key_hash: KeyHash) -> Option<&[u8]> {
        let h = self.values.get(&key_hash)?;
        let idx = h.partition_point(|(v, _)| *v <= version);
        if idx == 0 {
            return None;
        }
        h[idx - 1].1.as_deref()
    }

    /// Drops everything only versions below `least_readable` need.
    pub fn prune(&mut self, least_readable: Version) {
        while let Some(first) = self.stale.first() {
            if first.stale_since_version > least_readable {
                break;
            }
            if let Some(idx) = self.stale.pop_first() {
                self.nodes.remove(&idx.node_key);
            }
        }
        let later = self.writes.split_off(&(least_readable + 1));
        let done = std::mem::replace(&mut self.writes, later);
        for key_hash in done.into_values().flatten() {
            if let Some(h) = self.values.get_mut(&key_hash) {
                let idx = h.partition_point(|(v, _)| *v <= least_readable);
                if idx > 1 {
                    h.drain(..idx - 1);
                }
            }
        }
    }

    /// Current sizes.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            nodes: self.nodes.len(),
            keys: self.values.len(),
            stale_nodes: self.stale.len(),
        }
    }
}

impl TreeReader for MemoryStore {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        Ok(self.nodes.get(node_key).cloned())
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        Ok(self.value_at(max_version, key_hash).map(<[u8]>::to_vec))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only the tree's restore and migration features call this; the registry uses neither.
        Err(anyhow::anyhow!(
            "get_rightmost_leaf is not supported by MemoryStore"
        ))
    }
}

impl HasPreimage for MemoryStore {
    fn preimage(&self, key_hash: KeyHash) -> anyhow::Result<Option<Vec<u8>>> {
        Ok(self.preimages.get(&key_hash).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jmt::Sha256Jmt;

    fn put(store: &mut MemoryStore, version: Version, kvs: &[(&[u8], &[u8])]) -> [u8; 32] {
        let set: Vec<_> = kvs
            .iter()
            .map(|(k, v)| {
                let h = KeyHash::with::<sha2::Sha256>(k);
                store.put_preimage(h, k);
                (h, Some(v.to_vec()))
            })
            .collect();
        let (root, batch) = Sha256Jmt::new(&*store).put_value_set(set, version).unwrap();
        store.apply(batch);
        root.0
    }

    #[test]
    fn versions_and_pruning() {
        let mut s = MemoryStore::default();
        let k = KeyHash::with::<sha2::Sha256>(b"a");
        put(&mut s, 0, &[(b"a", b"1"), (b"b", b"1")]);
        put(&mut s, 1, &[(b"a", b"2")]);
        let r2 = put(&mut s, 2, &[(b"a", b"3")]);
        assert_eq!(s.value_at(0, k), Some(&b"1"[..]));
        assert_eq!(s.value_at(1, k), Some(&b"2"[..]));
        let before = s.stats().nodes;
        s.prune(2);
        assert!(s.stats().nodes < before);
        assert_eq!(s.value_at(2, k), Some(&b"3"[..]));
        assert_eq!(s.values[&k].len(), 1);
        let tree = Sha256Jmt::new(&s);
        assert_eq!(tree.get_root_hash(2).unwrap().0, r2);
        let (v, _) = tree.get_with_ics23_proof(b"b".to_vec(), 2).unwrap();
        assert_eq!(v.as_deref(), Some(&b"1"[..]));
    }
}
