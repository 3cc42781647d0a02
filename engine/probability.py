"""Distance to liquidation in volatility units and the GBM probability of touching it."""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

from engine.errors import EngineError
from engine.stats import FloatLike, erfcx
from engine.student import t_sf
from engine.types import FloatArray

# Crypto trades 24/7: a year is 365 full days, not 252 sessions.
HOURS_PER_YEAR = 365.0 * 24.0
_INV_SQRT2 = 1.0 / np.sqrt(2.0)


class TouchModel(StrEnum):
    """How the touch probability is modelled (docs/risk.md#probability)."""

    #: Geometric Brownian motion with σ as estimated: the reflection principle, Gaussian tails.
    GBM = "gbm"
    #: σ itself uncertain (inverse-gamma σ², constant over the horizon): Student-t tails.
    STUDENT_T = "student-t"


#: Degrees of freedom of the Student-t model: the lowest Brier score on 2020-2023 BTC and ETH
#: mark prices, then tested on 2024-2026 (docs/calibration.md). ν > 2: the variance exists.
STUDENT_T_NU = 5.0
#: The model the product shows; ``LIQWATCH_TOUCH_MODEL=gbm`` brings back the Gaussian one.
DEFAULT_TOUCH_MODEL = TouchModel.STUDENT_T


def touch_model(name: str) -> TouchModel:
    """A model by its name (``gbm``, ``student-t``), or an ``EngineError`` listing them."""
    try:
        return TouchModel(name.strip().lower())
    except ValueError:
        names = ", ".join(m.value for m in TouchModel)
        raise EngineError(f"unknown touch model {name!r}: expected one of {names}") from None


def hours_to_years(hours: FloatLike) -> FloatArray:
    """A horizon in hours as a fraction of a 365-day year (the unit σ is annualised in)."""
    return np.asarray(hours, dtype=np.float64) / HOURS_PER_YEAR


