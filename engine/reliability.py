"""Scoring probability forecasts: the reliability table and the Brier score with its parts."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.types import BoolArray, FloatArray, IntArray

#: Predicted-probability buckets (fractions): narrow in the tail, where a warning is decided.
EDGES = (0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class Bucket:
    """Trials whose prediction fell in ``[low, high)`` (the last bucket includes 1)."""

    low: float
    high: float
    count: int
    predicted: float  # mean prediction
    observed: float  # share touched
    #: Binomial standard error of ``observed``, √(p(1−p)/n) at p = the mean prediction:
    #: right for independent trials.
    se_binomial: float
    #: Standard error from blocks of overlapping paths (trials of one block share a path, so
    #: the binomial one understates it): √Σ_b (Σ_{i∈b}(y_i − ȳ))² / n.
    se_block: float

    @property
    def gap(self) -> float:
        return self.observed - self.predicted


@dataclass(frozen=True)
class Brier:
    """Brier score ``mean((p − y)²)`` and Murphy's decomposition over the buckets:
    score ≈ reliability − resolution + uncertainty (exact when every bucket's predictions are
    equal; the within-bucket spread of predictions is the difference)."""

    score: float
    reliability: float  # Σ n_k (p̄_k − ō_k)² / n: 0 is perfectly calibrated
    resolution: float  # Σ n_k (ō_k − ō)² / n: how much the forecast separates outcomes
    uncertainty: float  # ō(1 − ō): the score of always forecasting the base rate
    count: int


@dataclass(frozen=True)
class Scores:
    table: tuple[Bucket, ...]
    brier: Brier


def score(
    predicted: FloatArray,
    touched: BoolArray,
    block: IntArray,
    edges: tuple[float, ...] = EDGES,
) -> Scores:
    """The reliability table and Brier score of ``predicted`` against ``touched``; trials with
    an unknown (NaN) prediction are left out."""
    known = np.isfinite(predicted)
    p, y, b = predicted[known], touched[known].astype(np.float64), block[known]
    n = len(p)
    where = np.clip(np.searchsorted(np.asarray(edges), p, side="right") - 1, 0, len(edges) - 2)
    table = tuple(
        _bucket(edges[k], edges[k + 1], p[where == k], y[where == k], b[where == k])
        for k in range(len(edges) - 1)
    )
    base = float(y.mean()) if n else math.nan
    rel = sum(t.count * (t.predicted - t.observed) ** 2 for t in table if t.count) / max(n, 1)
    res = sum(t.count * (t.observed - base) ** 2 for t in table if t.count) / max(n, 1)
    brier = Brier(
        score=float(np.mean((p - y) ** 2)) if n else math.nan,
        reliability=float(rel),
        resolution=float(res),
        uncertainty=base * (1.0 - base),
        count=n,
    )
    return Scores(table=table, brier=brier)


def _bucket(low: float, high: float, p: FloatArray, y: FloatArray, block: IntArray) -> Bucket:
    n = len(p)
    if n == 0:
        return Bucket(low, high, 0, math.nan, math.nan, math.nan, math.nan)
    mean_p, mean_y = float(p.mean()), float(y.mean())
    _, which = np.unique(block, return_inverse=True)
    sums = np.bincount(which, weights=y - mean_y)
    return Bucket(
        low=low,
        high=high,
        count=n,
        predicted=mean_p,
        observed=mean_y,
        se_binomial=math.sqrt(mean_p * (1.0 - mean_p) / n),
        se_block=math.sqrt(float(np.sum(sums * sums))) / n,
    )


def brier_difference(
    first: FloatArray, second: FloatArray, touched: BoolArray, block: IntArray
) -> tuple[float, float]:
    """Mean of ``(first − y)² − (second − y)²`` over the same trials and its block standard
    error: negative when ``first`` scores better, and by how many SE it is more than luck."""
    known = np.isfinite(first) & np.isfinite(second)
    y = touched[known].astype(np.float64)
    diff = (first[known] - y) ** 2 - (second[known] - y) ** 2
    if len(diff) == 0:
        return math.nan, math.nan
    mean = float(diff.mean())
    _, which = np.unique(block[known], return_inverse=True)
    sums = np.bincount(which, weights=diff - mean)
    return mean, math.sqrt(float(np.sum(sums * sums))) / len(diff)
