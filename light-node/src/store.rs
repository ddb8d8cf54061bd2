//! [`SqliteStore`]: the trusted light blocks, on disk (SQLite in WAL mode, embedded
//! migrations). Every write is one transaction, so a kill at any moment leaves the last
//! committed state; a corrupt or foreign database is moved aside and a fresh one started.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use light_client::{Hash, Height, LightBlock, SignedHeader, ValidatorSet};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

/// What the store belongs to: a database made for another chain config is foreign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreIdentity {
    /// The chain id.
    pub chain_id: String,
    /// The checkpoint height.
    pub checkpoint_height: Height,
    /// The checkpoint hash.
    pub checkpoint_hash: Hash,
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be set up.
    #[error("database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row does not decode or does not match its hash.
    #[error("stored light block at height {height} is damaged: {reason}")]
    Damaged {
        /// The height.
        height: u64,
        /// What is wrong.
        reason: String,
    },
    /// Moving a bad database aside failed.
    #[error("moving {path} aside: {source}")]
    MoveAside {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// How many verified light blocks to keep (besides the checkpoint and the latest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneWindow(pub u32);

impl Default for PruneWindow {
    fn default() -> Self {
        PruneWindow(1000)
    }
}

/// The store, and what happened while opening it.
#[derive(Debug)]
pub struct Opened {
    /// The store, ready.
    pub store: SqliteStore,
    /// Set when an existing database could not be used and was moved aside: says why and
    /// where it went.
    pub moved_aside: Option<String>,
}

/// An evidence record as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvidence {
    /// Row id.
    pub id: i64,
    /// When it was detected (RFC 3339).
    pub detected_at: String,
    /// The report (JSON, the light node's [`crate::ForkReport`]).
    pub report: String,
    /// The evidence (JSON, CometBFT's shape).
    pub evidence: String,
}

const FORMAT: &str = "tradeseal-light-store/1";

/// The trusted-header store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    identity: StoreIdentity,
    window: PruneWindow,
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
}

impl SqliteStore {
    /// Opens (or creates) the store at `path` for `identity`. A file that is not a usable
    /// store (corrupt, another program's, another chain's) is renamed with a `.corrupt` or
    /// `.foreign` suffix and a fresh store created; [`Opened::moved_aside`] says so.
    pub async fn open(
        path: &Path,
        identity: StoreIdentity,
        window: PruneWindow,
    ) -> Result<Opened, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::MoveAside {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let existed = path.exists();
        match Self::try_open(options(path), &identity, window).await {
            Ok(store) => Ok(Opened {
                store,
                moved_aside: None,
            }),
            Err(problem) if existed => {
                let suffix = match problem {
                    Problem::Foreign(_) => "foreign",
                    Problem::Broken(_) => "corrupt",
                };
                let aside = move_aside(path, suffix)?;
                let store = Self::try_open(options(path), &identity, window)
                    .await
                    .map_err(Problem::into_error)?;
                Ok(Opened {
                    store,
                    moved_aside: Some(format!(
                        "the header store {} was moved to {} ({}); syncing again from the checkpoint",
                        path.display(),
                        aside.display(),
                        problem.reason()
                    )),
                })
            }
            Err(problem) => Err(problem.into_error()),
        }
    }

    /// A store in memory (tests, and the CLI's `--in-memory`).
    pub async fn in_memory(
        identity: StoreIdentity,
        window: PruneWindow,
    ) -> Result<SqliteStore, StoreError> {
        let opts = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        Self::try_open(opts, &identity, window)
            .await
            .map_err(Problem::into_error)
    }

