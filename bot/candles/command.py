"""The `liqwatch candles fetch` use case: arguments checked, then a fetch or an import."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.candles.cache import PRICES, CacheFile
from bot.candles.dates import parse_day
from bot.candles.fetch import Report, fetch, import_csv, timeframe_ms
from bot.errors import UserError
from bot.exchanges import ExchangeHub
from bot.exchanges.venues import exchange_class


def fetch_command(
    cache_dir: Path,
    venue: str,
    symbol: str,
    timeframe: str,
    *,
    since: str | None,
    until: str | None = None,
    file: Path | None = None,
    price: str = "last",
    url_prefix: str | None = None,
) -> str:
    """What the command prints; a fetch stopped by the venue is a UserError that says what was
    kept and that the same command continues it."""
    timeframe_ms(timeframe)
    if exchange_class(venue) is None:
        raise UserError(f"{venue!r} is not a venue ccxt knows (e.g. binanceusdm, hyperliquid).")
    if price not in PRICES:
        raise UserError(f"--price {price!r}: choose last or mark.")
    cache = CacheFile(cache_dir, venue, symbol.upper(), timeframe, price)
    if file is not None:
        return import_csv(cache, file).text()
    if since is None:
        raise UserError("--since DATE is required to fetch (or --file CSV to import).")
    since_ms = parse_day(since, "--since")
    until_ms = None if until is None else parse_day(until, "--until")
    report = asyncio.run(_fetch(cache, since_ms, until_ms, url_prefix))
    if report.stopped is not None:
        raise UserError(_stopped(report))
    return report.text()


async def _fetch(
    cache: CacheFile, since_ms: int, until_ms: int | None, url_prefix: str | None
) -> Report:
    async with ExchangeHub(url_prefix) as hub:
        now_ms = int(time.time() * 1000)
        return await fetch(hub, cache, since_ms=since_ms, until_ms=until_ms, now_ms=now_ms)


def _stopped(report: Report) -> str:
    kept = report.text().split(" → ")[0]
    return (
        f"the fetch stopped: {report.stopped}. Kept what came before it ({kept}); "
        f"run the same command again to continue."
    )
