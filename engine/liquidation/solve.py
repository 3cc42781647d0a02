"""Solving ``equity(P) = maintenance(P)`` per group of moving legs, and the ratio at any price.

Given brackets, the equation is linear in P (linear contracts) or in 1/P (inverse):

- linear:  ``P = (E − M + Σ(cum − fixed) − Σ s·Q·EP) / (Σ Q·MMR − Σ s·Q)``
  (Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures", with E = WB + UPNL1,
  M = TMM1 and the sums over the BOTH, or LONG and SHORT, legs of the symbol);
- inverse: ``P = (Σ Q·MMR + Σ s·Q) / (E − M + Σ(cum − fixed) + Σ s·Q/EP)``
  (Binance COIN-M: ``LP = N·(MMR + s)/(WB − TMM1 + UPNL1 + cum + s·N/EP)``).

The venues pick the bracket at the *liquidation* notional, so the solve is a fixed point: solve
with the bracket at the mark, look up the bracket at the result, solve again until the brackets
stop changing (at most the tier count). Maintenance is convex and continuous in notional, so
this settles instead of cycling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.liquidation.context import Context, group_sum, weighted_count
from engine.liquidation.legs import maint_at, notional_at, upnl_at
from engine.model import CHUNK, chunks
from engine.tiers import tier_index, tier_values
from engine.types import BoolArray, FloatArray, IntArray

#: A sum within this fraction of its terms' size is a cancellation to zero, not a value: float64
#: keeps ~1e-16 of each term, and a root resting on less than 1e-9 of them is noise.
CANCELLATION = 1e-9


@dataclass(frozen=True, eq=False)
class Solution:
    """Liquidation price per position, whether its equation was defined, whether it settled."""

    price: FloatArray
    defined: BoolArray
    settled: BoolArray


def solve(ctx: Context, equity: FloatArray, maint: FloatArray, mask: BoolArray) -> Solution:
    """The price where each masked position's group reaches its maintenance margin.

    One-way books are solved in chunks of ``CHUNK`` positions (see ``engine.model.chunks``):
    each position's fixed point reads only its own row, so a chunk settles exactly as the
    whole book would, with the same iteration limit, while its arrays stay in cache.
    """
    tiers = ctx.legs.tiers
    limit = int(tiers.count[tiers.table].max(initial=1))
    n = len(mask)
    if not ctx.singletons or n <= CHUNK:
        return _fixed_point(ctx, equity, maint, mask, limit)
    price, defined, settled = np.empty(n), np.empty(n, np.bool_), np.empty(n, np.bool_)
    for part in chunks(n):
        got = _fixed_point(ctx.rows(part), equity[part], maint[part], mask[part], limit)
        price[part], defined[part], settled[part] = got.price, got.defined, got.settled
    return Solution(price=price, defined=defined, settled=settled)


def _fixed_point(
    ctx: Context, equity: FloatArray, maint: FloatArray, mask: BoolArray, limit: int
) -> Solution:
    """Solve with the bracket at the mark, then at each result, until the brackets settle."""
    tiers = ctx.legs.tiers
    index = tier_index(tiers, notional_at(ctx.legs, np.where(mask, ctx.mark, np.nan)))
    price, defined = _closed_form(ctx, equity, maint, mask, index)
    if ctx.singletons:
        first = Solution(price, defined, ~defined)
        return _settle_rows(ctx, equity, maint, mask, limit, first, index)
    settled = ~defined
    for attempt in range(limit + 1):
        landed = tier_index(tiers, notional_at(ctx.legs, price))
        settled = ~defined | (landed == index)
        if settled.all() or attempt == limit:
            break
        index = landed
        price, defined = _closed_form(ctx, equity, maint, mask, index)
    return Solution(price=price, defined=defined, settled=settled)


def _settle_rows(
    ctx: Context,
    equity: FloatArray,
    maint: FloatArray,
    mask: BoolArray,
    limit: int,
    first: Solution,
    index: IntArray,
) -> Solution:
    """The fixed point of one-way books, where each position's equation is its own: after the
    first solve only the positions whose bracket moved are solved again (usually few), each
    through the same sequence of brackets as a solve of the whole book."""
    price, defined = first.price.copy(), first.defined.copy()
    settled = np.ones(len(price), dtype=np.bool_)
    rows = np.arange(len(price))
    sub, sub_index = ctx, index
    sub_price, sub_defined = price, defined
    for attempt in range(limit + 1):
        landed = tier_index(sub.legs.tiers, notional_at(sub.legs, sub_price))
        moving = sub_defined & (landed != sub_index)
        if not moving.any() or attempt == limit:
            settled[rows] = ~moving
            break
        keep = np.flatnonzero(moving)
        rows, sub = rows[keep], sub.take(keep)
        sub_index = landed[keep]
        sub_price, sub_defined = _closed_form(sub, equity[rows], maint[rows], mask[rows], sub_index)
        price[rows], defined[rows] = sub_price, sub_defined
    return Solution(price=price, defined=defined, settled=settled)


def _closed_form(
    ctx: Context, equity: FloatArray, maint: FloatArray, mask: BoolArray, index: IntArray
) -> tuple[FloatArray, BoolArray]:
    legs = ctx.legs
    mmr, cum = tier_values(legs.tiers, index)
    sq = legs.side * legs.qty
    pick = _Pick(legs.inverse)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = group_sum(ctx, legs.qty * mmr, mask)
        sides = group_sum(ctx, sq, mask)
        amounts = equity - maint + group_sum(ctx, cum - legs.fixed, mask)
        at_entry = group_sum(ctx, pick(lambda: sq / legs.entry, lambda: sq * legs.entry), mask)
        num = pick(lambda: _sum(rate, sides), lambda: _sum(amounts, -at_entry))
        den = pick(lambda: _sum(amounts, at_entry), lambda: _sum(rate, -sides))
        price = num / den
    defined = mask & np.isfinite(num) & np.isfinite(den)
    return np.where(defined, price, np.nan), defined


class _Pick:
    """``np.where(inverse, inverse form, linear form)``, computing only the form in use when
    every position is one kind (a venue's book usually is)."""

    def __init__(self, inverse: BoolArray) -> None:
        self.inverse = inverse
        self.some = bool(inverse.any())
        self.every = self.some and bool(inverse.all())

    def __call__(
        self, inverse: Callable[[], FloatArray], linear: Callable[[], FloatArray]
    ) -> FloatArray:
        if self.every:
            return inverse()
        if not self.some:
            return linear()
        return np.where(self.inverse, inverse(), linear())


def _sum(a: FloatArray, b: FloatArray) -> FloatArray:
    """``a + b``, or exactly 0 where the sum is rounding noise of a cancellation.

    A 1x long (collateral = value at entry) or a fully collateralised COIN-M short has a true
    zero here, but float subtraction leaves ~1e-16 of the terms, which would turn "no
    liquidation" into a price of 1e-12 or 1e17. The test is against the terms, not the mark.
    """
    total = a + b
    return np.where(np.abs(total) <= CANCELLATION * (np.abs(a) + np.abs(b)), 0.0, total)


def ratio(
    ctx: Context, equity: FloatArray, maint: FloatArray, mask: BoolArray, price: FloatArray
) -> FloatArray:
    """Maintenance / equity of each masked position's equation with its group's legs at ``price``.

    Position i's group is evaluated at ``price[i]`` for every leg in it (pairs within a group),
    so hedge-mode legs move together. Equity at or below zero gives +inf (past liquidation).
    """
    n = len(mask)
    pair_i, pair_j = group_pairs(ctx.group, mask)
    legs = ctx.legs.take(pair_j.astype(np.int64))
    at = price[pair_i]
    moving_upnl = weighted_count(pair_i, upnl_at(legs, at), n)
    moving_maint = weighted_count(pair_i, maint_at(legs, at), n)
    total_equity = equity + moving_upnl
    total_maint = maint + moving_maint
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(total_equity > 0, total_maint / total_equity, np.inf)
    finite = np.isfinite(total_equity) & np.isfinite(total_maint)
    return np.where(mask & finite, out, np.nan)


def ratio_at_mark(
    ctx: Context, equity: FloatArray, maint: FloatArray, mask: BoolArray
) -> FloatArray:
    """``ratio`` with every leg at its own mark: group sums suffice, no pairs needed."""
    total_equity = equity + group_sum(ctx, ctx.upnl, mask)
    total_maint = maint + group_sum(ctx, ctx.maint, mask)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(total_equity > 0, total_maint / total_equity, np.inf)
    finite = np.isfinite(total_equity) & np.isfinite(total_maint)
    return np.where(mask & finite, out, np.nan)


def group_pairs(group: IntArray, mask: BoolArray) -> tuple[IntArray, IntArray]:
    """Every (i, j) of masked positions sharing a group, without an n×n matrix.

    Groups are one position (isolated, one-way) or a hedge pair, so the pairs number about n;
    an n×n comparison would need a terabyte at a million positions.
    """
    members = np.flatnonzero(mask)
    order = members[np.argsort(group[members], kind="stable")]
    _, start, count = np.unique(group[order], return_index=True, return_counts=True)
    size = np.repeat(count, count)  # per sorted member: its group's size
    first = np.repeat(start, count)  # per sorted member: where its group starts
    pair_i = np.repeat(order, size)
    offset = np.arange(len(pair_i)) - np.repeat(np.cumsum(size) - size, size)
    pair_j = order[np.repeat(first, size) + offset]
    return pair_i.astype(np.int64), pair_j.astype(np.int64)
