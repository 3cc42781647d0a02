"""Maintenance brackets: building the padded tier table and looking up a bracket by notional."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from engine.model import ContractType, Positions, Tiers
from engine.types import FloatArray, IntArray


def _num(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def _venue_tiers(raw: Sequence[Mapping[str, Any]]) -> list[tuple[float, float, float, float]]:
    """(floor, cap, mmr, cum) rows sorted by floor; cum derived where the venue omits it.

    Binance's maintenance amount follows ``cum_n = floor_n·(MMR_n − MMR_{n−1}) + cum_{n−1}``
    (Binance FAQ "Leverage and Margin of USDⓈ-M Futures"), so the table stays continuous.
    """
    parsed = []
    for tier in raw:
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


def build_tiers(
    positions: Positions, leverage_tiers: Mapping[str, Sequence[Mapping[str, Any]]] | None
) -> Tiers:
    """A padded (n, k) tier table; positions without venue tiers get their own MMR as one tier."""
    table = dict(leverage_tiers or {})
    per_symbol = {s: _venue_tiers(t) for s, t in table.items() if isinstance(t, Sequence)}
    n = len(positions)
    k = max([len(v) for v in per_symbol.values()] + [1])
    floor = np.full((n, k), np.nan)
    cap = np.full((n, k), np.nan)
    mmr = np.full((n, k), np.nan)
    cum = np.full((n, k), np.nan)
    count = np.ones(n, dtype=np.int64)
    for i, symbol in enumerate(positions.symbol):
        rows = per_symbol.get(symbol) or [
            (0.0, math.inf, positions.mmr[i], positions.maint_amount[i])
        ]
        count[i] = len(rows)
        floor[i, : len(rows)], cap[i, : len(rows)], mmr[i, : len(rows)], cum[i, : len(rows)] = zip(
            *rows, strict=True
        )
    return Tiers(floor=floor, cap=cap, mmr=mmr, cum=cum, count=count)


def bracket_notional(positions: Positions, price: FloatArray) -> FloatArray:
    """The notional a venue brackets by at ``price``: Q·P (linear) or Q/P coin (inverse)."""
    inverse = positions.kind == ContractType.INVERSE
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(inverse, positions.qty / price, positions.qty * price)


def tier_index(tiers: Tiers, notional: FloatArray) -> IntArray:
    """Per position, the index of the bracket containing ``notional`` (NaN → first bracket)."""
    with np.errstate(invalid="ignore"):
        above = (tiers.floor <= notional[:, None]).sum(axis=1) - 1
    return np.asarray(np.clip(above, 0, tiers.count - 1), dtype=np.int64)


def tier_at(tiers: Tiers, notional: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(MMR, maintenance amount) of the bracket containing ``notional``, per position."""
    idx = tier_index(tiers, notional)
    rows = np.arange(len(idx))
    return tiers.mmr[rows, idx], tiers.cum[rows, idx]
