"""A grid of scenarios, spot × implied volatility, priced in one pass (docs/stress.md#grid).

Every cell is the shock ``engine.stress.stress`` applies — futures linear in their mark, options
re-priced by Black-76, coin collateral moving with its coin, pools judged after it — but the
cells are array axes, not a loop: the futures' PnL and maintenance have a spot axis in front of
the position axis, the options' Black-76 values a spot and a vol axis (options taken in chunks
so a large book's temporaries stay small), and per-pool sums are matrix products.

A cell liquidates something when a pool's maintenance reaches its equity after the shock (the
cross liquidation price is where that happens) or a position whose liquidation price does not
move with the others' PnL (isolated, or one the engine has no formula for) is crossed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import metrics
from engine.liquidation import compute
from engine.model import CHUNK, ContractType, MarginMode, chunks, lookup
from engine.normalise import Snapshot
from engine.portfolio import Portfolio
from engine.stress import hit_by, linear_move
from engine.stress_options import OptionBook, VolShock, delta_move, option_book
from engine.stress_pools import (
    Pools,
    PoolSums,
    after,
    held_option_maintenance,
    pools_of,
    sums,
)
from engine.types import BoolArray, FloatArray

#: The default axes, in percent: spot −20…+20 by 5, volatility −30…+30 by 15 (relative).
SPOT_PCT = (-20.0, -15.0, -10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 20.0)
VOL_PCT = (-30.0, -15.0, 0.0, 15.0, 30.0)


@dataclass(frozen=True, eq=False)
class StressGrid:
    """Per cell ``[spot, vol]``: the shock's PnL and the equity after it (USD), whether it
    liquidates something, and each pool's margin ratio after it (``[spot, vol, pool]``)."""

    underlying: str | None
    spot_pct: FloatArray
    #: Relative shocks: σ·(1 + vol/100).
    vol_pct: FloatArray
    pnl_usd: FloatArray
    equity_usd_before: float
    equity_usd_after: FloatArray
    liquidates: BoolArray
    pools: tuple[str, ...]
    #: Per pool: "venue" (portfolio margin, the venue's maintenance held) or "engine".
    pool_sources: tuple[str, ...]
    margin_ratio_after: FloatArray
    #: Options re-priced by Black-76, and those moved by delta (named in ``notes``).
    repriced: int
    fallback: int
    notes: tuple[str, ...]


def check_axes(spot_pct: tuple[float, ...], vol_pct: tuple[float, ...]) -> str | None:
    """One sentence when an axis holds a shock no price or volatility can take, else None."""
    if not spot_pct or not vol_pct:
        return "A stress grid needs at least one spot and one vol shock."
    bad = [x for x in spot_pct if not np.isfinite(x) or x <= -100.0]
    if bad:
        return f"spot shock {bad[0]:g}% would put the price at or below zero."
    for v in vol_pct:
        problem = VolShock(v).problem()
        if problem:
            return problem
    return None


def stress_grid(
    snapshot: Snapshot,
    portfolio: Portfolio,
    baseline_liquidation: FloatArray,
    *,
    underlying: str | None = None,
    spot_pct: tuple[float, ...] = SPOT_PCT,
    vol_pct: tuple[float, ...] = VOL_PCT,
) -> StressGrid:
    """The book under every (spot, vol) pair; raises ``ValueError`` on an impossible axis."""
    problem = check_axes(spot_pct, vol_pct)
    if problem:
        raise ValueError(problem)
    positions = snapshot.positions
    x = np.asarray(spot_pct, dtype=np.float64)
    v = np.asarray(vol_pct, dtype=np.float64)
    hit = hit_by(positions, underlying)
    moves = hit & (positions.kind != ContractType.OPTION)
    marks = np.where(moves, positions.mark * (1.0 + x[:, None] / 100.0), positions.mark)
    rates = _settle_rates(snapshot, portfolio, x, underlying)
    book = option_book(positions, snapshot.taken_at)
    pools = pools_of(snapshot, portfolio)
    own = held_option_maintenance(positions, marks)
    linear = linear_move(positions, marks)
    spot_only = sums(pools, slice(None), linear, own)
    pnl = (linear * rates).sum(axis=-1)
    fallback = delta_move(positions, book.fallback, np.where(hit[book.fallback], x[:, None], 0.0))
    fallback = np.nan_to_num(fallback)
    spot_only += sums(pools, book.fallback, fallback, np.zeros_like(fallback))
    pnl = pnl + (fallback * rates[:, book.fallback]).sum(axis=-1)
    option_pnl, option_sums = _options(book, pools, hit, x, v, rates)
    total = PoolSums(
        spot_only.pnl[:, None, :] + option_sums.pnl,
        spot_only.cross_pnl[:, None, :] + option_sums.cross_pnl,
        np.broadcast_to(spot_only.own[:, None, :], option_sums.pnl.shape),
        np.broadcast_to(spot_only.cross_own[:, None, :], option_sums.pnl.shape),
    )
    found = after(pools, total)
    pnl_usd = pnl[:, None] + option_pnl
    crossed = _fixed_crossed(snapshot, baseline_liquidation, marks)
    return StressGrid(
        underlying=underlying,
        spot_pct=x,
        vol_pct=v,
        pnl_usd=pnl_usd,
        equity_usd_before=portfolio.equity_usd,
        equity_usd_after=_balances_after(snapshot, portfolio, x, underlying)[:, None] + pnl_usd,
        liquidates=np.asarray(found.blown.any(axis=-1) | crossed[:, None]),
        pools=pools.names,
        pool_sources=pools.sources,
        margin_ratio_after=found.ratio,
        repriced=len(book.rows),
        fallback=len(book.fallback),
        notes=book.notes,
    )


