"""Tests for the numpy-only normal distribution functions."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.stats import erfc, norm_cdf, norm_logcdf, norm_pdf, norm_ppf

SQRT2 = math.sqrt(2.0)


def _dense_grid(lo: float, hi: float) -> np.ndarray:
    """A fine linear grid plus log-spaced points near 0 and out to the far tails."""
    tail = np.logspace(-300, math.log10(max(-lo, hi)), 4000)
    return np.concatenate([np.linspace(lo, hi, 100_001), tail, -tail])


def test_norm_cdf_matches_math_erfc_including_tails() -> None:
    """Φ agrees with 0.5·math.erfc(−x/√2) to 1e-14 relative down to Φ ≈ 1e-308 (x ≈ −37.5)."""
    x = _dense_grid(-37.5, 37.5)
    x = x[np.abs(x) <= 37.5]
    expected = np.array([0.5 * math.erfc(-v / SQRT2) for v in x])
    np.testing.assert_allclose(norm_cdf(x), expected, rtol=1e-14, atol=0.0)


def test_erfc_matches_math_erfc() -> None:
    """erfc agrees with math.erfc to 1e-14 relative while erfc is a normal float (|x| ≤ 26.5)."""
    x = _dense_grid(-26.5, 26.5)
    x = x[np.abs(x) <= 26.5]
    expected = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(erfc(x), expected, rtol=1e-14, atol=0.0)


def test_erfc_special_values() -> None:
    """erfc(0) = 1, erfc(+inf) = 0, erfc(−inf) = 2, huge arguments saturate, NaN stays NaN."""
    x = np.array([0.0, np.inf, -np.inf, 1e300, -1e300, np.nan])
    np.testing.assert_array_equal(erfc(x), [1.0, 0.0, 2.0, 0.0, 2.0, np.nan])


def test_norm_cdf_special_values() -> None:
    """Φ(0) = ½, Φ(±inf) = 1 / 0, NaN in gives NaN out, and a scalar works."""
    np.testing.assert_array_equal(
        norm_cdf(np.array([0.0, np.inf, -np.inf, np.nan])), [0.5, 1, 0, np.nan]
    )
    assert float(norm_cdf(0.0)) == 0.5


def test_norm_cdf_known_quantile() -> None:
    """Φ(1.959963984540054) = 0.975 (the two-sided 95 % point)."""
    np.testing.assert_allclose(norm_cdf(1.959963984540054), 0.975, rtol=1e-15)


def test_norm_cdf_is_symmetric() -> None:
    """Φ(x) + Φ(−x) = 1 across the body of the distribution."""
    x = np.linspace(-8.0, 8.0, 1601)
    np.testing.assert_allclose(norm_cdf(x) + norm_cdf(-x), 1.0, rtol=1e-15)


def test_norm_pdf_hand_values() -> None:
    """φ(0) = 1/√(2π) = 0.3989422804014327, φ(1) = e^{−1/2}/√(2π), φ(±inf) = 0."""
    x = np.array([0.0, 1.0, -1.0, np.inf, -np.inf, np.nan])
    expected = [0.3989422804014327, 0.24197072451914337, 0.24197072451914337, 0.0, 0.0, np.nan]
    np.testing.assert_allclose(norm_pdf(x), expected, rtol=1e-15)


def test_norm_logcdf_matches_math_on_grid() -> None:
    """ln Φ agrees with math: log(0.5·erfc(−x/√2)) left of 0, log1p(−0.5·erfc(x/√2)) right."""
    x = np.linspace(-37.0, 37.0, 20_001)
    expected = np.array(
        [
            math.log(0.5 * math.erfc(-v / SQRT2))
            if v < 0
            else math.log1p(-0.5 * math.erfc(v / SQRT2))
            for v in x
        ]
    )
    np.testing.assert_allclose(norm_logcdf(x), expected, rtol=1e-14)


def test_norm_logcdf_beyond_underflow() -> None:
    """ln Φ(−40) stays finite although Φ(−40) ≈ 1e-350 underflows.

    Mills' series: Φ(x) = φ(x)/|x|·(1 − 1/x² + 3/x⁴ − 15/x⁶ + 105/x⁸ …), so with x² = 1600
    ln Φ(−40) = −800 − ln(40√(2π)) + ln(1 − 1/1600 + 3/1600² − 15/1600³ + 105/1600⁴)
              = −804.6084420137537.
    """
    np.testing.assert_allclose(norm_logcdf(-40.0), -804.6084420137537, rtol=1e-14)
    np.testing.assert_array_equal(
        norm_logcdf(np.array([-np.inf, np.inf, np.nan])), [-np.inf, 0.0, np.nan]
    )


def test_norm_ppf_known_quantiles() -> None:
    """Φ⁻¹(0.975) = 1.959963984540054, Φ⁻¹(0.99) = 2.3263478740408408, Φ⁻¹(½) = 0."""
    p = np.array([0.975, 0.99, 0.5, 0.025, 0.01])
    expected = [1.959963984540054, 2.3263478740408408, 0.0, -1.959963984540054, -2.3263478740408408]
    np.testing.assert_allclose(norm_ppf(p), expected, rtol=1e-14, atol=1e-15)


def test_norm_ppf_round_trips_through_cdf() -> None:
    """Φ(Φ⁻¹(p)) = p across all three regions of Acklam's approximation and the far tail.

    The tolerance is set by conditioning, not by the algorithm: dΦ/Φ ≈ |x|·dx, and x itself
    is only known to one ulp, so at x ≈ −37 (p = 1e-300) Φ moves by 37² · 1.1e-16 ≈ 1.5e-13.
    """
    p = np.concatenate([np.logspace(-300, -1, 600), np.linspace(0.01, 0.99, 981)])
    np.testing.assert_allclose(norm_cdf(norm_ppf(p)), p, rtol=1e-12)
    body = np.linspace(0.01, 0.5, 491)
    np.testing.assert_allclose(norm_ppf(1.0 - body), -norm_ppf(body), rtol=1e-13, atol=1e-15)


def test_norm_ppf_edges() -> None:
    """Φ⁻¹(0) = −inf, Φ⁻¹(1) = +inf, outside [0, 1] or NaN gives NaN."""
    p = np.array([0.0, 1.0, -0.1, 1.1, np.nan])
    np.testing.assert_array_equal(norm_ppf(p), [-np.inf, np.inf, np.nan, np.nan, np.nan])


@settings(deadline=None)
@given(st.floats(min_value=-37.0, max_value=3.0))
def test_norm_ppf_inverts_cdf(x: float) -> None:
    """Φ⁻¹(Φ(x)) = x wherever p = Φ(x) still resolves x (above 3, 1 − p runs out of digits)."""
    np.testing.assert_allclose(norm_ppf(norm_cdf(x)), x, rtol=1e-12, atol=1e-14)


@settings(deadline=None)
@given(st.floats(min_value=-37.0, max_value=37.0), st.floats(min_value=0.0, max_value=5.0))
def test_norm_cdf_is_monotone(x: float, step: float) -> None:
    """Φ never decreases: Φ(x) ≤ Φ(x + step)."""
    assert float(norm_cdf(x)) <= float(norm_cdf(x + step))
