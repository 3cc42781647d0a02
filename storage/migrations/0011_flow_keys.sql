-- 0011: flows keyed by what is unique on their venue. Hyperliquid sends every funding payment
-- with the hash 0x00…0, and that hash was the key: one payment per wallet was kept, every later
-- one ignored. Refs stay "<ccxt method>:<key>"; what changes:
--   Hyperliquid funding: time in ms and coin, "fetch_funding_history:1734026400057:SOL"
--   Binance income: tranId and income type (a tranId is unique per type only),
--     "fetch_funding_history:4480321991774044580:FUNDING_FEE"
-- Hyperliquid fills (tid), Bybit funding (execId) and closed PnL (orderId) keep their refs.

-- Binance: every stored row was read with the income type of its kind.
UPDATE account_flows
SET ref = ref || ':' || CASE kind WHEN 'funding' THEN 'FUNDING_FEE' ELSE 'REALIZED_PNL' END
WHERE kind IN ('funding', 'realised')
  AND ref LIKE 'fetch_funding_history:%'
  AND account_id IN (SELECT id FROM accounts WHERE venue IN ('binanceusdm', 'binancecoinm'));

-- Hyperliquid funding: the time is the row's `at` (seconds) in ms, the coin the base of its
-- symbol (ccxt names a perp "<coin>/USDC:USDC"). Two rows of one payment would collide on the
-- new key: the first stored is kept.
DELETE FROM account_flows
WHERE kind = 'funding'
  AND account_id IN (SELECT id FROM accounts WHERE venue = 'hyperliquid')
  AND rowid NOT IN (
      SELECT min(rowid) FROM account_flows
      WHERE kind = 'funding'
        AND account_id IN (SELECT id FROM accounts WHERE venue = 'hyperliquid')
      GROUP BY account_id, CAST(round(at * 1000) AS INTEGER),
               CASE WHEN instr(symbol, '/') > 0 THEN substr(symbol, 1, instr(symbol, '/') - 1)
                    ELSE symbol END
  );
UPDATE account_flows
SET ref = 'fetch_funding_history:' || CAST(round(at * 1000) AS INTEGER) || ':'
          || CASE WHEN instr(symbol, '/') > 0 THEN substr(symbol, 1, instr(symbol, '/') - 1)
                  ELSE symbol END
WHERE kind = 'funding'
  AND account_id IN (SELECT id FROM accounts WHERE venue = 'hyperliquid');

-- The payments dropped are unknown: forget the day Hyperliquid funding counted as read, so the
-- ledger reads it again (the kept payment has the key the re-read gives it: stored once).
DELETE FROM account_flow_coverage
WHERE kind = 'funding'
  AND account_id IN (SELECT id FROM accounts WHERE venue = 'hyperliquid');
