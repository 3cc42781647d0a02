"""Formulas for venues without their own: isolated with maintenance fixed at entry, and cross.

Source: docs/risk.md#generic: ``LP = EP − s·(collateral − MM)/Q`` with ``MM = Q·EP·MMR``;
the inverse analogue is ``LP = Q / (Q/EP + s·(collateral − MM))`` with ``MM = (Q/EP)·MMR`` (coin),
the same shape as Bybit's inverse formula. Cross: ``equity(P) = MM(P)`` over the pool.
"""

from __future__ import annotations

import numpy as np

from engine.liquidation.context import (
    Context,
    Rule,
    Terms,
    cross_equity_terms,
    venue_brackets,
)
from engine.liquidation.legs import LegPlan, entry_value
from engine.liquidation.notes import Notes
from engine.normalise import Snapshot
from engine.types import BoolArray, FloatArray

MMR_UNKNOWN = "maintenance margin rate unknown: no tiers and no maintenanceMarginPercentage"


def fixed_maintenance(
    snapshot: Snapshot, entry: FloatArray, mask: BoolArray, plan: LegPlan, notes: Notes
) -> None:
    """``MM = value at entry · MMR − deduction``, fixed: it does not move with the mark."""
    p = snapshot.positions
    notes.add(mask & np.isnan(p.mmr), MMR_UNKNOWN)
    plan.set_fixed(mask, entry_value(p, entry) * p.mmr - np.nan_to_num(p.maint_amount))


def collateral_terms(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """The position's collateral: its isolated wallet, else the initial margin value/leverage.

    With both known, Bybit's ``IM + ExtraMargin`` is exactly the isolated wallet.
    """
    p = ctx.snapshot.positions
    wallet = p.isolated_wallet
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = entry_value(p, ctx.legs.entry) / p.leverage
    gap = mask & np.isnan(wallet)
    notes.add(gap & np.isfinite(implied), "isolated margin not reported: assumed value / leverage")
    notes.add(gap & ~np.isfinite(implied), "isolated margin unknown: needs the wallet or leverage")
    return np.where(np.isnan(wallet), implied, wallet), np.zeros(len(wallet))


def cross_terms(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """Cross: pool margin balance (or wallet + total uPnL) less the others' maintenance."""
    return cross_equity_terms(ctx, mask, notes)


ISOLATED = Rule(legs=fixed_maintenance, terms=collateral_terms)
CROSS = Rule(legs=venue_brackets, terms=cross_terms)
