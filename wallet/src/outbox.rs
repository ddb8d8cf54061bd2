//! The outbox: signed transactions, written to the wallet's SQLite (`keys.sqlite`, table
//! `outbox`) before anything leaves the device, then submitted when the network is there,
//! exactly once and in sequence order per signer, and confirmed only by proof.
//!
//! States: `pending` (signed, not yet accepted by a node) → `submitted` (a node's mempool
//! accepted it) → `confirmed` (the transaction proven in a verified block *and* its effect
//! proven in the state after that block) or `failed` (rejected, with the registry's code and
//! reason). A failed one can be retried (back to `pending`, the same bytes) or discarded.
//!
//! Exactly once: the bytes are fixed when signed, so a resubmission is the same transaction
//! (same hash); a node answers "already exists" for one it has, and the chain refuses a
//! replay by its sequence. Before broadcasting, the outbox asks whether the transaction is
//! already in a verified block, so a kill between a broadcast and its state change loses
//! nothing and duplicates nothing. In order: a signer's next transaction is broadcast only
//! once every earlier one was accepted by a node or settled.

use light_client::{Hash, Height};
use light_node::{ProviderError, QueryError, RpcProvider};
use registry::state::{decode_u64, InspectionRecord, Proposal, Revoker};
use registry::{keys, Message, Tx};
use serde::{Deserialize, Serialize};
use sqlx::{Row as _, SqlitePool};

use crate::audit::{AuditEvent, AuditLog, AuditSubject};
use crate::signing::unix_now;
use crate::{Wallet, WalletError};

/// Where a transaction is on its way to the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Signed and stored; no node has accepted it yet.
    Pending,
    /// A node accepted it into its mempool; not yet proven in a block.
    Submitted,
    /// Proven in a verified block, its effect proven in the state after it.
    Confirmed,
    /// Rejected; `code` and `reason` say why.
    Failed,
}

impl OutboxState {
    /// Its stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Submitted => "submitted",
            OutboxState::Confirmed => "confirmed",
            OutboxState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<OutboxState> {
        [
            OutboxState::Pending,
            OutboxState::Submitted,
            OutboxState::Confirmed,
            OutboxState::Failed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// Confirmed or failed: nothing more happens without the user.
    pub fn is_settled(self) -> bool {
        matches!(self, OutboxState::Confirmed | OutboxState::Failed)
    }
}

/// One signed transaction in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Its number (queue order).
    pub id: i64,
    /// The transaction hash (upper-case hex, as CometBFT prints it).
    pub tx_hash: String,
    /// The chain.
    pub chain_id: String,
    /// The signer's public key (hex).
    pub signer: String,
    /// The key's label when it signed.
    pub key_label: String,
    /// The sequence.
    pub sequence: u64,
    /// The message's stable name.
    pub action: String,
    /// The review's sentence.
    pub summary: String,
    /// Where it is.
    pub state: OutboxState,
    /// Broadcasts tried.
    pub attempts: u32,
    /// When it was signed (unix seconds).
    pub created_at: u64,
    /// Its last change.
    pub updated_at: u64,
    /// When a node first accepted it.
    pub submitted_at: Option<u64>,
    /// When it was confirmed.
    pub confirmed_at: Option<u64>,
    /// The verified block that includes it.
    pub height: Option<u64>,
    /// The registry's result code when it failed.
    pub code: Option<u32>,
    /// The registry's reason (or the node's) when it failed.
    pub reason: Option<String>,
    /// The signed transaction (hex).
    pub tx_hex: String,
}

impl OutboxEntry {
    fn subject(&self) -> AuditSubject {
        AuditSubject {
            key_label: self.key_label.clone(),
            public_key: self.signer.clone(),
            chain_id: self.chain_id.clone(),
            action: self.action.clone(),
            summary: self.summary.clone(),
            sequence: Some(self.sequence),
            tx_hash: Some(self.tx_hash.clone()),
        }
    }

