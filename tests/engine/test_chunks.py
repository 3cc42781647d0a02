"""Books larger than one chunk give the same numbers as the whole-book maths."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from benchmarks.synthetic import HORIZON_H, SIGMA, synthetic
from engine import metrics
from engine.analysis import analyze
from engine.liquidation import prepare
from engine.liquidation.solve import solve
from engine.model import CHUNK, chunks
from engine.normalise import Snapshot
from engine.probability import DEFAULT_TOUCH_MODEL, hours_to_years, touch_probability

N = CHUNK + 1_000


@pytest.fixture(scope="module")
def book() -> Snapshot:
    """A one-way Binance book one chunk and a bit long (built once: it takes seconds)."""
    return synthetic(N, seed=7)[0]


def test_chunks_cover_every_position_once() -> None:
    """Consecutive slices of at most CHUNK positions, the last one short."""
    parts = list(chunks(2 * CHUNK + 3))
    assert [(p.start, p.stop) for p in parts] == [
        (0, CHUNK),
        (CHUNK, 2 * CHUNK),
        (2 * CHUNK, 2 * CHUNK + 3),
    ]
    assert list(chunks(0)) == []


def test_chunked_solve_matches_the_whole_book_solve(book: Snapshot) -> None:
    """A one-way book solved chunk by chunk equals the general (grouped) solve to the bit."""
    prep = prepare(book)
    assert prep.ctx.singletons
    chunked = solve(prep.ctx, prep.equity, prep.maint, prep.active)
    whole = solve(replace(prep.ctx, singletons=False), prep.equity, prep.maint, prep.active)
    np.testing.assert_array_equal(chunked.price, whole.price)
    np.testing.assert_array_equal(chunked.defined, whole.defined)
    np.testing.assert_array_equal(chunked.settled, whole.settled)


def test_chunked_metrics_match_the_whole_book_functions(book: Snapshot) -> None:
    """Per-position columns of a multi-chunk analysis equal each function on the whole book."""
    p = book.positions
    result = analyze(book, volatility={"BTC": SIGMA}, horizon_hours=HORIZON_H)
    liq = result.liquidation_price
    np.testing.assert_array_equal(result.notional, metrics.notional(p))
    np.testing.assert_array_equal(result.leverage, metrics.leverage(p))
    np.testing.assert_array_equal(result.roe, metrics.roe(p, result.upnl))
    np.testing.assert_array_equal(result.distance_pct, metrics.distance_pct(p.mark, liq))
    probability = touch_probability(
        p.mark, liq, result.sigma, hours_to_years(HORIZON_H), model=DEFAULT_TOUCH_MODEL
    )
    np.testing.assert_array_equal(result.probability, probability)
    assert result.advice.needed.any() and not result.advice.needed.all()
