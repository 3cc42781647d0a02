"""Where a backtest or calibration gets its candles: ``--candles FILE``, else the cache."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from bot.candles.cache import FETCHABLE, cached
from bot.errors import UserError

_SYMBOL = re.compile(r"^[A-Za-z0-9]+/[A-Za-z0-9]+(:[A-Za-z0-9]+)?$")

#: The mark first: Binance liquidates on it, and the last-trade series has wicks it never saw.
PREFERRED = ("mark", "last")


def candle_source(
    file: Path | None,
    *,
    cache_dir: Path,
    venue: str,
    symbol: str,
    timeframe: str | None = None,
) -> Path:
    """``file`` when given; else the cache's file for ``venue``/``symbol`` (mark before last,
    ``timeframe`` or else the finest cached); else a UserError saying how to fetch them."""
    if file is not None:
        return file
    if timeframe is not None and timeframe not in FETCHABLE:
        raise UserError(f"--timeframe {timeframe!r}: choose one of {', '.join(FETCHABLE)}.")
    for price in PREFERRED:
        for found in cached(cache_dir, venue, symbol, price):
            if timeframe is None or found.timeframe == timeframe:
                return found.path
    tf = timeframe or "1h"
    fetch = f"liqwatch candles fetch {venue} {symbol} --timeframe {tf} --price mark"
    raise UserError(
        f"no {timeframe + ' ' if timeframe else ''}candles for {symbol} on {venue} in the cache "
        f"({cache_dir}): pass --candles FILE.csv, or fetch them first with "
        f"`{fetch} --since 2024-01-01`."
    )


def candle_files(entries: Sequence[str] | None) -> tuple[Path | None, dict[str, Path]]:
    """``--candles`` as given, repeatable: ``FILE`` (the one market's) and ``SYMBOL=FILE``
    pairs (``BTC/USDT:USDT=btc.csv``, one per market of an account)."""
    plain: Path | None = None
    by_symbol: dict[str, Path] = {}
    for entry in entries or ():
        symbol, eq, file = entry.partition("=")
        if eq and _SYMBOL.match(symbol):
            by_symbol[symbol.upper()] = Path(file)
        elif plain is None:
            plain = Path(entry)
        else:
            raise UserError(
                f"--candles {entry}: a second unnamed file; name each file's market as "
                f"--candles SYMBOL=FILE (e.g. BTC/USDT:USDT=btc.csv)."
            )
    return plain, by_symbol
