"""The calibrate use case: candles in, a report (a dict: the JSON contract) out."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.candles.dates import iso
from bot.candles.dates import parse_day as parse_date
from bot.candles.files import read_csv
from bot.errors import UserError
from engine.calibration import HOUR_MS, Trials, draw_trials, fit_nu, predict, split
from engine.candles import timeframe_name
from engine.errors import EngineError
from engine.probability import DEFAULT_TOUCH_MODEL, STUDENT_T_NU, TouchModel, touch_model
from engine.reliability import Scores, brier_difference, score

_DURATION = re.compile(r"([0-9]+)([mhd])")
_UNIT_MS = {"m": 60_000, "h": HOUR_MS, "d": 24 * HOUR_MS}
#: Where the held-out span starts when --split is not given: the fitting span is the first
#: 60 % of the starts' time, so both spans hold more than one market regime on years of data.
SPLIT_SHARE = 0.6


@dataclass(frozen=True)
class Options:
    symbol: str
    horizon: str = "24h"
    candles: Path | None = None
    model: str = DEFAULT_TOUCH_MODEL.value
    nu: float | None = None
    fit_nu: bool = False
    start: str | None = None
    end: str | None = None
    split: str | None = None
    #: Candles between two starts; None: one start an hour (every candle of 1h files).
    step: int | None = None


def parse_horizon(text: str) -> int:
    """``24h`` → milliseconds, or a UserError naming the word."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise UserError(f"--horizon {text!r} is not a duration such as 30m, 4h, 24h or 7d.")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def calibrate(options: Options) -> dict[str, Any]:
    """Score the chosen model (and the other, for comparison) on both spans."""
    if options.candles is None:
        raise UserError(
            "liqwatch calibrate needs --candles FILE.csv (timestamp_ms,open,high,low,close,"
            "volume; the repository's data/candles/ has BTC and ETH): there is no candle cache "
            "to read yet."
        )
    horizon_ms = parse_horizon(options.horizon)
    try:
        model = touch_model(options.model)
    except EngineError as exc:
        raise UserError(f"--model: {exc}.") from None
    if options.step is not None and options.step < 1:
        raise UserError("--step must be at least 1 (candles between two starts).")
    candles = read_csv(options.candles)
    # Hourly starts whatever the file's timeframe: a 1m file would otherwise make 60 times
    # the trials, all but the same.
    step = options.step or max(1, HOUR_MS // candles.timeframe_ms)
    first = None if options.start is None else parse_date(options.start, "--from")
    last = None if options.end is None else parse_date(options.end, "--to")
    candles = candles.slice(first, last)
    try:
        trials = draw_trials(candles, horizon_ms, step=step)
    except EngineError as exc:
        raise UserError(f"{options.candles.name}: {exc}.") from None
    at = _split_at(trials, options.split)
    fit, held = split(trials, at)
    if len(fit) == 0 or len(held) == 0:
        raise UserError(
            f"--split {iso(at)} leaves a span without trials: choose a date inside "
            f"{iso(int(trials.start_ms[0]))} … {iso(int(trials.start_ms[-1]))}."
        )
    nu = _nu(options, fit)
    return _report(options, candles.timeframe_ms, model, nu, fit, held, step)


def _split_at(trials: Trials, text: str | None) -> int:
    if text is not None:
        return parse_date(text, "--split")
    lo, hi = int(trials.start_ms[0]), int(trials.start_ms[-1])
    # On a whole hour, so the printed date is the split exactly.
    return (lo + int((hi - lo) * SPLIT_SHARE)) // HOUR_MS * HOUR_MS


def _nu(options: Options, fit: Trials) -> float:
    if options.fit_nu:
        return fit_nu(fit)
    nu = STUDENT_T_NU if options.nu is None else options.nu
    if not (nu > 2.0 and math.isfinite(nu)):
        raise UserError(f"--nu must be a number above 2 (the variance must exist), got {nu}.")
    return nu


def _report(
    options: Options,
    timeframe_ms: int,
    model: TouchModel,
    nu: float,
    fit: Trials,
    held: Trials,
    step: int,
) -> dict[str, Any]:
    spans: dict[str, Any] = {}
    for name, part in (("fit", fit), ("held_out", held)):
        predicted = {m: predict(part, m, nu=nu) for m in TouchModel}
        by_model = {m: score(p, part.touched, part.block) for m, p in predicted.items()}
        diff, se = brier_difference(
            predicted[TouchModel.STUDENT_T], predicted[TouchModel.GBM], part.touched, part.block
        )
        spans[name] = {
            "from": iso(int(part.start_ms[0])),
            "to": iso(int(part.start_ms[-1])),
            "starts": len(np.unique(part.start_ms)),
            "trials": len(part),
            "table": _table(by_model[model]),
            "brier": {m.value: _brier(s) for m, s in by_model.items()},
            # Paired over the same trials, SE from blocks of one horizon (overlapping paths).
            "brier_student_t_minus_gbm": {"mean": _num(diff), "se": _num(se)},
        }
    return {
        "symbol": options.symbol,
        "candles": options.candles.name if options.candles else None,
        "timeframe": timeframe_name(timeframe_ms),
        "horizon_hours": fit.horizon_hours,
        "model": model.value,
        "nu": nu if model is TouchModel.STUDENT_T else None,
        "nu_fitted": options.fit_nu,
        "step_candles": step,
        "spans": spans,
    }


def _table(scores: Scores) -> list[dict[str, Any]]:
    return [
        {
            "bucket": [b.low, b.high],
            "count": b.count,
            "predicted": _num(b.predicted),
            "observed": _num(b.observed),
            "se_binomial": _num(b.se_binomial),
            "se_block": _num(b.se_block),
        }
        for b in scores.table
    ]


def _brier(scores: Scores) -> dict[str, Any]:
    b = scores.brier
    return {
        "score": _num(b.score),
        "reliability": _num(b.reliability),
        "resolution": _num(b.resolution),
        "uncertainty": _num(b.uncertainty),
        "count": b.count,
    }


def _num(x: float) -> float | None:
    """JSON has no NaN: an empty bucket's figures are null."""
    return float(x) if math.isfinite(x) else None
