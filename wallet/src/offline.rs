//! Offline knowledge (`offline.sqlite` in the data directory, migrations in
//! `wallet/migrations/offline/`): the issuer registry and the revocation log, synced while
//! online and checked against verified headers, so that a field inspector can judge a scanned
//! certificate with no network.
//!
//! A sync proves, at one state height H: `meta/block`, each log's length (`<log>/len`) and
//! hash-chain head (`<log>/head`, `registry::log`). The entries the device lacks
//! (`[stored len, proven len)`) are fetched in pages with no proof (`/log/<name>` at H), and
//! the head the device holds is extended over them: only if it equals the proven head are they
//! believed (a node that changes, drops, adds or reorders an entry fails the sync, naming the
//! nodes that served the pages). A chain without a head for a log (state written before heads
//! existed) has every new entry of that log proven on its own instead. Then the record of
//! every issuer a new issuer-log entry names (at the first sync: all of them) is proven. The
//! logs are append-only, so entries checked at an earlier height stay true; an issuer record
//! changes only with an issuer-log entry, so the records kept are those of height H. A proven
//! length smaller than the stored one, a head that disagrees with its length, a log entry
//! naming an issuer with no record, or a value that does not decode is a chain that
//! contradicts itself: the sync fails and the stored knowledge is kept. Everything is written
//! in one transaction, with the heads the next sync extends.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use light_client::Height;
use light_node::{LightNode, Proven, QueryRequest};
use registry::log::{
    Log, LogHead, Page, PageRequest, MAX_ENTRY_BYTES, MAX_PAGE_BYTES, MAX_PAGE_ENTRIES,
};
use registry::offline::TrustSnapshot;
use registry::state::{BlockMeta, IssuerLogEntry, IssuerRecord, RevocationEntry};
use registry::{keys, Canonical, CertId, IssuerId};
use sqlx::sqlite::SqliteSynchronous;
use sqlx::{Row as _, SqlitePool};
use tradeseal_api::{OfflineStatus, OfflineSync};

use crate::{RegistryProofs, WalletError};

/// The file's name in the data directory.
pub const FILE: &str = "offline.sqlite";
/// Values proven per `query_many` call (each call is a few JSON-RPC batches).
pub const CHUNK: usize = 1000;
/// Entries asked per log page (the registry's bound, `registry::log::MAX_PAGE_ENTRIES`).
pub const PAGE: u32 = MAX_PAGE_ENTRIES;
/// Pages asked per JSON-RPC batch (at most 8 × 256 KiB of entries, within the light node's
/// answer limit even base64-encoded).
pub const PAGES_PER_BATCH: usize = 8;

fn db(e: sqlx::Error) -> WalletError {
    WalletError::Storage(format!("offline data: {e}"))
}

fn broken(what: impl std::fmt::Display) -> WalletError {
    WalletError::InvalidRequest(format!(
        "the chain's offline data is inconsistent ({what}); the stored offline data was kept"
    ))
}

/// The height and extent of the stored knowledge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// The chain it is for.
    pub chain_id: String,
    /// The state height it was proven at.
    pub height: u64,
    /// That block's time (`meta/block`).
    pub block_time: u64,
    /// The verified header whose app hash the proofs checked against.
    pub header_height: u64,
    /// That header's time, RFC 3339.
    pub header_time: String,
    /// That header's app hash, hex.
    pub app_hash: String,
    /// Issuer log entries held.
    pub issuer_log_len: u64,
    /// Revocation log entries held.
    pub revocation_log_len: u64,
    /// When this device synced it (unix seconds, its clock).
    pub synced_at: u64,
}

/// What a verdict needs of the stored knowledge about one certificate.
#[derive(Debug, Clone)]
pub struct Knowledge {
    /// The knowledge's height and time.
    pub meta: Meta,
    /// The issuer's record, if the issuer is registered.
    pub issuer: Option<IssuerRecord>,
    /// The certificate's revocation, if the log holds one.
    pub revocation: Option<RevocationEntry>,
}

