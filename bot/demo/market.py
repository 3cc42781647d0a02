"""The demo's mark prices: a seeded geometric random walk per underlying plus a scripted crash."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from engine.types import FloatArray

UNDERLYINGS = ("BTC", "ETH", "SOL")
START_PRICES = {"BTC": 64_000.0, "ETH": 3_200.0, "SOL": 150.0}
#: How much of the scripted BTC move each underlying follows (log-return multiple): ETH falls
#: harder than BTC, as it does in real liquidation cascades; SOL follows partly.
CRASH_BETA = {"BTC": 1.0, "ETH": 1.15, "SOL": 0.6}
#: Annualised volatility the demo reports to the engine (liquidation probabilities need one).
VOLATILITY = {"BTC": 0.6, "ETH": 0.75, "SOL": 0.95}

TICK_S = 1.0
#: Per-tick σ of the walk's log-return: small next to the scripted moves, so a seed can change
#: the path's details but never which alert zone a phase lands in.
TICK_SIGMA = 0.0004
#: Ticks drawn per random-number chunk; chunk ``c`` is seeded with ``(seed, c)``.
_CHUNK = 64


@dataclass(frozen=True)
class Phase:
    """One stretch of the scripted scenario, in elapsed demo seconds ``[start_s, end_s)``."""

    name: str
    start_s: float
    end_s: float

    @property
    def mid_s(self) -> float:
        return (self.start_s + self.end_s) / 2.0


#: BTC's scripted log-move at the end of each phase (holds keep the level, moves ease into it).
WARNING_MOVE = -0.095
CRITICAL_MOVE = -0.14
RECOVERED_MOVE = 0.01

CALM = Phase("calm", 0.0, 6.0)
SLIDE = Phase("slide", 6.0, 14.0)
WARNING_HOLD = Phase("warning", 14.0, 22.0)
PLUNGE = Phase("plunge", 22.0, 26.0)
CRITICAL_HOLD = Phase("critical", 26.0, 36.0)
RECOVERY = Phase("recovery", 36.0, 46.0)
RECOVERED = Phase("recovered", 46.0, 60.0)
PHASES = (CALM, SLIDE, WARNING_HOLD, PLUNGE, CRITICAL_HOLD, RECOVERY, RECOVERED)
#: The scripted scenario is over by then; the walk goes on for longer demos.
SCENARIO_S = RECOVERED.end_s

#: (elapsed seconds, BTC log-move) knots; between knots the move eases (cosine) from one to the
#: next, so prices accelerate and slow down like a real sell-off instead of kinking.
_KNOTS = (
    (CALM.start_s, 0.0),
    (SLIDE.start_s, 0.0),
    (WARNING_HOLD.start_s, WARNING_MOVE),
    (PLUNGE.start_s, WARNING_MOVE),
    (CRITICAL_HOLD.start_s, CRITICAL_MOVE),
    (RECOVERY.start_s, CRITICAL_MOVE),
    (RECOVERED.start_s, RECOVERED_MOVE),
)


def crash_log_move(elapsed_s: float) -> float:
    """BTC's scripted log-move (no noise) at ``elapsed_s``; constant after the last knot."""
    if elapsed_s <= _KNOTS[0][0]:
        return _KNOTS[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(_KNOTS):
        if elapsed_s < t1:
            ease = (1.0 - math.cos(math.pi * (elapsed_s - t0) / (t1 - t0))) / 2.0
            return v0 + (v1 - v0) * ease
    return _KNOTS[-1][1]


class Market:
    """Mark prices as a pure function of (seed, elapsed seconds); no clock inside.

    The random walk is drawn in seeded chunks and cached, so any query order gives the same
    path; between ticks the walk is interpolated linearly.
    """

    def __init__(self, seed: int, *, tick_sigma: float = TICK_SIGMA) -> None:
        self.seed = seed
        self.tick_sigma = tick_sigma
        # Cumulative log-returns, one row per underlying; column k is the walk at tick k.
        self._walk: FloatArray = np.zeros((len(UNDERLYINGS), 1))

    def marks(self, elapsed_s: float) -> dict[str, float]:
        """Mark price per underlying at ``elapsed_s`` seconds into the demo."""
        if not elapsed_s >= 0.0 or not math.isfinite(elapsed_s):
            raise ValueError(f"elapsed_s must be a finite number ≥ 0, got {elapsed_s!r}")
        noise = self._noise(elapsed_s / TICK_S)
        move = crash_log_move(elapsed_s)
        return {
            name: START_PRICES[name] * math.exp(CRASH_BETA[name] * move + float(noise[i]))
            for i, name in enumerate(UNDERLYINGS)
        }

    def _noise(self, ticks: float) -> FloatArray:
        low = int(ticks)
        self._extend(low + 1)
        frac = ticks - low
        result: FloatArray = self._walk[:, low] * (1.0 - frac) + self._walk[:, low + 1] * frac
        return result

    def _extend(self, tick: int) -> None:
        while self._walk.shape[1] <= tick:
            chunk = (self._walk.shape[1] - 1) // _CHUNK
            rng = np.random.default_rng((self.seed, chunk))
            steps = rng.normal(0.0, self.tick_sigma, size=(len(UNDERLYINGS), _CHUNK))
            path = self._walk[:, -1:] + np.cumsum(steps, axis=1)
            self._walk = np.concatenate([self._walk, path], axis=1)
