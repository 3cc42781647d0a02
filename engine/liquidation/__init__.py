"""The engine's own liquidation price per position, from raw fields, and the formula behind it.

Every formula is one equation, ``equity(P) = maintenance(P)`` for the legs that move with the
position's mark (see ``legs`` and ``solve``); the venue modules say what equity and maintenance
are outside those legs, citing the venue document (docs/risk.md#liquidation-price-per-venue).
Margin ratios follow engine.model: ``maintenance / margin balance``, 1 at liquidation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.liquidation import binance, bitmex, bybit, deribit, generic, hyperliquid, okx
from engine.liquidation.context import Context, Rule, build_context
from engine.liquidation.legs import LegPlan, Legs, build_legs, effective_entry
from engine.liquidation.notes import Notes
from engine.liquidation.select import select
from engine.liquidation.solve import Solution, ratio, ratio_at_mark, solve
from engine.model import FORMULAS, Formula, Positions, formula_code
from engine.normalise import Snapshot
from engine.types import BoolArray, FloatArray, IntArray

__all__ = ["RULES", "Liquidation", "Prepared", "compute", "margin_ratio_at", "planned_legs"]

#: Formula → how it is priced. ``Formula.NONE`` has no rule.
RULES: dict[Formula, Rule] = {
    Formula.BINANCE_USDM_CROSS: binance.CROSS,
    Formula.BINANCE_USDM_ISOLATED: binance.ISOLATED,
    Formula.BINANCE_COINM_CROSS: binance.CROSS,
    Formula.BINANCE_COINM_ISOLATED: binance.ISOLATED,
    Formula.BYBIT_LINEAR_ISOLATED: bybit.ISOLATED,
    Formula.BYBIT_INVERSE_ISOLATED: bybit.ISOLATED,
    Formula.HYPERLIQUID_CROSS: hyperliquid.CROSS,
    Formula.HYPERLIQUID_ISOLATED: hyperliquid.ISOLATED,
    Formula.OKX_ESTIMATE: okx.ESTIMATE,
    Formula.DERIBIT: deribit.INVERSE,
    Formula.BITMEX: bitmex.ISOLATED,
    Formula.GENERIC: generic.ISOLATED,
    Formula.GENERIC_CROSS: generic.CROSS,
}

NO_LIQUIDATION = "no liquidation price: the margin covers any price move"
UNSETTLED = "maintenance bracket did not settle: liquidation price approximate"
PAST = "margin ratio already at or above 1 at the mark: at or past liquidation"


@dataclass(frozen=True, eq=False)
class Liquidation:
    """Per position: computed liquidation price, formula code, and the formula's diagnostics."""

    #: NaN = not computable, or no liquidation at any positive price.
    price: FloatArray
    #: Index into ``engine.model.FORMULAS``; ``Formula.NONE``'s code where no formula applies.
    formula: IntArray
    notes: Sequence[tuple[str, ...]]


@dataclass(frozen=True, eq=False)
class Prepared:
    """A snapshot's equation per position before the solve: its legs and keys (``ctx``), its
    formula, whether one applies (``active``), the outside terms and the notes so far."""

    ctx: Context
    formula: IntArray
    active: BoolArray
    equity: FloatArray
    maint: FloatArray
    notes: Notes


def compute(snapshot: Snapshot, *, mark: FloatArray | None = None) -> Liquidation:
    """The engine's own liquidation price for every position, from raw fields.

    ``mark`` overrides ``snapshot.positions.mark`` (stress tests: shocked marks change the other
    positions' unrealised PnL in cross formulas).
    """
    prep = prepare(snapshot, mark)
    solution = solve(prep.ctx, prep.equity, prep.maint, prep.active)
    price = _in_range(prep, solution)
    return Liquidation(price=price, formula=prep.formula, notes=prep.notes.frozen())


