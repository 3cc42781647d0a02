"""`liqwatch analyze`: one snapshot file through the engine, out as a table or JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from bot.analysis.snapshot import SnapshotFile, load
from bot.errors import UserError
from bot.render.analysis import analysis_text, stress_text
from bot.render.report import document, stress_document
from bot.render.views import StressView, account_view, stress_view
from engine.analysis import Analysis, analyze
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
    view = account_view(result, loaded.exchange)
    shocked = None
    if shock_pct is not None:
        if asset and asset.upper() not in loaded.snapshot.positions.underlying.names:
            raise UserError(f"--asset {asset}: no position on that underlying in {path}")
        shocked = _shock(loaded, result, shock_pct, asset)
    if as_json:
        doc = document(view)
        if shocked is not None:
            doc["stress"] = stress_document(shocked)
        return json.dumps(doc, indent=2, allow_nan=False)
    text = analysis_text(view)
    if shocked is not None:
        text += "\n\n" + stress_text(shocked)
    return text


def _shock(
    loaded: SnapshotFile, result: Analysis, shock_pct: float, asset: str | None
) -> StressView:
    """The account under the shock, with cross liquidation prices re-solved."""
    with np.errstate(all="ignore"):
        shocked = stress(
            loaded.snapshot,
            result.portfolio,
            result.liquidation_price,
            shock_pct=shock_pct,
            underlying=asset,
        )
    return stress_view(shocked, result)


def _check_shock(shock_pct: float) -> None:
    """A move every price can take: finite, and above −100 % (at or below it a price is zero or
    negative, which no formula is defined for), the bound /stress uses too."""
    if not math.isfinite(shock_pct) or shock_pct <= -100.0:
        raise UserError(f"--shock {shock_pct:g}: must be a finite percentage above -100")
