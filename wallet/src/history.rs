//! The history of verifications in SQLite (`history.sqlite` in the data directory, migrations
//! in `wallet/migrations/history/`): every report kept whole, searchable by text, filterable by
//! verdict and time, exportable as CSV and JSON.

use std::path::Path;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::{QueryBuilder, Row as _, Sqlite, SqlitePool};
use tradeseal_api::{ExportFormat, HistoryQuery, Origin, VerifyInput, VerifyReport};

use crate::verify::ReadFrom;

use crate::WalletError;

/// The history file's name in the data directory.
pub const FILE: &str = "history.sqlite";
/// The most rows one listing answers.
pub const MAX_LIMIT: u32 = 10_000;
const DEFAULT_LIMIT: u32 = 200;

/// An offline verdict to check again online.
#[derive(Debug, Clone)]
pub struct PendingRecheck {
    /// Its number in the history.
    pub id: i64,
    /// What to verify again.
    pub input: VerifyInput,
    /// The document given, if any.
    pub document: Option<[u8; 32]>,
    /// Where it came from.
    pub from: ReadFrom,
    /// The offline report.
    pub report: VerifyReport,
}

/// The verification history.
#[derive(Debug, Clone)]
pub struct History {
    pool: SqlitePool,
}

fn db(e: sqlx::Error) -> WalletError {
    WalletError::Storage(format!("history: {e}"))
}

impl History {
    /// Opens (or creates) `history.sqlite` in `dir`.
    pub async fn open(dir: &Path) -> Result<History, WalletError> {
        Self::with(Some(&dir.join(FILE))).await
    }

    /// A history in memory (tests).
    pub async fn in_memory() -> Result<History, WalletError> {
        Self::with(None).await
    }

    async fn with(path: Option<&Path>) -> Result<History, WalletError> {
        static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/history");
        let pool = crate::db::open(path, SqliteSynchronous::Normal, &MIGRATOR)
            .await
            .map_err(|e| WalletError::Storage(format!("history: {e}")))?;
        Ok(History { pool })
    }

    /// Keeps a report; answers its number.
    pub async fn add(&self, report: &VerifyReport) -> Result<i64, WalletError> {
        self.add_offline(report, None).await
    }

    /// Keeps a report; with `recheck` (the certificate's code or id, and the hex SHA-256 of
    /// the document given) it is to be checked again online. Answers its number.
    pub async fn add_offline(
        &self,
        report: &VerifyReport,
        recheck: Option<(String, Option<String>)>,
    ) -> Result<i64, WalletError> {
        let json = serde_json::to_string(report)
            .map_err(|e| WalletError::Storage(format!("history: {e}")))?;
        let (payload, document) = match recheck {
            Some((p, d)) => (Some(p), d),
            None => (None, None),
        };
        let row = sqlx::query(
            "INSERT INTO verifications (checked_at, verdict, mode, source, file, cert_id, search, report,
             payload, document, recheck_pending)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(i64::try_from(report.checked_at).unwrap_or(i64::MAX))
        .bind(report.verdict.as_str())
        .bind(report.evidence.mode.as_str())
        .bind(report.source.as_str())
        .bind(&report.file)
        .bind(&report.certificate_id)
        .bind(search_text(report))
        .bind(json)
        .bind(&payload)
        .bind(document)
        .bind(payload.is_some())
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        row.try_get(0).map_err(db)
    }

