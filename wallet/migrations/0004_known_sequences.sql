-- The last sequence the chain was proven to have accepted from each of this device's keys,
-- remembered whenever it is proven (an online signing, an offline sync). Offline, a key's
-- next sequence is the larger of this and the outbox's last. Public data only.
CREATE TABLE known_sequences (
    chain_id    TEXT NOT NULL,
    signer      TEXT NOT NULL,                       -- public key, 64 lowercase hex digits
    sequence    INTEGER NOT NULL,                    -- the account's last accepted sequence
    height      INTEGER NOT NULL,                    -- the state height it was proven at
    PRIMARY KEY (chain_id, signer)
);
