"""Hyperliquid liquidation price, cross and isolated (USDC-margined, linear).

Source: Hyperliquid docs "Trading → Liquidations": maintenance margin is half the initial margin
at max leverage, ``MMR = 1/(2·maxLeverage)``, and
``LP = price − s·margin_available/Q/(1 − s·MMR)`` with ``price`` the mark and

- cross:    ``margin_available = accountValue − crossMaintenanceMarginUsed``
- isolated: ``margin_available = isolated_margin − positionValue·MMR``.

Convention: Hyperliquid's isolated ``marginUsed`` INCLUDES the position's unrealised PnL, while
``Positions.isolated_wallet`` excludes it, so the reader stores ``marginUsed − unrealizedPnl`` and
this module adds the uPnL back (``isolated_wallet + upnl`` is the docs' isolated margin). Solving
``equity(P) = MM(P)`` with a flat MMR gives exactly the docs' formula.
"""

from __future__ import annotations

import numpy as np

from engine.liquidation.context import (
    Context,
    Rule,
    Terms,
    cross_equity_terms,
    isolated_terms,
    pool_figure,
    pool_total,
)
from engine.liquidation.legs import LegPlan
from engine.liquidation.notes import Notes
from engine.normalise import Snapshot
from engine.types import BoolArray, FloatArray


def brackets(
    snapshot: Snapshot, entry: FloatArray, mask: BoolArray, plan: LegPlan, notes: Notes
) -> None:
    """One flat rate ``MMR = 1/(2·maxLeverage)``; the reported MMR when max leverage is unknown."""
    p = snapshot.positions
    with np.errstate(divide="ignore", invalid="ignore"):
        mmr = np.where(np.isfinite(p.max_leverage), 0.5 / p.max_leverage, p.mmr)
    fallback = mask & np.isnan(p.max_leverage)
    notes.add(fallback & np.isfinite(mmr), "max leverage unknown: used the reported MMR")
    notes.add(mask & ~np.isfinite(mmr), "maintenance rate unknown: needs the max leverage")
    plan.set_flat(mask, mmr, np.zeros(len(mmr)))


def cross_terms(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """``accountValue`` and ``crossMaintenanceMarginUsed`` of the pool, the moving leg taken out.

    The venue's maintenance total is kept where given (what it counts beyond our legs stays
    constant); without it, the sum of the other positions' ``positionValue·MMR``.
    """
    equity, tmm1 = cross_equity_terms(ctx, mask, notes)
    venue_total = pool_figure(ctx, ctx.snapshot.account.maintenance_margin)
    residual = venue_total - pool_total(ctx, np.nan_to_num(ctx.maint_ref))
    return equity, tmm1 + np.where(np.isnan(residual), 0.0, residual)


def isolated(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """The isolated margin without uPnL; the solve adds ``upnl(P)`` and ``positionValue·MMR``."""
    return isolated_terms(ctx, mask, notes)


CROSS = Rule(legs=brackets, terms=cross_terms)
ISOLATED = Rule(legs=brackets, terms=isolated)
