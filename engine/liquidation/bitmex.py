"""BitMEX isolated liquidation price (inverse and linear contracts), approximate.

Source: BitMEX support "Liquidation" / "Margin terms": ``LP_long = EP/(1 + IMR − MMR)``,
``LP_short = EP/(1 − IMR + MMR)``, ``IMR = 1/leverage + entry and exit taker fees``,
``MMR = base MMR + exit taker fee + funding rate``. This is the fixed-at-entry shape with
collateral ``PV·IMR`` and maintenance ``PV·MMR`` (PV the value at entry); for linear contracts
it gives ``LP = EP·(1 − s·(IMR − MMR))``. BitMEX rounds in satoshis: prefer its reported value.
"""

from __future__ import annotations

import numpy as np

from engine.liquidation.context import Context, Rule, Terms, taker_fee
from engine.liquidation.legs import LegPlan, entry_value
from engine.liquidation.notes import Notes
from engine.normalise import Snapshot
from engine.types import BoolArray, FloatArray

FUNDING = "BitMEX: the funding rate adds to MMR and is not in the model (approximate)"


def _rates(snapshot: Snapshot, mask: BoolArray, notes: Notes) -> tuple[FloatArray, FloatArray]:
    p = snapshot.positions
    fee = taker_fee(snapshot, mask, notes)
    with np.errstate(divide="ignore", invalid="ignore"):
        imr = 1.0 / p.leverage + 2.0 * fee
    return imr, p.mmr + fee


def maintenance(
    snapshot: Snapshot, entry: FloatArray, mask: BoolArray, plan: LegPlan, notes: Notes
) -> None:
    """``MM = PV·(base MMR + taker fee)``, fixed at entry."""
    p = snapshot.positions
    _imr, mmr = _rates(snapshot, mask, notes)
    notes.add(mask & np.isnan(p.mmr), "maintenance margin rate unknown")
    notes.add(mask, FUNDING)
    plan.set_fixed(mask, entry_value(p, entry) * mmr)


def margin(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """Collateral ``PV·(1/leverage + 2·taker fee)``."""
    imr, _mmr = _rates(ctx.snapshot, mask, notes)
    notes.add(mask & np.isnan(ctx.snapshot.positions.leverage), "leverage unknown")
    value = entry_value(ctx.snapshot.positions, ctx.legs.entry)
    return value * imr, np.zeros(len(imr))


ISOLATED = Rule(legs=maintenance, terms=margin)
