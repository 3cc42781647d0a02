-- 0013: how often each account is polled and why (engine/cadence.py): its band (near, middle,
-- far), the interval the running service chose, and the reason in words. Written when the
-- band changes, so `liqwatch accounts list` (another process) and /accounts can show it.
ALTER TABLE accounts ADD COLUMN poll_band TEXT;
ALTER TABLE accounts ADD COLUMN poll_every_s REAL;
ALTER TABLE accounts ADD COLUMN poll_reason TEXT;
