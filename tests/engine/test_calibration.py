"""Calibration on synthetic paths with known answers: GBM is calibrated on GBM, and not on
fat tails, where the Student-t model is; the monitor's σ is the engine's estimator."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.exchanges import market_data
from engine.calibration import (
    DAY_MS,
    HOUR_MS,
    MONITOR_DAILY_CLOSES,
    draw_trials,
    fit_nu,
    monitor_sigma,
    predict,
    split,
)
from engine.candles import Candles
from engine.errors import EngineError
from engine.probability import TouchModel
from engine.reliability import score
from engine.volatility import realised_volatility

#: The synthetic series open at 23:00 UTC, so a start every 24 candles decides at midnight and
#: its horizon is one whole day.
T0_MS = 1_600_000_000_000 // DAY_MS * DAY_MS - HOUR_MS
SIGMA = 0.6
HOURLY = SIGMA / math.sqrt(8760.0)


def path(bar_sigma: np.ndarray, seed: int) -> Candles:
    """Hourly candles of a driftless log price with each bar's σ (per √hour), their lows and
    highs drawn exactly from the Brownian bridge between open and close: the minimum of a
    bridge from a to b over one bar is (a + b − √((b − a)² − 2s²·ln U))/2, so a touch inside a
    bar is seen as a venue's mark would see it, not only at the closes."""
    rng = np.random.default_rng(seed)
    n = len(bar_sigma)
    steps = rng.standard_normal(n) * bar_sigma
    log_close = 10.0 + np.cumsum(steps)
    log_open = np.concatenate([[10.0], log_close[:-1]])
    a, b = log_open, log_close
    spread_low = np.sqrt((b - a) ** 2 - 2.0 * bar_sigma**2 * np.log(rng.uniform(size=n)))
    spread_high = np.sqrt((b - a) ** 2 - 2.0 * bar_sigma**2 * np.log(rng.uniform(size=n)))
    return Candles(
        ts_ms=T0_MS + HOUR_MS * np.arange(n, dtype=np.int64),
        open=np.exp(a),
        high=np.exp((a + b + spread_high) / 2.0),
        low=np.exp((a + b - spread_low) / 2.0),
        close=np.exp(b),
        volume=np.zeros(n),
        timeframe_ms=HOUR_MS,
    )


#: A year of daily closes for σ in the synthetic tests: the monitor's 30 returns carry a 13 %
#: error of their own (that noise is real and is part of what the Student-t model absorbs),
#: which would blur the test of the method itself; 365 returns bring it to 4 %.
LONG_WINDOW = 366
DAYS = 365 + 3_000


def test_the_monitor_window_is_the_monitors() -> None:
    """The engine replays the monitor's σ: daily closes, as many as it fetches."""
    assert market_data.TIMEFRAME == "1d"
    assert MONITOR_DAILY_CLOSES == market_data.CANDLES


def test_monitor_sigma_is_the_engines_realised_volatility_of_the_monitors_closes() -> None:
    """At a start, σ is ``realised_volatility`` of the 30 previous midnight closes and the
    current mark, computed here from the candles by hand."""
    candles = path(np.full(24 * 40, HOURLY), seed=3)
    start = 24 * 35 + 5  # 05:00 on day 35
    midnights = np.flatnonzero((candles.ts_ms + HOUR_MS) % DAY_MS == 0)
    before = midnights[midnights < start][-30:]
    closes = np.concatenate([candles.close[before], [candles.close[start]]])
    got = monitor_sigma(candles, np.array([start]))
    assert got[0] == pytest.approx(realised_volatility(closes, 365.0), rel=1e-12)
    assert np.isnan(monitor_sigma(candles, np.array([24 * 20]))[0])  # under 30 days behind