    async fn try_open(
        opts: SqliteConnectOptions,
        identity: &StoreIdentity,
        window: PruneWindow,
    ) -> Result<SqliteStore, Problem> {
        // One connection: writes are serialised anyway, and an in-memory database is per
        // connection.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| Problem::Broken(e.to_string()))?;
        let check: String = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_one(&pool)
            .await
            .map_err(|e| Problem::Broken(e.to_string()))?;
        if check != "ok" {
            pool.close().await;
            return Err(Problem::Broken(format!("integrity check: {check}")));
        }
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&pool)
                .await
                .map_err(|e| Problem::Broken(e.to_string()))?;
        let fresh = tables.is_empty();
        if !fresh && !tables.iter().any(|t| t == "meta") {
            pool.close().await;
            return Err(Problem::Foreign("not a Tradeseal header store".into()));
        }
        if let Err(e) = sqlx::migrate!("./migrations").run(&pool).await {
            pool.close().await;
            return Err(Problem::Broken(format!("schema: {e}")));
        }
        let store = SqliteStore {
            pool,
            identity: identity.clone(),
            window,
        };
        let expected = [
            ("format", FORMAT.to_owned()),
            ("chain_id", identity.chain_id.clone()),
            (
                "checkpoint_height",
                identity.checkpoint_height.value().to_string(),
            ),
            ("checkpoint_hash", identity.checkpoint_hash.to_hex()),
        ];
        if fresh {
            for (k, v) in &expected {
                store
                    .set_meta(k, v)
                    .await
                    .map_err(|e| Problem::Broken(e.to_string()))?;
            }
        } else {
            for (k, v) in &expected {
                let stored = store
                    .meta(k)
                    .await
                    .map_err(|e| Problem::Broken(e.to_string()))?;
                if stored.as_deref() != Some(v.as_str()) {
                    store.pool.close().await;
                    return Err(Problem::Foreign(format!(
                        "it was made for another {} ({})",
                        k.replace('_', " "),
                        stored.unwrap_or_else(|| "none".into())
                    )));
                }
            }
            // The newest block must decode and hash right; the rest is checked when used.
            if let Err(e) = store.latest().await {
                store.pool.close().await;
                return Err(Problem::Broken(e.to_string()));
            }
        }
        Ok(store)
    }

    /// What this store belongs to.
    pub fn identity(&self) -> &StoreIdentity {
        &self.identity
    }

    /// A value from the `meta` table.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Sets (or, with `None`, deletes) a value in the `meta` table.
    pub async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes a value from the `meta` table.
    pub async fn delete_meta(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM meta WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a verified light block and prunes, in one transaction.
    pub async fn insert(&self, block: &LightBlock) -> Result<(), StoreError> {
        let header = &block.signed_header.header;
        let height = i64::try_from(header.height.value()).map_err(|_| StoreError::Damaged {
            height: header.height.value(),
            reason: "height does not fit SQLite's integer".into(),
        })?;
        let mut tx = self.pool.begin().await?;
        let vals_hash = header.validators_hash.to_hex();
        put_set(&mut tx, &vals_hash, &block.validators).await?;
        let next_hash = match &block.next_validators {
            Some(next) => {
                let hash = header.next_validators_hash.to_hex();
                put_set(&mut tx, &hash, next).await?;
                Some(hash)
            }
            None => None,
        };
        let signed_header =
            serde_json::to_string(&block.signed_header).expect("a signed header serialises");
        sqlx::query(
            "INSERT OR REPLACE INTO light_blocks (height, hash, time, signed_header, validators_hash, next_validators_hash) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(height)
        .bind(header.hash().to_hex())
        .bind(header.time.to_rfc3339())
        .bind(signed_header)
        .bind(vals_hash)
        .bind(next_hash)
        .execute(&mut *tx)
        .await?;
        // Keep the checkpoint, and the newest `window` blocks (the latest among them).
        sqlx::query(
            "DELETE FROM light_blocks WHERE height != ? AND height <= (SELECT MAX(height) FROM light_blocks) - ?",
        )
        .bind(self.identity.checkpoint_height.value() as i64)
        .bind(i64::from(self.window.0.max(1)))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM validator_sets WHERE hash NOT IN (SELECT validators_hash FROM light_blocks UNION SELECT next_validators_hash FROM light_blocks WHERE next_validators_hash IS NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest stored block.
    pub async fn latest(&self) -> Result<Option<LightBlock>, StoreError> {
        self.one(
            "SELECT * FROM light_blocks ORDER BY height DESC LIMIT 1",
            None,
        )
        .await
    }

    /// The block at `height`, if stored.
    pub async fn get(&self, height: Height) -> Result<Option<LightBlock>, StoreError> {
        self.one("SELECT * FROM light_blocks WHERE height = ?", Some(height))
            .await
    }

    /// The highest stored block at or below `height`.
    pub async fn at_or_below(&self, height: Height) -> Result<Option<LightBlock>, StoreError> {
        self.one(
            "SELECT * FROM light_blocks WHERE height <= ? ORDER BY height DESC LIMIT 1",
            Some(height),
        )
        .await
    }

    /// The lowest stored block above `height`.
    pub async fn above(&self, height: Height) -> Result<Option<LightBlock>, StoreError> {
        self.one(
            "SELECT * FROM light_blocks WHERE height > ? ORDER BY height ASC LIMIT 1",
            Some(height),
        )
        .await
    }

    /// Number of stored blocks.
    pub async fn len(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM light_blocks")
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    /// `true` when no block is stored.
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len().await? == 0)
    }

    /// Forgets every block above `height` (after a fork, back to what both chains agreed).
    pub async fn truncate_above(&self, height: Height) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM light_blocks WHERE height > ?")
            .bind(height.value() as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Keeps a piece of attack evidence.
    pub async fn save_evidence(
        &self,
        detected_at: &str,
        report: &str,
        evidence: &str,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO evidence (detected_at, report, evidence) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(detected_at)
        .bind(report)
        .bind(evidence)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.get(0))
    }

    /// Every piece of evidence kept, oldest first.
    pub async fn evidence(&self) -> Result<Vec<StoredEvidence>, StoreError> {
        let rows =
            sqlx::query("SELECT id, detected_at, report, evidence FROM evidence ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredEvidence {
                id: r.get(0),
                detected_at: r.get(1),
                report: r.get(2),
                evidence: r.get(3),
            })
            .collect())
    }

    /// Closes the database (waits for the connection to finish).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn one(
        &self,
        sql: &str,
        height: Option<Height>,
    ) -> Result<Option<LightBlock>, StoreError> {
        let mut query = sqlx::query(sql);
        if let Some(h) = height {
            query = query.bind(h.value().min(i64::MAX as u64) as i64);
        }
        let Some(row) = query.fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let height: i64 = row.get("height");
        let damaged = |reason: String| StoreError::Damaged {
            height: height as u64,
            reason,
        };
        let signed_header: SignedHeader =
            serde_json::from_str(row.get("signed_header")).map_err(|e| damaged(e.to_string()))?;
        let hash: String = row.get("hash");
        if signed_header.header.hash().to_hex() != hash {
            return Err(damaged("header does not hash to the stored hash".into()));
        }
        let validators = self
            .set(row.get("validators_hash"))
            .await?
            .ok_or_else(|| damaged("validator set missing".into()))?;
        let next_validators = match row.get::<Option<String>, _>("next_validators_hash") {
            Some(h) => Some(
                self.set(h)
                    .await?
                    .ok_or_else(|| damaged("next validator set missing".into()))?,
            ),
            None => None,
        };
        let block = LightBlock {
            signed_header,
            validators,
            next_validators,
        };
        if block.validators.hash() != block.signed_header.header.validators_hash {
            return Err(damaged("validator set does not match the header".into()));
        }
        Ok(Some(block))
    }

    async fn set(&self, hash: String) -> Result<Option<ValidatorSet>, StoreError> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT json FROM validator_sets WHERE hash = ?")
                .bind(&hash)
                .fetch_optional(&self.pool)
                .await?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| StoreError::Damaged {
                height: 0,
                reason: format!("validator set {hash}: {e}"),
            })
        })
        .transpose()
    }
}

