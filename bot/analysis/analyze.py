"""`liqwatch analyze`: one snapshot file through the engine, out as a table or JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from bot.analysis.snapshot import load
from bot.errors import UserError
from bot.render.analysis import analysis_text, stress_text
from bot.render.report import report, stress_report
from engine.analysis import analyze
from engine.stress import stress


def analyze_file(
    path: Path, *, as_json: bool, shock_pct: float | None = None, asset: str | None = None
) -> str:
    """The rendered analysis of the snapshot at ``path`` (raises ``UserError`` on bad input)."""
    if shock_pct is not None:
        _check_shock(shock_pct)
    loaded = load(path)
    # Huge but finite inputs (1e300) overflow to inf on the way, which the engine reads as
    # "unknown" by design: numpy's RuntimeWarnings would only print noise after the answer.
    with np.errstate(all="ignore"):
        result = analyze(
            loaded.snapshot, volatility=loaded.volatility, horizon_hours=loaded.horizon_hours
        )
    doc = report(result, loaded.exchange)
    if shock_pct is not None:
        if asset and asset.upper() not in loaded.snapshot.positions.underlying.names:
            raise UserError(f"--asset {asset}: no position on that underlying in {path}")
        with np.errstate(all="ignore"):
            shocked = stress(
                loaded.snapshot,
                result.portfolio,
                result.liquidation_price,
                shock_pct=shock_pct,
                underlying=asset,
            )
        doc["stress"] = stress_report(shocked, result)
    if as_json:
        return json.dumps(doc, indent=2, allow_nan=False)
    text = analysis_text(doc)
    if "stress" in doc:
        text += "\n\n" + stress_text(doc["stress"])
    return text


def _check_shock(shock_pct: float) -> None:
    """A move every price can take: finite, and above −100 % (at or below it a price is zero or
    negative, which no formula is defined for), the bound /stress uses too."""
    if not math.isfinite(shock_pct) or shock_pct <= -100.0:
        raise UserError(f"--shock {shock_pct:g}: must be a finite percentage above -100")
