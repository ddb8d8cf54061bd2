//! SQLite persistence of the chain: one row per block (header, commit, validator sets,
//! transactions and results) and a few metadata entries.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension as _};
use serde::{Deserialize, Serialize};

use crate::app::TxResult;
use crate::block::{BlockId, BlockRecord, Commit, Header, ValidatorSet};

/// A block row: the record with its validator sets replaced by their hashes (sets are stored
/// once each, in their own table).
#[derive(Debug, Serialize, Deserialize)]
struct StoredBlock {
    header: Header,
    block_id: BlockId,
    commit: Commit,
    #[serde(with = "crate::hexser")]
    validators: Vec<u8>,
    #[serde(with = "crate::hexser")]
    next_validators: Vec<u8>,
    #[serde(with = "crate::hexser::list")]
    txs: Vec<Vec<u8>>,
    tx_results: Vec<TxResult>,
    #[serde(with = "crate::hexser")]
    app_hash_after: Vec<u8>,
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored row does not decode.
    #[error("stored block {height} is corrupt: {reason}")]
    Corrupt {
        /// The height.
        height: i64,
        /// Why.
        reason: String,
    },
    /// A record does not encode.
    #[error("cannot encode block: {0}")]
    Encode(#[from] serde_json::Error),
    /// Stored heights are not 1, 2, 3, ...
    #[error("stored chain has a gap before height {0}")]
    Gap(i64),
}

/// The chain database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, record BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS validator_sets (hash BLOB PRIMARY KEY, validators BLOB NOT NULL);",
        )?;
        Ok(Self { conn })
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Sets a metadata value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Stores a block (replacing one at the same height).
    pub fn save_block(&self, record: &BlockRecord) -> Result<(), StoreError> {
        let stored = StoredBlock {
            header: record.header.clone(),
            block_id: record.block_id.clone(),
            commit: record.commit.clone(),
            validators: record.validators.hash().to_vec(),
            next_validators: record.next_validators.hash().to_vec(),
            txs: record.txs.clone(),
            tx_results: record.tx_results.clone(),
            app_hash_after: record.app_hash_after.clone(),
        };
        let bytes = serde_json::to_vec(&stored)?;
        let height = i64::try_from(record.height()).map_err(|_| StoreError::Gap(i64::MAX))?;
        let tx = self.conn.unchecked_transaction()?;
        for set in [&record.validators, &record.next_validators] {
            tx.execute(
                "INSERT OR IGNORE INTO validator_sets (hash, validators) VALUES (?1, ?2)",
                params![set.hash(), serde_json::to_vec(set.as_ref())?],
            )?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO blocks (height, record) VALUES (?1, ?2)",
            params![height, bytes],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn load_sets(&self) -> Result<HashMap<Vec<u8>, Arc<ValidatorSet>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT hash, validators FROM validator_sets")?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let (hash, bytes) = row?;
            let set: ValidatorSet =
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                    height: 0,
                    reason: format!("validator set: {e}"),
                })?;
            out.insert(hash, Arc::new(set));
        }
        Ok(out)
    }

    /// Every stored block, by height.
    pub fn load_blocks(&self) -> Result<Vec<BlockRecord>, StoreError> {
        let sets = self.load_sets()?;
        let mut stmt = self
            .conn
            .prepare("SELECT height, record FROM blocks ORDER BY height")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (height, bytes) = row?;
            let expected = i64::try_from(out.len()).unwrap_or(i64::MAX) + 1;
            if height != expected {
                return Err(StoreError::Gap(expected));
            }
            let s: StoredBlock =
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                    height,
                    reason: e.to_string(),
                })?;
            if i64::try_from(s.header.height).ok() != Some(height) {
                return Err(StoreError::Corrupt {
                    height,
                    reason: "height mismatch".into(),
                });
            }
            let set = |hash: &[u8]| {
                sets.get(hash).cloned().ok_or_else(|| StoreError::Corrupt {
                    height,
                    reason: format!("validator set {} missing", hex::encode_upper(hash)),
                })
            };
            out.push(BlockRecord {
                validators: set(&s.validators)?,
                next_validators: set(&s.next_validators)?,
                header: s.header,
                block_id: s.block_id,
                commit: s.commit,
                txs: s.txs,
                tx_results: s.tx_results,
                app_hash_after: s.app_hash_after,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trips() {
        let s = Store::in_memory().unwrap();
        assert_eq!(s.meta("x").unwrap(), None);
        s.set_meta("x", "1").unwrap();
        s.set_meta("x", "2").unwrap();
        assert_eq!(s.meta("x").unwrap().as_deref(), Some("2"));
        assert!(s.load_blocks().unwrap().is_empty());
    }
}
