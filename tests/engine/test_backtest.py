"""The replay and the vectorised sweep: a scripted crash with its lead time worked out by
hand, and the sweep agreeing with the real-pipeline replay start by start."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.backtest.position import PositionSpec, snapshot
from bot.backtest.single import replay_position
from engine.alerts.grammar import parse_rule
from engine.alerts.rules import Severity
from engine.backtest import (
    Priced,
    Replay,
    adverse_path,
    as_rules,
    default_rules,
    poll_points,
    replay,
    replay_account,
    stream_points,
    sweep_points,
    touch_time,
)
from engine.candles import Candles
from engine.sweep import Unsupported, liq_levels, sweep

HOUR = 3_600_000
NOTIONAL = 150_000.0  # 2.5 BTC at 60000: Binance bracket 2 (0.5 %, cum 50)


def _candles(opens: list[float], highs: list[float], lows: list[float], tf: int = HOUR) -> Candles:
    n = len(opens)
    ts = np.arange(n, dtype=np.int64) * tf + 1_700_000_000_000 // tf * tf
    o = np.array(opens, dtype=float)
    return Candles(ts, o, np.array(highs, float), np.array(lows, float), o, np.zeros(n), tf)


def _gbm(n: int, seed: int, tf: int = 900_000, sigma: float = 0.012) -> Candles:
    """Candles whose opens follow a GBM, with highs and lows a random way beyond them."""
    rng = np.random.default_rng(seed)
    opens = 60_000.0 * np.exp(np.cumsum(rng.normal(0.0, sigma, n)))
    nxt = np.append(opens[1:], opens[-1])
    top = np.maximum(opens, nxt) * (1 + np.abs(rng.normal(0, sigma / 2, n)))
    bottom = np.minimum(opens, nxt) * (1 - np.abs(rng.normal(0, sigma / 2, n)))
    return _candles(list(opens), list(top), list(bottom), tf)


def _one(c: Candles, start_s: float, hold_s: float, poll_s: float | None, rules, lev=10.0):
    """The per-start replay through the real pipeline, by the code `liqwatch backtest` runs."""
    path = adverse_path(c, 1.0)
    if poll_s is None:
        t, x = stream_points(path, start_s, start_s + hold_s)
    else:
        t, x = poll_points(path, start_s, start_s + hold_s, poll_s)
    entry = float(x[0])
    spec = PositionSpec("BTC/USDT:USDT", "long", NOTIONAL / entry, entry, lev, "isolated")
    outcome, liq = replay_position(
        spec, path, (t, x), rules, venue="binanceusdm", start_s=start_s, end_s=start_s + hold_s
    )
    return outcome, liq / entry


def test_a_scripted_crash_gives_the_lead_time_worked_by_hand() -> None:
    """A 5x long from 60000: hourly bars drift down into the warning zone, then one bar
    crashes through the liquidation price.

    Liquidation (Binance isolated, bracket 2): LP = (WB + cum − Q·EP)/(Q·mmr − Q) with
    Q = 2.5, EP = 60000, WB = 30000, cum = 50, mmr = 0.005: (30000 + 50 − 150000)/(−2.4875)
    = 48221.1055. Warning (< 10 %) below LP/0.9 = 53579.01, critical (< 5 %) below LP/0.95 =
    50759.06. Stream marks: each bar's open, high at +20 min, low at +40 min.
    """
    opens = [60000, 58000, 56000, 54000, 52000, 51000]
    highs = [60500, 58500, 56500, 54500, 52500, 51200]
    lows = [57900, 55900, 53900, 51900, 50900, 47000]
    c = _candles(opens, highs, lows)
    t0 = int(c.ts_ms[0]) / 1000
    spec = PositionSpec("BTC/USDT:USDT", "long", 2.5, 60000.0, 5.0, "isolated")
    priced = Priced(snapshot(spec, 60000.0, taken_at_s=t0).snapshot, spec.symbol)
    liq = float(priced.at(60000.0).liquidation_price[0])
    assert liq == pytest.approx(48221.1055, abs=1e-3)
    path = adverse_path(c, 1.0)
    touched = touch_time(path, liq, 1.0, t0)
    # Bar 5 (t0 + 5 h): high 51200 at +20 min, low 47000 at +40 min; the line crosses
    # 48221.1055 at (51200 − 48221.1055)/(51200 − 47000) of those 20 minutes.
    by_hand = t0 + 5 * 3600 + 1200 + (51200 - liq) / (51200 - 47000) * 1200
    assert touched == pytest.approx(by_hand)
    t, x = stream_points(path, t0, t0 + 6 * 3600)
    outcome = replay(
        priced, Replay(replay_account("binanceusdm"), default_rules()), t, x, liquidated_at=touched
    )
    # The first mark under 53579.01 is bar 3's low (51900) at t0 + 3 h 40 min (bar 2's low,
    # 53900, is above it). Nothing before the touch is under 50759.06 (bar 4's low is 50900;
    # bar 5's low comes after the touch), so no critical is told in time.
    assert outcome.first(Severity.WARNING) is not None
    assert outcome.first(Severity.WARNING).at == t0 + 3 * 3600 + 2400
    assert outcome.lead_s(Severity.WARNING) == pytest.approx(by_hand - (t0 + 3 * 3600 + 2400))
    assert outcome.lead_s(Severity.CRITICAL) is None
    assert outcome.liquidated_at == touched


@pytest.mark.parametrize(("poll_s", "seed"), [(None, 1), (300.0, 2), (120.0, 3)])
def test_the_sweep_agrees_with_the_replay_start_by_start(poll_s: float | None, seed: int) -> None:
    c = _gbm(4 * 24 * 12, seed)  # 12 days of 15-minute candles
    path = adverse_path(c, 1.0)
    t0 = int(c.ts_ms[0]) / 1000
    hold = 3 * 86400.0
    starts = t0 + 3600.0 * np.arange(0, 24 * 8, 11)
    rules = as_rules([parse_rule("liq<12% warning"), parse_rule("liq<6% critical for 10m")])
    _, ratio = _one(c, float(starts[0]), hold, poll_s, rules)
    points = sweep_points(path, t0, t0 + len(c) * 900.0, poll_s)
    levels = liq_levels(rules, liq_ratio=ratio, side=1.0)
    got = sweep(points, starts, hold_s=hold, side=1.0, liq_ratio=ratio, levels=levels)
    liquidated = 0
    for i, start in enumerate(starts.tolist()):
        outcome, _ = _one(c, start, hold, poll_s, rules)
        warn, crit = outcome.first(Severity.WARNING), outcome.first(Severity.CRITICAL)
        expect_touch = math.nan if outcome.liquidated_at is None else outcome.liquidated_at
        assert got.touch_s[i] == pytest.approx(expect_touch, nan_ok=True, abs=1e-6), i
        assert got.first_warning_s[i] == pytest.approx(
            math.nan if warn is None else warn.at, nan_ok=True
        ), i
        assert got.first_critical_s[i] == pytest.approx(
            math.nan if crit is None else crit.at, nan_ok=True
        ), i
        assert got.false_criticals[i] == outcome.false_criticals, i
        liquidated += outcome.liquidated_at is not None
    assert 0 < liquidated < len(starts), "the sample must hold liquidated and surviving starts"
    assert int(np.sum(got.false_criticals)) > 0, "the sample must exercise hysteresis"


def test_the_default_rules_agree_too() -> None:
    c = _gbm(4 * 24 * 10, 7)
    path = adverse_path(c, 1.0)
    t0 = int(c.ts_ms[0]) / 1000
    hold = 2 * 86400.0
    starts = t0 + 3600.0 * np.arange(0, 24 * 7, 11)
    rules = default_rules()
    _, ratio = _one(c, float(starts[0]), hold, None, rules, lev=8.0)
    points = sweep_points(path, t0, t0 + len(c) * 900.0, None)
    got = sweep(
        points,
        starts,
        hold_s=hold,
        side=1.0,
        liq_ratio=ratio,
        levels=liq_levels(rules, liq_ratio=ratio, side=1.0),
    )
    for i, start in enumerate(starts.tolist()):
        outcome, _ = _one(c, start, hold, None, rules, lev=8.0)
        crit = outcome.first(Severity.CRITICAL)
        assert got.first_critical_s[i] == pytest.approx(
            math.nan if crit is None else crit.at, nan_ok=True
        ), i
        assert got.false_criticals[i] == outcome.false_criticals, i


def test_a_rule_the_sweep_cannot_model_is_refused_with_a_sentence() -> None:
    rules = as_rules([parse_rule("prob>20% BTC")])
    with pytest.raises(Unsupported, match=r"the sweep models liq< rules only; prob>20"):
        liq_levels(rules, liq_ratio=0.9, side=1.0)
