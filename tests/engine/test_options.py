"""Tests for Black-76 prices and greeks with r = 0 (Deribit convention)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.options import (
    black76,
    black76_delta,
    black76_gamma,
    black76_price_coin,
    black76_price_usd,
    black76_theta,
    black76_vega,
    deribit_delta,
)

# At the money, F = K = 100, σ = 50 %, T = 1: σ√T = 0.5, d1 = (0 + 0.125)/0.5 = 0.25, d2 = −0.25.
# N(0.25) = 0.5987063256829237, φ(0.25) = 0.3866681168028493.

# Out of the money BTC call, F = 50,000, K = 55,000, σ = 60 %, T = 30/365:
#   σ√T = 0.6·√(30/365) = 0.17201465372429875
#   d1 = (ln(50000/55000) + 0.1720146537²/2)/0.1720146537 = −0.4680744199004603
#   d2 = d1 − σ√T = −0.6400890736247591
#   N(d1) = 0.31986568569555507, φ(d1) = 0.3575481057052908
F, K, SIGMA, T = 50_000.0, 55_000.0, 0.6, 30.0 / 365.0


def test_atm_call_price_hand_value() -> None:
    """C = F·N(0.25) − K·N(−0.25) = 100·(0.5987063257 − 0.4012936743) = 19.74126513658474."""
    np.testing.assert_allclose(
        black76_price_usd(100.0, 100.0, 0.5, 1.0, is_call=True), 19.74126513658474, rtol=1e-14
    )


def test_otm_call_and_put_price_hand_values() -> None:
    """C = F·N(d1) − K·N(d2) = 1635.1302523547038; P = K·N(−d2) − F·N(−d1) = 6635.130252354706."""
    price = black76_price_usd(F, K, SIGMA, T, is_call=np.array([True, False]))
    np.testing.assert_allclose(price, [1635.1302523547038, 6635.130252354706], rtol=1e-13)


def test_price_in_coin_divides_by_the_forward() -> None:
    """Deribit quotes the premium in coin: 1635.1302523547038/50000 = 0.032702605047094074 BTC."""
    np.testing.assert_allclose(
        black76_price_coin(F, K, SIGMA, T, is_call=True), 0.032702605047094074, rtol=1e-13
    )


@settings(deadline=None)
@given(
    st.floats(min_value=1.0, max_value=1e6),
    st.floats(min_value=0.2, max_value=5.0),
    st.floats(min_value=0.01, max_value=3.0),
    st.floats(min_value=1e-4, max_value=3.0),
)
def test_put_call_parity(forward: float, moneyness: float, sigma: float, expiry: float) -> None:
    """With r = 0, C − P = F − K for any strike, volatility and expiry."""
    strike = forward * moneyness
    call, put = black76_price_usd(forward, strike, sigma, expiry, is_call=np.array([True, False]))
    np.testing.assert_allclose(call - put, forward - strike, rtol=1e-12, atol=1e-9 * forward)


def test_delta_hand_values() -> None:
    """Call Δ = N(d1) = 0.31986568569555507; put Δ = N(d1) − 1 = −0.680134314304445."""
    delta = black76_delta(F, K, SIGMA, T, is_call=np.array([True, False]))
    np.testing.assert_allclose(delta, [0.31986568569555507, 0.31986568569555507 - 1.0], rtol=1e-14)


def test_gamma_vega_theta_hand_values() -> None:
    """Γ = φ(d1)/(Fσ√T) = 0.3575481057/(50000·0.1720146537) = 4.1571819372826335e-05
    vega = Fφ(d1)√T = 50000·0.3575481057·0.2866935 = 5125.292799389547 per 1.00 vol
    θ = −Fφ(d1)σ/(2√T) = −50000·0.3575481057·0.6/(2·0.2866935) = −18707.31871777185 per year
    """
    np.testing.assert_allclose(black76_gamma(F, K, SIGMA, T), 4.1571819372826335e-05, rtol=1e-13)
    np.testing.assert_allclose(black76_vega(F, K, SIGMA, T), 5125.292799389547, rtol=1e-13)
    np.testing.assert_allclose(black76_theta(F, K, SIGMA, T), -18707.31871777185, rtol=1e-13)


def test_atm_greeks_hand_values() -> None:
    """ATM (see top): Δ = 0.5987063256829237, Γ = φ(0.25)/(100·0.5) = 0.007733362336056986,
    vega = 100·φ(0.25) = 38.66681168028493, θ = −100·φ(0.25)·0.5/2 = −9.666702920071232."""
    g = black76(100.0, 100.0, 0.5, 1.0, is_call=True)
    np.testing.assert_allclose(
        [g.delta, g.gamma, g.vega, g.theta],
        [0.5987063256829237, 0.007733362336056986, 38.66681168028493, -9.666702920071232],
        rtol=1e-14,
    )


def test_deribit_delta_subtracts_the_coin_premium() -> None:
    """Call: 0.31986568569555507 − 0.032702605047094074 = 0.28716308064846097;
    put: (0.31986568569555507 − 1) − 6635.130252354706/50000 = −0.812836919351539."""
    delta = deribit_delta(F, K, SIGMA, T, is_call=np.array([True, False]))
    np.testing.assert_allclose(delta, [0.28716308064846097, -0.812836919351539], rtol=1e-13)


def test_greeks_are_derivatives_of_the_price() -> None:
    """Central differences of the price reproduce Δ, Γ, vega and θ = −∂price/∂T."""
    h_f, h_s, h_t = 1.0, 1e-5, 1e-6

    def price(f: float = F, s: float = SIGMA, t: float = T) -> float:
        return float(black76_price_usd(f, K, s, t, is_call=True))

    g = black76(F, K, SIGMA, T, is_call=True)
    np.testing.assert_allclose(
        (price(f=F + h_f) - price(f=F - h_f)) / (2 * h_f), g.delta, rtol=1e-7
    )
    gamma_fd = (price(f=F + h_f) - 2 * price() + price(f=F - h_f)) / h_f**2
    np.testing.assert_allclose(gamma_fd, g.gamma, rtol=1e-4)
    np.testing.assert_allclose(
        (price(s=SIGMA + h_s) - price(s=SIGMA - h_s)) / (2 * h_s), g.vega, rtol=1e-7
    )
    np.testing.assert_allclose(
        -(price(t=T + h_t) - price(t=T - h_t)) / (2 * h_t), g.theta, rtol=1e-6
    )


def test_black76_bundle_matches_the_single_functions() -> None:
    """The all-in-one result equals each single-greek function over a mixed call/put array."""
    strikes = np.array([40_000.0, 50_000.0, 60_000.0])
    is_call = np.array([True, False, True])
    g = black76(F, strikes, SIGMA, T, is_call=is_call)
    np.testing.assert_array_equal(
        g.price_usd, black76_price_usd(F, strikes, SIGMA, T, is_call=is_call)
    )
    np.testing.assert_array_equal(
        g.price_coin, black76_price_coin(F, strikes, SIGMA, T, is_call=is_call)
    )
    np.testing.assert_array_equal(g.delta, black76_delta(F, strikes, SIGMA, T, is_call=is_call))
    np.testing.assert_array_equal(g.gamma, black76_gamma(F, strikes, SIGMA, T))
    np.testing.assert_array_equal(g.vega, black76_vega(F, strikes, SIGMA, T))
    np.testing.assert_array_equal(g.theta, black76_theta(F, strikes, SIGMA, T))
    np.testing.assert_array_equal(
        g.deribit_delta, deribit_delta(F, strikes, SIGMA, T, is_call=is_call)
    )


def test_expired_options_are_worth_intrinsic_value() -> None:
    """T = 0: call max(F − K, 0), put max(K − F, 0); Δ is 1, 0 or ½ at the strike; Γ, θ, vega 0."""
    strikes = np.array([90.0, 110.0, 100.0, 110.0])
    is_call = np.array([True, True, True, False])
    g = black76(100.0, strikes, 0.5, 0.0, is_call=is_call)
    np.testing.assert_array_equal(g.price_usd, [10.0, 0.0, 0.0, 10.0])
    np.testing.assert_array_equal(g.delta, [1.0, 0.0, 0.5, -1.0])
    np.testing.assert_array_equal(g.gamma, [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(g.vega, [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(g.theta, [0.0, 0.0, 0.0, 0.0])


def test_invalid_inputs_give_nan() -> None:
    """Non-positive forward or strike, negative σ or T, or NaN anywhere ⇒ NaN price and greeks."""
    g = black76(
        np.array([0.0, 100.0, 100.0, 100.0, np.nan]),
        np.array([100.0, -1.0, 100.0, 100.0, 100.0]),
        np.array([0.5, 0.5, -0.5, 0.5, 0.5]),
        np.array([1.0, 1.0, 1.0, -1.0, 1.0]),
        is_call=True,
    )
    for field in (g.price_usd, g.price_coin, g.delta, g.gamma, g.vega, g.theta, g.deribit_delta):
        assert np.all(np.isnan(field))