impl Knowledge {
    /// The knowledge as the registry's offline verdict takes it.
    pub fn snapshot(&self, id: &CertId) -> TrustSnapshot {
        let mut trust = TrustSnapshot {
            chain_id: self.meta.chain_id.clone(),
            height: self.meta.height,
            time: self.meta.block_time,
            ..TrustSnapshot::default()
        };
        if let Some(issuer) = &self.issuer {
            trust.add_issuer(issuer.clone());
        }
        if self.revocation.is_some() {
            trust.revoked.insert(id.clone());
        }
        trust
    }
}

/// The offline knowledge store.
#[derive(Debug, Clone)]
pub struct OfflineStore {
    pool: SqlitePool,
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn uint(row: &sqlx::sqlite::SqliteRow, col: &str) -> Result<u64, WalletError> {
    let v: i64 = row.try_get(col).map_err(db)?;
    Ok(u64::try_from(v).unwrap_or(0))
}

impl OfflineStore {
    /// Opens (or creates) `offline.sqlite` in `dir`.
    pub async fn open(dir: &Path) -> Result<OfflineStore, WalletError> {
        Self::with(Some(&dir.join(FILE))).await
    }

    /// A store in memory (tests).
    pub async fn in_memory() -> Result<OfflineStore, WalletError> {
        Self::with(None).await
    }

    async fn with(path: Option<&Path>) -> Result<OfflineStore, WalletError> {
        static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/offline");
        let pool = crate::db::open(path, SqliteSynchronous::Normal, &MIGRATOR)
            .await
            .map_err(|e| WalletError::Storage(format!("offline data: {e}")))?;
        Ok(OfflineStore { pool })
    }

    /// The stored knowledge's height and extent; `None` before the first sync.
    pub async fn meta(&self) -> Result<Option<Meta>, WalletError> {
        let Some(row) = sqlx::query("SELECT * FROM meta WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
        else {
            return Ok(None);
        };
        Ok(Some(Meta {
            chain_id: row.try_get("chain_id").map_err(db)?,
            height: uint(&row, "height")?,
            block_time: uint(&row, "block_time")?,
            header_height: uint(&row, "header_height")?,
            header_time: row.try_get("header_time").map_err(db)?,
            app_hash: row.try_get("app_hash").map_err(db)?,
            issuer_log_len: uint(&row, "issuer_log_len")?,
            revocation_log_len: uint(&row, "revocation_log_len")?,
            synced_at: uint(&row, "synced_at")?,
        }))
    }

    /// How many issuers are known.
    pub async fn issuer_count(&self) -> Result<u64, WalletError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM issuers")
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        uint(&row, "n")
    }

    /// The record of issuer `id`, if the stored knowledge has it.
    pub async fn issuer(&self, id: &IssuerId) -> Result<Option<IssuerRecord>, WalletError> {
        sqlx::query("SELECT record FROM issuers WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|row| {
                let bytes: Vec<u8> = row.try_get(0).map_err(db)?;
                IssuerRecord::from_bytes(&bytes)
                    .map_err(|e| WalletError::Storage(format!("offline data is damaged: {e}")))
            })
            .transpose()
    }

