//! SQLite persistence of the chain (through sqlx): one row per block (header, commit and
//! validator sets as `light_client` types, by their serde shapes; the sets by hash;
//! transactions; results as ABCI's `ExecTxResult`; in CBOR), each validator set once (JSON),
//! and a few metadata entries (a database of an older block format is refused by the chain's
//! fingerprint, see `Chain::open`). The schema is in `devnet/migrations/`, embedded and applied on open.
//!
//! The chain is synchronous (its producer is a plain thread), sqlx is async: the database
//! connection lives on a thread of its own with a single-threaded tokio runtime, and the
//! [`Store`] methods send it requests and wait for the answer. This works from any thread,
//! inside a tokio runtime or not, and lets a caller hand a batch of blocks over and go on
//! working while they are encoded and written ([`Store::save_blocks_async`]).

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr as _;
use std::sync::{mpsc as std_mpsc, Arc};

use serde::{Deserialize, Serialize};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions as _, Connection as _, Row as _};
use tokio::sync::mpsc;

use light_client::types::{BlockId, Commit, Hash, Header, ValidatorSet};

use crate::app::{ExecTxResult, ValidatorUpdate};
use crate::seal::BlockRecord;

/// The schema, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Block rows written per `INSERT` statement (2 parameters each, far below SQLite's limit).
const ROWS_PER_INSERT: usize = 256;

/// Rows read per query when loading the chain.
const LOAD_PAGE: i64 = 4096;

/// A block row: the record with its validator sets replaced by their hashes (sets are stored
/// once each, in their own table).
#[derive(Debug, Serialize, Deserialize)]
struct StoredBlock {
    header: Header,
    block_id: BlockId,
    commit: Commit,
    validators: Hash,
    next_validators: Hash,
    txs: Vec<serde_bytes::ByteBuf>,
    tx_results: Vec<ExecTxResult>,
    #[serde(default)]
    validator_updates: Vec<ValidatorUpdate>,
    #[serde(with = "serde_bytes")]
    app_hash_after: Vec<u8>,
}

