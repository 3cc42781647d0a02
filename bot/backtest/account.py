"""`liqwatch backtest --account SNAPSHOT.json`: a whole stored account replayed, every
position priced from its own symbol's candles, cross margin re-solved by the engine."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from bot.analysis.snapshot import SnapshotFile, load
from bot.candles.files import read_csv
from bot.candles.load import candle_source
from bot.errors import UserError
from engine.alerts.rules import Rule
from engine.backtest import (
    Outcome,
    Priced,
    Replay,
    account_points,
    adverse_path,
    replay_account,
    replay_whole_account,
)
from engine.candles import Candles


def net_sides(file: SnapshotFile) -> dict[str, float]:
    """Each held symbol and the side its adverse path is taken for: the sign of the account's
    net exposure there (a long and a short of one symbol cannot both see their worst)."""
    pos = file.snapshot.positions
    net: dict[str, float] = {}
    for k in np.flatnonzero(pos.valid).tolist():
        exposure = float(pos.side[k] * abs(pos.qty[k] * pos.mark[k]))
        net[str(pos.symbol[k])] = net.get(str(pos.symbol[k]), 0.0) + exposure
    return {symbol: 1.0 if value >= 0 else -1.0 for symbol, value in net.items()}


def account_candles(
    file: SnapshotFile,
    plain: Path | None,
    by_symbol: Mapping[str, Path],
    *,
    cache_dir: Path,
    timeframe: str | None,
) -> dict[str, Candles]:
    """Each held symbol's candles: ``SYMBOL=FILE``, else the one plain file when the account
    holds one symbol, else the cache (``bot.candles.load``)."""
    sides = net_sides(file)
    if not sides:
        raise UserError("--account: the snapshot holds no readable position to replay.")
    if plain is not None and len(sides) > 1:
        raise UserError(
            f"--candles {plain}: the account holds {', '.join(sides)}; name each file's market "
            f"as --candles SYMBOL=FILE."
        )
    out = {}
    for symbol in sides:
        source = by_symbol.get(symbol, plain)
        out[symbol] = read_csv(
            candle_source(
                source, cache_dir=cache_dir, venue=file.exchange, symbol=symbol, timeframe=timeframe
            )
        )
    return out


def replay_file(
    path: Path,
    candles_for: tuple[Path | None, Mapping[str, Path]],
    rules: list[Rule],
    *,
    span: tuple[float | None, float | None],
    poll_s: float | None,
    cache_dir: Path,
    timeframe: str | None,
) -> Outcome:
    """Load the snapshot and its symbols' candles, then replay the account over the span all
    of them cover (within ``span``)."""
    file = load(path)
    series = account_candles(
        file, candles_for[0], candles_for[1], cache_dir=cache_dir, timeframe=timeframe
    )
    sides = net_sides(file)
    start = max(int(c.ts_ms[0]) / 1000 for c in series.values())
    end = min(c.end_ms / 1000 for c in series.values())
    start, end = max(start, span[0] or start), min(end, span[1] or end)
    if end <= start:
        raise UserError("empty range: the symbols' candles share no time between --from and --to.")
    paths = {symbol: adverse_path(c, sides[symbol]) for symbol, c in series.items()}
    times, marks = account_points(paths, start, end, poll_s)
    if not len(times):
        raise UserError("empty range: no instant between --from and --to has every symbol's price.")
    priced = Priced(file.snapshot, next(iter(series)), dict(file.volatility), file.horizon_hours)
    state = Replay(replay_account(file.exchange), rules)
    return replay_whole_account(priced, state, times, marks, list(paths))
