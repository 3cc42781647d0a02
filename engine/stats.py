"""Standard normal distribution functions (cdf, log-cdf, pdf, quantile) in numpy alone."""

from __future__ import annotations

import math
from typing import TypeAlias

import numpy as np

from engine.types import FloatArray

FloatLike: TypeAlias = FloatArray | float

_SQRT2 = math.sqrt(2.0)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_INV_SQRT_PI = 0.56418958354775628695
_THRESH = 0.46875
# erfc(28) ≈ 1e-342 underflows to 0.0; clamping keeps exp/squares finite for huge or infinite |x|.
_ERFC_ZERO_AT = 28.0

# Cody's CALERF coefficients, reordered highest power first (Horner).
_A = (1.85777706184603153e-1, 3.16112374387056560e00, 1.13864154151050156e02,
      3.77485237685302021e02, 3.20937758913846947e03)  # fmt: skip
_B = (1.0, 2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
      2.84423683343917062e03)  # fmt: skip
_C = (2.15311535474403846e-8, 5.64188496988670089e-1, 8.88314979438837594e00,
      6.61191906371416295e01, 2.98635138197400131e02, 8.81952221241769090e02,
      1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03)  # fmt: skip
_D = (1.0, 1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
      1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
      3.43936767414372164e03, 1.23033935480374942e03)  # fmt: skip
_P = (1.63153871373020978e-2, 3.05326634961232344e-1, 3.60344899949804439e-1,
      1.25781726111229246e-1, 1.60837851487422766e-2, 6.58749161529837803e-4)  # fmt: skip
_Q = (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
      6.05183413124413191e-2, 2.33520497626869185e-3)  # fmt: skip

# Acklam's inverse-normal coefficients (highest power first).
_ACK_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
          1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
_ACK_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
          6.680131188771972e01, -1.328068155288572e01, 1.0)  # fmt: skip
_ACK_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
          -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
_ACK_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
          3.754408661907416e00, 1.0)  # fmt: skip
_ACK_P_LOW = 0.02425