    fn tx(&self) -> Result<Vec<u8>, WalletError> {
        hex::decode(&self.tx_hex)
            .map_err(|_| WalletError::Storage("a stored transaction is not hex".into()))
    }
}

/// A signed transaction to store.
#[derive(Debug, Clone)]
pub(crate) struct NewEntry {
    pub chain_id: String,
    pub signer: String,
    pub key_label: String,
    pub sequence: u64,
    pub action: String,
    pub summary: String,
    pub tx: Vec<u8>,
}

/// What one submission pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitReport {
    /// Every entry of the chain in use that was pending or submitted before the pass, as it
    /// is after it.
    pub entries: Vec<OutboxEntry>,
    /// Why some could not go out (no node reachable), if so.
    pub offline: Option<String>,
}

/// The outbox over the wallet database.
#[derive(Debug, Clone)]
pub struct Outbox {
    pool: SqlitePool,
    audit: AuditLog,
}

fn db(e: sqlx::Error) -> WalletError {
    WalletError::Storage(format!("outbox: {e}"))
}

const COLUMNS: &str = "id, tx_hash, chain_id, signer, key_label, sequence, action, summary, tx, \
                       state, attempts, created_at, updated_at, submitted_at, confirmed_at, \
                       height, code, reason";

fn row_to_entry(row: &sqlx::sqlite::SqliteRow) -> Result<OutboxEntry, sqlx::Error> {
    let u = |name: &str| -> Result<u64, sqlx::Error> {
        let v: i64 = row.try_get(name)?;
        Ok(v.max(0) as u64)
    };
    let o = |name: &str| -> Result<Option<u64>, sqlx::Error> {
        let v: Option<i64> = row.try_get(name)?;
        Ok(v.map(|v| v.max(0) as u64))
    };
    let state: String = row.try_get("state")?;
    let tx: Vec<u8> = row.try_get("tx")?;
    Ok(OutboxEntry {
        id: row.try_get("id")?,
        tx_hash: row.try_get("tx_hash")?,
        chain_id: row.try_get("chain_id")?,
        signer: row.try_get("signer")?,
        key_label: row.try_get("key_label")?,
        sequence: u("sequence")?,
        action: row.try_get("action")?,
        summary: row.try_get("summary")?,
        state: OutboxState::parse(&state)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown state {state:?}").into()))?,
        attempts: u("attempts")? as u32,
        created_at: u("created_at")?,
        updated_at: u("updated_at")?,
        submitted_at: o("submitted_at")?,
        confirmed_at: o("confirmed_at")?,
        height: o("height")?,
        code: o("code")?.map(|c| c as u32),
        reason: row.try_get("reason")?,
        tx_hex: hex::encode(tx),
    })
}

/// What a node said to a broadcast.
enum Broadcast {
    /// In its mempool now.
    Accepted,
    /// It already has it (mempool or chain).
    Duplicate,
    /// CheckTx refused it.
    Rejected { code: u32, log: String },
    /// No node answered.
    Unreachable(String),
}

/// What became of one entry in a pass.
enum Step {
    /// Its state may have changed; the signer's next one may go.
    Advanced,
    /// No node could be reached: the signer's later ones wait.
    Offline(String),
}

impl Outbox {
    /// Over the wallet database ([`crate::keystore::Keystore::database`]).
    pub fn new(pool: SqlitePool) -> Outbox {
        Outbox {
            audit: AuditLog::new(pool.clone()),
            pool,
        }
    }

