"""Bracket look-ups: counted per table or per position, both equal to a binary search."""

from __future__ import annotations

import numpy as np

from engine.model import Tiers
from engine.tiers import _counted_by_row, tier_index


def _tables(tables: int, width: int, seed: int) -> Tiers:
    """``tables`` random bracket tables of 2..width floors (from 0) and six one-tier tables."""
    rng = np.random.default_rng(seed)
    m = tables + 6
    floor = np.full((m, width), np.nan)
    count = np.ones(m, dtype=np.int64)
    for t in range(tables):
        count[t] = rng.integers(2, width + 1)
        floor[t, : count[t]] = np.r_[0.0, np.sort(rng.uniform(1, 1e6, count[t] - 1))]
    floor[tables:, 0] = 0.0
    table = rng.integers(0, m, 5_000)
    return Tiers(floor, floor, floor, floor, count, table)


def _searched(tiers: Tiers, notional: np.ndarray) -> np.ndarray:
    """The definition: floors at or below the notional, less one, at least 0 (NaN → 0)."""
    out = np.zeros(len(notional), dtype=np.int64)
    for i, (t, v) in enumerate(zip(tiers.table, notional, strict=True)):
        floors = tiers.floor[t, : tiers.count[t]]
        out[i] = max(int(np.searchsorted(floors, v, side="right")) - 1, 0) if v == v else 0
    return out


def test_few_and_many_tables_find_the_same_brackets() -> None:
    """Three tables (counted table by table) and thirty (counted per position) give the
    bracket a binary search gives, at floors exactly, beyond the last, NaN and negative."""
    for tables in (3, 30):
        tiers = _tables(tables, 12, seed=tables)
        rng = np.random.default_rng(1)
        notional = rng.uniform(-10, 1.2e6, 5_000)
        notional[:40] = tiers.floor[tiers.table[:40], 1]  # exactly at a floor
        notional[40:50] = np.nan
        notional[50:60] = np.inf
        want = _searched(tiers, notional)
        np.testing.assert_array_equal(tier_index(tiers, notional), want)
        np.testing.assert_array_equal(_counted_by_row(tiers, notional), want)
