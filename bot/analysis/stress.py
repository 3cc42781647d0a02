"""`liqwatch analyze --shock PCT [--asset COIN] [--vol PCT]` and `--grid`: the snapshot under a
price and vol shock, and the spot × vol grid, for the table and the `--json` document
(docs/stress.md)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import UserError
from bot.render.stress import ShockView, shock_document, shock_text, shock_view
from bot.render.stress_grid import GridView, grid_document, grid_text, grid_view
from engine.analysis import Analysis
from engine.stress import stress
from engine.stress_grid import stress_grid
from engine.stress_options import VolShock

_VOL = re.compile(r"\s*(?P<n>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))\s*(?P<unit>%|pts?)?\s*", re.I)


@dataclass(frozen=True)
class StressRequest:
    """What the command line asked for: a shock (``shock_pct``, on ``asset`` or every
    underlying, with a ``vol`` shock as typed) and/or the grid."""

    shock_pct: float | None = None
    asset: str | None = None
    vol: str | None = None
    grid: bool = False

    def check(self) -> VolShock | None:
        """The vol shock the request names; ``UserError`` for a request no price or vol can
        take (a shock at or below −100 %, a vol shock that makes volatility negative)."""
        if self.shock_pct is not None and (
            not math.isfinite(self.shock_pct) or self.shock_pct <= -100.0
        ):
            raise UserError(f"--shock {self.shock_pct:g}: must be a finite percentage above -100")
        if self.vol is None:
            return None
        if self.shock_pct is None:
            raise UserError("--vol needs --shock PCT (the price move it comes with)")
        return vol_shock(self.vol)


def vol_shock(text: str) -> VolShock:
    """``20`` or ``+20%``: relative (σ·1.2); ``20pt``: in vol points (σ + 0.20)."""
    match = _VOL.fullmatch(text)
    if match is None:
        raise UserError(f"--vol {text}: not a vol shock like 20 (percent) or 5pt (vol points)")
    shock = VolShock(float(match["n"]), points=(match["unit"] or "%") != "%")
    problem = shock.problem()
    if problem is not None:
        raise UserError(f"--vol {text}: {problem}")
    return shock


@dataclass(frozen=True)
class Stressed:
    """The shock's and the grid's views (None where not asked for)."""

    shock: ShockView | None
    grid: GridView | None

    def add_to(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The `--json` document with the "stress" and "stress_grid" objects added."""
        if self.shock is not None:
            doc["stress"] = shock_document(self.shock)
        if self.grid is not None:
            doc["stress_grid"] = grid_document(self.grid)
        return doc

    def text(self) -> str:
        """The paragraphs after the table ("" when nothing was asked)."""
        parts = [shock_text(self.shock)] if self.shock is not None else []
        parts += [grid_text(self.grid)] if self.grid is not None else []
        return "".join(f"\n\n{p}" for p in parts)


def stressed(result: Analysis, request: StressRequest, path: Path) -> Stressed:
    """The account of ``result`` under the requested shock and grid."""
    vol = request.check()
    snapshot = result.snapshot
    asset = request.asset.upper() if request.asset else None
    if asset and asset not in snapshot.positions.underlying.names:
        raise UserError(f"--asset {request.asset}: no position on that underlying in {path}")
    shock = grid = None
    # Huge but finite inputs overflow to inf on the way, which the engine reads as unknown.
    with np.errstate(all="ignore"):
        if request.shock_pct is not None:
            shocked = stress(
                snapshot, result.portfolio, result.liquidation_price,
                shock_pct=request.shock_pct, underlying=asset, vol_shock=vol,
            )  # fmt: skip
            shock = shock_view(shocked, result)
        if request.grid:
            found = stress_grid(
                snapshot, result.portfolio, result.liquidation_price, underlying=asset
            )
            grid = grid_view(found)
    return Stressed(shock, grid)