    /// The audit log beside it.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Every entry, oldest first; only those of `chain_id` when given.
    pub async fn list(&self, chain_id: Option<&str>) -> Result<Vec<OutboxEntry>, WalletError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE (?1 IS NULL OR chain_id = ?1) ORDER BY id"
        ))
        .bind(chain_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(row_to_entry)
            .collect::<Result<_, _>>()
            .map_err(db)
    }

    /// The entry with this number or transaction hash.
    pub async fn get(&self, id_or_hash: &str) -> Result<OutboxEntry, WalletError> {
        let id: i64 = id_or_hash.parse().unwrap_or(-1);
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE id = ? OR tx_hash = ?"
        ))
        .bind(id)
        .bind(id_or_hash.to_ascii_uppercase())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        match row {
            Some(r) => row_to_entry(&r).map_err(db),
            None => Err(WalletError::InvalidRequest(format!(
                "no outbox entry {id_or_hash}"
            ))),
        }
    }

    /// The highest sequence this signer has in the outbox for this chain.
    pub async fn last_sequence(
        &self,
        chain_id: &str,
        signer: &str,
    ) -> Result<Option<u64>, WalletError> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(sequence) FROM outbox WHERE chain_id = ? AND signer = ?",
        )
        .bind(chain_id)
        .bind(signer)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        Ok(v.map(|v| v.max(0) as u64))
    }

    /// Remembers that the chain was proven at state `height` to have accepted `signer`'s
    /// transactions up to `sequence` (kept only when newer than what is remembered).
    pub async fn remember_sequence(
        &self,
        chain_id: &str,
        signer: &str,
        sequence: u64,
        height: u64,
    ) -> Result<(), WalletError> {
        sqlx::query(
            "INSERT INTO known_sequences (chain_id, signer, sequence, height) VALUES (?, ?, ?, ?) \
             ON CONFLICT (chain_id, signer) DO UPDATE SET sequence = excluded.sequence, \
             height = excluded.height WHERE excluded.height >= known_sequences.height",
        )
        .bind(chain_id)
        .bind(signer)
        .bind(i64::try_from(sequence).unwrap_or(i64::MAX))
        .bind(i64::try_from(height).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    /// The last sequence remembered as proven for `signer`, with the height it was proven at.
    pub async fn known_sequence(
        &self,
        chain_id: &str,
        signer: &str,
    ) -> Result<Option<(u64, u64)>, WalletError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT sequence, height FROM known_sequences WHERE chain_id = ? AND signer = ?",
        )
        .bind(chain_id)
        .bind(signer)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        Ok(row.map(|(s, h)| (s.max(0) as u64, h.max(0) as u64)))
    }

    /// Stores a signed transaction as `pending` and logs the signature, in one database
    /// transaction: once this returns, the transaction survives any crash.
    pub(crate) async fn enqueue(&self, e: NewEntry) -> Result<OutboxEntry, WalletError> {
        let hash = Hash::sha256(&e.tx).to_hex();
        let now = unix_now() as i64;
        let mut tx = self.pool.begin().await.map_err(db)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (tx_hash, chain_id, signer, key_label, sequence, action, summary, \
             tx, state, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING id",
        )
        .bind(&hash)
        .bind(&e.chain_id)
        .bind(&e.signer)
        .bind(&e.key_label)
        .bind(e.sequence as i64)
        .bind(&e.action)
        .bind(&e.summary)
        .bind(&e.tx)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| match &err {
            sqlx::Error::Database(d) if d.is_unique_violation() => WalletError::InvalidRequest(
                format!(
                    "the outbox already holds a transaction of this key with sequence {} (or these bytes)",
                    e.sequence
                ),
            ),
            _ => db(err),
        })?;
        let subject = AuditSubject {
            key_label: e.key_label.clone(),
            public_key: e.signer.clone(),
            chain_id: e.chain_id.clone(),
            action: e.action.clone(),
            summary: e.summary.clone(),
            sequence: Some(e.sequence),
            tx_hash: Some(hash),
        };
        AuditLog::append_with(
            &mut tx,
            AuditEvent::Signed,
            &subject,
            "queued in the outbox",
        )
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        self.get(&id.to_string()).await
    }

    async fn set_state(
        &self,
        e: &OutboxEntry,
        state: OutboxState,
        height: Option<u64>,
        code: Option<u32>,
        reason: Option<&str>,
        event: Option<(AuditEvent, String)>,
    ) -> Result<(), WalletError> {
        let now = unix_now() as i64;
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "UPDATE outbox SET state = ?, updated_at = ?, height = ?, code = ?, reason = ?, \
             submitted_at = CASE WHEN ? IN ('submitted', 'confirmed') AND submitted_at IS NULL \
                            THEN ? ELSE submitted_at END, \
             confirmed_at = CASE WHEN ? = 'confirmed' THEN ? ELSE NULL END \
             WHERE id = ?",
        )
        .bind(state.as_str())
        .bind(now)
        .bind(height.map(|h| h as i64))
        .bind(code.map(i64::from))
        .bind(reason)
        .bind(state.as_str())
        .bind(now)
        .bind(state.as_str())
        .bind(now)
        .bind(e.id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if let Some((event, detail)) = event {
            AuditLog::append_with(&mut tx, event, &e.subject(), &detail)
                .await
                .map_err(db)?;
        }
        tx.commit().await.map_err(db)
    }

    async fn count_attempt(&self, e: &OutboxEntry) -> Result<(), WalletError> {
        sqlx::query("UPDATE outbox SET attempts = attempts + 1, updated_at = ? WHERE id = ?")
            .bind(unix_now() as i64)
            .bind(e.id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Puts a failed transaction back in the queue (the same bytes, submitted again).
    pub async fn retry(&self, id_or_hash: &str) -> Result<OutboxEntry, WalletError> {
        let e = self.get(id_or_hash).await?;
        if e.state != OutboxState::Failed {
            return Err(WalletError::InvalidRequest(format!(
                "entry {} is {}: only a failed one can be retried",
                e.id,
                e.state.as_str()
            )));
        }
        self.set_state(
            &e,
            OutboxState::Pending,
            None,
            None,
            None,
            Some((AuditEvent::Retried, String::new())),
        )
        .await?;
        self.get(&e.id.to_string()).await
    }

    /// Removes a failed transaction, only with `confirm` (it will never be submitted).
    pub async fn discard(
        &self,
        id_or_hash: &str,
        confirm: bool,
    ) -> Result<OutboxEntry, WalletError> {
        let e = self.get(id_or_hash).await?;
        if e.state != OutboxState::Failed {
            return Err(WalletError::InvalidRequest(format!(
                "entry {} is {}: only a failed one can be discarded",
                e.id,
                e.state.as_str()
            )));
        }
        if !confirm {
            return Err(WalletError::ConfirmationRequired(format!(
                "discarding entry {} cannot be undone; confirm to discard it",
                e.id
            )));
        }
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("DELETE FROM outbox WHERE id = ?")
            .bind(e.id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        AuditLog::append_with(&mut tx, AuditEvent::Discarded, &e.subject(), "")
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(e)
    }

    /// One pass over the chain's pending and submitted transactions, each signer's in
    /// sequence order: confirm what is proven in a block, broadcast what is not yet there.
    pub async fn submit(&self, wallet: &Wallet) -> Result<SubmitReport, WalletError> {
        let chain_id = wallet.chain_id()?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbox WHERE chain_id = ? AND state IN ('pending', 'submitted') \
             ORDER BY signer, sequence"
        ))
        .bind(&chain_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let entries: Vec<OutboxEntry> = rows
            .iter()
            .map(row_to_entry)
            .collect::<Result<_, _>>()
            .map_err(db)?;
        let mut offline = None;
        let mut blocked_signer: Option<String> = None;
        for e in &entries {
            if blocked_signer.as_deref() == Some(e.signer.as_str()) {
                continue;
            }
            match self.advance(wallet, e).await? {
                Step::Advanced => {}
                Step::Offline(why) => {
                    blocked_signer = Some(e.signer.clone());
                    offline = Some(why);
                }
            }
        }
        let mut after = Vec::with_capacity(entries.len());
        for e in &entries {
            after.push(self.get(&e.id.to_string()).await?);
        }
        Ok(SubmitReport {
            entries: after,
            offline,
        })
    }

    /// Passes until every entry in `ids` (every one of the chain in use when empty) is
    /// confirmed or failed, or `deadline` passes; answers them as they are then.
    pub async fn submit_until_settled(
        &self,
        wallet: &Wallet,
        ids: &[i64],
        deadline: std::time::Instant,
    ) -> Result<SubmitReport, WalletError> {
        loop {
            let report = self.submit(wallet).await?;
            let chain_id = wallet.chain_id()?;
            let watched: Vec<OutboxEntry> = self
                .list(Some(&chain_id))
                .await?
                .into_iter()
                .filter(|e| {
                    if ids.is_empty() {
                        report.entries.iter().any(|r| r.id == e.id)
                    } else {
                        ids.contains(&e.id)
                    }
                })
                .collect();
            let settled = watched.iter().all(|e| e.state.is_settled());
            if settled || std::time::Instant::now() >= deadline {
                return Ok(SubmitReport {
                    entries: watched,
                    offline: report.offline,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    }

    async fn advance(&self, wallet: &Wallet, e: &OutboxEntry) -> Result<Step, WalletError> {
        let tx = e.tx()?;
        let hash = Hash::sha256(&tx);
        if let Some(step) = self.included(wallet, e, hash).await? {
            return Ok(step);
        }
        self.count_attempt(e).await?;
        match broadcast(wallet, &tx, hash).await? {
            Broadcast::Accepted | Broadcast::Duplicate => {
                if e.state == OutboxState::Pending {
                    self.set_state(
                        e,
                        OutboxState::Submitted,
                        None,
                        None,
                        None,
                        Some((AuditEvent::Submitted, String::new())),
                    )
                    .await?;
                }
                Ok(Step::Advanced)
            }
            Broadcast::Rejected { code, log } => {
                // A replayed sequence may be this very transaction, included meanwhile.
                if code == 4 {
                    if let Some(step) = self.included(wallet, e, hash).await? {
                        return Ok(step);
                    }
                }
                self.fail(e, None, code, &log).await?;
                Ok(Step::Advanced)
            }
            Broadcast::Unreachable(why) => Ok(Step::Offline(why)),
        }
    }

    async fn fail(
        &self,
        e: &OutboxEntry,
        height: Option<u64>,
        code: u32,
        log: &str,
    ) -> Result<(), WalletError> {
        self.set_state(
            e,
            OutboxState::Failed,
            height,
            Some(code),
            Some(log),
            Some((AuditEvent::Failed, format!("code {code}: {log}"))),
        )
        .await
    }

    /// `Some` when the transaction is proven in a verified block (and then confirmed, failed,
    /// or left for the next pass while the state after the block cannot be proven yet).
    async fn included(
        &self,
        wallet: &Wallet,
        e: &OutboxEntry,
        hash: Hash,
    ) -> Result<Option<Step>, WalletError> {
        let node = wallet.light().await?;
        let proven = match node.prove_tx(hash).await {
            Ok(p) => p,
            Err(QueryError::TxNotFound(_)) => return Ok(None),
            // Nothing proven either way: broadcasting it again is harmless.
            Err(_) => return Ok(None),
        };
        let height = proven.height.value();
        let body = Tx::decode(&e.tx()?)
            .map_err(|err| WalletError::Storage(format!("a stored transaction: {err}")))?
            .body;
        match effect_proven(wallet, &body, height).await {
            Ok(true) => {
                self.set_state(
                    e,
                    OutboxState::Confirmed,
                    Some(height),
                    None,
                    None,
                    Some((
                        AuditEvent::Confirmed,
                        format!("in verified block {height}, its effect proven"),
                    )),
                )
                .await?;
                Ok(Some(Step::Advanced))
            }
            Ok(false) => {
                let (code, log) = if proven.reported_code == 0 {
                    (
                        99,
                        "the node reports success, but the proven state after the block does not show it"
                            .to_owned(),
                    )
                } else {
                    (proven.reported_code, proven.reported_log)
                };
                self.fail(e, Some(height), code, &log).await?;
                Ok(Some(Step::Advanced))
            }
            // The state after the block is not provable yet (its next header is not out, or
            // the nodes fail): stay submitted, look again next pass.
            Err(_) => {
                if e.state == OutboxState::Pending {
                    self.set_state(
                        e,
                        OutboxState::Submitted,
                        None,
                        None,
                        None,
                        Some((AuditEvent::Submitted, format!("found in block {height}"))),
                    )
                    .await?;
                }
                Ok(Some(Step::Advanced))
            }
        }
    }
}

async fn broadcast(wallet: &Wallet, tx: &[u8], hash: Hash) -> Result<Broadcast, WalletError> {
    let config = wallet
        .node()
        .chain_config()
        .ok_or(WalletError::NotConfigured)?;
    let rpc = wallet.node().rpc_config().clone();
    let mut failures = Vec::new();
    for url in std::iter::once(&config.primary).chain(config.witnesses.iter()) {
        let provider = match RpcProvider::new(url, rpc.clone()) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{url}: {e}"));
                continue;
            }
        };
        use light_node::Provider as _;
        match provider.broadcast_tx_sync(tx).await {
            Ok(a) if a.hash != hash => {
                failures.push(format!("{url}: answered for another transaction"));
            }
            Ok(a) if a.code == 0 => return Ok(Broadcast::Accepted),
            Ok(a) => {
                return Ok(Broadcast::Rejected {
                    code: a.code,
                    log: a.log,
                })
            }
            Err(ProviderError::Rpc { message, .. }) if message.contains("already exists") => {
                return Ok(Broadcast::Duplicate)
            }
            Err(e) => failures.push(format!("{url}: {e}")),
        }
    }
    Ok(Broadcast::Unreachable(failures.join("; ")))
}

/// A proven value at state height `height` (0: nothing before the first block).
async fn value_at(
    wallet: &Wallet,
    key: &[u8],
    height: u64,
) -> Result<Option<Vec<u8>>, WalletError> {
    if height == 0 {
        return Ok(None);
    }
    let key = std::str::from_utf8(key)
        .map_err(|_| WalletError::InvalidRequest("a registry key is not ASCII".into()))?;
    Ok(wallet.query(key, Some(Height(height))).await?.value)
}

async fn counter_at(wallet: &Wallet, key: &[u8], height: u64) -> Result<u64, WalletError> {
    match value_at(wallet, key, height).await? {
        Some(v) => decode_u64(&v).map_err(|e| WalletError::Storage(e.to_string())),
        None => Ok(0),
    }
}

fn decode<T: registry::Canonical>(v: &[u8]) -> Result<T, WalletError> {
    T::from_bytes(v).map_err(|e| WalletError::Storage(format!("a proven value: {e}")))
}

/// Whether the state after block `height` proves that this transaction took effect there:
/// the signer's sequence reached it in that block, and the record it writes is there,
/// written in that block.
async fn effect_proven(
    wallet: &Wallet,
    body: &registry::TxBody,
    height: u64,
) -> Result<bool, WalletError> {
    let account = keys::account(&body.signer);
    let after = counter_at(wallet, &account, height).await?;
    let before = counter_at(wallet, &account, height - 1).await?;
    if !(before < body.sequence && body.sequence <= after) {
        return Ok(false);
    }
    Ok(match &body.message {
        Message::RecordInspection(m) => {
            let len_key = keys::inspection_len(&m.cert);
            let from = counter_at(wallet, &len_key, height - 1).await?;
            let to = counter_at(wallet, &len_key, height).await?;
            let mut found = false;
            for n in from..to {
                if let Some(v) = value_at(wallet, &keys::inspection(&m.cert, n), height).await? {
                    let r: InspectionRecord = decode(&v)?;
                    if r.inspector == body.signer
                        && r.agency == m.agency
                        && r.location == m.location
                        && r.outcome == m.outcome
                        && r.notes == m.notes
                        && r.inspected_at == m.inspected_at
                        && r.recorded_height == height
                    {
                        found = true;
                        break;
                    }
                }
            }
            found
        }
        Message::RevokeCertificate { cert, reason, note } => {
            match value_at(wallet, &keys::cert(cert), height).await? {
                Some(v) => {
                    let r: registry::state::CertRecord = decode(&v)?;
                    r.revocation.is_some_and(|rv| {
                        rv.height == height
                            && rv.by == Revoker::Issuer
                            && rv.reason == *reason
                            && rv.note == *note
                    })
                }
                None => false,
            }
        }
        Message::Approve { proposal } => {
            let before = match value_at(wallet, &keys::proposal(*proposal), height - 1).await? {
                Some(v) => decode::<Proposal>(&v)?.approvals.contains(&body.signer),
                None => false,
            };
            let after = match value_at(wallet, &keys::proposal(*proposal), height).await? {
                Some(v) => decode::<Proposal>(&v)?.approvals.contains(&body.signer),
                None => false,
            };
            !before && after
        }
        Message::Propose { action, expires_at } => {
            let from = counter_at(wallet, keys::PROPOSAL_LEN, height - 1).await?;
            let to = counter_at(wallet, keys::PROPOSAL_LEN, height).await?;
            let mut found = false;
            for n in from..to {
                if let Some(v) = value_at(wallet, &keys::proposal(n), height).await? {
                    let p: Proposal = decode(&v)?;
                    if p.action == *action
                        && p.expires_at == *expires_at
                        && p.approvals.first() == Some(&body.signer)
                        && p.created_height == height
                    {
                        found = true;
                        break;
                    }
                }
            }
            found
        }
        Message::IssueCertificate(signed) => {
            let c = &signed.certificate;
            match value_at(wallet, &keys::cert(&c.id), height).await? {
                Some(v) => {
                    let r: registry::state::CertRecord = decode(&v)?;
                    r.registered_height == height && r.content_hash == c.content_hash()
                }
                None => false,
            }
        }
    })
}