    /// The stored heads of the logs, `[issuer, revocation]` (`None`: not stored, before the
    /// first sync or from a store synced before heads).
    async fn heads(&self) -> Result<[Option<[u8; 32]>; 2], WalletError> {
        let Some(row) =
            sqlx::query("SELECT issuer_log_head, revocation_log_head FROM meta WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?
        else {
            return Ok([None, None]);
        };
        let head = |col: &str| -> Result<Option<[u8; 32]>, WalletError> {
            let bytes: Option<Vec<u8>> = row.try_get(col).map_err(db)?;
            bytes
                .map(|b| {
                    <[u8; 32]>::try_from(b.as_slice()).map_err(|_| {
                        WalletError::Storage(format!("offline data is damaged: {col}"))
                    })
                })
                .transpose()
        };
        Ok([head("issuer_log_head")?, head("revocation_log_head")?])
    }

    /// The head of `log` over the stored entries `0 .. len`, recomputed from them.
    async fn recompute_head(&self, log: Log, len: u64) -> Result<LogHead, WalletError> {
        let sql = match log {
            Log::Issuer => "SELECT n, entry FROM issuer_log ORDER BY n",
            Log::Revocation => "SELECT n, entry FROM revocations ORDER BY n",
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await.map_err(db)?;
        let mut head = LogHead::EMPTY;
        for row in &rows {
            if uint(row, "n")? != head.len {
                break;
            }
            let entry: Vec<u8> = row.try_get("entry").map_err(db)?;
            head = log.extend(head, [entry.as_slice()]);
        }
        if head.len != len {
            return Err(WalletError::Storage(format!(
                "offline data is damaged: {} holds {} of its {len} entries",
                log.name(),
                head.len
            )));
        }
        Ok(head)
    }

    /// Closes the database (its WAL checkpointed into the file).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// What the store knows about certificate `id`; `None` before the first sync.
    pub async fn knowledge(&self, id: &CertId) -> Result<Option<Knowledge>, WalletError> {
        let Some(meta) = self.meta().await? else {
            return Ok(None);
        };
        let issuer = self.issuer(&id.issuer).await?;
        let revocation = sqlx::query("SELECT entry FROM revocations WHERE cert_id = ? LIMIT 1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .map(|row| {
                let bytes: Vec<u8> = row.try_get(0).map_err(db)?;
                RevocationEntry::from_bytes(&bytes)
                    .map_err(|e| WalletError::Storage(format!("offline data is damaged: {e}")))
            })
            .transpose()?;
        Ok(Some(Knowledge {
            meta,
            issuer,
            revocation,
        }))
    }

    /// The ids of every issuer the stored issuer log names.
    async fn logged_issuers(&self) -> Result<BTreeSet<String>, WalletError> {
        let rows = sqlx::query("SELECT id FROM issuers")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>(0).map_err(db))
            .collect()
    }

