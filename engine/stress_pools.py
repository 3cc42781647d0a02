"""Margin pools under a shock: equity, maintenance and margin ratio after it, per pool
(docs/stress.md#margin-ratio).

Sums over positions are one matrix product with the pools' one-hot membership, so the same code
serves one scenario (``engine.stress``) and a grid of them (``engine.stress_grid``): the shock's
figures carry any leading scenario axes in front of the position axis.

- Equity after = the pool's equity + the PnL of its positions (settle currency = the pool's).
- Maintenance after: the venue's reported maintenance moved by the change of the engine's own
  (its brackets at the shocked marks), or the engine's own where the venue reports none.
- Portfolio margin (``Account.portfolio_margin``): the venue's maintenance is a scenario model
  the engine does not have, so it is HELD at what the venue's ratio implies (ratio × equity
  before) while the equity takes the shock; such a pool's ratio is marked "venue".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import metrics
from engine.model import ContractType, MarginMode, Positions, codes
from engine.normalise import Snapshot
from engine.normalise.fields import pool_amount
from engine.portfolio import Portfolio
from engine.types import BoolArray, FloatArray, IntArray

VENUE, ENGINE = "venue", "engine"


@dataclass(frozen=True, eq=False)
class Pools:
    """The book's margin pools (``names``) and their figures before a shock, pool currency."""

    names: tuple[str, ...]
    #: (n, p) one-hot: position i draws on pool k; ``cross`` only for valid cross positions.
    member: FloatArray
    cross: FloatArray
    equity: FloatArray
    #: Cross equity, as the cross liquidation check counts it: the cross wallet plus the cross
    #: positions' uPnL where the venue reports the wallet (Binance's margin balance also holds
    #: isolated wallets), else the pool's equity.
    cross_equity: FloatArray
    #: The venue's reported maintenance (NaN: none) and the engine's own sum, before.
    reported: FloatArray
    own: FloatArray
    #: Portfolio-margin pools: the venue's maintenance (ratio × equity before), NaN elsewhere.
    venue: FloatArray
    ratio_before: FloatArray

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(ENGINE if math.isnan(v) else VENUE for v in self.venue.tolist())


@dataclass(frozen=True, eq=False)
class PoolsAfter:
    """Per pool after the shock (arrays ``(…, p)``, the scenario axes first)."""

    equity: FloatArray
    maintenance: FloatArray
    ratio: FloatArray
    #: The pool's cross positions go: its maintenance reaches its (cross) equity (a pool
    #: without cross positions has nothing to lose this way).
    blown: BoolArray


def pools_of(snapshot: Snapshot, portfolio: Portfolio) -> Pools:
    """The pools of ``snapshot``'s positions with their figures before any shock."""
    positions, account = snapshot.positions, snapshot.account
    names, idx = codes(positions.pool)
    member = np.zeros((len(positions), len(names)))
    member[np.arange(len(positions)), idx] = 1.0
    cross_rows = positions.valid & (positions.margin_mode == MarginMode.CROSS)
    cross = member * cross_rows[:, None]
    upnl = np.nan_to_num(upnl_before(positions))
    own = np.nan_to_num(np.where(positions.valid, metrics.maintenance_margin(positions), 0.0))
    equity = np.asarray([pool_amount(portfolio.equity_by_currency, p) for p in names])
    wallet = np.asarray([pool_amount(account.wallet_balance, p) for p in names])
    cross_equity = np.where(np.isnan(wallet), equity, wallet + upnl @ cross)
    reported = np.asarray([pool_amount(account.maintenance_margin, p) for p in names])
    on_pm = np.asarray([p in account.portfolio_margin for p in names], dtype=np.bool_)
    venue_ratio = np.asarray([account.venue_margin_ratio.get(p, math.nan) for p in names])
    venue = np.where(on_pm, venue_ratio * equity, np.nan)
    before = np.asarray([portfolio.pool_margin_ratio.get(p, math.nan) for p in names])
    return Pools(
        names=names,
        member=member,
        cross=cross,
        equity=equity,
        cross_equity=cross_equity,
        reported=reported,
        own=own @ member,
        venue=venue,
        ratio_before=np.where(np.isnan(venue), before, venue_ratio),
    )


def upnl_before(positions: Positions) -> FloatArray:
    """uPnL before the shock (settle currency): the engine's own, the venue's for options."""
    return metrics.unrealised_pnl(positions)


@dataclass(frozen=True, eq=False)
class PoolSums:
    """A shock's per-position figures summed per pool (arrays ``(…, p)``): its PnL over every
    position and over cross ones, and the engine's maintenance after it, likewise."""

    pnl: FloatArray
    cross_pnl: FloatArray
    own: FloatArray
    cross_own: FloatArray

    def __add__(self, other: PoolSums) -> PoolSums:
        return PoolSums(
            self.pnl + other.pnl,
            self.cross_pnl + other.cross_pnl,
            self.own + other.own,
            self.cross_own + other.cross_own,
        )


def sums(pools: Pools, rows: IntArray | slice, move: FloatArray, own: FloatArray) -> PoolSums:
    """``move`` (PnL) and ``own`` (maintenance after), settle currency, NaN-free, of the
    positions ``rows`` (the last axis), summed per pool by one matrix product each."""
    member, cross = pools.member[rows], pools.cross[rows]
    return PoolSums(move @ member, move @ cross, own @ member, own @ cross)


def after(pools: Pools, found: PoolSums) -> PoolsAfter:
    """Pools after a shock whose per-pool sums are ``found``."""
    equity = pools.equity + found.pnl
    engine = np.where(np.isnan(pools.reported), found.own, pools.reported + found.own - pools.own)
    on_pm = ~np.isnan(pools.venue)
    maintenance = np.where(on_pm, pools.venue, engine)
    cross_equity = pools.cross_equity + found.cross_pnl
    with np.errstate(invalid="ignore"):
        cross_blown = (cross_equity <= found.cross_own) & (pools.cross.sum(axis=0) > 0)
        blown = np.where(on_pm, maintenance >= equity, cross_blown)
    return PoolsAfter(equity, maintenance, ratios(maintenance, equity), np.asarray(blown))


def ratios(maintenance: FloatArray, equity: FloatArray) -> FloatArray:
    """maintenance / equity elementwise, as ``engine.portfolio.ratio_of``: NaN when either is
    unknown, +inf when equity is at or below 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(equity <= 0, np.inf, maintenance / equity)
    return np.asarray(np.where(np.isnan(maintenance) | np.isnan(equity), np.nan, out))


def held_option_maintenance(positions: Positions, mark: FloatArray) -> FloatArray:
    """The engine's maintenance (settle currency, NaN-free, valid positions) at ``mark`` (any
    leading axes), an option's held at its own mark: venues margin options by scenario models
    the engine does not have, so a re-priced premium does not move it."""
    option = positions.kind == ContractType.OPTION
    at = np.where(option, positions.mark, mark)
    own = metrics.maintenance_margin(positions, at)
    return np.nan_to_num(np.where(positions.valid, own, 0.0))
