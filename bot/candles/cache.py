"""The local candle cache: one CSV per venue, symbol and timeframe, grown forward, with a
sidecar of the ranges the venue had no candles for.

Layout: ``DIR/VENUE/SYMBOL[-MARK]_TF.csv`` (``BTC-USDT-USDT-MARK_1m.csv``) in the format
``bot.candles.files`` reads, and ``SYMBOL_TF.gaps.json`` beside it. Rows are only ever
appended after the last stored bar, so a bar is never stored twice; a line cut short by a
crash is dropped before the next append (the rerun fetches that bar again).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from bot.candles.files import HEADER_LINE, format_row

Row = tuple[int, float, float, float, float, float]
#: The timeframes ``candles fetch`` accepts: the backtest's and calibration's resolutions.
FETCHABLE = ("1m", "5m", "15m", "1h")
#: Which price the candles follow: the last trade, or the venue's mark (what liquidates).
PRICES = ("last", "mark")


def slug(symbol: str) -> str:
    """``BTC/USDT:USDT`` → ``BTC-USDT-USDT``: a file name that still reads as the market."""
    return re.sub(r"[^A-Za-z0-9]+", "-", symbol).strip("-").upper()


@dataclass(frozen=True)
class CacheFile:
    """One venue/symbol/timeframe's file in the cache under ``root``."""

    root: Path
    venue: str
    symbol: str
    timeframe: str
    price: str = "last"

    @property
    def path(self) -> Path:
        mark = "-MARK" if self.price == "mark" else ""
        return self.root / self.venue / f"{slug(self.symbol)}{mark}_{self.timeframe}.csv"

    @property
    def gaps_path(self) -> Path:
        return self.path.with_suffix(".gaps.json")

    def exists(self) -> bool:
        return self.path.is_file()

    def bounds(self) -> tuple[int, int] | None:
        """(first, last) stored open time; None when nothing is stored. Only complete lines
        count: a reader may look while a fetch is appending."""
        if not self.exists():
            return None
        with self.path.open("rb") as handle:
            handle.readline()
            first_line = handle.readline()
            if not first_line.endswith(b"\n"):
                return None
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - 4096))
            tail = handle.read()
            last_line = tail[: tail.rfind(b"\n")].rsplit(b"\n", 1)[-1]
        return int(first_line.split(b",", 1)[0]), int(last_line.split(b",", 1)[0])

    def repair(self) -> None:
        """Drop a last line without its newline: a write a crash cut short (the writer calls
        this before it appends; the bar is fetched again)."""
        if not self.exists():
            return
        with self.path.open("rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            if size == 0:
                return
            handle.seek(max(0, size - 4096))
            tail = handle.read()
            if tail.endswith(b"\n"):
                return
            cut = tail.rfind(b"\n")
            handle.truncate(size - len(tail) + cut + 1 if cut >= 0 else 0)

    def append(self, rows: list[Row]) -> None:
        """Add rows (ascending, all after the last stored bar) and sync them to disk, so what a
        fetch reports as kept survives the process being killed."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.exists() or self.path.stat().st_size == 0
        lines = ([HEADER_LINE] if fresh else []) + [format_row(*row) for row in rows]
        with self.path.open("a", encoding="utf-8", newline="") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def gaps(self) -> list[tuple[int, int]]:
        """The recorded missing ranges [from, to) of open times, oldest first."""
        if not self.gaps_path.is_file():
            return []
        doc = json.loads(self.gaps_path.read_text(encoding="utf-8"))
        return [(int(a), int(b)) for a, b in doc.get("gaps", [])]

    def record_gaps(self, found: list[tuple[int, int]]) -> None:
        """Merge ``found`` into the sidecar (written whole, then renamed into place). Written
        before the rows that reveal them, so a rerun after a crash finds them again, harmlessly."""
        if not found:
            return
        merged = sorted(set(self.gaps()) | set(found))
        doc = {
            "venue": self.venue,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "price": self.price,
            "note": "open-time ranges [from_ms, to_ms) the venue had no candles for; never filled",
            "gaps": [list(g) for g in merged],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.gaps_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, self.gaps_path)


def cached(root: Path, venue: str, symbol: str, price: str) -> list[CacheFile]:
    """The files the cache holds for this venue, symbol and price, finest timeframe first."""
    files = [CacheFile(root, venue, symbol.upper(), tf, price) for tf in FETCHABLE]
    return [f for f in files if f.bounds() is not None]
