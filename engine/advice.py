"""De-leveraging advice: the margin to add, or the size to cut, that restores a target distance.

Both answers are solved from the position's liquidation price itself, so they agree with
whichever venue formula produced it. Between the mark and a price P the margin available to a
position changes by (linear, quote currency)

    A(P) = A0 + (s − MMR)·Q·(P − MP)

because uPnL moves by s·Q·(P − MP) and maintenance by MMR·Q·(P − MP). A(LP) = 0 gives
A0 = (s − MMR)·Q·(MP − LP). For inverse contracts (coin) the same steps give
A(P) = A0 + (s + MMR)·Q·(1/MP − 1/P). The MMR is held at its current bracket (a second-order
effect for the small moves advice is about).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model import ContractType, Positions
from engine.types import BoolArray, FloatArray, IntArray

#: Default distance to liquidation, in percent of mark, that advice restores.
DEFAULT_TARGET_PCT = 15.0


@dataclass(frozen=True, eq=False)
class Advice:
    """Per position; NaN where the position is already at least ``target_pct`` away.

    ``margin_to_add`` is in the settle currency (for cross positions: to the shared wallet).
    ``reduce_qty`` is in Q units (base for linear, USD for inverse); closing at the mark keeps
    the account's equity, so the freed maintenance is what moves the liquidation price away.
    """

    target_pct: float
    needed: BoolArray
    target_price: FloatArray
    margin_to_add: FloatArray
    reduce_qty: FloatArray
    reduce_fraction: FloatArray


def advise(
    positions: Positions,
    liquidation_price: FloatArray,
    *,
    target_pct: float = DEFAULT_TARGET_PCT,
) -> Advice:
    """Margin to add and size to cut, per position closer than ``target_pct`` to liquidation.

    The formulas run on those positions alone (usually few): the rest get NaN.
    """
    s, mp, lp = positions.side, positions.mark, liquidation_price
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.abs(mp - lp) / mp * 100.0
        needed = (
            positions.valid
            & (positions.kind != ContractType.OPTION)
            & (distance < target_pct)
            & (s * (mp - lp) > 0)
        )
    rows = np.flatnonzero(needed)
    out = {name: np.full(len(positions), np.nan) for name in _FIGURES}
    for name, values in _solved(positions, lp, rows, target_pct).items():
        out[name][rows] = values
    return Advice(target_pct=target_pct, needed=needed, **out)


_FIGURES = ("target_price", "margin_to_add", "reduce_qty", "reduce_fraction")


def _solved(
    positions: Positions, liquidation_price: FloatArray, rows: IntArray, target_pct: float
) -> dict[str, FloatArray]:
    """The four figures of the positions at ``rows`` (see the module docstring)."""
    s, q, mp = positions.side[rows], positions.qty[rows], positions.mark[rows]
    lp = liquidation_price[rows]
    mmr = np.nan_to_num(positions.mmr[rows])
    inverse = positions.kind[rows] == ContractType.INVERSE
    target = mp * (1.0 - s * target_pct / 100.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        add_lin = (s - mmr) * q * (lp - target)
        add_inv = (s + mmr) * q * (1.0 / target - 1.0 / lp)
        a0_lin = (s - mmr) * q * (mp - lp)
        a0_inv = (s + mmr) * q * (1.0 / lp - 1.0 / mp)
        keep_lin = (a0_lin + mmr * mp * q) / ((s - mmr) * (mp - target) + mmr * mp)
        keep_inv = (a0_inv + mmr * q / mp) / ((s + mmr) * (1.0 / target - 1.0 / mp) + mmr / mp)
        keep = np.clip(np.where(inverse, keep_inv, keep_lin), 0.0, q)
        cut = q - keep
        return {
            "target_price": target,
            "margin_to_add": np.where(inverse, add_inv, add_lin),
            "reduce_qty": cut,
            "reduce_fraction": cut / q,
        }
