"""OHLCV candles as aligned numpy arrays: the price history backtests and calibration replay.

Timestamps are candle *open* times in Unix epoch milliseconds (UTC), ascending and unique. A
missing candle is a gap: it is never filled, because an invented bar would invent a price path
that a warning could (or could not) have caught.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.types import FloatArray, IntArray

#: Timeframe names and their lengths; the candle cache and the CLI accept these.
TIMEFRAMES: dict[str, int] = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1d": 86_400_000,
}


def timeframe_name(timeframe_ms: int) -> str:
    """``3_600_000`` → ``"1h"``; an unnamed length is shown in seconds."""
    for name, ms in TIMEFRAMES.items():
        if ms == timeframe_ms:
            return name
    return f"{timeframe_ms // 1000}s"


@dataclass(frozen=True, eq=False)
class Candles:
    """A run of candles of one timeframe; the arrays are aligned and equally long."""

    ts_ms: IntArray
    open: FloatArray
    high: FloatArray
    low: FloatArray
    close: FloatArray
    volume: FloatArray
    timeframe_ms: int

    def __post_init__(self) -> None:
        n = len(self.ts_ms)
        for name in ("open", "high", "low", "close", "volume"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"candles: {name} has {len(getattr(self, name))} values, not {n}")
        if self.timeframe_ms <= 0:
            raise ValueError("candles: the timeframe must be positive")
        if n > 1 and not bool(np.all(np.diff(self.ts_ms) > 0)):
            raise ValueError("candles: timestamps must be ascending and unique")

    def __len__(self) -> int:
        return len(self.ts_ms)

    @property
    def end_ms(self) -> int:
        """When the last candle closes (its open plus one timeframe); 0 when empty."""
        return int(self.ts_ms[-1]) + self.timeframe_ms if len(self) else 0

    def gaps(self) -> list[tuple[int, int]]:
        """Each run of missing candles as (first missing open, open of the next present one).

        The end is exclusive: a gap of one hourly candle at 01:00 is ``(01:00, 02:00)``.
        """
        if len(self) < 2:
            return []
        steps = np.diff(self.ts_ms)
        where = np.flatnonzero(steps > self.timeframe_ms)
        return [(int(self.ts_ms[i]) + self.timeframe_ms, int(self.ts_ms[i + 1])) for i in where]

    def slice(self, from_ms: int | None = None, to_ms: int | None = None) -> Candles:
        """The candles that open in ``[from_ms, to_ms)``; ``None`` leaves that side open."""
        lo = 0 if from_ms is None else int(np.searchsorted(self.ts_ms, from_ms, side="left"))
        hi = len(self) if to_ms is None else int(np.searchsorted(self.ts_ms, to_ms, side="left"))
        return self._take(lo, hi)

    def _take(self, lo: int, hi: int) -> Candles:
        return Candles(
            ts_ms=self.ts_ms[lo:hi],
            open=self.open[lo:hi],
            high=self.high[lo:hi],
            low=self.low[lo:hi],
            close=self.close[lo:hi],
            volume=self.volume[lo:hi],
            timeframe_ms=self.timeframe_ms,
        )


def from_rows(rows: np.ndarray, timeframe_ms: int) -> Candles:
    """Candles from an (n, 6) array of ``timestamp_ms, open, high, low, close, volume``."""
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    return Candles(
        ts_ms=table[:, 0].astype(np.int64),
        open=np.ascontiguousarray(table[:, 1]),
        high=np.ascontiguousarray(table[:, 2]),
        low=np.ascontiguousarray(table[:, 3]),
        close=np.ascontiguousarray(table[:, 4]),
        volume=np.ascontiguousarray(table[:, 5]),
        timeframe_ms=timeframe_ms,
    )


def infer_timeframe(ts_ms: IntArray) -> int:
    """The most common step between consecutive timestamps (gaps make longer, rarer steps)."""
    if len(ts_ms) < 2:
        raise ValueError("candles: at least two candles are needed to tell the timeframe")
    steps, counts = np.unique(np.diff(ts_ms), return_counts=True)
    return int(steps[int(np.argmax(counts))])