    /// The offline verdicts still to check online, oldest first.
    pub async fn pending_rechecks(&self) -> Result<Vec<PendingRecheck>, WalletError> {
        let rows = sqlx::query(
            "SELECT id, report, payload, document FROM verifications
             WHERE recheck_pending = 1 ORDER BY id LIMIT 1000",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get(0).map_err(db)?;
            let json: String = row.try_get(1).map_err(db)?;
            let payload: Option<String> = row.try_get(2).map_err(db)?;
            let document: Option<String> = row.try_get(3).map_err(db)?;
            let (Ok(mut report), Some(payload)) =
                (serde_json::from_str::<VerifyReport>(&json), payload)
            else {
                // A damaged entry cannot be checked again: it is left as it is.
                self.drop_recheck(id).await?;
                continue;
            };
            report.history_id = id;
            let input = if registry::CertId::parse(&payload).is_ok() {
                VerifyInput::Serial { id: payload }
            } else {
                VerifyInput::Payload {
                    text: payload,
                    origin: Origin::Payload,
                }
            };
            let document = document.and_then(|d| {
                let mut out = [0u8; 32];
                hex::decode_to_slice(d, &mut out).ok().map(|()| out)
            });
            out.push(PendingRecheck {
                id,
                input,
                document,
                from: ReadFrom {
                    source: report.source,
                    file: report.file.clone(),
                },
                report,
            });
        }
        Ok(out)
    }

