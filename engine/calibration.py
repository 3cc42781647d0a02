"""Calibration of the touch probability on price history: trials, predictions, outcomes.

From a candle series, every ``step`` candles the monitor's view is rebuilt — the mark (the
candle's close) and σ from the trailing daily closes, exactly as ``bot/exchanges/market_data``
estimates it — and barriers are set below (a long's liquidation price) and above (a short's)
at fixed multiples of σ√T, chosen so the GBM probabilities span 0.2 % to 95 %. Each barrier
is a trial: the model predicts its touch probability, and the next ``horizon`` candles' lows
(highs for a short) say whether it was touched — intrabar, as a venue's mark would touch it.
Scoring (reliability table, Brier score) is in ``engine.reliability``. docs/calibration.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.candles import Candles
from engine.errors import EngineError
from engine.probability import TouchModel, hours_to_years, touch_probability
from engine.stats import norm_ppf
from engine.types import BoolArray, FloatArray, IntArray
from engine.volatility import realised_volatilities

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
#: What the monitor fetches for σ: 31 daily candles, the last one the day in progress, so 30
#: returns (bot/exchanges/market_data.py ``CANDLES``; docs/risk.md#volatility).
MONITOR_DAILY_CLOSES = 31
#: GBM probabilities the barriers are placed at (as 2·N(−m) with m in σ√T): dense in the tail,
#: where a warning matters most, and across the middle so every bucket has trials.
TARGETS = (0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4,
           0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)  # fmt: skip
MULTIPLES: FloatArray = -norm_ppf(0.5 * np.asarray(TARGETS, dtype=np.float64))


@dataclass(frozen=True)
class Trials:
    """One row per (start, barrier): what the monitor saw, and whether the barrier was hit.

    ``block`` numbers runs of starts one horizon long: trials in one block share most of their
    future path, so standard errors treat a block, not a trial, as one independent draw.
    """

    start_ms: IntArray
    mark: FloatArray
    barrier: FloatArray
    sigma: FloatArray
    side: IntArray  # +1 a long (barrier below), −1 a short (barrier above)
    touched: BoolArray
    block: IntArray
    horizon_hours: float

    def __len__(self) -> int:
        return len(self.start_ms)

    def take(self, mask: BoolArray) -> Trials:
        return Trials(
            start_ms=self.start_ms[mask],
            mark=self.mark[mask],
            barrier=self.barrier[mask],
            sigma=self.sigma[mask],
            side=self.side[mask],
            touched=self.touched[mask],
            block=self.block[mask],
            horizon_hours=self.horizon_hours,
        )


def horizon_candles(candles: Candles, horizon_ms: int) -> int:
    """The horizon as a whole number of candles, or an ``EngineError`` saying why not."""
    tf = candles.timeframe_ms
    if horizon_ms <= 0 or horizon_ms % tf:
        raise EngineError(
            f"the horizon ({horizon_ms // 60_000} min) must be a positive whole number of "
            f"candles of {tf // 60_000} min"
        )
    return horizon_ms // tf


def daily_closes(candles: Candles) -> tuple[int, FloatArray]:
    """Each UTC day's close (the close of its last candle), NaN for a day whose last candle is
    missing; returns the first day's number (days since the epoch) and the closes."""
    if DAY_MS % candles.timeframe_ms:
        raise EngineError("calibration needs candles that divide a day (1m … 1d)")
    close_at = candles.ts_ms + candles.timeframe_ms
    ends_day = close_at % DAY_MS == 0
    first = int(close_at[0] // DAY_MS) - 1
    out = np.full(int(close_at[-1] // DAY_MS) - first + 1, np.nan)
    out[close_at[ends_day] // DAY_MS - 1 - first] = candles.close[ends_day]
    return first, out


def monitor_sigma(
    candles: Candles, starts: IntArray, *, closes: int = MONITOR_DAILY_CLOSES
) -> FloatArray:
    """σ the monitor would have had at the close of each ``starts`` candle: the realised
    volatility (``engine.volatility``) of the ``closes − 1`` complete UTC days before it and the
    day in progress, whose close is the mark then; NaN where a day is missing or too early."""
    first, days = daily_closes(candles)
    now = (candles.ts_ms[starts] + candles.timeframe_ms) // DAY_MS - first
    back = now[:, None] + np.arange(1 - closes, 0)[None, :]
    inside = back >= 0
    window = np.where(inside, days[np.clip(back, 0, None)], np.nan)
    window = np.concatenate([window, candles.close[starts][:, None]], axis=1)
    return realised_volatilities(window, 365.0)


def _future_extremes(candles: Candles, horizon: int) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Lowest low and highest high of the ``horizon`` candles after each candle, and whether
    those candles are all present (a gap would hide a touch)."""
    n = len(candles)
    low = np.full(n, np.nan)
    high = np.full(n, np.nan)
    whole = np.zeros(n, dtype=bool)
    if n > horizon:
        low[: n - horizon] = sliding_window_view(candles.low[1:], horizon).min(axis=1)
        high[: n - horizon] = sliding_window_view(candles.high[1:], horizon).max(axis=1)
        span = candles.ts_ms[horizon:] - candles.ts_ms[: n - horizon]
        whole[: n - horizon] = span == horizon * candles.timeframe_ms
    return low, high, whole


def draw_trials(
    candles: Candles,
    horizon_ms: int,
    *,
    step: int = 1,
    closes: int = MONITOR_DAILY_CLOSES,
    multiples: FloatArray = MULTIPLES,
) -> Trials:
    """Every ``step``-th candle with a σ and a complete horizon after it, times the barriers
    at ``multiples`` of σ√T on both sides; an ``EngineError`` when not one start qualifies."""
    horizon = horizon_candles(candles, horizon_ms)
    if step < 1:
        raise EngineError(f"the step between starts must be at least one candle, got {step}")
    low, high, whole = _future_extremes(candles, horizon)
    starts = np.arange(0, len(candles), step, dtype=np.int64)
    starts = starts[whole[starts]]
    sigma = monitor_sigma(candles, starts, closes=closes)
    usable = np.isfinite(sigma) & (sigma > 0.0)
    starts, sigma = starts[usable], sigma[usable]
    if len(starts) == 0:
        days = (closes - 1) * DAY_MS + horizon_ms
        raise EngineError(
            f"too little history: calibration needs {closes - 1} days of candles before a "
            f"start (for σ) and the horizon after it, about {days / DAY_MS:.0f} days in all, "
            f"with no gap"
        )
    horizon_hours = horizon_ms / HOUR_MS
    scale = sigma * math.sqrt(float(hours_to_years(horizon_hours)))
    mark = candles.close[starts]
    m = np.asarray(multiples, dtype=np.float64)
    below = mark[:, None] * np.exp(-m[None, :] * scale[:, None])
    above = mark[:, None] * np.exp(m[None, :] * scale[:, None])
    k = len(m)

    def per_trial(values: np.ndarray) -> np.ndarray:
        # Longs first, then shorts, for each start: (n, 2k) flattened row by row.
        return np.repeat(values, 2 * k)

    return Trials(
        start_ms=per_trial(candles.ts_ms[starts] + candles.timeframe_ms),
        mark=per_trial(mark),
        barrier=np.concatenate([below, above], axis=1).ravel(),
        sigma=per_trial(sigma),
        side=np.tile(np.repeat(np.array([1, -1], dtype=np.int64), k), len(starts)),
        touched=np.concatenate(
            [low[starts][:, None] <= below, high[starts][:, None] >= above], axis=1
        ).ravel(),
        block=per_trial(starts // horizon),
        horizon_hours=horizon_hours,
    )


def predict(trials: Trials, model: TouchModel, *, nu: float | None = None) -> FloatArray:
    """The model's touch probability of each trial, as the product computes it (μ = 0)."""
    extra = {} if nu is None else {"nu": nu}
    return touch_probability(
        trials.mark,
        trials.barrier,
        trials.sigma,
        float(hours_to_years(trials.horizon_hours)),
        side=trials.side.astype(np.float64),
        model=model,
        **extra,
    )


def split(trials: Trials, at_ms: int) -> tuple[Trials, Trials]:
    """Trials starting before ``at_ms`` (the fitting span) and those whose whole horizon comes
    after it (the held-out span): none of the held-out paths was seen while fitting."""
    horizon_ms = round(trials.horizon_hours * HOUR_MS)
    early = trials.start_ms + horizon_ms <= at_ms
    late = trials.start_ms >= at_ms
    return trials.take(early), trials.take(late)


#: ν the Student-t model is fitted over: whole numbers (``engine.student`` has their closed
#: form), from 3 (the variance exists above 2) to 60 (all but Gaussian).
NU_GRID = (3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0, 60.0)


def fit_nu(trials: Trials, grid: tuple[float, ...] = NU_GRID) -> float:
    """The ν of ``grid`` with the lowest Brier score on ``trials`` (the fitting span)."""
    outcome = trials.touched.astype(np.float64)
    scores = [
        float(np.mean((predict(trials, TouchModel.STUDENT_T, nu=nu) - outcome) ** 2)) for nu in grid
    ]
    return grid[int(np.argmin(scores))]
