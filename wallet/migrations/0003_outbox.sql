-- The outbox: every signed transaction, written here before it is submitted, and the audit
-- log of every signature. A transaction's bytes are public once submitted; no secret is
-- stored here.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- queue order
    tx_hash       TEXT NOT NULL UNIQUE,               -- SHA-256 of `tx`, upper-case hex (CometBFT's)
    chain_id      TEXT NOT NULL,
    signer        TEXT NOT NULL,                      -- public key, 64 lowercase hex digits
    key_label     TEXT NOT NULL,                      -- the key's label when it signed
    sequence      INTEGER NOT NULL,
    action        TEXT NOT NULL,                      -- 'record_inspection', 'revoke_certificate', ...
    summary       TEXT NOT NULL,                      -- the review's sentence
    tx            BLOB NOT NULL,                      -- the signed transaction
    state         TEXT NOT NULL CHECK (state IN ('pending', 'submitted', 'confirmed', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,         -- broadcasts tried
    created_at    INTEGER NOT NULL,                   -- unix seconds
    updated_at    INTEGER NOT NULL,
    submitted_at  INTEGER,
    confirmed_at  INTEGER,
    height        INTEGER,                            -- the verified block that includes it
    code          INTEGER,                            -- the registry's result code when it failed
    reason        TEXT,                               -- the registry's reason (or the node's) when it failed
    UNIQUE (chain_id, signer, sequence)
);
CREATE INDEX outbox_by_state ON outbox (state, signer, sequence);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,                     -- unix seconds
    event       TEXT NOT NULL,                        -- 'signed', 'sign_failed', 'submitted', 'confirmed', 'failed', 'retried', 'discarded'
    key_label   TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    chain_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    summary     TEXT NOT NULL,
    sequence    INTEGER,
    tx_hash     TEXT,
    detail      TEXT NOT NULL DEFAULT ''              -- the result in words (an error, a height, a reason)
);
