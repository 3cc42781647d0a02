"""The same metric pass written the straightforward way: one Python loop over positions."""

from __future__ import annotations

import math
from typing import Any

from benchmarks.synthetic import HORIZON_H, SIGMA
from engine.probability import DEFAULT_TOUCH_MODEL, STUDENT_T_NU, TouchModel

HOURS_PER_YEAR = 365.0 * 24.0
TARGET_PCT = 15.0


def _tier(brackets: tuple[tuple[float, float, float], ...], notional: float) -> int:
    k = -1
    for floor, _mmr, _cum in brackets:
        if notional >= floor:
            k += 1
    return max(k, 0)


def _ncdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _touch(mark: float, lp: float, sigma: float, t: float) -> float:
    """The product's default model (engine.probability.DEFAULT_TOUCH_MODEL)."""
    if DEFAULT_TOUCH_MODEL is TouchModel.GBM:
        return _gbm_touch(mark, lp, sigma, t)
    return _student_touch(mark, lp, sigma, t, int(STUDENT_T_NU))


def _student_touch(mark: float, lp: float, sigma: float, t: float, nu: int) -> float:
    """``2·P(T_ν > x) = 1 − P(|T_ν| ≤ x)``, x = d·√(ν/(ν−2)), by Abramowitz & Stegun 26.7.3-4
    (θ = atan(x/√ν)): for even ν sinθ·Σ c_k cos^{2k}θ, for odd ν (2/π)(θ + sinθ·cosθ·Σ …)."""
    if math.isnan(lp):
        return 0.0
    x = abs(math.log(lp / mark)) / (sigma * math.sqrt(t)) * math.sqrt(nu / (nu - 2.0))
    theta = math.atan(x / math.sqrt(nu))
    cos2 = math.cos(theta) ** 2
    total, term = 1.0, 1.0
    if nu % 2 == 0:
        for k in range(1, nu // 2):
            term *= cos2 * (2 * k - 1) / (2 * k)
            total += term
        inside = math.sin(theta) * total
    else:
        for k in range(1, (nu - 1) // 2):
            term *= cos2 * (2 * k) / (2 * k + 1)
            total += term
        inside = 2.0 / math.pi * (theta + math.sin(theta) * math.cos(theta) * total * (nu > 1))
    return min(max(1.0 - inside, 0.0), 1.0)


def _gbm_touch(mark: float, lp: float, sigma: float, t: float) -> float:
    if math.isnan(lp):
        return 0.0
    b = math.log(lp / mark)
    nu = -0.5 * sigma * sigma
    eta = 1.0 if b > 0 else -1.0
    s_t = sigma * math.sqrt(t)
    first = _ncdf((-abs(b) + eta * nu * t) / s_t)
    second = math.exp(2.0 * nu * b / (sigma * sigma)) * _ncdf((-abs(b) - eta * nu * t) / s_t)
    return min(max(first + second, 0.0), 1.0)


def _liquidation(
    i: int, c: dict[str, Any], brackets: Any, equity: float, maint_out: float
) -> float:
    s, q, ep, mp = c["side"][i], c["qty"][i], c["entry"][i], c["mark"][i]
    index = _tier(brackets, q * mp)
    price = math.nan
    for _ in range(len(brackets) + 1):
        _floor, mmr, cum = brackets[index]
        price = (equity - maint_out + cum - s * q * ep) / (q * mmr - s * q)
        landed = _tier(brackets, q * price) if not math.isnan(price) else 0
        if landed == index:
            break
        index = landed
    if not (price > 0 and math.isfinite(price)):  # far from the mark is still a price
        return math.nan
    return price


def reference_pass(c: dict[str, Any], brackets: Any) -> dict[str, list[float]]:
    """Every metric the benchmark compares, one position at a time."""
    n = len(c["side"])
    upnl, maint = [0.0] * n, [0.0] * n
    cross_upnl = cross_maint = 0.0
    for i in range(n):
        q, mp = c["qty"][i], c["mark"][i]
        upnl[i] = c["side"][i] * q * (mp - c["entry"][i])
        _f, mmr, cum = brackets[_tier(brackets, q * mp)]
        maint[i] = q * mp * mmr - cum
        if not c["isolated"][i]:
            cross_upnl += upnl[i]
            cross_maint += maint[i]
    out: dict[str, list[float]] = {
        k: [] for k in ("liquidation", "distance_pct", "probability", "leverage", "margin_to_add")
    }
    t = HORIZON_H / HOURS_PER_YEAR
    gross = 0.0
    for i in range(n):
        s, q, mp = c["side"][i], c["qty"][i], c["mark"][i]
        if c["isolated"][i]:
            equity, maint_out = c["wallet"][i], 0.0
            leverage = q * mp / c["wallet"][i]
        else:
            equity = c["cross_wallet"] + cross_upnl - upnl[i]
            maint_out = cross_maint - maint[i]
            leverage = c["leverage"][i]
        lp = _liquidation(i, c, brackets, equity, maint_out)
        distance = abs(mp - lp) / mp * 100.0
        out["liquidation"].append(lp)
        out["distance_pct"].append(distance)
        out["probability"].append(_touch(mp, lp, SIGMA, t))
        out["leverage"].append(leverage)
        out["margin_to_add"].append(_advice(s, q, mp, lp, distance, brackets))
        gross += abs(q * mp)
    out["gross"] = [gross]
    return out


def _advice(s: float, q: float, mp: float, lp: float, distance: float, brackets: Any) -> float:
    if math.isnan(lp) or not distance < TARGET_PCT or not s * (mp - lp) > 0:
        return math.nan
    mmr = brackets[_tier(brackets, q * mp)][1]
    target = mp * (1.0 - s * TARGET_PCT / 100.0)
    return (s - mmr) * q * (lp - target)
