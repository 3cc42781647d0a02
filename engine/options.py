"""Black-76 option prices and greeks on the forward with r = 0 (Deribit's convention).

The normaliser uses it for the greeks an option's venue does not report (its exposure is the
delta equivalent, docs/risk.md#option-exposure; units per long unit in docs/risk.md#greeks);
``engine.greeks`` sums them per position and per underlying.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.stats import FloatLike, norm_cdf, norm_pdf
from engine.types import BoolArray, FloatArray

#: One vol point (σ + 0.01): ``vega × VOL_POINT`` is USD per vol point (docs/risk.md#greeks).
VOL_POINT = 0.01

#: Days in the 365-day year σ and T are annualised with: ``theta / DAYS_PER_YEAR`` is per day.
DAYS_PER_YEAR = 365.0

#: Seconds in that year (crypto trades every day): ``T = seconds to expiry / YEAR_S``.
YEAR_S = DAYS_PER_YEAR * 86_400.0

# Sources for every formula below: F. Black, "The pricing of commodity contracts", J. Financial
# Economics 3 (1976), with the discount factor 1 because Deribit prices on the expiry's forward
# with r = 0 (docs/risk.md#portfolio-risk, from Deribit's documentation). σ is annualised and
# T is in 365-day years. Inputs broadcast; non-positive F or K, negative σ or T give NaN.
# Where σ√T = 0 (expired, or zero volatility) the value is intrinsic, delta is 1/0 (½ exactly
# at the strike) and gamma and theta are reported as 0: the strike itself is a singularity.


@dataclass(frozen=True, slots=True)
class OptionGreeks:
    """Black-76 price and greeks of each option; units as in the functions of this module."""

    price_usd: FloatArray
    price_coin: FloatArray
    delta: FloatArray
    gamma: FloatArray
    vega: FloatArray
    theta: FloatArray
    deribit_delta: FloatArray


@dataclass(frozen=True, slots=True)
class _Inputs:
    forward: FloatArray
    strike: FloatArray
    sigma: FloatArray
    expiry: FloatArray
    is_call: BoolArray
    s_t: FloatArray  # σ√T, the total standard deviation of ln F_T
    d1: FloatArray
    d2: FloatArray


def _inputs(
    forward: FloatLike,
    strike: FloatLike,
    sigma: FloatLike,
    expiry_years: FloatLike,
    is_call: BoolArray | bool,
) -> _Inputs:
    f, k, sig, t, call = np.broadcast_arrays(
        np.asarray(forward, dtype=np.float64),
        np.asarray(strike, dtype=np.float64),
        np.asarray(sigma, dtype=np.float64),
        np.asarray(expiry_years, dtype=np.float64),
        np.asarray(is_call, dtype=np.bool_),
    )
    valid = (f > 0.0) & (k > 0.0) & (sig >= 0.0) & (t >= 0.0) & np.isfinite(f + k + sig + t)
    f, k, sig, t = (np.where(valid, a, np.nan) for a in (f, k, sig, t))
    with np.errstate(divide="ignore", invalid="ignore"):
        s_t = sig * np.sqrt(t)
        moneyness = np.log(f / k)
        d1 = (moneyness + 0.5 * s_t * s_t) / s_t
        # σ√T → 0 sends d1 to ±inf by the side of the strike (0 at it: d1 ~ σ√T/2 → 0).
        limit = np.where(moneyness == 0.0, 0.0, np.sign(moneyness) * np.inf)
    d1 = np.where(s_t > 0.0, d1, limit)
    return _Inputs(f, k, sig, t, call, s_t, d1, d1 - s_t)


def _signed(x: _Inputs) -> FloatArray:
    """w = +1 for a call, −1 for a put: the call and put formulas are one, w·(F·N(w·d1) −
    K·N(w·d2)), so each option needs N at two points, not four."""
    out: FloatArray = np.where(x.is_call, 1.0, -1.0)
    return out


def _cdfs(x: _Inputs) -> tuple[FloatArray, FloatArray]:
    """N(w·d1) and N(w·d2): the normal CDF is the costly part of the pass (an erfc each)."""
    w = _signed(x)
    return norm_cdf(w * x.d1), norm_cdf(w * x.d2)


def _price_usd(x: _Inputs, cdfs: tuple[FloatArray, FloatArray] | None = None) -> FloatArray:
    n1, n2 = _cdfs(x) if cdfs is None else cdfs
    # Call F·N(d1) − K·N(d2), put K·N(−d2) − F·N(−d1). Clip the cancellation noise of
    # deep-in/out options so a price is never below zero.
    out: FloatArray = np.maximum(_signed(x) * (x.forward * n1 - x.strike * n2), 0.0)
    return out


def black76_price_usd(
    forward: FloatLike,
    strike: FloatLike,
    sigma: FloatLike,
    expiry_years: FloatLike,
    *,
    is_call: BoolArray | bool,
) -> FloatArray:
    """Premium in USD per 1 coin of underlying: call F·N(d1) − K·N(d2), put K·N(−d2) − F·N(−d1).

    ``d1 = (ln(F/K) + σ²T/2)/(σ√T)``, ``d2 = d1 − σ√T``.
    """
    return _price_usd(_inputs(forward, strike, sigma, expiry_years, is_call))


def black76_price_coin(
    forward: FloatLike,
    strike: FloatLike,
    sigma: FloatLike,
    expiry_years: FloatLike,
    *,
    is_call: BoolArray | bool,
) -> FloatArray:
    """Premium in coin, as Deribit quotes inverse options: the USD premium divided by F."""
    x = _inputs(forward, strike, sigma, expiry_years, is_call)
    return _price_usd(x) / x.forward


def _delta(x: _Inputs, n1: FloatArray | None = None) -> FloatArray:
    # A put's N(d1) − 1 is −N(−d1): the same number without the cancellation far in the money.
    n1 = _cdfs(x)[0] if n1 is None else n1
    out: FloatArray = _signed(x) * n1
    return out


def black76_delta(
    forward: FloatLike,
    strike: FloatLike,
    sigma: FloatLike,
    expiry_years: FloatLike,
    *,
    is_call: BoolArray | bool,
) -> FloatArray:
    """∂price/∂F: N(d1) for a call, N(d1) − 1 for a put."""
    return _delta(_inputs(forward, strike, sigma, expiry_years, is_call))


def _gamma(x: _Inputs, pdf: FloatArray | None = None) -> FloatArray:
    pdf = norm_pdf(x.d1) if pdf is None else pdf
    with np.errstate(divide="ignore", invalid="ignore"):
        gamma = pdf / (x.forward * x.s_t)
    out: FloatArray = np.where(x.s_t > 0.0, gamma, 0.0 * x.forward)
    return out


def black76_gamma(
    forward: FloatLike, strike: FloatLike, sigma: FloatLike, expiry_years: FloatLike
) -> FloatArray:
    """∂²price/∂F² = φ(d1)/(F·σ·√T), the same for calls and puts."""
    return _gamma(_inputs(forward, strike, sigma, expiry_years, True))


def _vega(x: _Inputs, pdf: FloatArray | None = None) -> FloatArray:
    pdf = norm_pdf(x.d1) if pdf is None else pdf
    out: FloatArray = x.forward * pdf * np.sqrt(x.expiry)
    return out


def black76_vega(
    forward: FloatLike, strike: FloatLike, sigma: FloatLike, expiry_years: FloatLike
) -> FloatArray:
    """∂price/∂σ = F·φ(d1)·√T in USD per 1.00 (100 vol points); divide by 100 per point."""
    return _vega(_inputs(forward, strike, sigma, expiry_years, True))


def _theta(x: _Inputs, pdf: FloatArray | None = None) -> FloatArray:
    pdf = norm_pdf(x.d1) if pdf is None else pdf
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = -x.forward * pdf * x.sigma / (2.0 * np.sqrt(x.expiry))
    out: FloatArray = np.where(x.s_t > 0.0, theta, 0.0 * x.forward)
    return out


def black76_theta(
    forward: FloatLike, strike: FloatLike, sigma: FloatLike, expiry_years: FloatLike
) -> FloatArray:
    """∂price/∂t = −F·φ(d1)·σ/(2√T) in USD per year (r = 0, so calls and puts agree)."""
    return _theta(_inputs(forward, strike, sigma, expiry_years, True))


def deribit_delta(
    forward: FloatLike,
    strike: FloatLike,
    sigma: FloatLike,
    expiry_years: FloatLike,
    *,
    is_call: BoolArray | bool,
) -> FloatArray:
    """The delta Deribit reports for an inverse option: BS delta − option price in coin.

    The premium is itself held in coin, so its value moves with the coin too
    (docs/risk.md#portfolio-risk, from Deribit's documentation of its reported greeks).
    """
    x = _inputs(forward, strike, sigma, expiry_years, is_call)
    return _delta(x) - _price_usd(x) / x.forward


def black76(
    forward: FloatLike,
    strike: FloatLike,
    sigma: FloatLike,
    expiry_years: FloatLike,
    *,
    is_call: BoolArray | bool,
) -> OptionGreeks:
    """Price and every greek at once, sharing one d1/d2 evaluation across them."""
    x = _inputs(forward, strike, sigma, expiry_years, is_call)
    # N(w·d1), N(w·d2) and φ(d1) once for every figure (bit-identical to the single-figure
    # functions).
    cdfs, pdf = _cdfs(x), norm_pdf(x.d1)
    price = _price_usd(x, cdfs)
    delta = _delta(x, cdfs[0])
    return OptionGreeks(
        price_usd=price,
        price_coin=price / x.forward,
        delta=delta,
        gamma=_gamma(x, pdf),
        vega=_vega(x, pdf),
        theta=_theta(x, pdf),
        deribit_delta=delta - price / x.forward,
    )


def per_unit_greeks(
    forward: FloatArray,
    strike: FloatArray,
    sigma: FloatArray,
    call: FloatArray,
    expiry_years: FloatArray,
    adjusted: BoolArray,
) -> dict[str, FloatArray]:
    """Delta, gamma, vega and theta of ONE long unit in the ``Positions`` columns' units
    (coins, per USD, USD per vol point, USD per day; docs/risk.md#greeks): the delta
    premium-adjusted where ``adjusted``, NaN where ``call`` (1.0 / 0.0) is unknown."""
    with np.errstate(all="ignore"):
        model = black76(forward, strike, sigma, expiry_years, is_call=call == 1.0)
    figures = {
        "delta": np.where(adjusted, model.deribit_delta, model.delta),
        "gamma": model.gamma,
        "vega": model.vega * VOL_POINT,
        "theta": model.theta / DAYS_PER_YEAR,
    }
    unknown = np.isnan(call)
    return {name: np.where(unknown, np.nan, values) for name, values in figures.items()}