def _as_float(x: FloatLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _horner(coeffs: tuple[float, ...], x: FloatArray) -> FloatArray:
    """Polynomial (highest power first) by Horner's rule in one buffer (np.polyval allocates
    a fresh array per coefficient, which dominates at a million positions)."""
    out = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        out *= x
        out += c
    return out


def _erf_small(x: FloatArray) -> FloatArray:
    """erf(x) for |x| ≤ 0.46875 (Cody's first interval)."""
    with np.errstate(all="ignore"):
        x2 = x * x
        out: FloatArray = x * _horner(_A, x2) / _horner(_B, x2)
    return out


def _erfcx(y: FloatArray) -> FloatArray:
    """Scaled complement exp(y²)·erfc(y) for y ≥ 0, finite also where erfc underflows.

    Cody's second and third intervals are both evaluated on every element and one is picked
    (two rational functions cost less than gathering and scattering each interval's
    elements); the first, which needs an exponential, only on its own (few) elements.
    """
    with np.errstate(all="ignore"):
        out = _horner(_C, y) / _horner(_D, y)
        inv = 1.0 / (y * y)
        big = (_INV_SQRT_PI - inv * _horner(_P, inv) / _horner(_Q, inv)) / y
        out = np.where(y > 4.0, big, out)
        # Indices, not a boolean mask: gathering through a mask scans and branches per element.
        small = np.flatnonzero(y <= _THRESH)
        if len(small):
            ys = y.reshape(-1)[small]
            # ``out`` is a fresh contiguous array: its flat view writes through (0-d too).
            out.reshape(-1)[small] = (1.0 - _erf_small(ys)) * np.exp(ys * ys)
    return out


def erfcx(y: FloatLike) -> FloatArray:
    """exp(y²)·erfc(y) for y ≥ 0 (Cody's CALERF, as ``erfc``): 0 at +inf, NaN for NaN."""
    return _erfcx(_as_float(y))


def erfc(x: FloatLike) -> FloatArray:
    """Complementary error function, relative error ≈ 1e-15 (tested against ``math.erfc``).

    Source: W. J. Cody, "Rational Chebyshev approximations for the error function",
    Math. Comp. 23 (1969) 631-638, as coded in CALERF (ACM TOMS 715 / Netlib SPECFUN ``erf``).
    exp(-y²) is split as exp(-y16²)·exp(-(y-y16)(y+y16)) with y16 = ⌊16y⌋/16, as Cody does, so
    the rounding of y² does not cost relative accuracy deep in the tail. NaN in, NaN out;
    erfc(+inf) = 0, erfc(-inf) = 2.
    """
    xa = _as_float(x)
    y = np.minimum(np.abs(xa), _ERFC_ZERO_AT)
    y16 = np.trunc(y * 16.0) / 16.0
    with np.errstate(all="ignore"):
        tail = _erfcx(y) * np.exp(-y16 * y16) * np.exp(-(y - y16) * (y + y16))
    tail = np.where(xa < 0.0, 2.0 - tail, tail)
    out: FloatArray = np.where(np.abs(xa) <= _THRESH, 1.0 - _erf_small(xa), tail)
    return out


def norm_cdf(x: FloatLike) -> FloatArray:
    """Standard normal CDF Φ(x) = erfc(−x/√2)/2, accurate relative to Φ also in the left tail."""
    return 0.5 * erfc(-_as_float(x) / _SQRT2)


def norm_logcdf(x: FloatLike) -> FloatArray:
    """ln Φ(x), finite where Φ(x) underflows (x < −38): uses the scaled erfc, not log(Φ)."""
    xa = _as_float(x)
    y = -xa / _SQRT2
    out: FloatArray = np.empty_like(y)
    left = y > _THRESH
    with np.errstate(all="ignore"):
        # Left of −0.66 Φ is small: log of the scaled erfc minus y² never underflows.
        yl = y[left]
        out[left] = np.log(0.5 * _erfcx(yl)) - yl * yl
        # Right of it Φ is near 1: log1p keeps the digits of the small complement.
        out[~left] = np.log1p(-0.5 * erfc(-y[~left]))
    return out


def norm_pdf(x: FloatLike) -> FloatArray:
    """Standard normal density φ(x) = exp(−x²/2)/√(2π); 0 at ±inf, NaN for NaN."""
    xa = _as_float(x)
    with np.errstate(over="ignore"):
        out: FloatArray = np.exp(-0.5 * xa * xa) / _SQRT_2PI
    return out


def _acklam_lower(p: FloatArray) -> FloatArray:
    """Acklam's rational first guess for p ≤ 1/2, |relative error| < 1.15e-9."""
    with np.errstate(all="ignore"):
        q = p - 0.5
        r = q * q
        central = q * _horner(_ACK_A, r) / _horner(_ACK_B, r)
        t = np.sqrt(-2.0 * np.log(p))
        lower = _horner(_ACK_C, t) / _horner(_ACK_D, t)
    out: FloatArray = np.where(p < _ACK_P_LOW, lower, central)
    return out


def norm_ppf(p: FloatLike) -> FloatArray:
    """Standard normal quantile Φ⁻¹(p): ±inf at 1 and 0, NaN outside [0, 1].

    Source: P. J. Acklam, "An algorithm for computing the inverse normal cumulative
    distribution function" (2003), rational approximation refined by one Halley step
    x ← x − u/(1 + x·u/2), u = (Φ(x) − p)·√(2π)·exp(x²/2), using ``norm_cdf`` above;
    the step takes the 1e-9 guess to near machine precision.
    """
    pa = _as_float(p)
    # Work in the lower tail: 1 − p is exact for p ≥ 1/2, while Φ(x) − p near 1 is not.
    lo = np.minimum(pa, 1.0 - pa)
    x = _acklam_lower(lo)
    with np.errstate(all="ignore"):
        u = (norm_cdf(x) - lo) * _SQRT_2PI * np.exp(0.5 * x * x)
        refined = x - u / (1.0 + 0.5 * x * u)
    x = np.where(np.isfinite(refined), refined, x)
    x = np.where(lo == 0.0, -np.inf, x)
    x = np.where(pa > 0.5, -x, x)
    out: FloatArray = np.where((pa >= 0.0) & (pa <= 1.0), x, np.nan)
    return out
