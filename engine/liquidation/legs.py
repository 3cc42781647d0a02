"""How each position's unrealised PnL and maintenance margin move with its own mark price.

Every formula in this package reduces to one shape (docs/risk.md#liquidation-price-per-venue):
liquidation where ``equity(P) = maintenance(P)``, with, for the legs j that move with the price P,

- linear:  ``upnl_j(P) = s·Q·(P − EP)`` (quote),   ``mm_j(P) = Q·P·MMR_j − cum_j + fixed_j``
- inverse: ``upnl_j(P) = s·Q·(1/EP − 1/P)`` (coin), ``mm_j(P) = Q/P·MMR_j − cum_j + fixed_j``

where (MMR_j, cum_j) is the bracket at the notional Q·P (linear) or Q/P (inverse), and
``fixed_j`` is maintenance that does not move with the price (formulas that fix MM at entry).
A ``Legs`` holds those per-position ingredients; formulas choose the brackets and fixed parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.liquidation.notes import Notes
from engine.model import ContractType, Positions, Tiers
from engine.tiers import one_tier, tier_at
from engine.types import BoolArray, FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class Legs:
    """Per position: side, size, effective entry, unit family and maintenance brackets."""

    side: FloatArray
    qty: FloatArray
    entry: FloatArray
    inverse: BoolArray
    option: BoolArray
    tiers: Tiers
    fixed: FloatArray
    #: Options: the venue's uPnL, held constant (the engine does not re-price options here).
    frozen_upnl: FloatArray

    def take(self, rows: IntArray | slice) -> Legs:
        """The legs at ``rows`` (repeats allowed), for pairwise evaluation; a slice gives views."""
        return Legs(
            side=self.side[rows],
            qty=self.qty[rows],
            entry=self.entry[rows],
            inverse=self.inverse[rows],
            option=self.option[rows],
            tiers=self.tiers.take(rows),
            fixed=self.fixed[rows],
            frozen_upnl=self.frozen_upnl[rows],
        )


class LegPlan:
    """Formulas' overrides of the venue brackets, collected before the legs are built."""

    def __init__(self, n: int) -> None:
        self.flat = np.zeros(n, dtype=np.bool_)
        self.mmr = np.full(n, np.nan)
        self.cum = np.zeros(n)
        self.fixed = np.zeros(n)

    def set_flat(self, mask: BoolArray, mmr: FloatArray, cum: FloatArray) -> None:
        """One bracket for every notional: a rate that does not depend on size."""
        self.flat |= mask
        self.mmr[mask] = mmr[mask]
        self.cum[mask] = cum[mask]

    def set_fixed(self, mask: BoolArray, maintenance: FloatArray) -> None:
        """Maintenance fixed at entry (it does not move with the mark)."""
        self.set_flat(mask, np.zeros(len(mask)), np.zeros(len(mask)))
        self.fixed[mask] = maintenance[mask]


def notional_at(legs: Legs, price: FloatArray) -> FloatArray:
    """The notional the venue brackets by at ``price``: Q·P (linear) or Q/P coin (inverse)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(legs.inverse, legs.qty / price, legs.qty * price)


def upnl_at(legs: Legs, price: FloatArray) -> FloatArray:
    """Unrealised PnL in the settle currency if the mark were ``price``."""
    sq = legs.side * legs.qty
    with np.errstate(divide="ignore", invalid="ignore"):
        linear = sq * (price - legs.entry)
        inverse = sq * (1.0 / legs.entry - 1.0 / price)
    return np.where(legs.option, legs.frozen_upnl, np.where(legs.inverse, inverse, linear))


def maint_at(legs: Legs, price: FloatArray) -> FloatArray:
    """Maintenance margin in the settle currency if the mark were ``price``."""
    notional = notional_at(legs, price)
    mmr, cum = tier_at(legs.tiers, notional)
    with np.errstate(invalid="ignore"):
        moving = np.where(legs.option, 0.0, notional * mmr - cum)
    return legs.fixed + moving


def entry_value(positions: Positions, entry: FloatArray) -> FloatArray:
    """Position value at entry in the settle currency: Q·EP (linear) or Q/EP coin (inverse)."""
    inverse = positions.kind == ContractType.INVERSE
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inverse, positions.qty / entry, positions.qty * entry)


def effective_entry(positions: Positions, notes: Notes) -> FloatArray:
    """Entry price, or where missing the one the venue's uPnL implies at the snapshot mark.

    linear: ``EP = MP − s·upnl/Q``; inverse: ``1/EP = 1/MP + s·upnl/Q``.
    """
    p = positions
    inverse = p.kind == ContractType.INVERSE
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = p.side * p.venue_upnl / p.qty
        derived = np.where(inverse, 1.0 / (1.0 / p.mark + shift), p.mark - shift)
    gap = np.isnan(p.entry) & p.priceable & (p.kind != ContractType.OPTION)
    use = gap & np.isfinite(derived) & (derived > 0)
    notes.add(use, "entry price not reported: derived from the venue's unrealised PnL")
    notes.add(gap & ~use, "entry price not reported and no unrealised PnL to derive it from")
    return np.where(use, derived, p.entry)


def build_legs(positions: Positions, tiers: Tiers, entry: FloatArray, plan: LegPlan) -> Legs:
    """Legs with the venue's brackets, except where a formula planned its own."""
    flat = plan.flat
    option = positions.kind == ContractType.OPTION
    if flat.any():
        tiers = one_tier(tiers, flat, plan.mmr, plan.cum)
    return Legs(
        side=positions.side,
        qty=positions.qty,
        entry=entry,
        inverse=positions.kind == ContractType.INVERSE,
        option=option,
        tiers=tiers,
        fixed=np.where(option, np.nan_to_num(positions.venue_maint_margin), plan.fixed),
        frozen_upnl=np.nan_to_num(positions.venue_upnl),
    )
