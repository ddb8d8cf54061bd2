//! The audit log: every signature the wallet made or refused, and what became of each signed
//! transaction (submitted, confirmed by proof, failed with the registry's reason, retried,
//! discarded). Append-only, in the wallet's SQLite (`keys.sqlite`, table `audit`),
//! exportable as JSON or CSV. It holds no secret: what was signed, when, by which key, and
//! the result.

use serde::{Deserialize, Serialize};
use sqlx::{Row as _, SqlitePool};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEvent {
    /// A transaction was signed and queued.
    Signed,
    /// Signing was attempted and failed (wrong PIN, locked token, store error).
    SignFailed,
    /// A node accepted it into its mempool.
    Submitted,
    /// Proven included in a verified block, with its resulting state proven.
    Confirmed,
    /// Rejected (by a node's check or in its block), with the registry's reason.
    Failed,
    /// A failed transaction was put back in the queue.
    Retried,
    /// A failed transaction was removed from the queue.
    Discarded,
}

impl AuditEvent {
    /// Its stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::Signed => "signed",
            AuditEvent::SignFailed => "sign_failed",
            AuditEvent::Submitted => "submitted",
            AuditEvent::Confirmed => "confirmed",
            AuditEvent::Failed => "failed",
            AuditEvent::Retried => "retried",
            AuditEvent::Discarded => "discarded",
        }
    }

    fn parse(s: &str) -> Option<AuditEvent> {
        use AuditEvent::*;
        [
            Signed, SignFailed, Submitted, Confirmed, Failed, Retried, Discarded,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its number (increasing).
    pub id: i64,
    /// When, unix seconds.
    pub at: u64,
    /// What happened.
    pub event: AuditEvent,
    /// The key's label.
    pub key_label: String,
    /// The key's public key (hex).
    pub public_key: String,
    /// The chain.
    pub chain_id: String,
    /// The transaction's message (`record_inspection`, ...).
    pub action: String,
    /// The review's sentence.
    pub summary: String,
    /// The transaction's sequence.
    pub sequence: Option<u64>,
    /// The transaction hash (upper-case hex), once signed.
    pub tx_hash: Option<String>,
    /// The result in words.
    pub detail: String,
}

/// What an entry is about (everything but its number, time and event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSubject {
    /// The key's label.
    pub key_label: String,
    /// The key's public key (hex).
    pub public_key: String,
    /// The chain.
    pub chain_id: String,
    /// The message's stable name.
    pub action: String,
    /// The review's sentence.
    pub summary: String,
    /// The sequence.
    pub sequence: Option<u64>,
    /// The transaction hash.
    pub tx_hash: Option<String>,
}

/// The export formats (the API's: the history exports in the same two).
pub use tradeseal_api::ExportFormat;

/// The audit log over the wallet database.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pool: SqlitePool,
}

fn db(e: sqlx::Error) -> crate::WalletError {
    crate::WalletError::Storage(format!("audit log: {e}"))
}

/// The columns of an export, in order.
pub const CSV_COLUMNS: [&str; 11] = [
    "id",
    "at",
    "event",
    "key_label",
    "public_key",
    "chain_id",
    "action",
    "summary",
    "sequence",
    "tx_hash",
    "detail",
];

impl AuditLog {
    /// Over the wallet database ([`crate::keystore::Keystore::database`]).
    pub fn new(pool: SqlitePool) -> AuditLog {
        AuditLog { pool }
    }

