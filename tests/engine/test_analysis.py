"""The whole analysis of ccxt-shaped input: far venue prices, isolated positions without a mark."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from engine.analysis import analyze
from engine.normalise import normalise
from engine.normalise.row import NO_MARK_ISOLATED

#: A cross short of 1 X at 100 (MMR 1 %) on an account of 100,000 USDT: over-collateralised,
#: so the engine's LP = (100,000 + 1·100)/(1·0.01 + 1) = 100,100/1.01 = 99,108.91.
CROSS_SHORT: dict[str, Any] = {
    "symbol": "X/USDT:USDT",
    "side": "short",
    "contracts": 1,
    "entryPrice": 100,
    "markPrice": 100,
    "maintenanceMarginPercentage": 0.01,
    "marginMode": "cross",
    "liquidationPrice": 99_000,
}
RICH = {"total": {"USDT": 100_000}}

#: An isolated long of 10 X at 100 with 200 posted and MMR 1 %: LP = 100 − (200 − 10)/10 = 81.
ISOLATED_LONG: dict[str, Any] = {
    "symbol": "Y/USDT:USDT",
    "side": "long",
    "contracts": 10,
    "entryPrice": 100,
    "maintenanceMarginPercentage": 0.01,
    "marginMode": "isolated",
    "initialMargin": 200,
}


def test_venue_price_far_from_the_mark_is_the_liquidation_price() -> None:
    """The venue's 99,000 at a mark of 100 is reported and measured: |100 − 99,000|/100 =
    98,900 %."""
    result = analyze(normalise("kraken", [CROSS_SHORT], RICH))
    np.testing.assert_allclose(result.liquidation_price, [99_000.0])
    np.testing.assert_allclose(result.distance_pct, [98_900.0])


def test_engine_prices_an_over_collateralised_short_far_from_the_mark() -> None:
    """The engine's own price stands beside the venue's: 100,100/1.01 = 99,108.91."""
    result = analyze(normalise("kraken", [CROSS_SHORT], RICH))
    np.testing.assert_allclose(result.computed.price, [100_100 / 1.01])


def test_isolated_position_without_a_mark_is_priced() -> None:
    """No markPrice: the computed and alert price are still 81."""
    result = analyze(normalise("kraken", [ISOLATED_LONG]))
    np.testing.assert_allclose(result.computed.price, [81.0])
    np.testing.assert_allclose(result.liquidation_price, [81.0])


def test_isolated_position_without_a_mark_has_no_distance_and_says_why() -> None:
    """Distance needs the mark: NaN, with the note naming what is and is not known."""
    result = analyze(normalise("kraken", [ISOLATED_LONG]))
    assert np.isnan(result.distance_pct[0]) and np.isnan(result.probability[0])
    assert NO_MARK_ISOLATED in result.diagnostics(0)


def test_isolated_position_without_a_mark_leaves_its_neighbour_as_it_was() -> None:
    """The mark-less long beside the far short: the short's figures do not move."""
    alone = analyze(normalise("kraken", [CROSS_SHORT], RICH))
    paired = analyze(normalise("kraken", [CROSS_SHORT, ISOLATED_LONG], RICH))
    np.testing.assert_allclose(paired.computed.price[0], alone.computed.price[0])
    np.testing.assert_allclose(paired.distance_pct[0], alone.distance_pct[0])


#: Garbage in one position's fields (or its symbol's tier table), as a venue could send it.
POISONS: dict[str, tuple[dict[str, Any], Any]] = {
    "an int past float range": ({"contracts": 10**500}, None),
    "a negative one": ({"entryPrice": -(10**500)}, None),
    "a string for a number": ({"markPrice": "n/a"}, None),
    "infinity": ({"markPrice": float("inf")}, None),
    "NaN": ({"entryPrice": float("nan")}, None),
    "a string tier table": ({}, "abc"),
    "a tier table of strings": ({}, ["abc", 1]),
    "negative contracts beside side long": ({"contracts": -10}, None),
}


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_a_poisoned_position_leaves_its_neighbour_priced_as_before(poison: str) -> None:
    """The good isolated long at mark 100 is still LP 81, 19 % away; the poisoned one beside
    it carries a diagnostic instead of raising."""
    fields, table = POISONS[poison]
    good = {**ISOLATED_LONG, "markPrice": 100}
    bad = {**good, "symbol": "P/USDT:USDT", **fields}
    tiers = {"P/USDT:USDT": table} if table is not None else None
    result = analyze(normalise("kraken", [good, bad], None, tiers))
    np.testing.assert_allclose(result.computed.price[0], 81.0)
    np.testing.assert_allclose(result.distance_pct[0], 19.0)
    assert result.diagnostics(1)


def test_negative_contracts_beside_side_long_is_named() -> None:
    """side "long" with contracts −10 contradict each other: said so, and the side is unknown."""
    bad = {**ISOLATED_LONG, "markPrice": 100, "contracts": -10}
    result = analyze(normalise("kraken", [bad]))
    assert "side is long but contracts is negative (-10): side unknown" in result.diagnostics(0)
    assert np.isnan(result.computed.price[0])


def test_an_unreadable_tier_table_is_named_on_its_positions() -> None:
    """A tier table that is a string: ignored, and the position says so."""
    good = {**ISOLATED_LONG, "markPrice": 100}
    result = analyze(normalise("kraken", [good], None, {"Y/USDT:USDT": "abc"}))
    assert "leverage tiers are not a list of tier objects: ignored" in result.diagnostics(0)
    np.testing.assert_allclose(result.computed.price, [81.0])


def test_an_unreadable_position_has_no_probability_rather_than_zero() -> None:
    """Zero would read as "no risk"; a position the engine cannot read has an unknown one."""
    bad = {**ISOLATED_LONG, "markPrice": 100, "contracts": "n/a"}
    result = analyze(normalise("kraken", [bad]), volatility={"Y": 0.8})
    assert not result.snapshot.positions.valid[0]
    assert np.isnan(result.probability[0])