def _options(
    book: OptionBook,
    pools: Pools,
    shocked: BoolArray,
    x: FloatArray,
    v: FloatArray,
    rates: FloatArray,
) -> tuple[FloatArray, PoolSums]:
    """The re-priced options' PnL in USD ``(S, V)`` and per pool ``(S, V, p)``: one Black-76
    evaluation over scenarios × options per chunk of options (their maintenance is held, so
    it is already in the spot-only sums)."""
    cells = (len(x), len(v))
    pnl = np.zeros(cells)
    per_pool = np.zeros((*cells, len(pools.names)))
    per_cross = np.zeros_like(per_pool)
    scale = (1.0 + v / 100.0)[:, None]
    for part in chunks(len(book.rows), max(1, CHUNK // (cells[0] * cells[1]))):
        rows, sub = book.rows[part], book.take(part)
        factor = np.where(shocked[rows], 1.0 + x[:, None] / 100.0, 1.0)[:, None, :]
        change = np.nan_to_num(sub.change(factor, (sub.sigma * scale)[None]))
        pnl += (change * rates[:, None, rows]).sum(axis=-1)
        per_pool += change @ pools.member[rows]
        per_cross += change @ pools.cross[rows]
    zero = np.zeros_like(per_pool)
    return pnl, PoolSums(per_pool, per_cross, zero, zero)


def _settle_rates(
    snapshot: Snapshot, portfolio: Portfolio, x: FloatArray, underlying: str | None
) -> FloatArray:
    """USD per unit of each position's settle currency after each spot shock, ``(S, n)``: a
    coin settle currency moves with its coin when that coin is shocked."""
    positions = snapshot.positions
    rate = lookup(positions.settle, portfolio.usd_rate)
    shocked = _shocked(snapshot, underlying)
    coin = np.asarray([name in shocked for name in positions.settle.names], dtype=np.bool_)
    moves = coin[positions.settle.code]
    return np.where(moves, rate * (1.0 + x[:, None] / 100.0), rate)


def _shocked(snapshot: Snapshot, underlying: str | None) -> set[str]:
    """The coins a shock on ``underlying`` (every one when None) moves."""
    names = snapshot.positions.underlying.names
    return set(names) if underlying is None else {underlying.upper()}


def _balances_after(
    snapshot: Snapshot, portfolio: Portfolio, x: FloatArray, underlying: str | None
) -> FloatArray:
    """The balances in USD after each spot shock (before the positions' PnL), ``(S,)``."""
    summed = snapshot.account.summed(portfolio.equity_by_currency)
    names = _shocked(snapshot, underlying)
    total = np.zeros(len(x))
    for ccy, amount in summed.items():
        rate = portfolio.usd_rate.get(ccy, np.nan)
        total += amount * rate * (1.0 + x / 100.0 if ccy in names else 1.0)
    return total


def _fixed_crossed(snapshot: Snapshot, baseline: FloatArray, marks: FloatArray) -> BoolArray:
    """Per spot shock, whether a position whose liquidation price does not move with the other
    positions' PnL (isolated, or cross without an engine formula) is crossed, ``(S,)``."""
    positions = snapshot.positions
    engine_lp = ~np.isnan(compute(snapshot).price)
    cross = positions.margin_mode == MarginMode.CROSS
    fixed = positions.valid & ~(cross & engine_lp) & (positions.kind != ContractType.OPTION)
    with np.errstate(invalid="ignore"):
        before = np.sign(positions.mark - baseline)
    direction = np.where(np.isnan(before) | (before == 0), positions.side, before)
    crossed = metrics.breached(direction, marks, baseline) & fixed
    return np.asarray(crossed.any(axis=-1))
