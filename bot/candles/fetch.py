"""`liqwatch candles fetch`: page ccxt's ``fetch_ohlcv`` (public, no key) into the cache, or
import a CSV into it.

A fetch continues after the last stored bar, so an interrupted one is finished by running it
again; a range the venue skips is recorded as a gap, never filled; bars still open (the
current one) are not stored, so a stored bar never changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.candles.cache import FETCHABLE, CacheFile, Row
from bot.candles.dates import iso
from bot.candles.files import read_csv
from bot.errors import UserError
from bot.exchanges import ExchangeFailure, ExchangeHub
from engine.candles import TIMEFRAMES

#: Candles asked per request: Binance's klines cost 5 weight for 500-1000 (10 above).
PAGE = 1000


def timeframe_ms(name: str) -> int:
    if name not in FETCHABLE:
        raise UserError(f"--timeframe {name!r}: choose one of {', '.join(FETCHABLE)}.")
    return TIMEFRAMES[name]


@dataclass
class Report:
    """What one fetch or import did."""

    cache: CacheFile
    added: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    gaps: list[tuple[int, int]] = field(default_factory=list)
    #: Why the fetch stopped before ``--until`` (None: it did not).
    stopped: str | None = None
    #: The cache began after ``--since``: earlier bars were not fetched (it grows forward).
    starts_late_ms: int | None = None

    def kept(self, rows: list[Row], gaps: list[tuple[int, int]]) -> None:
        self.cache.record_gaps(gaps)
        self.cache.append(rows)
        self.added += len(rows)
        self.first_ms = rows[0][0] if self.first_ms is None else self.first_ms
        self.last_ms = rows[-1][0]
        self.gaps.extend(gaps)

    def text(self) -> str:
        c = self.cache
        head = f"{c.venue} {c.symbol} {c.price} {c.timeframe}: "
        if self.added and self.first_ms is not None and self.last_ms is not None:
            head += f"added {self.added} bars, {iso(self.first_ms)} … {iso(self.last_ms)}"
        else:
            head += "added no bars (the cache is up to date for this range)"
        tf = TIMEFRAMES[c.timeframe]
        holes = ", ".join(f"{iso(a)} … {iso(b)} ({(b - a) // tf} bars)" for a, b in self.gaps)
        head += f"; {len(self.gaps)} gap{'' if len(self.gaps) == 1 else 's'}"
        head += f" recorded ({holes})" if holes else ""
        lines = [f"{head} → {c.path}"]
        if self.starts_late_ms is not None:
            lines.append(
                f"note: the cache starts at {iso(self.starts_late_ms)}, after --since; it only "
                f"grows forward (delete {c.path.name} to fetch from earlier)."
            )
        return "\n".join(lines)


def _row(raw: Any, tf: int) -> Row | None:
    """A ccxt OHLCV row as six numbers, or None when it is not a whole, sane candle."""
    try:
        ts, o, h, lo, c, v = raw
        values = [float(x) for x in (o, h, lo, c, v)]
        stamp = int(ts)
    except (TypeError, ValueError):
        return None
    if not all(math.isfinite(x) for x in values) or stamp % tf or values[1] < values[2]:
        return None
    return (stamp, *values)  # type: ignore[return-value]


def page_gaps(previous: int | None, rows: list[Row], tf: int) -> list[tuple[int, int]]:
    """The missing ranges before and between ``rows`` (``previous``: the last stored bar)."""
    found, last = [], previous
    for row in rows:
        if last is not None and row[0] > last + tf:
            found.append((last + tf, row[0]))
        last = row[0]
    return found


Page = Callable[[int, int], Any]


async def fetch_into(
    cache: CacheFile, page: Page, *, since_ms: int, until_ms: int, limit: int = PAGE
) -> Report:
    """Fetch [since, until) page by page after whatever ``cache`` holds; ``page(since, limit)``
    returns ccxt OHLCV rows. A failing page stops the fetch with what came before it kept."""
    tf = TIMEFRAMES[cache.timeframe]
    report = Report(cache)
    cache.repair()
    bounds = cache.bounds()
    last = None if bounds is None else bounds[1]
    if bounds is not None and bounds[0] > since_ms:
        report.starts_late_ms = bounds[0]
    cursor = -(-since_ms // tf) * tf if last is None else last + tf
    while cursor < until_ms:
        try:
            raw = await page(cursor, limit)
        except ExchangeFailure as failure:
            report.stopped = str(failure)
            break
        rows = sorted({r[0]: r for r in map(lambda x: _row(x, tf), raw or []) if r}.values())
        if len(rows) != len(raw or []):
            report.stopped = f"{cache.venue} returned a malformed candle after {iso(cursor)}"
            break
        fresh = [r for r in rows if cursor <= r[0] < until_ms]
        if not fresh:
            break  # nothing more yet: a later run continues from here
        # Before the first stored bar nothing is a gap: the market may not have existed.
        report.kept(fresh, page_gaps(last, fresh, tf))
        last, cursor = fresh[-1][0], fresh[-1][0] + tf
    return report


async def fetch(
    hub: ExchangeHub,
    cache: CacheFile,
    *,
    since_ms: int,
    until_ms: int | None,
    now_ms: int,
    limit: int = PAGE,
) -> Report:
    """The venue's public instance through ``hub`` (its budget, retries and failure kinds)."""
    tf = TIMEFRAMES[cache.timeframe]
    closed = now_ms // tf * tf  # bars opening before this have closed
    until = closed if until_ms is None else min(until_ms, closed)
    if until <= since_ms:
        raise UserError(f"nothing to fetch: --since {iso(since_ms)} is not before {iso(until)}.")
    try:
        exchange = await hub.public(cache.venue)
    except ExchangeFailure as failure:
        raise UserError(f"{cache.venue}: {failure}.") from None
    if cache.symbol not in exchange.markets:
        raise UserError(f"{cache.symbol} is not a market of {cache.venue} (e.g. BTC/USDT:USDT).")
    if not exchange.has.get("fetchOHLCV"):
        raise UserError(f"{cache.venue} serves no candles through ccxt.")

    # ccxt's unified switch to the venue's mark-price klines (Binance: markPriceKlines).
    params = {"price": "mark"} if cache.price == "mark" else {}

    async def page(since: int, size: int) -> Any:
        return await hub.call(
            cache.venue,
            lambda: exchange.fetch_ohlcv(cache.symbol, cache.timeframe, since, size, params),
        )

    return await fetch_into(cache, page, since_ms=since_ms, until_ms=until, limit=limit)


def import_csv(cache: CacheFile, file: Path) -> Report:
    """The rows of ``file`` after the cache's last bar, appended; its gaps recorded."""
    candles = read_csv(file)
    tf = TIMEFRAMES[cache.timeframe]
    if candles.timeframe_ms != tf:
        raise UserError(
            f"{file.name} holds {candles.timeframe_ms // 1000} s candles, not {cache.timeframe}: "
            f"pass the --timeframe it has."
        )
    report = Report(cache)
    cache.repair()
    bounds = cache.bounds()
    last = None if bounds is None else bounds[1]
    table = np.column_stack(
        [candles.open, candles.high, candles.low, candles.close, candles.volume]
    ).tolist()
    rows: list[Row] = [
        (int(ts), *values)
        for ts, values in zip(candles.ts_ms.tolist(), table, strict=True)
        if last is None or ts > last
    ]
    if bounds is not None and int(candles.ts_ms[0]) < bounds[0]:
        report.starts_late_ms = bounds[0]
    if rows:
        report.kept(rows, page_gaps(last, rows, tf))
    return report
