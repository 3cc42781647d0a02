"""`liqwatch analyze`: one snapshot file through the engine, out as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bot.analysis.snapshot import load
from bot.analysis.stress import StressRequest, stressed
from bot.render.analysis import analysis_text
from bot.render.report import document
from bot.render.views import account_view
from engine.analysis import analyze


def analyze_file(
    path: Path,
    *,
    as_json: bool,
    shock_pct: float | None = None,
    asset: str | None = None,
    vol: str | None = None,
    grid: bool = False,
) -> str:
    """The rendered analysis of the snapshot at ``path`` (raises ``UserError`` on bad input);
    ``shock_pct``/``asset``/``vol`` and ``grid`` add the stress (``bot.analysis.stress``)."""
    request = StressRequest(shock_pct, asset, vol, grid)
    request.check()
    loaded = load(path)
    # Huge but finite inputs (1e300) overflow to inf on the way, which the engine reads as
    # "unknown" by design: numpy's RuntimeWarnings would only print noise after the answer.
    with np.errstate(all="ignore"):
        result = analyze(
            loaded.snapshot, volatility=loaded.volatility, horizon_hours=loaded.horizon_hours
        )
    view = account_view(result, loaded.exchange)
    shocked = stressed(result, request, path)
    if as_json:
        return json.dumps(shocked.add_to(document(view)), indent=2, allow_nan=False)
    return analysis_text(view) + shocked.text()
