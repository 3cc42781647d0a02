"""Maintenance brackets: building the shared tier tables and looking up a bracket by notional."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from engine.model import ContractType, Positions, Tiers, codes
from engine.types import BoolArray, FloatArray, IntArray


def _num(value: Any) -> float:
    if isinstance(value, bool):
        return math.nan
    try:
        out = float(value)
    except (TypeError, ValueError, OverflowError):  # Overflow: an int past a float's range
        return math.nan
    return out if math.isfinite(out) else math.nan


def _venue_tiers(raw: Sequence[Any]) -> list[tuple[float, float, float, float]]:
    """(floor, cap, mmr, cum) rows sorted by floor; cum derived where the venue omits it.

    Binance's maintenance amount follows ``cum_n = floor_n·(MMR_n − MMR_{n−1}) + cum_{n−1}``
    (Binance FAQ "Leverage and Margin of USDⓈ-M Futures"), so the table stays continuous.
    """
    parsed = []
    for tier in raw:
        if not isinstance(tier, Mapping):
            continue
        info = tier.get("info") if isinstance(tier.get("info"), Mapping) else {}
        assert isinstance(info, Mapping)
        floor = _num(tier.get("minNotional"))
        cap = _num(tier.get("maxNotional"))
        mmr = _num(tier.get("maintenanceMarginRate"))
        cum = _num(info.get("cum"))
        if floor == floor and mmr == mmr:
            parsed.append((floor, cap if cap == cap else math.inf, mmr, cum))
    parsed.sort()
    out: list[tuple[float, float, float, float]] = []
    for floor, cap, mmr, cum in parsed:
        if cum != cum:
            prev_mmr, prev_cum = (out[-1][2], out[-1][3]) if out else (mmr, 0.0)
            cum = floor * (mmr - prev_mmr) + prev_cum
        out.append((floor, cap, mmr, cum))
    return out


def _unique_pairs(a: FloatArray, b: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct (a, b) pairs, bit for bit (NaN equals NaN), and each row's pair index."""
    pairs = np.ascontiguousarray(np.stack([a, b], axis=1))
    keys = pairs.view(np.dtype((np.void, pairs.itemsize * 2))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return pairs[first], np.asarray(inverse, dtype=np.int64).reshape(-1)


def build_tiers(
    positions: Positions, leverage_tiers: Mapping[str, Sequence[Mapping[str, Any]]] | None
) -> Tiers:
    """Each symbol's venue table once; positions without one share one-tier tables of their own
    MMR and maintenance amount. Loops run over symbols and tables, never over positions."""
    raw = dict(leverage_tiers or {})
    # A string is a Sequence too: only lists are tables (engine.normalise notes the others).
    per_symbol = {s: _venue_tiers(t) for s, t in raw.items() if isinstance(t, list | tuple)}
    names, code = codes(positions.symbol)
    venue = [per_symbol.get(name) or [] for name in names]
    tables = [rows for rows in venue if rows]
    has_venue = np.array([bool(rows) for rows in venue], dtype=np.bool_)
    k = max([len(rows) for rows in tables] + [1])
    floor, cap, mmr, cum = (np.full((len(tables), k), np.nan) for _ in range(4))
    for t, rows in enumerate(tables):
        floor[t, : len(rows)], cap[t, : len(rows)], mmr[t, : len(rows)], cum[t, : len(rows)] = zip(
            *rows, strict=True
        )
    count = np.array([len(rows) for rows in tables], dtype=np.int64)
    table = (np.cumsum(has_venue, dtype=np.int64) - 1)[code]
    venue_tiers = Tiers(floor=floor, cap=cap, mmr=mmr, cum=cum, count=count, table=table)
    return one_tier(venue_tiers, ~has_venue[code], positions.mmr, positions.maint_amount)


def one_tier(tiers: Tiers, mask: BoolArray, mmr: FloatArray, cum: FloatArray) -> Tiers:
    """``tiers`` with the masked positions moved to one-tier tables (floor 0 to +inf) of their
    own ``mmr`` and ``cum``; positions with the same pair share one table."""
    pairs, inverse = _unique_pairs(mmr[mask], cum[mask])
    m, k = tiers.floor.shape
    pad = np.full((len(pairs), k), np.nan)
    floor, cap, rate, amount = (
        np.vstack([a, pad]) for a in (tiers.floor, tiers.cap, tiers.mmr, tiers.cum)
    )
    floor[m:, 0], cap[m:, 0], rate[m:, 0], amount[m:, 0] = 0.0, np.inf, pairs[:, 0], pairs[:, 1]
    table = tiers.table.copy()
    table[mask] = m + inverse
    count = np.concatenate([tiers.count, np.ones(len(pairs), dtype=np.int64)])
    return Tiers(floor=floor, cap=cap, mmr=rate, cum=amount, count=count, table=table)


def bracket_notional(positions: Positions, price: FloatArray) -> FloatArray:
    """The notional a venue brackets by at ``price``: Q·P (linear) or Q/P coin (inverse)."""
    inverse = positions.kind == ContractType.INVERSE
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inverse, positions.qty / price, positions.qty * price)


