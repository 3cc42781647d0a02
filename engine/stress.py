"""Price-shock stress: move one or every underlying by x %, re-price, report who is liquidated."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine import metrics
from engine.liquidation import compute
from engine.model import MarginMode, codes, lookup
from engine.normalise import Snapshot
from engine.normalise.fields import pool_amount
from engine.portfolio import Portfolio
from engine.types import BoolArray, FloatArray


@dataclass(frozen=True, eq=False)
class Stress:
    """Equity after the shock and, per position, the shocked mark and whether it is liquidated.

    ``liquidation_price`` is re-solved under the shocked marks: a cross position's price moves
    with the other positions' PnL, so a shock to ETH can liquidate a BTC long.
    """

    shock_pct: float
    underlying: str | None
    mark: FloatArray
    liquidation_price: FloatArray
    liquidated: BoolArray
    pnl_usd: float
    equity_usd_before: float
    equity_usd_after: float


def shocked_marks(snapshot: Snapshot, shock_pct: float, underlying: str | None) -> FloatArray:
    """Marks after moving ``underlying`` (every underlying when None) by ``shock_pct``."""
    positions = snapshot.positions
    hit = np.ones(len(positions), dtype=np.bool_)
    if underlying is not None:
        hit = positions.underlying.equals(underlying.upper())
    return np.where(hit, positions.mark * (1.0 + shock_pct / 100.0), positions.mark)


def stress(
    snapshot: Snapshot,
    portfolio: Portfolio,
    baseline_liquidation: FloatArray,
    *,
    shock_pct: float,
    underlying: str | None = None,
) -> Stress:
    """Re-price every position at the shocked marks; liquidated = mark beyond its (moved) LP
    or its cross pool's maintenance exceeding the pool's equity after the shock."""
    positions = snapshot.positions
    mark = shocked_marks(snapshot, shock_pct, underlying)
    moved = compute(snapshot, mark=mark).price
    lp = np.where(np.isnan(moved), baseline_liquidation, moved)
    delta = metrics.unrealised_pnl(positions, mark) - metrics.unrealised_pnl(positions)
    delta = np.where(positions.valid, np.nan_to_num(delta), 0.0)
    rate_after = _rates_after(snapshot, portfolio, shock_pct, underlying)
    settle_rate = lookup(positions.settle, rate_after)
    pnl_usd = float(np.nansum(delta * settle_rate))
    equity_after = (
        sum(
            amount * rate_after.get(ccy, math.nan)
            for ccy, amount in portfolio.equity_by_currency.items()
        )
        + pnl_usd
    )
    # A hedge-mode pair shares one LP on the side of its net exposure, so "crossed" is judged
    # against where the mark stood before the shock, not against each leg's own side.
    with np.errstate(invalid="ignore"):
        before = np.sign(positions.mark - baseline_liquidation)
    direction = np.where(np.isnan(before) | (before == 0), positions.side, before)
    liquidated = positions.valid & metrics.breached(direction, mark, lp)
    liquidated |= _pool_blown(snapshot, mark, delta, portfolio)
    return Stress(
        shock_pct=shock_pct,
        underlying=underlying,
        mark=mark,
        liquidation_price=lp,
        liquidated=liquidated,
        pnl_usd=pnl_usd,
        equity_usd_before=portfolio.equity_usd,
        equity_usd_after=float(equity_after),
    )


def _rates_after(
    snapshot: Snapshot, portfolio: Portfolio, shock_pct: float, underlying: str | None
) -> dict[str, float]:
    """Coins held as collateral lose value with their own shock (COIN-M margin is the coin)."""
    shocked = set(snapshot.positions.underlying) if underlying is None else {underlying.upper()}
    factor = 1.0 + shock_pct / 100.0
    return {c: r * factor if c in shocked else r for c, r in portfolio.usd_rate.items()}


def _pool_blown(
    snapshot: Snapshot, mark: FloatArray, delta: FloatArray, portfolio: Portfolio
) -> BoolArray:
    """Cross positions whose pool's maintenance after the shock exceeds its cross equity.

    Cross equity is the cross wallet plus the cross positions' uPnL where the venue reports
    the wallet (Binance's margin balance also holds isolated wallets), else the pool's margin
    balance plus the shock's PnL.
    """
    positions, account = snapshot.positions, snapshot.account
    cross = np.asarray(positions.margin_mode == MarginMode.CROSS) & positions.valid
    names, idx = codes(positions.pool)
    maint = np.where(cross, metrics.maintenance_margin(positions, mark), 0.0)
    maint_by_pool = np.bincount(idx, weights=np.nan_to_num(maint), minlength=len(names))
    upnl_after = np.where(cross, metrics.unrealised_pnl(positions, mark), 0.0)
    upnl_by_pool = np.bincount(idx, weights=np.nan_to_num(upnl_after), minlength=len(names))
    pnl_by_pool = np.bincount(idx, weights=np.where(cross, delta, 0.0), minlength=len(names))
    equity_after = np.asarray(
        [
            pool_amount(account.wallet_balance, p) + upnl_by_pool[k]
            if not math.isnan(pool_amount(account.wallet_balance, p))
            else pool_amount(portfolio.equity_by_currency, p) + pnl_by_pool[k]
            for k, p in enumerate(names)
        ]
    )
    with np.errstate(invalid="ignore"):
        blown = equity_after <= maint_by_pool
    return np.asarray(cross & blown[idx])