def margin_ratio_at(
    snapshot: Snapshot, price: FloatArray, *, mark: FloatArray | None = None
) -> FloatArray:
    """Per position, maintenance / margin balance (0 safe, 1 liquidation) by its own formula
    if ITS mark moved to ``price`` while the other positions stay at ``mark``.

    In cross margin the legs of the position's symbol in its pool move together (one mark).
    NaN where no formula applies or an input is missing; +inf where equity is at or below 0.
    """
    prep = prepare(snapshot, mark)
    prices = _per_position(snapshot.positions, price, "price")
    return ratio(prep.ctx, prep.equity, prep.maint, prep.active, prices)


def planned_legs(
    snapshot: Snapshot, notes: Notes
) -> tuple[IntArray, dict[Formula, BoolArray], Legs]:
    """Each position's formula code, the formulas in use with their masks, and the legs as those
    formulas plan them (brackets, maintenance fixed at entry, effective entry)."""
    positions = snapshot.positions
    formula = select(positions, notes)
    entry = effective_entry(positions, notes)
    # Only the formulas some position uses run: an account holds one venue's two or three.
    present = np.flatnonzero(np.bincount(formula, minlength=len(FORMULAS)))
    used = {FORMULAS[int(c)]: formula == c for c in present if FORMULAS[int(c)] in RULES}
    plan = LegPlan(len(positions))
    for f, mask in used.items():
        RULES[f].legs(snapshot, entry, mask, plan, notes)
    legs = build_legs(positions, snapshot.tiers, entry, plan)
    active = formula != formula_code(Formula.NONE)
    unknown_rate = np.isnan(legs.tiers.mmr[legs.tiers.table, 0])
    notes.add(active & ~plan.flat & unknown_rate, generic.MMR_UNKNOWN)
    return formula, used, legs


def prepare(snapshot: Snapshot, mark: FloatArray | None = None) -> Prepared:
    """Everything ``compute`` solves, at ``mark`` (the snapshot's own marks when None)."""
    positions = snapshot.positions
    notes = Notes(len(positions))
    marks = positions.mark if mark is None else _per_position(positions, mark, "mark")
    formula, used, legs = planned_legs(snapshot, notes)
    active = formula != formula_code(Formula.NONE)
    ctx = build_context(snapshot, marks, legs)
    equity = np.full(len(positions), np.nan)
    maint = np.full(len(positions), np.nan)
    for f, mask in used.items():
        rule_equity, rule_maint = RULES[f].terms(ctx, mask, notes)
        np.copyto(equity, rule_equity, where=mask)
        np.copyto(maint, rule_maint, where=mask)
    return Prepared(ctx, formula, active, equity, maint, notes)


def _in_range(prep: Prepared, solution: Solution) -> FloatArray:
    """NaN where the equation has no positive finite root, with the notes that apply."""
    price, past, none, unsettled = in_range(
        prep.ctx, prep.equity, prep.maint, prep.active, solution
    )
    prep.notes.add(past, PAST)
    prep.notes.add(none, NO_LIQUIDATION)
    prep.notes.add(unsettled, UNSETTLED)
    return price


def in_range(
    ctx: Context, equity: FloatArray, maint: FloatArray, active: BoolArray, solution: Solution
) -> tuple[FloatArray, BoolArray, BoolArray, BoolArray]:
    """The price where the root is positive and finite (else NaN) and the masks of the three
    notes that may apply: already past liquidation, no liquidation price, not settled.

    A root far from the mark is kept: an over-collateralised short really does liquidate at
    many times the mark, and hiding it would hide the position's margin from the user.
    """
    lp = solution.price
    with np.errstate(invalid="ignore"):
        real = np.isfinite(lp) & (lp > 0)
    at_mark = ratio_at_mark(ctx, equity, maint, active)
    with np.errstate(invalid="ignore"):
        past = solution.defined & (at_mark >= 1.0)
    none = solution.defined & ~real & ~past
    unsettled = solution.defined & real & ~solution.settled
    return np.where(solution.defined & real, lp, np.nan), past, none, unsettled


def _per_position(positions: Positions, values: FloatArray, name: str) -> FloatArray:
    out = np.asarray(values, dtype=np.float64)
    if out.shape != (len(positions),):
        raise ValueError(f"{name} must have one value per position: {len(positions)}")
    return out
