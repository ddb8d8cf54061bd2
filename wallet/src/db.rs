//! The wallet's SQLite files (`keys.sqlite`, `history.sqlite`): one way to open them — WAL,
//! one connection, the file's migrations applied — or the same in memory for unit tests.

use std::path::Path;
use std::str::FromStr as _;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Opens (or creates) the database at `path` (`None`: in memory) and runs `migrator`. The
/// error is said in words; callers wrap it in their own error type.
pub async fn open(
    path: Option<&Path>,
    synchronous: SqliteSynchronous,
    migrator: &Migrator,
) -> Result<SqlitePool, String> {
    let options = match path {
        Some(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("creating {}: {e}", dir.display()))?;
            }
            SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
        }
        None => SqliteConnectOptions::from_str("sqlite::memory:").map_err(|e| e.to_string())?,
    };
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(|e| e.to_string())?;
    migrator
        .run(&pool)
        .await
        .map_err(|e| format!("migrating: {e}"))?;
    Ok(pool)
}