/// A block row borrowing from its record (for writing without copying).
#[derive(Serialize)]
struct StoredBlockRef<'a> {
    header: &'a Header,
    block_id: &'a BlockId,
    commit: &'a Commit,
    validators: Hash,
    next_validators: Hash,
    txs: Vec<&'a serde_bytes::Bytes>,
    tx_results: &'a [ExecTxResult],
    validator_updates: &'a [ValidatorUpdate],
    #[serde(with = "serde_bytes")]
    app_hash_after: &'a [u8],
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("database: {0}")]
    Sqlite(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row does not decode.
    #[error("stored block {height} is corrupt: {reason}")]
    Corrupt {
        /// The height.
        height: i64,
        /// Why.
        reason: String,
    },
    /// A validator set does not encode.
    #[error("cannot encode validator set: {0}")]
    Encode(#[from] serde_json::Error),
    /// A block row does not encode.
    #[error("cannot encode block: {0}")]
    EncodeRow(String),
    /// Stored heights are not 1, 2, 3, ...
    #[error("stored chain has a gap before height {0}")]
    Gap(i64),
    /// The database thread is gone (it failed to start, or panicked).
    #[error("the database thread stopped")]
    Stopped,
    /// The database thread could not be started.
    #[error("starting the database thread: {0}")]
    Thread(#[source] std::io::Error),
}

type Reply<T> = std_mpsc::SyncSender<Result<T, StoreError>>;

enum Request {
    Meta {
        key: String,
        reply: Reply<Option<String>>,
    },
    SetMeta {
        key: String,
        value: String,
        reply: Reply<()>,
    },
    SaveBlocks {
        blocks: Vec<Arc<BlockRecord>>,
        meta: Vec<(String, String)>,
        reply: Reply<()>,
    },
    LoadBlocks {
        reply: Reply<Vec<BlockRecord>>,
    },
}

/// A write handed to the database thread; [`PendingWrite::wait`] for its outcome.
#[derive(Debug)]
#[must_use = "a write's outcome is only known after `wait`"]
pub struct PendingWrite(std_mpsc::Receiver<Result<(), StoreError>>);

impl PendingWrite {
    /// Waits until the write is committed (or failed).
    pub fn wait(self) -> Result<(), StoreError> {
        self.0.recv().unwrap_or(Err(StoreError::Stopped))
    }
}

/// The chain database.
#[derive(Debug)]
pub struct Store {
    requests: Option<mpsc::UnboundedSender<Request>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, in WAL journal mode, and brings its
    /// schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal);
        Self::start(options)
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::start(SqliteConnectOptions::from_str("sqlite::memory:")?)
    }

    fn start(options: SqliteConnectOptions) -> Result<Self, StoreError> {
        let (requests, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = std_mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("devnet-store".into())
            .spawn(move || run(options, rx, &ready_tx))
            .map_err(StoreError::Thread)?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Self {
                requests: Some(requests),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(StoreError::Stopped)
            }
        }
    }

    fn ask<T>(
        &self,
        make: impl FnOnce(Reply<T>) -> Request,
    ) -> std_mpsc::Receiver<Result<T, StoreError>> {
        let (reply, rx) = std_mpsc::sync_channel(1);
        if let Some(requests) = &self.requests {
            // A send error drops the request and its reply sender: `rx` then reports Stopped.
            let _ = requests.send(make(reply));
        }
        rx
    }

    fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, StoreError> {
        self.ask(make).recv().unwrap_or(Err(StoreError::Stopped))
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.call(|reply| Request::Meta {
            key: key.to_string(),
            reply,
        })
    }

    /// Sets a metadata value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.call(|reply| Request::SetMeta {
            key: key.to_string(),
            value: value.to_string(),
            reply,
        })
    }

    /// Stores a block (replacing one at the same height), atomically.
    pub fn save_block(&self, record: &Arc<BlockRecord>) -> Result<(), StoreError> {
        self.save_blocks_async(vec![record.clone()], Vec::new())
            .wait()
    }

    /// Hands `blocks` (and metadata entries) to the database thread, to be written in one
    /// transaction: all or none. Returns at once; the caller waits when it needs the outcome.
    pub fn save_blocks_async(
        &self,
        blocks: Vec<Arc<BlockRecord>>,
        meta: Vec<(String, String)>,
    ) -> PendingWrite {
        PendingWrite(self.ask(|reply| Request::SaveBlocks {
            blocks,
            meta,
            reply,
        }))
    }

    /// Every stored block, by height.
    pub fn load_blocks(&self) -> Result<Vec<BlockRecord>, StoreError> {
        self.call(|reply| Request::LoadBlocks { reply })
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // Closing the channel ends the thread, which closes the connection (WAL checkpoint).
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The database thread: opens the connection, applies the migrations, serves requests until
/// every [`Store`] handle is gone.
fn run(
    options: SqliteConnectOptions,
    mut rx: mpsc::UnboundedReceiver<Request>,
    ready: &std_mpsc::SyncSender<Result<(), StoreError>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(StoreError::Thread(e)));
            return;
        }
    };
    runtime.block_on(async move {
        let mut conn = match connect(&options).await {
            Ok(c) => {
                let _ = ready.send(Ok(()));
                c
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        while let Some(request) = rx.recv().await {
            match request {
                Request::Meta { key, reply } => {
                    let _ = reply.send(meta(&mut conn, &key).await);
                }
                Request::SetMeta { key, value, reply } => {
                    let _ = reply.send(set_meta(&mut conn, &key, &value).await);
                }
                Request::SaveBlocks {
                    blocks,
                    meta,
                    reply,
                } => {
                    let _ = reply.send(save_blocks(&mut conn, &blocks, &meta).await);
                }
                Request::LoadBlocks { reply } => {
                    let _ = reply.send(load_blocks(&mut conn).await);
                }
            }
        }
        if let Err(e) = conn.close().await {
            tracing::warn!(error = %e, "closing the chain database");
        }
    });
}

async fn connect(options: &SqliteConnectOptions) -> Result<SqliteConnection, StoreError> {
    let mut conn = options.connect().await?;
    MIGRATOR.run(&mut conn).await?;
    Ok(conn)
}

async fn meta(conn: &mut SqliteConnection, key: &str) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = ?1")
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?)
}

const UPSERT_META: &str = "INSERT INTO meta (key, value) VALUES (?1, ?2)
     ON CONFLICT(key) DO UPDATE SET value = excluded.value";