    /// Marks an entry as not to be checked again.
    pub async fn drop_recheck(&self, id: i64) -> Result<(), WalletError> {
        sqlx::query("UPDATE verifications SET recheck_pending = 0 WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Stores an offline report with its online re-check, done.
    pub async fn complete_recheck(&self, report: &VerifyReport) -> Result<(), WalletError> {
        let json = serde_json::to_string(report)
            .map_err(|e| WalletError::Storage(format!("history: {e}")))?;
        sqlx::query("UPDATE verifications SET report = ?, recheck_pending = 0 WHERE id = ?")
            .bind(json)
            .bind(report.history_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// The reports matching `q`, newest first.
    pub async fn list(&self, q: &HistoryQuery) -> Result<Vec<VerifyReport>, WalletError> {
        let mut b: QueryBuilder<'_, Sqlite> =
            QueryBuilder::new("SELECT id, report FROM verifications WHERE 1 = 1");
        if !q.verdicts.is_empty() {
            b.push(" AND verdict IN (");
            let mut sep = b.separated(", ");
            for v in &q.verdicts {
                sep.push_bind(v.as_str());
            }
            b.push(")");
        }
        if let Some(text) = q.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            b.push(" AND instr(search, ")
                .push_bind(text.to_lowercase())
                .push(") > 0");
        }
        if let Some(since) = q.since {
            b.push(" AND checked_at >= ")
                .push_bind(i64::try_from(since).unwrap_or(i64::MAX));
        }
        if let Some(until) = q.until {
            b.push(" AND checked_at < ")
                .push_bind(i64::try_from(until).unwrap_or(i64::MAX));
        }
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        b.push(" ORDER BY id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = b.build().fetch_all(&self.pool).await.map_err(db)?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get(0).map_err(db)?;
                let json: String = row.try_get(1).map_err(db)?;
                let mut report: VerifyReport = serde_json::from_str(&json).map_err(|e| {
                    WalletError::Storage(format!("history entry {id} is damaged: {e}"))
                })?;
                report.history_id = id;
                Ok(report)
            })
            .collect()
    }

    /// The reports matching `q` as `csv` or `json` text.
    pub async fn export(
        &self,
        q: &HistoryQuery,
        format: ExportFormat,
    ) -> Result<String, WalletError> {
        let reports = self.list(q).await?;
        match format {
            ExportFormat::Json => serde_json::to_string_pretty(&reports)
                .map_err(|e| WalletError::Storage(format!("history: {e}"))),
            ExportFormat::Csv => Ok(to_csv(&reports)),
        }
    }
}

fn search_text(r: &VerifyReport) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if let Some(id) = &r.certificate_id {
        parts.push(id);
    }
    if let Some(c) = &r.certificate {
        parts.extend([c.exporter.as_str(), c.importer.as_str(), c.goods.as_str()]);
    }
    if let Some(i) = &r.evidence.issuer {
        parts.extend([i.id.as_str(), i.legal_name.as_str()]);
    }
    if let Some(f) = &r.file {
        parts.push(f);
    }
    parts.push(r.verdict.as_str());
    parts.join("\n").to_lowercase()
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 14] = [
    "id",
    "checked_at",
    "verdict",
    "reason",
    "mode",
    "source",
    "file",
    "certificate",
    "issuer",
    "kind",
    "expires_at",
    "proven_height",
    "header_time",
    "nodes",
];

fn to_csv(reports: &[VerifyReport]) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for r in reports {
        let c = r.certificate.as_ref();
        let e = &r.evidence;
        let fields = [
            r.history_id.to_string(),
            crate::verify::instant(r.checked_at),
            r.verdict.as_str().to_owned(),
            r.reason.clone(),
            e.mode.as_str().to_owned(),
            r.source.as_str().to_owned(),
            r.file.clone().unwrap_or_default(),
            r.certificate_id.clone().unwrap_or_default(),
            e.issuer
                .as_ref()
                .map(|i| i.legal_name.clone())
                .or_else(|| c.map(|c| c.issuer.clone()))
                .unwrap_or_default(),
            c.map(|c| c.kind.clone())
                .or_else(|| e.record.as_ref().map(|r| r.kind.clone()))
                .unwrap_or_default(),
            c.map(|c| c.expires_at)
                .or_else(|| e.record.as_ref().map(|r| r.expires_at))
                .map(crate::verify::instant)
                .unwrap_or_default(),
            e.proven_height.map(|h| h.to_string()).unwrap_or_default(),
            e.header_time.clone().unwrap_or_default(),
            e.nodes.join(" "),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

/// RFC 4180 quoting; a field that a spreadsheet would run as a formula is prefixed with `'`.
fn csv_field(f: &str) -> String {
    let f = if f.starts_with(['=', '+', '-', '@']) {
        format!("'{f}")
    } else {
        f.to_owned()
    };
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tradeseal_api::{Evidence, Mode, ProofStatus, Source, Verdict};

    fn report(verdict: Verdict, file: &str, at: u64) -> VerifyReport {
        VerifyReport {
            verdict,
            reason: "Revoked on 2026-01-02: cancelled, \"really\".".into(),
            certificate_id: Some("KE-KEPHIS/PH-1".into()),
            certificate: None,
            evidence: Evidence::new(Mode::Online, ProofStatus::Verified),
            source: Source::Image,
            file: Some(file.into()),
            checked_at: at,
            history_id: 0,
            recheck: None,
        }
    }

    #[tokio::test]
    async fn kept_filtered_and_exported() {
        let h = History::in_memory().await.unwrap();
        let a = h
            .add(&report(Verdict::Valid, "Roses.png", 100))
            .await
            .unwrap();
        let b = h
            .add(&report(Verdict::Revoked, "=cmd.png", 200))
            .await
            .unwrap();
        assert!(b > a);
        let all = h.list(&HistoryQuery::default()).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].history_id, b, "newest first");
        let q = |verdicts: Vec<Verdict>, text: Option<&str>| HistoryQuery {
            verdicts,
            text: text.map(str::to_owned),
            ..HistoryQuery::default()
        };
        let revoked = h.list(&q(vec![Verdict::Revoked], None)).await.unwrap();
        assert_eq!(revoked.len(), 1);
        assert_eq!(revoked[0].verdict, Verdict::Revoked);
        let roses = h.list(&q(Vec::new(), Some("ROSES"))).await.unwrap();
        assert_eq!(roses.len(), 1);
        // Text is a parameter, not SQL.
        assert!(h
            .list(&q(Vec::new(), Some("%' OR 1=1 --")))
            .await
            .unwrap()
            .is_empty());
        let since = HistoryQuery {
            since: Some(150),
            ..HistoryQuery::default()
        };
        assert_eq!(h.list(&since).await.unwrap().len(), 1);

        let csv = h
            .export(&HistoryQuery::default(), ExportFormat::Csv)
            .await
            .unwrap();
        let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert!(lines[1].contains("\"Revoked on 2026-01-02: cancelled, \"\"really\"\".\""));
        assert!(lines[1].contains(",'=cmd.png,"), "{}", lines[1]);
        let json: Vec<VerifyReport> = serde_json::from_str(
            &h.export(&HistoryQuery::default(), ExportFormat::Json)
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(json, all);
        // An unknown format is refused where it is named (the CLI, the app's request).
        assert!(ExportFormat::parse("xml").is_none());
    }
}
