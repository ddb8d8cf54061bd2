-- The light node's trusted-header store.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Validator sets, once per distinct hash (sets rarely change between headers).
CREATE TABLE validator_sets (
    hash TEXT PRIMARY KEY NOT NULL,
    json TEXT NOT NULL
);

-- Verified light blocks: the signed header, and the hashes of its sets.
CREATE TABLE light_blocks (
    height               INTEGER PRIMARY KEY NOT NULL,
    hash                 TEXT NOT NULL,
    time                 TEXT NOT NULL,
    signed_header        TEXT NOT NULL,
    validators_hash      TEXT NOT NULL REFERENCES validator_sets(hash),
    next_validators_hash TEXT REFERENCES validator_sets(hash)
);

-- Light-client attack evidence, kept until the user deals with it.
CREATE TABLE evidence (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    detected_at TEXT NOT NULL,
    report      TEXT NOT NULL,
    evidence    TEXT NOT NULL
);