#: Above this many multi-tier tables in use a look-up compares every position with the j-th
#: floor of its own table (K gathers) instead of counting each table's positions apart.
_FEW_TABLES = 12
#: Above this many brackets a table is searched (log K) instead of counted (K compares).
_FEW_BRACKETS = 32


def tier_index(tiers: Tiers, notional: FloatArray) -> IntArray:
    """Per position, the index of the bracket containing ``notional`` (NaN → first bracket).

    The bracket is the number of floors above the first that are at or below the notional:
    a NaN notional is at or above none, so lands in bracket 0 without a mask, and one-tier
    positions are always in bracket 0. Counted with one comparison per floor (faster than a
    binary search for a venue's ten or so brackets), per multi-tier table in use (its positions
    found once per ``Tiers``); a book of many tables compares each position with its own
    table's floors instead.
    """
    members = tiers.members()
    if len(members) > _FEW_TABLES and tiers.floor.shape[1] <= _FEW_BRACKETS:
        return _counted_by_row(tiers, notional)
    out = np.zeros(len(notional), dtype=np.int64)
    for t, rows in members.items():
        floors = tiers.floor[t, : int(tiers.count[t])]
        if len(rows) == len(notional):
            return _counted(floors, notional)
        out[rows] = _counted(floors, notional[rows])
    return out


def _counted(floors: FloatArray, values: FloatArray) -> IntArray:
    """How many of the sorted ``floors`` past the first are at or below each value."""
    if len(floors) > _FEW_BRACKETS:
        above = np.searchsorted(-floors[::-1], -values, side="left")
        return np.asarray(np.maximum(len(floors) - 1 - above, 0), dtype=np.int64)
    # A small integer accumulator: the compares dominate, not the sums.
    count = np.zeros(len(values), dtype=np.int8)
    for floor in floors[1:].tolist():
        count += values >= floor
    return count.astype(np.int64)


def _counted_by_row(tiers: Tiers, notional: FloatArray) -> IntArray:
    """``_counted`` with each position's own table: its j-th floor gathered per position (a
    padding NaN floor counts as above every notional)."""
    width = tiers.floor.shape[1]
    flat = tiers.floor.ravel()
    base = tiers.table * width
    count = np.zeros(len(notional), dtype=np.int8)
    with np.errstate(invalid="ignore"):
        for j in range(1, width):
            count += notional >= np.take(flat, base + j)
    return count.astype(np.int64)


def tier_values(tiers: Tiers, index: IntArray) -> tuple[FloatArray, FloatArray]:
    """(MMR, maintenance amount) of bracket ``index`` of each position's table."""
    flat = tiers.table * tiers.floor.shape[1] + index
    return np.take(tiers.mmr, flat), np.take(tiers.cum, flat)


def tier_at(tiers: Tiers, notional: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(MMR, maintenance amount) of the bracket containing ``notional``, per position."""
    return tier_values(tiers, tier_index(tiers, notional))
