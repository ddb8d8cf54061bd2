-- The history of verifications: one row per verification, the whole report as JSON, and the
-- columns that the History page filters on.
CREATE TABLE verifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    checked_at INTEGER NOT NULL,
    verdict    TEXT    NOT NULL,
    mode       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    file       TEXT,
    cert_id    TEXT,
    -- Lower-case text searched by the History page: id, issuer, parties, goods, file name.
    search     TEXT    NOT NULL,
    report     TEXT    NOT NULL
);
CREATE INDEX verifications_by_time ON verifications (checked_at);
CREATE INDEX verifications_by_verdict ON verifications (verdict, checked_at);
