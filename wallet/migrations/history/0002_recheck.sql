-- Offline verdicts are checked again online when the network returns: what to check again
-- (the certificate's code or id, and the document's SHA-256 when one was given) and whether
-- that is still to do.
ALTER TABLE verifications ADD COLUMN payload TEXT;
ALTER TABLE verifications ADD COLUMN document TEXT;
ALTER TABLE verifications ADD COLUMN recheck_pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX verifications_recheck ON verifications (recheck_pending) WHERE recheck_pending = 1;
