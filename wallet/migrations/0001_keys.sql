-- The wallet's key metadata. No secret is ever stored here: `locator` says where the secret
-- lives (an OS credential store entry or a PKCS#11 token object), never what it is.
CREATE TABLE keys (
    id          TEXT PRIMARY KEY NOT NULL,           -- random, names the secret in its store
    label       TEXT NOT NULL UNIQUE,                -- the user's name for the key
    public_key  TEXT NOT NULL UNIQUE,                -- 64 lowercase hex digits (ed25519)
    backend     TEXT NOT NULL,                       -- 'keyring' | 'pkcs11'
    locator     TEXT NOT NULL,                       -- JSON: where the secret is
    protection  TEXT NOT NULL,                       -- what protects it, in words
    origin      TEXT NOT NULL,                       -- 'created' | 'generated_in_token' | 'imported' | 'development'
    created_at  INTEGER NOT NULL                     -- unix seconds
);
