"""Tests for the distance in σ and the GBM probability of touching the liquidation price."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.probability import (
    HOURS_PER_YEAR,
    TouchModel,
    distance_sigma,
    hours_to_years,
    touch_probability,
)

DAY = 1.0 / 365.0

# Shared hand computation for mark 100, σ = 0.8, T = 1/365, μ = 0:
#   σ√T = 0.8/√365 = 0.041873913807217104, ν = −σ²/2 = −0.32, νT = −0.32/365 = −0.000876712328767
#   so (H/S0)^(2ν/σ²) = (H/S0)^(−1).


def test_down_barrier_hand_value() -> None:
    """Long at 100 with LP 90, σ = 80 %, one day: P ≈ 1.2504 %.

    b = ln 0.9 = −0.10536051565782628
    z1 = (b − νT)/(σ√T) = (−0.105360516 + 0.000876712)/0.041873914 = −2.4952003247198506
    z2 = (b + νT)/(σ√T) = (−0.105360516 − 0.000876712)/0.041873914 = −2.537074238527068
    P = N(z1) + 0.9⁻¹·N(z2) = 0.00629430192209848 + 0.00558916232409594/0.9 = 0.01250448228220508
    """
    np.testing.assert_allclose(
        touch_probability(100.0, 90.0, 0.8, DAY), 0.01250448228220508, rtol=1e-13
    )


def test_up_barrier_hand_value() -> None:
    """Short at 100 with LP 110, σ = 80 %, one day: P ≈ 2.1772 %.

    b = ln 1.1 = 0.09531017980432493
    z1 = (−b + νT)/(σ√T) = (−0.095310180 − 0.000876712)/0.041873914 = −2.2970599924317066
    z2 = (−b − νT)/(σ√T) = (−0.095310180 + 0.000876712)/0.041873914 = −2.2551860786244893
    P = N(z1) + 1.1⁻¹·N(z2) = 0.010807673818356575 + 0.012060825689407292/1.1 = 0.02177206080872684
    """
    np.testing.assert_allclose(
        touch_probability(100.0, 110.0, 0.8, DAY), 0.02177206080872684, rtol=1e-13
    )


def test_zero_log_drift_reduces_to_reflection_formula() -> None:
    """With μ = σ²/2 (ν = 0) the general formula equals 2·N(−|b|/(σ√T)).

    b = ln 0.9, −|b|/(σ√T) = −0.105360516/0.041873914 = −2.5161372816234593
    2·N(−2.5161372816234593) = 0.0118648957504985
    """
    p = touch_probability(100.0, np.array([90.0, 100.0 / 0.9]), 0.8, DAY, drift=0.32)
    np.testing.assert_allclose(p, [0.0118648957504985, 0.0118648957504985], rtol=1e-13)


def test_general_formula_is_continuous_as_nu_tends_to_zero() -> None:
    """μ = σ²/2 ± 1e-9 gives the ν = 0 value to within the O(ν) change (about 1e-11)."""
    drift = 0.32 + np.array([-1e-9, 1e-9])
    p = touch_probability(100.0, 90.0, 0.8, DAY, drift=drift)
    np.testing.assert_allclose(p, 0.0118648957504985, rtol=1e-8)


def test_log_symmetric_barriers_are_equally_likely_without_log_drift() -> None:
    """With ν = 0 a barrier at 100·e^{−a} is as likely as one at 100·e^{+a}."""
    a = np.array([0.01, 0.05, 0.2, 1.0])
    down = touch_probability(100.0, 100.0 * np.exp(-a), 0.6, 7 * DAY, drift=0.18)
    up = touch_probability(100.0, 100.0 * np.exp(a), 0.6, 7 * DAY, drift=0.18)
    np.testing.assert_allclose(down, up, rtol=1e-14)


def test_mirror_symmetry_swaps_the_sign_of_log_drift() -> None:
    """Down to S0·e^{−a} with drift ν equals up to S0·e^{+a} with drift −ν (μ' = σ² − μ)."""
    sigma, mu = 0.7, np.array([-1.5, 0.0, 0.1, 2.0])
    down = touch_probability(100.0, 100.0 * math.exp(-0.08), sigma, 3 * DAY, drift=mu)
    up = touch_probability(100.0, 100.0 * math.exp(0.08), sigma, 3 * DAY, drift=sigma**2 - mu)
    np.testing.assert_allclose(down, up, rtol=1e-12)


def test_long_horizon_tends_to_the_ever_touch_probability() -> None:
    """With μ = 0 an up barrier is ever touched with probability S0/H = 100/110 (ν < 0).

    T = 1e6 years: z1 = (−b + νT)/(σ√T) ≈ −400 ⇒ N ≈ 0, z2 ≈ +400 ⇒ N = 1, P = (H/S0)^{−1}.
    """
    np.testing.assert_allclose(touch_probability(100.0, 110.0, 0.8, 1e6), 100.0 / 110.0, rtol=1e-12)


def test_extreme_drift_over_small_sigma_stays_finite() -> None:
    """σ = 1 %, μ = 500 %: (H/S0)^(2ν/σ²) = e^{9530} overflows, yet P is a finite 0..1 value."""
    p = touch_probability(100.0, np.array([110.0, 90.0]), 0.01, DAY, drift=np.array([5.0, -5.0]))
    assert np.all(np.isfinite(p))
    # μT = ±0.0137 cannot cover |ln 1.1| = 0.095 or |ln 0.9| = 0.105 at 16σ√T a side.
    np.testing.assert_array_less(p, 1e-100)


def test_no_liquidation_price_is_never_touched() -> None:
    """A NaN, zero or infinite barrier means no liquidation: P = 0, even when σ is NaN."""
    barrier = np.array([np.nan, 0.0, np.inf, np.nan])
    sigma = np.array([0.8, 0.8, 0.8, np.nan])
    np.testing.assert_array_equal(
        touch_probability(100.0, barrier, sigma, DAY), [0.0, 0.0, 0.0, 0.0]
    )


def test_invalid_inputs_give_nan() -> None:
    """NaN σ, negative σ, NaN or negative horizon, non-positive mark ⇒ NaN."""
    mark = np.array([100.0, 100.0, 100.0, 100.0, 0.0, np.nan])
    sigma = np.array([np.nan, -0.1, 0.8, 0.8, 0.8, 0.8])
    horizon = np.array([DAY, DAY, np.nan, -DAY, DAY, DAY])
    assert np.all(np.isnan(touch_probability(mark, 90.0, sigma, horizon)))


def test_barrier_at_the_mark_is_certain() -> None:
    """A barrier equal to the mark has been touched: P = 1, including at T = 0."""
    np.testing.assert_array_equal(
        touch_probability(100.0, 100.0, 0.8, np.array([0.0, DAY])), [1.0, 1.0]
    )


def test_crossed_barrier_with_side_is_certain() -> None:
    """A long with its LP above the mark, or a short with it below, is already through: P = 1."""
    p = touch_probability(
        100.0, np.array([101.0, 99.0, 99.0, 101.0]), 0.8, DAY, side=np.array([1, -1, 1, -1])
    )
    assert p[0] == 1.0 and p[1] == 1.0
    assert 0.0 < p[2] < 1.0 and 0.0 < p[3] < 1.0


def test_zero_horizon_away_from_barrier_is_impossible() -> None:
    """T = 0 with the barrier 10 % away: no time to move, P = 0."""
    np.testing.assert_array_equal(
        touch_probability(100.0, np.array([90.0, 110.0]), 0.8, 0.0), [0.0, 0.0]
    )


def test_zero_volatility_follows_the_drift_deterministically() -> None:
    """σ = 0: S_T = 100·e^{μT}; μ = −50/yr for 1 day moves ln S by −0.137, past ln 0.9 = −0.105."""
    p = touch_probability(
        100.0,
        np.array([90.0, 80.0, 110.0, 90.0]),
        0.0,
        DAY,
        drift=np.array([-50.0, -50.0, -50.0, 0.0]),
    )
    np.testing.assert_array_equal(p, [1.0, 0.0, 0.0, 0.0])


def test_inputs_broadcast() -> None:
    """Barriers (3,) against horizons (2, 1) give a (2, 3) grid, one hand value checked."""
    p = touch_probability(100.0, np.array([90.0, 110.0, np.nan]), 0.8, np.array([[DAY], [2 * DAY]]))
    assert p.shape == (2, 3)
    np.testing.assert_allclose(p[0, 0], 0.01250448228220508, rtol=1e-13)


@settings(deadline=None)
@given(
    st.floats(min_value=0.01, max_value=0.95),
    st.floats(min_value=0.05, max_value=3.0),
    st.floats(min_value=-2.0, max_value=2.0),
    st.floats(min_value=1e-4, max_value=2.0),
    st.floats(min_value=1.0, max_value=10.0),
    st.booleans(),
)
def test_probability_grows_with_horizon(
    gap: float, sigma: float, drift: float, horizon: float, factor: float, up: bool
) -> None:
    """More time can only add paths that touch: P(T) ≤ P(k·T) for k ≥ 1."""
    barrier = 100.0 / (1.0 - gap) if up else 100.0 * (1.0 - gap)
    short, long_ = touch_probability(
        100.0, barrier, sigma, np.array([horizon, horizon * factor]), drift=drift
    )
    assert 0.0 <= short <= long_ + 1e-12 <= 1.0 + 1e-12


@settings(deadline=None)
@given(
    st.floats(min_value=0.001, max_value=0.9),
    st.floats(min_value=0.0, max_value=0.09),
    st.floats(min_value=0.05, max_value=3.0),
    st.floats(min_value=-2.0, max_value=2.0),
    st.floats(min_value=1e-4, max_value=2.0),
    st.booleans(),
)
def test_probability_falls_with_distance(
    gap: float, extra: float, sigma: float, drift: float, horizon: float, up: bool
) -> None:
    """A further barrier can only be touched after the nearer one: P(far) ≤ P(near)."""
    gaps = np.array([gap, gap + extra])
    barriers = 100.0 / (1.0 - gaps) if up else 100.0 * (1.0 - gaps)
    near, far = touch_probability(100.0, barriers, sigma, horizon, drift=drift)
    assert 0.0 <= far <= near + 1e-12


def test_distance_sigma_hand_value() -> None:
    """|ln(100/90)|/(0.8·√(1/365)) = 0.105360515657826/0.041873913807217 = 2.5161372816234593."""
    np.testing.assert_allclose(
        distance_sigma(100.0, 90.0, 0.8, DAY), 2.5161372816234593, rtol=1e-14
    )


def test_distance_sigma_is_symmetric_in_log_space() -> None:
    """Barriers at 100·e^{∓0.05} are the same number of σ away: 0.05/(0.5·√0.25) = 0.2."""
    d = distance_sigma(100.0, 100.0 * np.exp(np.array([-0.05, 0.05])), 0.5, 0.25)
    np.testing.assert_allclose(d, [0.2, 0.2], rtol=1e-13)


def test_distance_sigma_edges() -> None:
    """No liquidation (NaN) is infinitely far; a barrier at the mark is 0 σ even at T = 0."""
    d = distance_sigma(100.0, np.array([np.nan, 100.0, 90.0]), 0.8, np.array([DAY, 0.0, 0.0]))
    np.testing.assert_array_equal(d, [np.inf, 0.0, np.inf])


def test_hours_to_years_uses_a_365_day_year() -> None:
    """Crypto trades 24/7: 8760 h = 1 year, 24 h = 1/365."""
    assert HOURS_PER_YEAR == 8760.0
    np.testing.assert_allclose(
        hours_to_years(np.array([8760.0, 24.0])), [1.0, 1.0 / 365.0], rtol=1e-15
    )


def test_distance_and_touch_share_one_logarithm() -> None:
    """``distance_and_touch`` gives ``touch_probability`` (μ = 0) to the last bit and
    ``distance_sigma`` to rounding (ln(H/S0) against ln(S0/H): 1e-16 of a ratio near 1 is 1e-12
    of its logarithm), for far, near, crossed, absent and at-the-mark barriers."""
    from engine.probability import distance_and_touch

    mark = np.array([100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 0.0])
    barrier = np.array([90.0, 99.99, 130.0, np.nan, 100.0, 1e9, 90.0])
    sigma = np.array([0.8, 0.8, 0.3, 0.8, 0.8, 0.8, 0.8])
    for model in TouchModel:
        d, p = distance_and_touch(mark, barrier, sigma, DAY, model)
        np.testing.assert_allclose(d, distance_sigma(mark, barrier, sigma, DAY), rtol=1e-11)
        np.testing.assert_array_equal(p, touch_probability(mark, barrier, sigma, DAY, model=model))
