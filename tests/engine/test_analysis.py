"""The whole analysis of ccxt-shaped input: far venue prices, isolated positions without a mark."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.analysis import analyse
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
    result = analyse(normalise("kraken", [CROSS_SHORT], RICH))
    np.testing.assert_allclose(result.liquidation_price, [99_000.0])
    np.testing.assert_allclose(result.distance_pct, [98_900.0])


def test_engine_prices_an_over_collateralised_short_far_from_the_mark() -> None:
    """The engine's own price stands beside the venue's: 100,100/1.01 = 99,108.91."""
    result = analyse(normalise("kraken", [CROSS_SHORT], RICH))
    np.testing.assert_allclose(result.computed.price, [100_100 / 1.01])


def test_isolated_position_without_a_mark_is_priced() -> None:
    """No markPrice: the computed and alert price are still 81."""
    result = analyse(normalise("kraken", [ISOLATED_LONG]))
    np.testing.assert_allclose(result.computed.price, [81.0])
    np.testing.assert_allclose(result.liquidation_price, [81.0])


def test_isolated_position_without_a_mark_has_no_distance_and_says_why() -> None:
    """Distance needs the mark: NaN, with the note naming what is and is not known."""
    result = analyse(normalise("kraken", [ISOLATED_LONG]))
    assert np.isnan(result.distance_pct[0]) and np.isnan(result.probability[0])
    assert NO_MARK_ISOLATED in result.diagnostics(0)


def test_isolated_position_without_a_mark_leaves_its_neighbour_as_it_was() -> None:
    """The mark-less long beside the far short: the short's figures do not move."""
    alone = analyse(normalise("kraken", [CROSS_SHORT], RICH))
    paired = analyse(normalise("kraken", [CROSS_SHORT, ISOLATED_LONG], RICH))
    np.testing.assert_allclose(paired.computed.price[0], alone.computed.price[0])
    np.testing.assert_allclose(paired.distance_pct[0], alone.distance_pct[0])