    /// Appends an entry (inside `conn`'s transaction when given one).
    pub(crate) async fn append_with(
        conn: &mut sqlx::SqliteConnection,
        event: AuditEvent,
        subject: &AuditSubject,
        detail: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO audit (at, event, key_label, public_key, chain_id, action, summary, \
             sequence, tx_hash, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(crate::signing::unix_now() as i64)
        .bind(event.as_str())
        .bind(&subject.key_label)
        .bind(&subject.public_key)
        .bind(&subject.chain_id)
        .bind(&subject.action)
        .bind(&subject.summary)
        .bind(subject.sequence.map(|s| s as i64))
        .bind(&subject.tx_hash)
        .bind(detail)
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Appends an entry.
    pub async fn append(
        &self,
        event: AuditEvent,
        subject: &AuditSubject,
        detail: &str,
    ) -> Result<(), crate::WalletError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        Self::append_with(&mut conn, event, subject, detail)
            .await
            .map_err(db)
    }

    /// Every entry, oldest first.
    pub async fn entries(&self) -> Result<Vec<AuditEntry>, crate::WalletError> {
        let rows = sqlx::query(
            "SELECT id, at, event, key_label, public_key, chain_id, action, summary, sequence, \
             tx_hash, detail FROM audit ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|row| {
                let event: String = row.try_get("event")?;
                let at: i64 = row.try_get("at")?;
                let sequence: Option<i64> = row.try_get("sequence")?;
                Ok(AuditEntry {
                    id: row.try_get("id")?,
                    at: at.max(0) as u64,
                    event: AuditEvent::parse(&event).ok_or_else(|| {
                        sqlx::Error::Decode(format!("unknown audit event {event:?}").into())
                    })?,
                    key_label: row.try_get("key_label")?,
                    public_key: row.try_get("public_key")?,
                    chain_id: row.try_get("chain_id")?,
                    action: row.try_get("action")?,
                    summary: row.try_get("summary")?,
                    sequence: sequence.map(|s| s.max(0) as u64),
                    tx_hash: row.try_get("tx_hash")?,
                    detail: row.try_get("detail")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(db)
    }

    /// The whole log in `format`.
    pub async fn export(&self, format: ExportFormat) -> Result<String, crate::WalletError> {
        let entries = self.entries().await?;
        Ok(match format {
            ExportFormat::Json => serde_json::to_string_pretty(&entries)
                .map_err(|e| crate::WalletError::Storage(e.to_string()))?,
            ExportFormat::Csv => to_csv(&entries),
        })
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Entries as CSV (RFC 4180: CRLF line ends, fields with commas, quotes or line breaks quoted).
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for e in entries {
        let row = [
            e.id.to_string(),
            e.at.to_string(),
            e.event.as_str().to_owned(),
            e.key_label.clone(),
            e.public_key.clone(),
            e.chain_id.clone(),
            e.action.clone(),
            e.summary.clone(),
            e.sequence.map(|s| s.to_string()).unwrap_or_default(),
            e.tx_hash.clone().unwrap_or_default(),
            e.detail.clone(),
        ];
        let row: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn appends_and_exports() {
        let meta = crate::keystore::MetaStore::in_memory().await.unwrap();
        let log = AuditLog::new(meta.pool());
        let subject = AuditSubject {
            key_label: "customs, NL".into(),
            public_key: "ab".repeat(32),
            chain_id: "tradeseal-devnet".into(),
            action: "record_inspection".into(),
            summary: "Record an \"inspection\".".into(),
            sequence: Some(3),
            tx_hash: Some("00FF".into()),
        };
        log.append(AuditEvent::Signed, &subject, "").await.unwrap();
        log.append(AuditEvent::Failed, &subject, "code 8: issuer not active")
            .await
            .unwrap();
        let entries = log.entries().await.unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].event, AuditEvent::Failed);
        let json: serde_json::Value =
            serde_json::from_str(&log.export(ExportFormat::Json).await.unwrap()).unwrap();
        assert_eq!(json[0]["event"], "signed");
        assert_eq!(json[1]["sequence"], 3);
        let csv = log.export(ExportFormat::Csv).await.unwrap();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert!(lines[1].contains(",\"customs, NL\","), "{}", lines[1]);
        assert!(
            lines[1].contains("\"Record an \"\"inspection\"\".\""),
            "{}",
            lines[1]
        );
        assert_eq!(lines.len(), 4, "two rows and the final line end");
    }
}