def _f(x: FloatLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def distance_sigma(
    mark: FloatLike, barrier: FloatLike, sigma: FloatLike, horizon_years: FloatLike
) -> FloatArray:
    """Distance from the mark to the liquidation price in σ over the horizon.

    ``d = |ln(MP/LP)| / (σ·√T)`` (docs/risk.md#distance-sigma). A NaN barrier (no liquidation)
    is infinitely far; a barrier at the mark is 0 even when T = 0.
    """
    mp, lp, sig, t = np.broadcast_arrays(_f(mark), _f(barrier), _f(sigma), _f(horizon_years))
    with np.errstate(divide="ignore", invalid="ignore"):
        log_gap = np.abs(np.log(mp / lp))
        d = log_gap / (sig * np.sqrt(t))
    d = np.where(log_gap == 0.0, 0.0, d)
    out: FloatArray = np.where(np.isnan(lp), np.inf, d)
    return out


def _gbm_touch(b: FloatArray, sig: FloatArray, t: FloatArray, nu: FloatArray) -> FloatArray:
    """First-passage probability of X = νt + σW to level b ≠ 0 by T (reflection principle).

    With η = sign(b) the down and up barriers are one expression (docs/risk.md#probability):
    ``P = N((−|b| + ηνT)/(σ√T)) + e^{2νb/σ²}·N((−|b| − ηνT)/(σ√T))``. Written with
    ``u, v = (|b|/(σ√T) ∓ ην√T/σ)/√2`` it is ``½·(erfc(u) + e^{2νb/σ²}·erfc(v))``, and since
    ``2νb/σ² − v² = −u²`` (``v² − u² = 2νb/σ²``), for v ≥ 0 the second term is
    ``e^{−u²}·erfcx(v)``: one exponential for both terms, no overflow where the power
    ``e^{2νb/σ²}`` would (it is only taken for v < 0, where it is below 1).
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        root_t = np.sqrt(t)
        a = np.abs(b) / (sig * root_t)
        c = np.sign(b) * nu * root_t / sig
        u = (a - c) * _INV_SQRT2
        v = (a + c) * _INV_SQRT2
        decay = np.exp(-u * u)
        # erfc(u) = e^{−u²}·erfcx(u) for u ≥ 0, 2 − erfc(−u) below.
        first = decay * erfcx(np.abs(u))
        first = np.where(u < 0.0, 2.0 - first, first)
        second = decay * erfcx(np.abs(v))
        if np.any(v < 0.0):
            power = np.exp(2.0 * nu * b / (sig * sig))
            second = np.where(v < 0.0, 2.0 * power - second, second)
        p = 0.5 * (first + second)
    out: FloatArray = np.clip(p, 0.0, 1.0)
    return out


def _student_touch(b: FloatArray, sig: FloatArray, t: FloatArray, nu: float) -> FloatArray:
    """Touch probability when σ² is uncertain: ``2·P(T_ν > √(ν/(ν−2))·|b|/(σ√T))``.

    docs/risk.md#probability: given σ the driftless log price touches b with probability
    ``2·N(−|b|/(σ√T))`` (reflection); with σ² inverse-gamma around the estimate (mean σ², ν
    degrees of freedom) and constant over the horizon, ``X_T`` is a Gaussian scale mixture,
    i.e. Student-t scaled to variance σ²T, and the mixture of reflections is 2·P(X_T ≤ −|b|).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(b) / (sig * np.sqrt(t))
    out: FloatArray = np.clip(2.0 * t_sf(d * math.sqrt(nu / (nu - 2.0)), nu), 0.0, 1.0)
    return out


def touch_probability(
    mark: FloatLike,
    barrier: FloatLike,
    sigma: FloatLike,
    horizon_years: FloatLike,
    *,
    drift: FloatLike = 0.0,
    side: FloatLike | None = None,
    model: TouchModel = TouchModel.GBM,
    nu: float = STUDENT_T_NU,
) -> FloatArray:
    """Probability that a GBM mark touches ``barrier`` within ``horizon_years``.

    Source: docs/risk.md#probability — the running minimum/maximum of Brownian motion with
    drift ν = μ − σ²/2, b = ln(H/S0) (e.g. Shreve, *Stochastic Calculus for Finance II*, §7.2):
    down barrier (H < S0) ``N((b − νT)/(σ√T)) + (H/S0)^(2ν/σ²)·N((b + νT)/(σ√T))``, up barrier
    (H > S0) ``N((−b + νT)/(σ√T)) + (H/S0)^(2ν/σ²)·N((−b − νT)/(σ√T))``; ν = 0 gives
    ``2·N(−|b|/(σ√T))``. μ (``drift``) and σ are annualised, T in 365-day years.

    Conventions: NaN barrier (no liquidation) or a non-positive / infinite one ⇒ 0.0; NaN or
    negative σ, T or mark ⇒ NaN; barrier at the mark ⇒ 1.0. With ``side`` (+1 long, −1 short)
    a barrier already crossed (long with H ≥ S0, short with H ≤ S0) ⇒ 1.0; without it the
    barrier's side of the mark decides the direction. σ = 0 is the deterministic path S0·e^{μT}.
    Continuous monitoring overstates, fat tails understate: show it next to ``distance_sigma``.
    ``model=TouchModel.STUDENT_T`` takes the fat-tailed model (``_student_touch``, ν = ``nu``)
    under the same conventions; it is driftless, so ``drift`` only moves a σ = 0 path.
    """
    arrays = [_f(mark), _f(barrier), _f(sigma), _f(horizon_years), _f(drift)]
    if side is not None:
        arrays.append(_f(side))
    mp, lp, sig, t, mu, *rest = np.broadcast_arrays(*arrays)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.log(lp / mp)
    return _touch(b, mp, lp, sig, t, mu, rest[0] if rest else None, model, nu)


def distance_and_touch(
    mark: FloatArray,
    barrier: FloatArray,
    sigma: FloatArray,
    horizon_years: float,
    model: TouchModel = DEFAULT_TOUCH_MODEL,
) -> tuple[FloatArray, FloatArray]:
    """``distance_sigma`` and ``touch_probability`` (μ = 0, no side) of the same positions from
    one logarithm of ``barrier / mark``: what ``analyze`` shows per position, by ``model``
    (the calibrated default, docs/calibration.md)."""
    mp, lp, sig, t = np.broadcast_arrays(mark, barrier, sigma, _f(horizon_years))
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.log(lp / mp)
        log_gap = np.abs(b)
        d = log_gap / (sig * np.sqrt(t))
    d = np.where(log_gap == 0.0, 0.0, d)
    distance: FloatArray = np.where(np.isnan(lp), np.inf, d)
    return distance, _touch(b, mp, lp, sig, t, np.zeros(1), None, model, STUDENT_T_NU)


def _touch(
    b: FloatArray,
    mp: FloatArray,
    lp: FloatArray,
    sig: FloatArray,
    t: FloatArray,
    mu: FloatArray,
    side: FloatArray | None,
    model: TouchModel,
    nu: float,
) -> FloatArray:
    """``touch_probability`` from ``b = ln(H/S0)``, with its conventions for the edges."""
    if model is TouchModel.GBM:
        p = _gbm_touch(b, sig, t, mu - 0.5 * sig * sig)
    else:
        if not nu > 2.0:
            raise EngineError(f"the Student-t model needs ν > 2 (a finite variance), got {nu}")
        p = _student_touch(b, sig, t, nu)
    if not np.all(sig > 0.0):
        p = np.where(sig > 0.0, p, _deterministic_touch(b, t, mu))
    crossed = b == 0.0
    if side is not None:
        crossed |= ((side > 0) & (b > 0.0)) | ((side < 0) & (b < 0.0))
    p = np.where(crossed, 1.0, p)
    valid = (mp > 0.0) & (sig >= 0.0) & (t >= 0.0) & np.isfinite(mp + sig + t + mu)
    p = np.where(valid, p, np.nan)
    unreachable = np.isnan(lp) | (lp <= 0.0) | np.isposinf(lp)
    out: FloatArray = np.where(unreachable, 0.0, p)
    return out


def _deterministic_touch(b: FloatArray, t: FloatArray, mu: FloatArray) -> FloatArray:
    """σ = 0: ln S moves by μT in a straight line, touching b when it heads there far enough."""
    with np.errstate(invalid="ignore"):
        reached = (b * mu > 0.0) & (np.abs(mu * t) >= np.abs(b))
    out: FloatArray = reached.astype(np.float64)
    return out
