"""One position replayed over a path's points: the step `liqwatch backtest`, its tests and its
benchmark all take after choosing the points (and, for a sweep's check, the entry)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.backtest.position import PositionSpec, snapshot
from engine.alerts.rules import Rule
from engine.backtest import (
    Outcome,
    Priced,
    PricePath,
    Replay,
    replay,
    replay_account,
    touch_time,
)
from engine.types import FloatArray


def replay_position(
    spec: PositionSpec,
    path: PricePath,
    points: tuple[FloatArray, FloatArray],
    rules: Sequence[Rule],
    *,
    venue: str,
    start_s: float,
    end_s: float,
) -> tuple[Outcome, float]:
    """Open ``spec`` at ``start_s`` (at its entry, or the first point's price for "@ market"),
    price it with the engine, find when ``path`` first touches its liquidation price in
    ``[start_s, end_s)``, and run the real alert evaluation and policy over ``points``; the
    outcome and the liquidation price."""
    t, x = points
    start = start_s
    entry = spec.entry if spec.entry is not None else float(x[0])
    priced = Priced(snapshot(spec, entry, taken_at_s=start).snapshot, spec.symbol)
    liq = float(priced.at(entry).liquidation_price[0])
    touched = touch_time(path, liq, spec.sign, start)
    if touched is not None and touched >= end_s:
        touched = None
    state = Replay(replay_account(venue), rules)
    return replay(priced, state, t, x, liquidated_at=touched), liq
