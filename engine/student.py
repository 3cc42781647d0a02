"""Student-t tail probabilities in numpy alone, for the fat-tailed touch model."""

from __future__ import annotations

import math

import numpy as np

from engine.errors import EngineError
from engine.stats import FloatLike, norm_cdf
from engine.types import FloatArray

# Lentz's continued fraction converges in well under 100 terms where it is used (x below the
# mean (a+1)/(a+b+2), the other side by symmetry); 200 leaves a wide margin at no real cost.
_TERMS = 200
_TINY = 1e-300
_EPS = 1e-16
#: Below this tail the closed form for even ν has lost digits to cancellation.
_FAR = 1e-6


def _betacf(a: FloatArray, b: FloatArray, x: FloatArray) -> FloatArray:
    """The continued fraction of the incomplete beta function (modified Lentz), vectorised.

    Source: Press et al., *Numerical Recipes* (3rd ed.), §6.4, ``betacf``: converges fast for
    ``x < (a+1)/(a+b+2)``; the caller uses the symmetry ``I_x(a,b) = 1 − I_{1−x}(b,a)`` above.
    """
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = 1.0 - qab * x / qap
    d = np.where(np.abs(d) < _TINY, _TINY, d)
    d = 1.0 / d
    h = d.copy()
    done = np.zeros(x.shape, dtype=bool)
    for m in range(1, _TERMS + 1):
        m2 = 2.0 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):  # fmt: skip
            d = 1.0 + aa * d
            d = np.where(np.abs(d) < _TINY, _TINY, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < _TINY, _TINY, c)
            d = 1.0 / d
            delta = np.where(done, 1.0, d * c)
            h *= delta
        done |= np.abs(delta - 1.0) < _EPS
        if done.all():
            break
    return h


def betainc(a: float, b: float, x: FloatLike) -> FloatArray:
    """Regularised incomplete beta ``I_x(a, b)`` for a, b > 0 and 0 ≤ x ≤ 1 (NaN outside x)."""
    if not (a > 0.0 and b > 0.0):
        raise EngineError(f"the incomplete beta needs a, b > 0, got a={a}, b={b}")
    xx = np.asarray(x, dtype=np.float64)
    lbeta = math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        front = np.exp(a * np.log(xx) + b * np.log1p(-xx) - lbeta)
        swap = xx > (a + 1.0) / (a + b + 2.0)
        a1, b1 = np.where(swap, b, a), np.where(swap, a, b)
        frac = _betacf(a1, b1, np.where(swap, 1.0 - xx, xx))
        out = np.where(swap, 1.0 - front * frac / b, front * frac / a)
    out = np.where(xx == 0.0, 0.0, np.where(xx == 1.0, 1.0, out))
    result: FloatArray = np.where((xx >= 0.0) & (xx <= 1.0), out, np.nan)
    return result


def _integer_sf(x: FloatArray, nu: int) -> FloatArray:
    """``P(T > x)`` for a whole ν in closed form, without the continued fraction's loop.

    Abramowitz & Stegun 26.7.3 and 26.7.4 with ``θ = atan(|x|/√ν)``: for even ν
    ``P(|T| ≤ x) = sinθ·Σ_{k<ν/2} c_k·cos^{2k}θ``, ``c_0 = 1``, ``c_k = c_{k−1}·(2k−1)/(2k)``;
    for odd ν ``(2/π)·(θ + sinθ·cosθ·Σ_{k<(ν−1)/2} c_k·cos^{2k}θ)``, ``c_k = c_{k−1}·2k/(2k+1)``.
    A handful of array operations — the product prices every position with it at each poll.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        cos2 = nu / (nu + x * x)
        sin = np.abs(x) / np.sqrt(nu + x * x)
    sin = np.where(np.isposinf(np.abs(x)), 1.0, sin)
    even = nu % 2 == 0
    total = np.ones_like(cos2)
    term = np.ones_like(cos2)
    for k in range(1, nu // 2 if even else (nu - 1) // 2):
        term = term * cos2 * ((2 * k - 1) / (2 * k) if even else (2 * k) / (2 * k + 1))
        total += term
    if even:
        inside = sin * total
    else:
        theta = np.arctan2(sin, np.sqrt(cos2))
        inside = (2.0 / math.pi) * (theta + sin * np.sqrt(cos2) * total * (nu > 1))
    tail = np.maximum(0.5 * (1.0 - inside), 0.0)
    # Far out 1 − P(|T| ≤ x) cancels to a few ulps of 1; there the continued fraction is
    # exact and quick (its argument ν/(ν+x²) is small), so the few far values take it.
    far = tail < _FAR
    if far.any():
        tail[far] = 0.5 * betainc(0.5 * nu, 0.5, cos2[far])
    out: FloatArray = np.where(x >= 0.0, tail, 1.0 - tail)
    return out


def t_sf(x: FloatLike, nu: float) -> FloatArray:
    """Survival function ``P(T > x)`` of Student's t with ``nu`` degrees of freedom.

    ``P(T > x) = ½·I_{ν/(ν+x²)}(ν/2, ½)`` for x ≥ 0 (Abramowitz & Stegun 26.5.27 and 26.7.1),
    the complement for x < 0; a whole ν up to 60 takes the closed form (``_integer_sf``).
    ``nu = inf`` is the standard normal's tail.
    """
    xa = np.asarray(x, dtype=np.float64)
    if math.isinf(nu):
        return norm_cdf(-xa)
    if not nu > 0.0:
        raise EngineError(f"degrees of freedom must be positive, got {nu}")
    if nu == int(nu) and nu <= 60:
        return _integer_sf(xa, int(nu))
    with np.errstate(over="ignore"):
        z = nu / (nu + xa * xa)
    tail = 0.5 * betainc(0.5 * nu, 0.5, z)
    out: FloatArray = np.where(xa >= 0.0, tail, 1.0 - tail)
    return out
