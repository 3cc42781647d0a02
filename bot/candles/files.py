"""Candle files: ``timestamp_ms,open,high,low,close,volume`` CSV, plain or gzip-compressed.

Reading is strict because a backtest is only as honest as its prices: a malformed file is
refused with one sentence naming the file, the line and the problem, never half-read.
"""

from __future__ import annotations

import gzip
import io
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from bot.errors import UserError
from engine.candles import Candles, from_rows, infer_timeframe

HEADER = ("timestamp_ms", "open", "high", "low", "close", "volume")
HEADER_LINE = ",".join(HEADER)


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def _problem(values: list[float], previous_ts: float | None) -> str | None:
    """What is wrong with one parsed row, or None."""
    ts, _open, high, low, _close, _volume = values
    if not all(math.isfinite(v) for v in values):
        return "a value is not a finite number"
    if ts != int(ts):
        return f"timestamp {values[0]} is not a whole number of milliseconds"
    if previous_ts is not None and ts == previous_ts:
        return f"timestamp {int(ts)} repeats the previous row's"
    if previous_ts is not None and ts < previous_ts:
        return f"timestamp {int(ts)} is earlier than the previous row's ({int(previous_ts)})"
    if high < low:
        return f"high {high:g} is below low {low:g}"
    return None


def _parse(path: Path, lines: Iterable[str]) -> Iterator[list[float]]:
    """Yield each data row's six numbers, or raise a UserError naming the line."""
    previous: float | None = None
    for number, raw in enumerate(lines, start=2):
        line = raw.strip()
        if not line:
            continue
        fields = line.split(",")
        if len(fields) != len(HEADER):
            raise UserError(
                f"{path.name} line {number}: expected {len(HEADER)} comma-separated fields "
                f"({HEADER_LINE}), found {len(fields)}."
            )
        try:
            values = [float(field) for field in fields]
        except ValueError:
            bad = next(f for f in fields if not _is_number(f))
            raise UserError(f"{path.name} line {number}: {bad!r} is not a number.") from None
        if (problem := _problem(values, previous)) is not None:
            raise UserError(f"{path.name} line {number}: {problem}.")
        previous = values[0]
        yield values


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_csv(path: Path, *, timeframe_ms: int | None = None) -> Candles:
    """Read a candle CSV (``.csv`` or ``.csv.gz``); the timeframe is the most common step.

    Raises UserError for a missing file, a missing header, a row that is not six numbers,
    unsorted or repeated timestamps, or a candle whose high is below its low.
    """
    if not path.is_file():
        raise UserError(f"{path}: no such candle file.")
    try:
        with _open_text(path) as handle:
            header = handle.readline().strip()
            if header.replace(" ", "") != HEADER_LINE:
                raise UserError(
                    f"{path.name} line 1: the header must be {HEADER_LINE!r}, "
                    f"found {header[:60]!r}."
                )
            rows = list(_parse(path, handle))
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise UserError(f"{path.name}: cannot read it as a candle file ({exc}).") from None
    if not rows:
        raise UserError(f"{path.name}: the file has a header but no candles.")
    table = np.asarray(rows, dtype=np.float64)
    ts = table[:, 0].astype(np.int64)
    if timeframe_ms is None:
        if len(ts) < 2:
            raise UserError(f"{path.name}: one candle is not enough to tell the timeframe.")
        timeframe_ms = infer_timeframe(ts)
    return from_rows(table, timeframe_ms)


def format_row(ts_ms: int, o: float, h: float, lo: float, c: float, v: float) -> str:
    """One CSV line in the shortest round-trip form, ``43000`` rather than ``43000.0``."""
    return ",".join([str(int(ts_ms)), *(_short(x) for x in (o, h, lo, c, v))])


def _short(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def write_csv(path: Path, candles: Candles) -> None:
    """Write candles as a CSV (gzip-compressed when the name ends in ``.gz``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [HEADER_LINE]
    for i in range(len(candles)):
        lines.append(
            format_row(
                int(candles.ts_ms[i]),
                float(candles.open[i]),
                float(candles.high[i]),
                float(candles.low[i]),
                float(candles.close[i]),
                float(candles.volume[i]),
            )
        )
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)