async fn set_meta(conn: &mut SqliteConnection, key: &str, value: &str) -> Result<(), StoreError> {
    sqlx::query(UPSERT_META)
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn encode(record: &BlockRecord) -> Result<(i64, Vec<u8>), StoreError> {
    let height = i64::try_from(record.height()).map_err(|_| StoreError::Gap(i64::MAX))?;
    let mut bytes = Vec::with_capacity(1024);
    ciborium::into_writer(
        &StoredBlockRef {
            header: &record.header,
            block_id: &record.block_id,
            commit: &record.commit,
            validators: record.validators.hash(),
            next_validators: record.next_validators.hash(),
            txs: record
                .txs
                .iter()
                .map(|t| serde_bytes::Bytes::new(t))
                .collect(),
            tx_results: &record.tx_results,
            validator_updates: &record.validator_updates,
            app_hash_after: &record.app_hash_after,
        },
        &mut bytes,
    )
    .map_err(|e| StoreError::EncodeRow(e.to_string()))?;
    Ok((height, bytes))
}

async fn save_blocks(
    conn: &mut SqliteConnection,
    blocks: &[Arc<BlockRecord>],
    meta: &[(String, String)],
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    // Consecutive blocks mostly share their sets: write each set once per batch.
    let mut written: Vec<Hash> = Vec::new();
    for record in blocks {
        for set in [&record.validators, &record.next_validators] {
            let hash = set.hash();
            if written.contains(&hash) {
                continue;
            }
            written.push(hash);
            sqlx::query("INSERT OR IGNORE INTO validator_sets (hash, validators) VALUES (?1, ?2)")
                .bind(hash.as_bytes().as_slice())
                .bind(serde_json::to_vec(set.as_ref())?)
                .execute(&mut *tx)
                .await?;
        }
    }
    // Several rows per statement: each statement is a round trip to sqlx's SQLite thread.
    for chunk in blocks.chunks(ROWS_PER_INSERT) {
        let rows = chunk
            .iter()
            .map(|r| encode(r))
            .collect::<Result<Vec<_>, _>>()?;
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT OR REPLACE INTO blocks (height, record) ",
        );
        insert.push_values(&rows, |mut row, (height, bytes)| {
            row.push_bind(*height).push_bind(bytes.as_slice());
        });
        insert.build().execute(&mut *tx).await?;
    }
    for (key, value) in meta {
        sqlx::query(UPSERT_META)
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn load_sets(
    conn: &mut SqliteConnection,
) -> Result<HashMap<Hash, Arc<ValidatorSet>>, StoreError> {
    let rows = sqlx::query("SELECT hash, validators FROM validator_sets")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for row in rows {
        let hash: Vec<u8> = row.try_get(0)?;
        let hash = Hash::from_slice(&hash).map_err(|e| StoreError::Corrupt {
            height: 0,
            reason: format!("validator set hash: {e}"),
        })?;
        let bytes: Vec<u8> = row.try_get(1)?;
        let set: ValidatorSet =
            serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                height: 0,
                reason: format!("validator set: {e}"),
            })?;
        out.insert(hash, Arc::new(set));
    }
    Ok(out)
}

async fn load_blocks(conn: &mut SqliteConnection) -> Result<Vec<BlockRecord>, StoreError> {
    let sets = load_sets(conn).await?;
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let rows = sqlx::query(
            "SELECT height, record FROM blocks WHERE height > ?1 ORDER BY height LIMIT ?2",
        )
        .bind(after)
        .bind(LOAD_PAGE)
        .fetch_all(&mut *conn)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(out);
        };
        after = last.try_get(0)?;
        for row in rows {
            let height: i64 = row.try_get(0)?;
            let bytes: &[u8] = row.try_get(1)?;
            let expected = i64::try_from(out.len()).unwrap_or(i64::MAX) + 1;
            if height != expected {
                return Err(StoreError::Gap(expected));
            }
            out.push(decode(height, bytes, &sets)?);
        }
    }
}

fn decode(
    height: i64,
    bytes: &[u8],
    sets: &HashMap<Hash, Arc<ValidatorSet>>,
) -> Result<BlockRecord, StoreError> {
    let s: StoredBlock = ciborium::from_reader(bytes).map_err(|e| StoreError::Corrupt {
        height,
        reason: e.to_string(),
    })?;
    if i64::try_from(s.header.height.value()).ok() != Some(height) {
        return Err(StoreError::Corrupt {
            height,
            reason: "height mismatch".into(),
        });
    }
    let set = |hash: &Hash| {
        sets.get(hash).cloned().ok_or_else(|| StoreError::Corrupt {
            height,
            reason: format!("validator set {} missing", hash.to_hex()),
        })
    };
    Ok(BlockRecord {
        validators: set(&s.validators)?,
        next_validators: set(&s.next_validators)?,
        header: s.header,
        block_id: s.block_id,
        commit: s.commit,
        txs: s
            .txs
            .into_iter()
            .map(serde_bytes::ByteBuf::into_vec)
            .collect(),
        tx_results: s.tx_results,
        validator_updates: s.validator_updates,
        app_hash_after: s.app_hash_after,
    })
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn works_inside_a_runtime_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chain.sqlite");
        {
            let s = Store::open(&path).unwrap();
            s.save_blocks_async(Vec::new(), vec![("k".into(), "v".into())])
                .wait()
                .unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.meta("k").unwrap().as_deref(), Some("v"));
        // Opened in WAL mode.
        assert!(dir.path().join("chain.sqlite-wal").exists());
        drop(s);
    }
}
