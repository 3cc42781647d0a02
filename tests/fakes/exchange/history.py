"""Candle history for the fake: a deterministic OHLCV series per market and timeframe, served
by time range the way Binance's klines are (``startTime``/``endTime``/``limit``), with ranges
a test can leave out (``FakeExchange.missing_candles``) to stand for a venue's gap."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tests.fakes.exchange.base import NOW_MS

#: Binance's interval names and their lengths.
INTERVALS_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "1d": 86_400_000}


def bar(market_id: str, open_ms: int, tf_ms: int) -> tuple[float, float, float, float, float]:
    """(open, high, low, close, volume) of the bar opening at ``open_ms``: a slow sine around
    a per-market level plus a hashed wiggle, on a 0.01 grid so every value prints exactly.
    The close is the next bar's open, as on a real venue."""
    seed = sum(map(ord, market_id))
    level = 100.0 + seed % 97

    def price(ms: int) -> float:
        step = ms // 60_000
        wiggle = ((step * 2654435761 + seed) % 1000) / 1000.0 - 0.5
        return round(level * (1.0 + 0.08 * math.sin(step / 5000.0)) + wiggle, 2)

    o, c = price(open_ms), price(open_ms + tf_ms)
    spread = 0.01 * (1 + (open_ms // tf_ms) % 7)
    high, low = round(max(o, c) + spread, 2), round(min(o, c) - spread, 2)
    return o, high, low, c, float(1 + (open_ms // tf_ms) % 13)


def bars(
    market_id: str,
    tf_ms: int,
    start_ms: int,
    end_ms: int | None,
    limit: int,
    missing: Sequence[tuple[int, int]] = (),
) -> list[tuple[int, float, float, float, float, float]]:
    """Up to ``limit`` bars opening at or after ``start_ms`` (and at or before ``end_ms``),
    oldest first, none after the fake's ``NOW_MS`` (only closed bars), none inside a
    ``missing`` range [from, to)."""
    first = -(-start_ms // tf_ms) * tf_ms
    last = (NOW_MS // tf_ms - 1) * tf_ms
    if end_ms is not None:
        last = min(last, end_ms)
    out: list[tuple[int, float, float, float, float, float]] = []
    t = first
    while t <= last and len(out) < limit:
        if not any(lo <= t < hi for lo, hi in missing):
            out.append((t, *bar(market_id, t, tf_ms)))
        t += tf_ms
    return out
