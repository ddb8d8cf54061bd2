//! Key metadata in the wallet's SQLite (`keys.sqlite` in the data directory, migrations from
//! `wallet/migrations/`): label, public key, backend, where the secret lives, what protects
//! it, when it was made. Never a secret.

use std::path::Path;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::{Row as _, SqlitePool};

use super::{BackendKind, KeyInfo, KeystoreError, Locator, Origin};

/// The metadata file's name in the data directory.
pub const FILE: &str = "keys.sqlite";

/// The metadata database.
#[derive(Debug, Clone)]
pub struct MetaStore {
    pool: SqlitePool,
}

fn db(e: sqlx::Error) -> KeystoreError {
    KeystoreError::Database(e.to_string())
}

impl MetaStore {
    /// Opens (or creates) `keys.sqlite` in `dir` and applies the migrations.
    pub async fn open(dir: &Path) -> Result<MetaStore, KeystoreError> {
        Self::with(Some(&dir.join(FILE))).await
    }

    /// A database in memory (unit tests).
    pub async fn in_memory() -> Result<MetaStore, KeystoreError> {
        Self::with(None).await
    }

    async fn with(path: Option<&Path>) -> Result<MetaStore, KeystoreError> {
        static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
        let pool = crate::db::open(path, SqliteSynchronous::Full, &MIGRATOR)
            .await
            .map_err(|e| KeystoreError::Database(format!("the key metadata: {e}")))?;
        Ok(MetaStore { pool })
    }

    /// Every key, oldest first.
    pub async fn list(&self) -> Result<Vec<KeyInfo>, KeystoreError> {
        let rows = sqlx::query(
            "SELECT id, label, public_key, backend, locator, protection, origin, created_at \
             FROM keys ORDER BY created_at, rowid",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(row_to_info).collect()
    }

    /// The key with this label.
    pub async fn get(&self, label: &str) -> Result<Option<KeyInfo>, KeystoreError> {
        let row = sqlx::query(
            "SELECT id, label, public_key, backend, locator, protection, origin, created_at \
             FROM keys WHERE label = ?",
        )
        .bind(label)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(row_to_info).transpose()
    }

    /// Whether a label or public key is taken: `Err(Exists)` names which.
    pub async fn check_free(&self, label: &str, public_key: &str) -> Result<(), KeystoreError> {
        if self.get(label).await?.is_some() {
            return Err(KeystoreError::Exists(format!(
                "a key labelled '{label}' exists"
            )));
        }
        let other: Option<String> =
            sqlx::query_scalar("SELECT label FROM keys WHERE public_key = ?")
                .bind(public_key)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        match other {
            Some(other) => Err(KeystoreError::Exists(format!(
                "this key is already in the wallet as '{other}'"
            ))),
            None => Ok(()),
        }
    }

    /// Records a key.
    pub async fn insert(&self, info: &KeyInfo) -> Result<(), KeystoreError> {
        let locator = serde_json::to_string(&info.locator)
            .map_err(|e| KeystoreError::Database(format!("encoding a locator: {e}")))?;
        sqlx::query(
            "INSERT INTO keys (id, label, public_key, backend, locator, protection, origin, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&info.id)
        .bind(&info.label)
        .bind(&info.public_key)
        .bind(info.backend.as_str())
        .bind(locator)
        .bind(&info.protection)
        .bind(info.origin.as_str())
        .bind(i64::try_from(info.created_at).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                KeystoreError::Exists(format!("label or public key already in use: {d}"))
            }
            _ => db(e),
        })?;
        Ok(())
    }

    /// Changes a key's label.
    pub async fn rename(&self, label: &str, new_label: &str) -> Result<bool, KeystoreError> {
        let done = sqlx::query("UPDATE keys SET label = ? WHERE label = ?")
            .bind(new_label)
            .bind(label)
            .execute(&self.pool)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    KeystoreError::Exists(format!("a key labelled '{new_label}' exists"))
                }
                _ => db(e),
            })?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets a key.
    pub async fn delete(&self, id: &str) -> Result<(), KeystoreError> {
        sqlx::query("DELETE FROM keys WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// The wallet database these tables live in (the outbox and the audit log share it).
    pub fn pool(&self) -> SqlitePool {
        self.pool.clone()
    }

    /// Closes the database (its WAL is checkpointed into the file).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn row_to_info(row: &sqlx::sqlite::SqliteRow) -> Result<KeyInfo, KeystoreError> {
    let get = |name: &str| -> Result<String, KeystoreError> { row.try_get(name).map_err(db) };
    let bad = |what: &str| KeystoreError::Database(format!("a stored key has a bad {what}"));
    let locator: Locator = serde_json::from_str(&get("locator")?).map_err(|_| bad("locator"))?;
    let created_at: i64 = row.try_get("created_at").map_err(db)?;
    Ok(KeyInfo {
        id: get("id")?,
        label: get("label")?,
        public_key: get("public_key")?,
        backend: BackendKind::parse(&get("backend")?).ok_or_else(|| bad("backend"))?,
        locator,
        protection: get("protection")?,
        origin: Origin::parse(&get("origin")?).ok_or_else(|| bad("origin"))?,
        created_at: u64::try_from(created_at).unwrap_or(0),
    })
}
