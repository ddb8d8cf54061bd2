-- The hash-chain head of each stored log (registry `<log>/head`, 32 bytes) over its entries
-- 0 .. meta.<log>_len, so that the next sync can extend it over pages of new entries and
-- compare it with the proven head. NULL (a store synced before heads): recomputed from the
-- stored entries at the next sync.
ALTER TABLE meta ADD COLUMN issuer_log_head BLOB;
ALTER TABLE meta ADD COLUMN revocation_log_head BLOB;
