"""Realised volatility from OHLCV closes, and parametric and historical Value at Risk.

Realised σ feeds every liquidation probability. The Value-at-Risk functions (``parametric_var``,
``historical_var``, ``scenario_pnl``) are not wired into the product yet — only their tests call
them — and stay because the portfolio-risk views will use them.
"""

from __future__ import annotations

import math
import re

import numpy as np

from engine.errors import EngineError
from engine.stats import FloatLike, norm_ppf
from engine.types import FloatArray

_DAYS_PER_YEAR = 365.0
# Seconds per ccxt timeframe unit; "M" is a twelfth of a 365-day year, so 1M ⇒ 12 a year.
_UNIT_S = {
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
    "M": _DAYS_PER_YEAR * 86400.0 / 12.0,
    "y": _DAYS_PER_YEAR * 86400.0,
}
_TIMEFRAME = re.compile(r"(\d+)([smhdwMy])")
_YEAR_S = _DAYS_PER_YEAR * 86400.0
# n(1 − α) is often an integer in exact arithmetic (500 · 0.01 = 5) that lands just below it.
_FLOOR_EPS = 1e-9


def periods_per_year(timeframe: str) -> float:
    """Candles per 365-day year for a ccxt timeframe such as "1m", "4h", "1d" or "1w".

    Crypto trades 24/7 (docs/risk.md#probability), so "1d" ⇒ 365 and "1h" ⇒ 8760.
    """
    match = _TIMEFRAME.fullmatch(timeframe)
    if match is None or int(match.group(1)) == 0:
        raise EngineError(
            f"unknown timeframe {timeframe!r}: expected a ccxt timeframe such as 1m, 5m, 15m, "
            "1h, 4h, 1d or 1w"
        )
    return _YEAR_S / (int(match.group(1)) * _UNIT_S[match.group(2)])


def realised_volatility(closes: FloatArray, periods_per_year: float) -> float:
    """Annualised realised volatility: sample std (ddof = 1) of log returns × √periods.

    Source: docs/risk.md#volatility (closes from ccxt ``fetch_ohlcv``, column 4).
    Raises ``EngineError`` for fewer than 3 closes (2 returns are the least a sample std
    with ddof = 1 can use meaningfully) or any non-finite or non-positive close.
    """
    prices = np.asarray(closes, dtype=np.float64)
    if prices.ndim != 1 or prices.size < 3:
        raise EngineError(f"realised volatility needs at least 3 closes, got {prices.size}")
    if not np.all(np.isfinite(prices) & (prices > 0.0)):
        raise EngineError("realised volatility needs finite, positive closes")
    if not (periods_per_year > 0.0 and math.isfinite(periods_per_year)):
        raise EngineError(f"periods_per_year must be positive, got {periods_per_year}")
    return float(realised_volatilities(prices[np.newaxis, :], periods_per_year)[0])


def realised_volatilities(closes: FloatArray, periods_per_year: float) -> FloatArray:
    """``realised_volatility`` of each row of an (n, k) array of closes, in one pass.

    The same estimator, for many windows at once (calibration replays the monitor's σ at
    every hour of years of history). A row with a non-finite or non-positive close is NaN.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        log_returns = np.diff(np.log(np.asarray(closes, dtype=np.float64)), axis=-1)
    out: FloatArray = np.std(log_returns, ddof=1, axis=-1) * math.sqrt(periods_per_year)
    return out


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise EngineError(f"confidence must be strictly between 0 and 1, got {confidence}")


def parametric_var(
    value: FloatLike,
    sigma: FloatLike,
    horizon_years: FloatLike,
    confidence: float,
    *,
    drift: FloatLike = 0.0,
) -> FloatArray:
    """Gaussian Value at Risk of a linear exposure, as a positive loss in ``value``'s unit.

    Source: docs/risk.md#portfolio-risk: ``VaR = V·(z·σ·√h − μ·h)``, z = Φ⁻¹(α) (``norm_ppf``),
    σ and μ annualised, h in 365-day years. ``value`` is the signed exposure: a short loses on
    the way up, so the volatility term uses |V| and the drift term V, i.e.
    ``|V|·z·σ·√h − V·μ·h``, which is the formula above for V ≥ 0.
    """
    _check_confidence(confidence)
    v = np.asarray(value, dtype=np.float64)
    h = np.asarray(horizon_years, dtype=np.float64)
    z = float(norm_ppf(confidence))
    out: FloatArray = np.abs(v) * z * np.asarray(sigma) * np.sqrt(h) - v * np.asarray(drift) * h
    return out


def historical_var(pnl_scenarios: FloatArray, confidence: float) -> float:
    """Historical-simulation Value at Risk, a positive loss: ``VaR = −PnL_(k)``.

    Source: docs/risk.md#portfolio-risk, ``k = ⌊n(1 − α) + ε⌋`` with ε = 1e-9. Convention: the
    scenarios are sorted ascending (worst first) and k is a **0-based** index, i.e. the
    (k+1)-th worst outcome. That is the empirical quantile inf{l : P(L > l) ≤ 1 − α} — at
    most k of the n scenarios lose more — and it is always in range (500 scenarios at 99 %
    ⇒ k = 5 ⇒ the 6th worst; 10 at 95 % ⇒ k = 0 ⇒ the worst).
    """
    _check_confidence(confidence)
    pnl = np.asarray(pnl_scenarios, dtype=np.float64).ravel()
    if pnl.size == 0 or not np.all(np.isfinite(pnl)):
        raise EngineError("historical VaR needs at least one scenario and no NaN or inf P&L")
    k = math.floor(pnl.size * (1.0 - confidence) + _FLOOR_EPS)
    # np.partition finds the k-th smallest in O(n) without sorting every scenario.
    return float(-np.partition(pnl, k)[k])


def scenario_pnl(exposure_by_asset: FloatArray, returns: FloatArray) -> FloatArray:
    """P&L of today's linear exposure under each past day's simple returns.

    ``exposure_by_asset`` (n_assets,) is the signed value per underlying (long > 0);
    ``returns`` (n_days, n_assets) holds simple returns P_t/P_{t−1} − 1. Row d's P&L is
    Σ_a exposure_a · r_{d,a}: first-order re-pricing, exact for linear perps and futures.
    A NaN return (asset not yet listed that day) gives a NaN P&L for that day.
    """
    exposure = np.asarray(exposure_by_asset, dtype=np.float64)
    rets = np.asarray(returns, dtype=np.float64)
    if exposure.ndim != 1 or rets.ndim != 2 or rets.shape[1] != exposure.shape[0]:
        raise EngineError(
            f"returns of shape {rets.shape} do not match exposure of shape {exposure.shape}"
        )
    out: FloatArray = rets @ exposure
    return out