async fn put_set(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    hash: &str,
    set: &ValidatorSet,
) -> Result<(), StoreError> {
    let json = serde_json::to_string(set).expect("a validator set serialises");
    sqlx::query("INSERT OR IGNORE INTO validator_sets (hash, json) VALUES (?, ?)")
        .bind(hash)
        .bind(json)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Why an existing database was not used.
enum Problem {
    Foreign(String),
    Broken(String),
}

impl Problem {
    fn reason(&self) -> &str {
        match self {
            Problem::Foreign(r) | Problem::Broken(r) => r,
        }
    }

    fn into_error(self) -> StoreError {
        StoreError::Damaged {
            height: 0,
            reason: self.reason().to_owned(),
        }
    }
}

/// Renames the database (and its WAL and shared-memory files) with a free suffix.
fn move_aside(path: &Path, suffix: &str) -> Result<PathBuf, StoreError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut n = 0;
    let aside = loop {
        let candidate = path.with_file_name(if n == 0 {
            format!("{name}.{suffix}")
        } else {
            format!("{name}.{suffix}.{n}")
        });
        if !candidate.exists() {
            break candidate;
        }
        n += 1;
    };
    let rename = |from: &Path, to: &Path| {
        std::fs::rename(from, to).map_err(|source| StoreError::MoveAside {
            path: from.display().to_string(),
            source,
        })
    };
    rename(path, &aside)?;
    for side in ["-wal", "-shm"] {
        let from = PathBuf::from(format!("{}{side}", path.display()));
        if from.exists() {
            rename(&from, &PathBuf::from(format!("{}{side}", aside.display())))?;
        }
    }
    Ok(aside)
}