def test_gbm_is_calibrated_on_gbm_paths() -> None:
    """On GBM paths the GBM model is calibrated within sampling error.

    Starts are a horizon apart (``step`` = 24 candles), so no two share a path and the blocks'
    standard error counts each start's 50 barriers as one draw. Tolerance: every bucket's
    |observed − predicted| ≤ 3 block SE (each bucket fails by chance with p ≈ 0.003, 12
    buckets ≈ 3 %, and the seed is fixed), and the Brier score is within 4 SE of its value
    for a calibrated forecast, mean p(1 − p).
    """
    candles = path(np.full(24 * DAYS, HOURLY), seed=11)
    trials = draw_trials(candles, 24 * HOUR_MS, step=24, closes=LONG_WINDOW)
    p = predict(trials, TouchModel.GBM)
    scores = score(p, trials.touched, trials.block)
    for bucket in scores.table:
        assert bucket.count > 0
        assert abs(bucket.gap) <= 3.0 * bucket.se_block, bucket
    excess = (p - trials.touched) ** 2 - p * (1.0 - p)
    _, which = np.unique(trials.block, return_inverse=True)
    per_block = np.bincount(which, weights=excess - excess.mean())
    se = math.sqrt(float(np.sum(per_block**2))) / len(p)
    assert abs(excess.mean()) <= 4.0 * se


def fat_tailed() -> Candles:
    """Each day's variance drawn afresh, inverse-gamma with ν = 3 (mean SIGMA²): given the
    long-run σ, a day's return is Student-t with 3 degrees of freedom — the premise of the
    Student-t model, and the fat tails GBM misses."""
    rng = np.random.default_rng(5)
    scale = np.sqrt((3.0 - 2.0) / rng.chisquare(3.0, size=DAYS))
    return path(np.repeat(HOURLY * scale, 24), seed=6)


def test_gbm_misses_fat_tails_and_the_student_t_model_does_better_out_of_sample() -> None:
    """On t(3) days GBM's tail buckets see touches far more often than it says (over 3 SE),
    ν fitted on the first half is small, and that Student-t scores a lower Brier score on the
    second half with a tail bucket within 3 SE."""
    trials = draw_trials(fat_tailed(), 24 * HOUR_MS, step=24, closes=LONG_WINDOW)
    fit, held = split(trials, int(trials.start_ms[len(trials) // 2]))
    gbm = score(predict(held, TouchModel.GBM), held.touched, held.block)
    tail = gbm.table[0]  # 0–1 %
    assert tail.observed - tail.predicted > 3.0 * tail.se_block
    nu = fit_nu(fit)
    assert nu <= 5.0
    fat = score(predict(held, TouchModel.STUDENT_T, nu=nu), held.touched, held.block)
    assert fat.brier.score < gbm.brier.score
    assert fat.brier.reliability < gbm.brier.reliability / 3.0
    near = fat.table[1]  # 1–5 %: the t model puts its far barriers here
    assert abs(near.gap) <= 3.0 * near.se_block


def test_too_little_history_is_one_sentence() -> None:
    """Under 30 days before any start (plus the horizon) leaves no trial: said in days."""
    candles = path(np.full(24 * 20, HOURLY), seed=1)
    with pytest.raises(EngineError, match=r"too little history: .* 30 days .* about 31 days"):
        draw_trials(candles, 24 * HOUR_MS)


def test_a_horizon_not_a_whole_number_of_candles_is_refused() -> None:
    candles = path(np.full(24 * 40, HOURLY), seed=1)
    with pytest.raises(EngineError, match="whole number of candles of 60 min"):
        draw_trials(candles, 90 * 60_000)


def test_a_gap_in_the_horizon_drops_the_start() -> None:
    """A missing candle could hide the touch: no trial's horizon spans it."""
    full = path(np.full(24 * 40, HOURLY), seed=2)
    keep = np.ones(len(full), dtype=bool)
    keep[24 * 35] = False
    holed = Candles(
        full.ts_ms[keep], full.open[keep], full.high[keep], full.low[keep], full.close[keep],
        full.volume[keep], HOUR_MS,
    )  # fmt: skip
    starts = set(draw_trials(holed, 24 * HOUR_MS).start_ms.tolist())
    gap_open = int(full.ts_ms[24 * 35])
    assert starts
    assert not any(s <= gap_open < s + 24 * HOUR_MS for s in starts)
