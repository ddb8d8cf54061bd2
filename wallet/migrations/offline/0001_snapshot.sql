-- The offline knowledge: the issuer registry and the revocation log, each value proven against
-- a verified header; one row of meta says at which state height. A sync writes everything in
-- one transaction, meta last, so the file always holds one consistent height.
CREATE TABLE meta (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    chain_id           TEXT    NOT NULL,
    height             INTEGER NOT NULL,
    block_time         INTEGER NOT NULL,
    header_height      INTEGER NOT NULL,
    header_time        TEXT    NOT NULL,
    app_hash           TEXT    NOT NULL,
    issuer_log_len     INTEGER NOT NULL,
    revocation_log_len INTEGER NOT NULL,
    synced_at          INTEGER NOT NULL
);
-- Issuer records (canonical encoding), as of meta.height.
CREATE TABLE issuers (
    id     TEXT PRIMARY KEY,
    record BLOB NOT NULL
) WITHOUT ROWID;
-- The issuer log, entries 0 .. meta.issuer_log_len.
CREATE TABLE issuer_log (
    n     INTEGER PRIMARY KEY,
    entry BLOB NOT NULL
);
-- The revocation log, entries 0 .. meta.revocation_log_len.
CREATE TABLE revocations (
    n       INTEGER PRIMARY KEY,
    cert_id TEXT    NOT NULL,
    entry   BLOB    NOT NULL
);
CREATE INDEX revocations_by_cert ON revocations (cert_id);
