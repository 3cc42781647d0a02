-- 0005: when each digest subscription was last delivered, so a digest missed while the
-- process was down is sent once at start-up (not once per missed day).
ALTER TABLE digest_subscriptions ADD COLUMN last_sent_at REAL;
