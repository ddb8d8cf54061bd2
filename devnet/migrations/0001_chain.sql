-- The devnet's chain database: one row per block (its record as JSON, validator sets by hash),
-- each validator set once, and a few metadata entries (chain fingerprint, history plan).
-- IF NOT EXISTS: databases written before the move to sqlx already have these tables.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS validator_sets (hash BLOB PRIMARY KEY, validators BLOB NOT NULL);
