"""Price and volatility shock: move one or every underlying by x % (and implied volatility by
a relative or absolute amount), re-price, report who is liquidated (docs/stress.md).

Futures and swaps move linearly with their mark; options are re-priced in full by Black-76
(``engine.stress_options``); coin collateral loses value with its coin; each margin pool's
ratio after the shock is the venue's on portfolio margin (``engine.stress_pools``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from engine import metrics
from engine.liquidation import compute
from engine.model import ContractType, MarginMode, Positions, lookup
from engine.normalise import Snapshot
from engine.portfolio import Portfolio
from engine.stress_options import OptionBook, VolShock, below_zero, delta_move, option_book
from engine.stress_pools import (
    Pools,
    PoolsAfter,
    after,
    held_option_maintenance,
    pools_of,
    sums,
)
from engine.types import BoolArray, FloatArray


@dataclass(frozen=True)
class PoolAfter:
    """One margin pool before and after the shock; money in the pool's currency, ratios as
    maintenance / equity (1 = liquidation).

    ``source`` is "venue" on portfolio margin (the venue's maintenance held, the equity shocked)
    and "engine" elsewhere (the venue's maintenance moved by the engine's own brackets).
    """

    pool: str
    equity_before: float
    equity_after: float
    maintenance_after: float
    margin_ratio_before: float
    margin_ratio_after: float
    source: str


@dataclass(frozen=True, eq=False)
class Stress:
    """Equity after the shock and, per position, the shocked mark and whether it is liquidated.

    ``liquidation_price`` is re-solved under the shocked marks: a cross position's price moves
    with the other positions' PnL, so a shock to ETH can liquidate a BTC long. An option's
    shocked ``mark`` is its premium moved by its re-priced value (settle currency).
    """

    shock_pct: float
    underlying: str | None
    mark: FloatArray
    liquidation_price: FloatArray
    liquidated: BoolArray
    pnl_usd: float
    equity_usd_before: float
    equity_usd_after: float
    vol_shock: VolShock | None = None
    #: The shock's PnL per position, in its settle currency.
    pnl_settle: FloatArray | None = None
    #: Options re-priced by Black-76 (the other options moved by delta, see ``notes``).
    repriced: BoolArray | None = None
    #: Part of ``pnl_usd`` from options.
    option_pnl_usd: float = 0.0
    pools: tuple[PoolAfter, ...] = ()
    notes: tuple[str, ...] = ()


def hit_by(positions: Positions, underlying: str | None) -> BoolArray:
    """The positions a shock on ``underlying`` (every one when None) moves."""
    if underlying is None:
        return np.ones(len(positions), dtype=np.bool_)
    return positions.underlying.equals(underlying.upper())


def shocked_marks(snapshot: Snapshot, shock_pct: float, underlying: str | None) -> FloatArray:
    """Marks after moving ``underlying`` (every underlying when None) by ``shock_pct``; an
    option's mark (a premium) is left to its re-pricing."""
    positions = snapshot.positions
    moved = hit_by(positions, underlying) & (positions.kind != ContractType.OPTION)
    return np.where(moved, positions.mark * (1.0 + shock_pct / 100.0), positions.mark)


def stress(
    snapshot: Snapshot,
    portfolio: Portfolio,
    baseline_liquidation: FloatArray,
    *,
    shock_pct: float,
    underlying: str | None = None,
    vol_shock: VolShock | None = None,
) -> Stress:
    """Re-price every position under the shock; liquidated = mark beyond its (moved) LP or its
    pool's maintenance reaching the pool's equity after the shock."""
    positions = snapshot.positions
    mark = shocked_marks(snapshot, shock_pct, underlying)
    book = option_book(positions, snapshot.taken_at)
    move = linear_move(positions, mark)
    _move_options(positions, book, move, shock_pct, hit_by(positions, underlying), vol_shock)
    mark = option_marks(positions, mark, move)
    rates = rates_after(snapshot, portfolio, shock_pct, underlying)
    usd = move * lookup(positions.settle, rates)
    pools = pools_of(snapshot, portfolio)
    own = held_option_maintenance(positions, mark)
    found = after(pools, sums(pools, slice(None), move, own))
    lp = _moved_lp(snapshot, baseline_liquidation, mark, move)
    cross = positions.valid & (positions.margin_mode == MarginMode.CROSS)
    liquidated = _crossed(positions, baseline_liquidation, mark, lp)
    liquidated |= cross & found.blown[positions.pool.code]
    pnl_usd = float(np.nansum(usd))
    notes = [*book.notes, *([n] if (n := below_zero(book, vol_shock)) else [])]
    return Stress(
        shock_pct=shock_pct,
        underlying=underlying,
        mark=mark,
        liquidation_price=lp,
        liquidated=np.asarray(liquidated),
        pnl_usd=pnl_usd,
        equity_usd_before=portfolio.equity_usd,
        equity_usd_after=equity_after(snapshot, portfolio, rates) + pnl_usd,
        vol_shock=vol_shock,
        pnl_settle=move,
        repriced=np.isin(np.arange(len(positions)), book.rows),
        option_pnl_usd=float(np.nansum(np.where(positions.kind == ContractType.OPTION, usd, 0))),
        pools=_pool_rows(pools, found),
        notes=tuple(notes),
    )


def _pool_rows(pools: Pools, found: PoolsAfter) -> tuple[PoolAfter, ...]:
    return tuple(
        PoolAfter(
            pool=name,
            equity_before=float(pools.equity[k]),
            equity_after=float(found.equity[k]),
            maintenance_after=float(found.maintenance[k]),
            margin_ratio_before=float(pools.ratio_before[k]),
            margin_ratio_after=float(found.ratio[k]),
            source=pools.sources[k],
        )
        for k, name in enumerate(pools.names)
    )


def linear_move(positions: Positions, mark: FloatArray) -> FloatArray:
    """Each non-option's PnL at ``mark`` (any leading axes), settle currency, NaN-free; 0 for
    options and invalid positions."""
    moved = metrics.unrealised_pnl(positions, mark) - metrics.unrealised_pnl(positions)
    keep = positions.valid & (positions.kind != ContractType.OPTION)
    return np.nan_to_num(np.where(keep, moved, 0.0))


def _move_options(
    positions: Positions,
    book: OptionBook,
    move: FloatArray,
    shock_pct: float,
    hit: BoolArray,
    vol_shock: VolShock | None,
) -> None:
    """Write the options' PnL into ``move``: Black-76 where it can price, delta elsewhere."""
    factor = np.where(hit[book.rows], 1.0 + shock_pct / 100.0, 1.0)
    sigma = book.sigma if vol_shock is None else vol_shock.apply(book.sigma)
    move[book.rows] = np.nan_to_num(book.change(factor, sigma))
    spot = np.where(hit[book.fallback], shock_pct, 0.0)
    move[book.fallback] = delta_move(positions, book.fallback, spot)


def option_marks(positions: Positions, mark: FloatArray, move: FloatArray) -> FloatArray:
    """Shocked marks with each option's premium moved by its PnL per long unit (never below 0;
    an option without a mark keeps none)."""
    option = positions.kind == ContractType.OPTION
    with np.errstate(divide="ignore", invalid="ignore"):
        premium = np.maximum(mark + move / (positions.side * positions.qty), 0.0)
    return np.where(option & np.isfinite(premium), premium, mark)


def rates_after(
    snapshot: Snapshot, portfolio: Portfolio, shock_pct: float, underlying: str | None
) -> dict[str, float]:
    """Coins held as collateral lose value with their own shock (COIN-M margin is the coin)."""
    shocked = set(snapshot.positions.underlying) if underlying is None else {underlying.upper()}
    factor = 1.0 + shock_pct / 100.0
    return {c: r * factor if c in shocked else r for c, r in portfolio.usd_rate.items()}


def equity_after(snapshot: Snapshot, portfolio: Portfolio, rates: dict[str, float]) -> float:
    """The balances at the shocked rates (before the positions' PnL), counting each wallet once
    (a Bybit unified account's coin rows are views of its USD totals)."""
    summed = snapshot.account.summed(portfolio.equity_by_currency)
    return float(sum(amount * rates.get(ccy, math.nan) for ccy, amount in summed.items()))


def _with_option_pnl(snapshot: Snapshot, move: FloatArray) -> Snapshot:
    """The snapshot with each option's venue uPnL moved by its re-priced PnL: the cross
    formulas hold an option's uPnL as the venue reported it, so the shock's must be in it."""
    positions = snapshot.positions
    option = positions.kind == ContractType.OPTION
    if not option.any():
        return snapshot
    upnl = np.where(option, np.nan_to_num(positions.venue_upnl) + move, positions.venue_upnl)
    return replace(snapshot, positions=replace(positions, venue_upnl=upnl))


def _moved_lp(
    snapshot: Snapshot, baseline: FloatArray, mark: FloatArray, move: FloatArray
) -> FloatArray:
    """Liquidation prices re-solved under the shock (the baseline where none is computed)."""
    moved = compute(_with_option_pnl(snapshot, move), mark=mark).price
    return np.where(np.isnan(moved), baseline, moved)


def _crossed(
    positions: Positions, baseline: FloatArray, mark: FloatArray, lp: FloatArray
) -> BoolArray:
    """Positions whose shocked mark is at or beyond their liquidation price ``lp`` (any leading
    axes on ``mark`` and ``lp``).

    A hedge-mode pair shares one LP on the side of its net exposure, so "crossed" is judged
    against where the mark stood before the shock, not against each leg's own side.
    """
    with np.errstate(invalid="ignore"):
        before = np.sign(positions.mark - baseline)
    direction = np.where(np.isnan(before) | (before == 0), positions.side, before)
    return np.asarray(positions.valid & metrics.breached(direction, mark, lp))
