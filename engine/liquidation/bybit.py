"""Bybit isolated liquidation price, linear (USDT/USDC) and inverse contracts.

Source: Bybit help centre "Liquidation Price (USDT Contract)" and "Liquidation Price (Inverse
Contract)". Bybit cross / unified margin has no per-position price (it liquidates on the
account's ``accountMMRate``): those positions get ``Formula.NONE`` and a note in ``select``.
"""

from __future__ import annotations

from engine.liquidation.context import Context, Rule, Terms
from engine.liquidation.generic import collateral_terms, fixed_maintenance
from engine.liquidation.legs import LegPlan
from engine.liquidation.notes import Notes
from engine.normalise import Snapshot
from engine.types import BoolArray, FloatArray


def maintenance(
    snapshot: Snapshot, entry: FloatArray, mask: BoolArray, plan: LegPlan, notes: Notes
) -> None:
    """``MM = Q·EP·MMR − deduction`` (linear) or ``PV·MMR − deduction``, ``PV = Q/EP`` (inverse).

    MMR and deduction are the risk-limit tier's (``positions.mmr``, ``maint_amount``). The
    Unified Trading Account adds the fee to close to IM and MM; it cancels out of ``IM − MM``.
    """
    fixed_maintenance(snapshot, entry, mask, plan, notes)


def margin(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """``IM + ExtraMargin``: the isolated wallet, or ``IM = Q·EP/leverage`` (``PV/leverage``).

    linear:  ``LP = EP − s·(IM + ExtraMargin − MM)/Q``
    inverse: ``LP = Q / (PV + s·(IM + ExtraMargin − MM))``
    """
    return collateral_terms(ctx, mask, notes)


ISOLATED = Rule(legs=maintenance, terms=margin)
