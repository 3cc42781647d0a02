"""OKX local liquidation estimate (OKX always reports ``liqPx``; this checks it).

Source: OKX help "Margin ratio" (isolated, USDT-margined):
``ratio = (margin + UPL) / (faceValue·|contracts|·MP·(MMR + takerFee))``, liquidation at 100 %.
Setting it to 1 and solving for MP: ``MP = (EP − s·margin/Q) / (1 − s·(MMR + fee))`` (linear) and
``MP = Q·(s + MMR + fee) / (margin + s·Q/EP)`` (inverse, coin margin). Cross positions use the
pool's margin balance less the other positions' maintenance, like the generic cross.
"""

from __future__ import annotations

import numpy as np

from engine.liquidation.context import (
    Context,
    Rule,
    Terms,
    cross_equity_terms,
    isolated_terms,
    taker_fee,
)
from engine.liquidation.legs import LegPlan
from engine.liquidation.notes import Notes
from engine.model import MarginMode
from engine.normalise import Snapshot
from engine.types import BoolArray, FloatArray


def brackets(
    snapshot: Snapshot, entry: FloatArray, mask: BoolArray, plan: LegPlan, notes: Notes
) -> None:
    """A flat rate ``MMR + takerFee`` (the ratio's denominator) at the position's tier."""
    p = snapshot.positions
    notes.add(mask & np.isnan(p.mmr), "maintenance margin rate unknown")
    plan.set_flat(mask, p.mmr + taker_fee(snapshot, mask, notes), np.zeros(len(p)))


def terms(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """Isolated: ``margin`` (without UPL); cross: the pool's equity less others' maintenance."""
    isolated = ctx.snapshot.positions.margin_mode == MarginMode.ISOLATED
    iso_equity, iso_maint = isolated_terms(ctx, mask & isolated, notes)
    cross_equity, cross_maint = cross_equity_terms(ctx, mask & ~isolated, notes)
    return (
        np.where(isolated, iso_equity, cross_equity),
        np.where(isolated, iso_maint, cross_maint),
    )


ESTIMATE = Rule(legs=brackets, terms=terms)