    /// Writes one sync in one transaction; `reset` first forgets everything (another chain).
    async fn apply(&self, update: &Update, reset: bool) -> Result<(), WalletError> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        if reset {
            for table in ["meta", "issuers", "issuer_log", "revocations"] {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
        }
        for (n, entry) in &update.issuer_log {
            sqlx::query("INSERT OR REPLACE INTO issuer_log (n, entry) VALUES (?, ?)")
                .bind(int(*n))
                .bind(entry.to_bytes())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        for (n, entry) in &update.revocations {
            sqlx::query("INSERT OR REPLACE INTO revocations (n, cert_id, entry) VALUES (?, ?, ?)")
                .bind(int(*n))
                .bind(entry.cert.to_string())
                .bind(entry.to_bytes())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        for record in &update.issuers {
            sqlx::query("INSERT OR REPLACE INTO issuers (id, record) VALUES (?, ?)")
                .bind(record.spec.id.as_str())
                .bind(record.to_bytes())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
        }
        let m = &update.meta;
        sqlx::query(
            "INSERT OR REPLACE INTO meta (id, chain_id, height, block_time, header_height,
             header_time, app_hash, issuer_log_len, revocation_log_len, synced_at,
             issuer_log_head, revocation_log_head)
             VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&m.chain_id)
        .bind(int(m.height))
        .bind(int(m.block_time))
        .bind(int(m.header_height))
        .bind(&m.header_time)
        .bind(&m.app_hash)
        .bind(int(m.issuer_log_len))
        .bind(int(m.revocation_log_len))
        .bind(int(m.synced_at))
        .bind(update.heads[0].to_vec())
        .bind(update.heads[1].to_vec())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }
}

/// One sync's new values.
#[derive(Debug)]
struct Update {
    meta: Meta,
    issuer_log: Vec<(u64, IssuerLogEntry)>,
    revocations: Vec<(u64, RevocationEntry)>,
    issuers: Vec<IssuerRecord>,
    /// The logs' heads over all their entries after this sync, `[issuer, revocation]`.
    heads: [[u8; 32]; 2],
}

fn request(key: Vec<u8>) -> QueryRequest {
    let path = format!("/store/{}", String::from_utf8_lossy(&key));
    QueryRequest {
        path,
        data: Vec::new(),
        key,
        height: None,
    }
}

fn decode<T: Canonical>(p: &Proven, what: &str) -> Result<T, WalletError> {
    let bytes = p
        .value
        .as_deref()
        .ok_or_else(|| broken(format!("{what} is proven absent")))?;
    T::from_bytes(bytes).map_err(|e| broken(format!("{what} does not decode: {e}")))
}

fn counter(p: &Proven, what: &str) -> Result<u64, WalletError> {
    match p.value.as_deref() {
        None => Ok(0),
        Some(bytes) => <[u8; 8]>::try_from(bytes)
            .map(u64::from_be_bytes)
            .map_err(|_| broken(format!("{what} is {} bytes, not 8", bytes.len()))),
    }
}

/// Proves the values of `keys` at state height `height`, [`CHUNK`] at a time.
async fn prove_all(
    node: &LightNode,
    keys: Vec<Vec<u8>>,
    height: Height,
) -> Result<Vec<Proven>, WalletError> {
    let mut out = Vec::with_capacity(keys.len());
    let reqs: Vec<QueryRequest> = keys.into_iter().map(request).collect();
    for chunk in reqs.chunks(CHUNK) {
        out.extend(
            node.query_many(chunk, Some(height), &RegistryProofs)
                .await?,
        );
    }
    Ok(out)
}

/// The status of stored knowledge at `now`, with the warning age and the trusting period.
pub fn status(
    meta: &Meta,
    counts: (u64, u64, u64),
    now: u64,
    warn_after_secs: u64,
    trusting_period_secs: u64,
) -> OfflineStatus {
    let age = now.saturating_sub(meta.block_time);
    OfflineStatus {
        chain_id: meta.chain_id.clone(),
        height: meta.height,
        time: meta.block_time,
        age_secs: age,
        stale: age > warn_after_secs,
        too_old: age >= trusting_period_secs,
        issuers: counts.0,
        issuer_changes: counts.1,
        revocations: counts.2,
        synced_at: meta.synced_at,
    }
}

/// The new entries of one log, checked, with its head over all its entries.
struct Fetched {
    /// `(index, canonical bytes)`, in log order.
    entries: Vec<(u64, Vec<u8>)>,
    /// The head after them.
    head: [u8; 32],
    /// Values proven for them (the fallback proves each entry).
    proofs: u64,
}

fn head_value(p: &Proven, log: Log) -> Result<Option<LogHead>, WalletError> {
    p.value
        .as_deref()
        .map(|b| {
            LogHead::from_bytes(b)
                .map_err(|e| broken(format!("{}/head does not decode: {e}", log.name())))
        })
        .transpose()
}

/// Why pages were refused; `blamed`: one node served them all, and is now marked faulty (so
/// the light node asks it last).
struct PageError {
    error: WalletError,
    blamed: bool,
}

impl From<WalletError> for PageError {
    fn from(error: WalletError) -> Self {
        Self {
            error,
            blamed: false,
        }
    }
}

/// Times the pages of one log are asked again after a node that served them all was caught
/// lying: each time the nodes not caught yet are asked first.
const PAGE_ATTEMPTS: usize = 3;

/// The error of pages that do not extend the stored head to the proven one. When one node
/// served them all, it is marked faulty in the light node's status (with several, which one
/// lied is not known).
fn lied(
    node: &LightNode,
    log: Log,
    height: Height,
    nodes: &BTreeSet<String>,
    what: &str,
) -> PageError {
    let blamed = if let [url] = Vec::from_iter(nodes).as_slice() {
        node.report_faulty(
            url,
            format!(
                "served {} entries that do not match the proven head ({what})",
                log.name()
            ),
        );
        true
    } else {
        false
    };
    let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
    PageError {
        error: WalletError::InvalidRequest(format!(
            "a full node served {} entries that do not match the proven head at height \
             {height} ({what}; pages from {}); nothing was stored and the previous offline \
             data was kept",
            log.name(),
            nodes.join(", ")
        )),
        blamed,
    }
}

/// Fetches entries `from .. to` of `log` at state height `height` in unproven pages, and
/// checks them: the head `start` (over entries `0 .. from`) extended over them must be
/// `proven`.
async fn fetch_pages(
    node: &LightNode,
    log: Log,
    start: LogHead,
    proven: LogHead,
    height: Height,
) -> Result<Fetched, PageError> {
    let (from, to) = (start.len, proven.len);
    let mut entries: Vec<(u64, Vec<u8>)> = Vec::with_capacity((to - from) as usize);
    let mut nodes = BTreeSet::new();
    let mut next = from;
    while next < to {
        let mut asks = Vec::new();
        let mut at = next;
        while at < to && asks.len() < PAGES_PER_BATCH {
            let count = u32::try_from((to - at).min(u64::from(PAGE))).unwrap_or(PAGE);
            asks.push((at, count));
            at += u64::from(count);
        }
        let queries: Vec<(String, Vec<u8>)> = asks
            .iter()
            .map(|&(from, count)| {
                let data = PageRequest { from, count }.to_bytes();
                (log.page_path().to_owned(), data)
            })
            .collect();
        let answers = node
            .query_unverified_many(&queries, height)
            .await
            .map_err(WalletError::from)?;
        for (&(asked, count), answer) in asks.iter().zip(answers) {
            nodes.insert(answer.node.clone());
            let page = Page::from_bytes(&answer.value).map_err(|e| {
                lied(
                    node,
                    log,
                    height,
                    &nodes,
                    &format!("a page does not decode: {e}"),
                )
            })?;
            let n = page.entries.len() as u64;
            if page.from != asked || n == 0 || n > u64::from(count) {
                return Err(lied(
                    node,
                    log,
                    height,
                    &nodes,
                    &format!(
                        "asked for {count} entries from {asked}, got {n} from {}",
                        page.from
                    ),
                ));
            }
            let short = n < u64::from(count);
            let bytes: usize = page.entries.iter().map(|e| 4 + e.len()).sum();
            if short && bytes + 4 + MAX_ENTRY_BYTES <= MAX_PAGE_BYTES {
                // An honest node stops short only when the next entry would pass the byte
                // bound: a node that shortens pages (many more round trips) is refused.
                return Err(lied(
                    node,
                    log,
                    height,
                    &nodes,
                    &format!("a page of {n} entries ({bytes} bytes) stops short of the bound"),
                ));
            }
            entries.extend((asked..).zip(page.entries));
            next = asked + n;
            if short {
                // A short page (the byte bound): ask again from where it ended.
                break;
            }
        }
    }
    let head = log.extend(start, entries.iter().map(|(_, e)| e.as_slice()));
    if head != proven {
        return Err(lied(
            node,
            log,
            height,
            &nodes,
            "the recomputed head differs",
        ));
    }
    Ok(Fetched {
        entries,
        head: head.head,
        proofs: 0,
    })
}

/// The new entries of `log` (`stored` of them held, whose head is `stored_head` if known),
/// up to the proven length `len` and head `proven` at `height`: in pages checked against the
/// head, or each proven on its own when the chain has no head for the log.
#[allow(clippy::too_many_arguments)]
async fn fetch_log(
    store: &OfflineStore,
    node: &LightNode,
    log: Log,
    stored: u64,
    stored_head: Option<[u8; 32]>,
    len: u64,
    proven: Option<LogHead>,
    height: Height,
) -> Result<Fetched, WalletError> {
    let start = match stored_head {
        Some(head) => LogHead { len: stored, head },
        None if stored == 0 => LogHead::EMPTY,
        None => store.recompute_head(log, stored).await?,
    };
    match proven {
        Some(proven) => {
            if proven.len != len {
                return Err(broken(format!(
                    "{}/head covers {} entries, {}/len says {len}",
                    log.name(),
                    proven.len,
                    log.name()
                )));
            }
            if stored == len {
                if start != proven {
                    return Err(broken(format!(
                        "the stored {} differs from the chain's at the same length",
                        log.name()
                    )));
                }
                return Ok(Fetched {
                    entries: Vec::new(),
                    head: start.head,
                    proofs: 0,
                });
            }
            // A node caught serving pages that do not match is asked last the next time: the
            // pages come from another node, and are checked the same way.
            let mut attempt = 1;
            loop {
                match fetch_pages(node, log, start, proven, height).await {
                    Ok(fetched) => return Ok(fetched),
                    Err(e) if e.blamed && attempt < PAGE_ATTEMPTS => {
                        tracing::warn!(error = %e.error, attempt, "log pages refused; asking another node");
                        attempt += 1;
                    }
                    Err(e) => return Err(e.error),
                }
            }
        }
        None => {
            // A chain from before heads: every new entry proven on its own.
            let keys = (stored..len).map(|n| log.entry_key(n)).collect();
            let proven = prove_all(node, keys, height).await?;
            let mut entries = Vec::with_capacity(proven.len());
            for (n, p) in (stored..len).zip(proven) {
                let bytes = p
                    .value
                    .ok_or_else(|| broken(format!("{}/{n} is proven absent", log.name())))?;
                entries.push((n, bytes));
            }
            let head = log.extend(start, entries.iter().map(|(_, e)| e.as_slice()));
            Ok(Fetched {
                proofs: entries.len() as u64,
                entries,
                head: head.head,
            })
        }
    }
}

fn decode_entries<T: Canonical>(log: Log, fetched: &Fetched) -> Result<Vec<(u64, T)>, WalletError> {
    fetched
        .entries
        .iter()
        .map(|(n, bytes)| {
            T::from_bytes(bytes)
                .map(|e| (*n, e))
                .map_err(|e| broken(format!("{}/{n} does not decode: {e}", log.name())))
        })
        .collect()
}

/// Syncs the offline knowledge of chain `chain_id` to the newest verified state of `node`.
/// Answers what it did, with the status judged by `warn_after_secs` and
/// `trusting_period_secs` at `now`.
pub async fn sync(
    store: &OfflineStore,
    node: &LightNode,
    chain_id: &str,
    now: u64,
    warn_after_secs: u64,
    trusting_period_secs: u64,
) -> Result<OfflineSync, WalletError> {
    let started = Instant::now();
    let previous = store.meta().await?;
    let reset = previous.as_ref().is_some_and(|m| m.chain_id != chain_id);
    let previous = previous.filter(|m| m.chain_id == chain_id);
    let stored_heads = if previous.is_some() {
        store.heads().await?
    } else {
        [None, None]
    };
    let heads = node
        .query_many(
            &[
                request(keys::BLOCK.to_vec()),
                request(keys::ISSUER_LOG_LEN.to_vec()),
                request(keys::REVOCATION_LOG_LEN.to_vec()),
                request(keys::ISSUER_LOG_HEAD.to_vec()),
                request(keys::REVOCATION_LOG_HEAD.to_vec()),
            ],
            None,
            &RegistryProofs,
        )
        .await?;
    let height = heads[0].height;
    let block: BlockMeta = decode(&heads[0], "meta/block")?;
    if block.height != height.value() {
        return Err(broken(format!(
            "meta/block says height {} at state height {height}",
            block.height
        )));
    }
    let issuer_len = counter(&heads[1], "issuer_log/len")?;
    let revocation_len = counter(&heads[2], "revocation_log/len")?;
    let issuer_head = head_value(&heads[3], Log::Issuer)?;
    let revocation_head = head_value(&heads[4], Log::Revocation)?;
    let (had_issuers, had_revocations) = previous
        .as_ref()
        .map_or((0, 0), |m| (m.issuer_log_len, m.revocation_log_len));
    if let Some(prev) = &previous {
        if height.value() <= prev.height {
            // Nothing newer is verified yet: the stored knowledge is the freshest there is.
            let counts = (store.issuer_count().await?, had_issuers, had_revocations);
            return Ok(OfflineSync {
                status: status(prev, counts, now, warn_after_secs, trusting_period_secs),
                previous_height: prev.height,
                new_revocations: 0,
                new_issuer_changes: 0,
                issuers_fetched: 0,
                proofs: heads.len() as u64,
                took_ms: started.elapsed().as_millis() as u64,
            });
        }
        if issuer_len < had_issuers || revocation_len < had_revocations {
            return Err(broken(format!(
                "the logs shrank: issuer log {had_issuers} → {issuer_len}, revocation log \
                 {had_revocations} → {revocation_len}"
            )));
        }
    }
    let issuer_fetched = fetch_log(
        store,
        node,
        Log::Issuer,
        had_issuers,
        stored_heads[0],
        issuer_len,
        issuer_head,
        height,
    )
    .await?;
    let revocation_fetched = fetch_log(
        store,
        node,
        Log::Revocation,
        had_revocations,
        stored_heads[1],
        revocation_len,
        revocation_head,
        height,
    )
    .await?;
    let issuer_log: Vec<(u64, IssuerLogEntry)> = decode_entries(Log::Issuer, &issuer_fetched)?;
    let revocations: Vec<(u64, RevocationEntry)> =
        decode_entries(Log::Revocation, &revocation_fetched)?;
    // The issuers whose records changed (at the first sync: every issuer ever logged).
    let changed: BTreeSet<IssuerId> = issuer_log.iter().map(|(_, e)| e.issuer.clone()).collect();
    let ids: Vec<IssuerId> = changed.into_iter().collect();
    let proven = prove_all(node, ids.iter().map(keys::issuer).collect(), height).await?;
    let mut issuers = Vec::with_capacity(ids.len());
    for (id, p) in ids.iter().zip(&proven) {
        let record: IssuerRecord = decode(p, &format!("issuer/{id}"))?;
        if &record.spec.id != id {
            return Err(broken(format!("issuer/{id} holds {}", record.spec.id)));
        }
        issuers.push(record);
    }
    let header = &heads[0];
    let meta = Meta {
        chain_id: chain_id.to_owned(),
        height: height.value(),
        block_time: block.time,
        header_height: header.header_height.value(),
        header_time: header.header_time.to_rfc3339(),
        app_hash: hex::encode(&header.app_hash),
        issuer_log_len: issuer_len,
        revocation_log_len: revocation_len,
        synced_at: now,
    };
    let update = Update {
        meta,
        issuer_log,
        revocations,
        issuers,
        heads: [issuer_fetched.head, revocation_fetched.head],
    };
    store.apply(&update, reset).await?;
    let known = store.logged_issuers().await?.len() as u64;
    let proofs = heads.len() as u64
        + issuer_fetched.proofs
        + revocation_fetched.proofs
        + update.issuers.len() as u64;
    Ok(OfflineSync {
        status: status(
            &update.meta,
            (known, issuer_len, revocation_len),
            now,
            warn_after_secs,
            trusting_period_secs,
        ),
        previous_height: previous.map_or(0, |m| m.height),
        new_revocations: update.revocations.len() as u64,
        new_issuer_changes: update.issuer_log.len() as u64,
        issuers_fetched: update.issuers.len() as u64,
        proofs,
        took_ms: started.elapsed().as_millis() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry::state::RevocationReason;

    fn entry(n: u64) -> RevocationEntry {
        RevocationEntry {
            cert: CertId::parse(&format!("KE-KEPHIS/PH-{n}")).unwrap(),
            reason: RevocationReason::Superseded,
            height: 10 + n,
            time: 1_000 + n,
        }
    }

    fn meta(revocations: u64) -> Meta {
        Meta {
            chain_id: "c".into(),
            height: 20,
            block_time: 2_000,
            header_height: 21,
            header_time: "2026-01-01T00:00:00Z".into(),
            app_hash: "00".into(),
            issuer_log_len: 0,
            revocation_log_len: revocations,
            synced_at: 2_000,
        }
    }

    #[tokio::test]
    async fn heads_are_stored_and_recomputed_from_the_entries_when_absent() {
        let store = OfflineStore::in_memory().await.unwrap();
        assert_eq!(store.heads().await.unwrap(), [None, None]);
        let revocations: Vec<(u64, RevocationEntry)> = (0..3).map(|n| (n, entry(n))).collect();
        let bytes: Vec<Vec<u8>> = revocations.iter().map(|(_, e)| e.to_bytes()).collect();
        let head = Log::Revocation.extend(LogHead::EMPTY, bytes.iter().map(Vec::as_slice));
        let update = Update {
            meta: meta(3),
            issuer_log: Vec::new(),
            revocations,
            issuers: Vec::new(),
            heads: [LogHead::EMPTY.head, head.head],
        };
        store.apply(&update, false).await.unwrap();
        assert_eq!(
            store.heads().await.unwrap(),
            [Some(LogHead::EMPTY.head), Some(head.head)]
        );
        // A store synced before heads has none: the next sync recomputes it from the entries.
        sqlx::query("UPDATE meta SET issuer_log_head = NULL, revocation_log_head = NULL")
            .execute(&store.pool)
            .await
            .unwrap();
        assert_eq!(store.heads().await.unwrap(), [None, None]);
        assert_eq!(
            store.recompute_head(Log::Revocation, 3).await.unwrap(),
            head
        );
        assert_eq!(
            store.recompute_head(Log::Issuer, 0).await.unwrap(),
            LogHead::EMPTY
        );
        // Entries missing from the store are damage, not a head.
        let e = store
            .recompute_head(Log::Revocation, 4)
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("holds 3 of its 4 entries"), "{e}");
    }
}
