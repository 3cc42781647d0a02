"""Tests for realised volatility, parametric and historical VaR, and scenario re-pricing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.errors import EngineError
from engine.volatility import (
    historical_var,
    parametric_var,
    periods_per_year,
    realised_volatility,
    scenario_pnl,
)


@pytest.mark.parametrize(
    ("timeframe", "expected"),
    [
        ("1m", 525_600.0),  # 365·24·60
        ("5m", 105_120.0),  # 525600/5
        ("15m", 35_040.0),  # 525600/15
        ("1h", 8_760.0),  # 365·24
        ("4h", 2_190.0),  # 8760/4
        ("1d", 365.0),
        ("1w", 365.0 / 7.0),
    ],
)
def test_periods_per_year_uses_365_day_years(timeframe: str, expected: float) -> None:
    """Each ccxt timeframe maps to candles in a 24/7, 365-day year."""
    assert periods_per_year(timeframe) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("timeframe", ["", "1x", "h1", "0h", "1.5h", "1 d", "1D"])
def test_periods_per_year_rejects_unknown_timeframes(timeframe: str) -> None:
    """Anything that is not <positive int><s|m|h|d|w|M|y> is an EngineError naming the input."""
    with pytest.raises(EngineError, match="unknown timeframe"):
        periods_per_year(timeframe)


def test_realised_volatility_of_alternating_returns() -> None:
    """Log returns +1 %, −1 %, +1 %, −1 % on daily closes.

    mean = 0, sample variance = 4·0.01²/(4 − 1) = 0.0004/3, std = 0.011547005383792516,
    annualised ×√365 = √(0.0004/3·365) = 0.2206052281036573.
    """
    closes = 100.0 * np.exp(np.cumsum([0.0, 0.01, -0.01, 0.01, -0.01]))
    np.testing.assert_allclose(realised_volatility(closes, 365.0), 0.2206052281036573, rtol=1e-12)


def test_realised_volatility_of_flat_prices_is_zero() -> None:
    """Constant closes have no variation."""
    assert realised_volatility(np.full(10, 42_000.0), 8760.0) == 0.0


def test_realised_volatility_ignores_the_price_level() -> None:
    """Log returns are scale-free: multiplying every close by 1000 leaves σ unchanged."""
    closes = np.array([100.0, 103.0, 101.0, 104.0, 99.0])
    np.testing.assert_allclose(
        realised_volatility(closes * 1000.0, 365.0), realised_volatility(closes, 365.0), rtol=1e-12
    )


@pytest.mark.parametrize(
    ("closes", "match"),
    [
        ([100.0, 101.0], "at least 3 closes"),
        ([100.0, 0.0, 101.0], "positive"),
        ([100.0, -5.0, 101.0], "positive"),
        ([100.0, np.nan, 101.0], "positive"),
    ],
)
def test_realised_volatility_rejects_bad_closes(closes: list[float], match: str) -> None:
    """Too few closes or a non-positive / NaN close raise EngineError with the reason."""
    with pytest.raises(EngineError, match=match):
        realised_volatility(np.array(closes), 365.0)


def test_parametric_var_hand_value() -> None:
    """V = 1,000,000 USD long, σ = 80 %, one day, 99 %, μ = 0.

    z = Φ⁻¹(0.99) = 2.3263478740408408, σ√h = 0.8/√365 = 0.041873913807217104,
    VaR = 1e6 · 2.3263478740408408 · 0.041873913807217104 = 97413.2903631889.
    """
    np.testing.assert_allclose(
        parametric_var(1e6, 0.8, 1 / 365, 0.99), 97413.2903631889, rtol=1e-13
    )


def test_parametric_var_drift_term() -> None:
    """μ = 50 %/yr over one day subtracts V·μ·h = 1e6·0.5/365 = 1369.86301369863 for a long
    and adds it for a short (a short loses on the way up)."""
    var = parametric_var(np.array([1e6, -1e6]), 0.8, 1 / 365, 0.99, drift=0.5)
    np.testing.assert_allclose(
        var, [97413.2903631889 - 1369.86301369863, 97413.2903631889 + 1369.86301369863], rtol=1e-13
    )


def test_parametric_var_uses_the_one_sided_quantile() -> None:
    """V = 1, σ = 1, h = 1 leaves z itself: Φ⁻¹(0.95) = 1.6448536269514715."""
    np.testing.assert_allclose(parametric_var(1.0, 1.0, 1.0, 0.95), 1.6448536269514715, rtol=1e-14)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1, math.nan])
def test_var_rejects_confidence_outside_the_open_unit_interval(confidence: float) -> None:
    """α must lie strictly between 0 and 1 for both VaR flavours."""
    with pytest.raises(EngineError, match="confidence"):
        parametric_var(1.0, 1.0, 1.0, confidence)
    with pytest.raises(EngineError, match="confidence"):
        historical_var(np.array([-1.0, 1.0]), confidence)


# Ten scenarios; sorted ascending (0-based index:value) 0:−8 1:−5 2:−2 3:−1 4:0 5:1 6:2 7:3 8:4 9:6
PNL = np.array([-5.0, 3.0, -1.0, 2.0, -8.0, 0.0, 4.0, -2.0, 1.0, 6.0])


@pytest.mark.parametrize(
    ("confidence", "expected"),
    [
        # 10·(1 − 0.95) = 0.5000000000000004 ⇒ k = 0 ⇒ the worst, −8 ⇒ VaR 8.
        (0.95, 8.0),
        # 10·(1 − 0.9) = 0.9999999999999998 in floats; + ε ⇒ k = 1 ⇒ −5 ⇒ VaR 5.
        (0.9, 5.0),
        # 10·(1 − 0.8) = 1.9999999999999996; + ε ⇒ k = 2 ⇒ −2 ⇒ VaR 2.
        (0.8, 2.0),
        # 10·(1 − 0.5) = 5 ⇒ k = 5 ⇒ +1: the median scenario is a gain, so VaR is negative.
        (0.5, -1.0),
    ],
)
def test_historical_var_picks_the_zero_based_kth_smallest(
    confidence: float, expected: float
) -> None:
    """VaR = −PnL[k] with k = ⌊n(1 − α) + ε⌋ a 0-based index into P&L sorted ascending."""
    assert historical_var(PNL, confidence) == expected


def test_historical_var_500_scenarios_at_99_percent_is_the_sixth_worst() -> None:
    """Losses 1..500: 500·(1 − 0.99) = 5.000000000000004 ⇒ k = 5 ⇒ 6th worst loss, 495."""
    rng = np.random.default_rng(7)
    pnl = -rng.permutation(np.arange(1.0, 501.0))
    assert historical_var(pnl, 0.99) == 495.0


@pytest.mark.parametrize("pnl", [[], [1.0, np.nan], [np.inf, 1.0]])
def test_historical_var_rejects_empty_or_non_finite_scenarios(pnl: list[float]) -> None:
    """No scenarios, or a NaN / inf P&L, is an EngineError rather than a silent number."""
    with pytest.raises(EngineError, match="scenario"):
        historical_var(np.array(pnl), 0.99)


def test_scenario_pnl_reprices_linear_exposure() -> None:
    """Long 10,000 USD BTC, short 5,000 USD ETH.

    day 1: BTC +1 %, ETH +2 % ⇒ 10000·0.01 − 5000·0.02 = 100 − 100 = 0
    day 2: BTC −5 %, ETH  0 % ⇒ 10000·(−0.05) + 0 = −500
    """
    exposure = np.array([10_000.0, -5_000.0])
    returns = np.array([[0.01, 0.02], [-0.05, 0.0]])
    np.testing.assert_allclose(scenario_pnl(exposure, returns), [0.0, -500.0], atol=1e-12)


def test_scenario_pnl_feeds_historical_var() -> None:
    """Re-priced days go straight into historical VaR: worst of two days at 95 % ⇒ 500."""
    pnl = scenario_pnl(np.array([10_000.0, -5_000.0]), np.array([[0.01, 0.02], [-0.05, 0.0]]))
    np.testing.assert_allclose(historical_var(pnl, 0.95), 500.0, rtol=1e-12)


def test_scenario_pnl_rejects_mismatched_shapes() -> None:
    """Returns with 3 asset columns against 2 exposures is an EngineError."""
    with pytest.raises(EngineError, match="do not match"):
        scenario_pnl(np.array([1.0, 2.0]), np.zeros((4, 3)))
