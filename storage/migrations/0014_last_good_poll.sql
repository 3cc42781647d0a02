-- 0014: when each account's figures were last read whole. `last_polled_at` moves with every
-- poll, failed ones included, so a blind account looked current in the digest. A successful
-- poll is the one update that sets `last_polled_at` while leaving no failure counted: the
-- trigger copies its time, so every writer of poll outcomes keeps it without knowing of it.
ALTER TABLE accounts ADD COLUMN last_good_at REAL;

CREATE TRIGGER accounts_last_good AFTER UPDATE OF last_polled_at ON accounts
    WHEN NEW.consecutive_failures = 0 AND NEW.last_polled_at IS NOT OLD.last_polled_at
BEGIN
    UPDATE accounts SET last_good_at = NEW.last_polled_at WHERE id = NEW.id;
END;

-- Existing accounts: the newest stored snapshot is the last poll known to have worked (a
-- snapshot is stored at most LIQWATCH_SNAPSHOT_SECONDS after it); none stored leaves NULL.
UPDATE accounts
SET last_good_at = (SELECT max(taken_at) FROM account_snapshots s WHERE s.account_id = accounts.id);
