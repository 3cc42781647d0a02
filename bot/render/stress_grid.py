"""The spot × vol stress grid as a view, a phone-width table and the `--json` "stress_grid"
object (docs/stress.md#grid). Pure: built from an engine ``StressGrid``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.render.views import finite
from engine.stress_grid import StressGrid
from engine.types import FloatArray

Cells = tuple[tuple[float | None, ...], ...]

#: Characters per cell: "-120k*" (a compact amount and the liquidation mark).
CELL = 6


@dataclass(frozen=True)
class GridPoolView:
    """One pool's margin ratio after each cell's shock (None: unknown or equity gone)."""

    pool: str
    source: str  # "venue" (portfolio margin, the venue's maintenance held) | "engine"
    margin_ratio_after: Cells


@dataclass(frozen=True)
class GridView:
    """Rows are spot shocks, columns relative vol shocks; money in USD."""

    underlying: str  # "all" when every underlying moves
    spot_pct: tuple[float, ...]
    vol_pct: tuple[float, ...]
    equity_before_usd: float | None
    pnl_usd: Cells
    equity_after_usd: Cells
    liquidates: tuple[tuple[bool, ...], ...]
    pools: tuple[GridPoolView, ...]
    options_repriced: int
    options_by_delta: int
    notes: tuple[str, ...]

    @property
    def change_usd(self) -> Cells:
        """Each cell's equity after minus before (None where either is unknown): what the
        table and the heat map show. It is the positions' PnL plus coin collateral's own move
        (a BTC-margined account loses its BTC's value in a fall), so it may differ from
        ``pnl_usd``."""
        before = self.equity_before_usd
        return tuple(
            tuple(None if a is None or before is None else a - before for a in row)
            for row in self.equity_after_usd
        )


def _cells(values: FloatArray) -> Cells:
    return tuple(tuple(finite(v) for v in row) for row in values.tolist())


def grid_view(grid: StressGrid) -> GridView:
    """The grid of one account."""
    return GridView(
        underlying=grid.underlying or "all",
        spot_pct=tuple(grid.spot_pct.tolist()),
        vol_pct=tuple(grid.vol_pct.tolist()),
        equity_before_usd=finite(grid.equity_usd_before),
        pnl_usd=_cells(grid.pnl_usd),
        equity_after_usd=_cells(grid.equity_usd_after),
        liquidates=tuple(tuple(bool(b) for b in row) for row in grid.liquidates.tolist()),
        pools=tuple(
            GridPoolView(name, source, _cells(grid.margin_ratio_after[:, :, k]))
            for k, (name, source) in enumerate(zip(grid.pools, grid.pool_sources, strict=True))
        ),
        options_repriced=grid.repriced,
        options_by_delta=grid.fallback,
        notes=grid.notes,
    )


def summed(views: Sequence[GridView]) -> GridView:
    """Several accounts' grids (same axes) as one: PnL and equity add up, a cell liquidates
    when it does in any account; pools stay per account, so none are kept."""
    first = views[0]

    def add(cells: Sequence[Cells]) -> Cells:
        stack = np.asarray([[[math.nan if v is None else v for v in r] for r in c] for c in cells])
        return _cells(stack.sum(axis=0))

    before = [v.equity_before_usd for v in views]
    return GridView(
        underlying=first.underlying,
        spot_pct=first.spot_pct,
        vol_pct=first.vol_pct,
        equity_before_usd=None if None in before else sum(b or 0.0 for b in before),
        pnl_usd=add([v.pnl_usd for v in views]),
        equity_after_usd=add([v.equity_after_usd for v in views]),
        liquidates=tuple(
            tuple(any(cells) for cells in zip(*rows, strict=True))
            for rows in zip(*(v.liquidates for v in views), strict=True)
        ),
        pools=(),
        options_repriced=sum(v.options_repriced for v in views),
        options_by_delta=sum(v.options_by_delta for v in views),
        notes=tuple(n for v in views for n in v.notes),
    )


def short_usd(value: float | None) -> str:
    """An amount in at most five characters: +950 · -1.2k · -12k · -120k · +3.4M."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else "+" if value > 0 else ""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit * 0.9995:
            scaled = magnitude / limit
            digits = f"{scaled:.1f}" if scaled < 9.95 else f"{scaled:.0f}"
            return f"{sign}{digits}{suffix}"
    return f"{sign}{magnitude:.0f}"


def signed_pct(value: float) -> str:
    """An axis label: -20% · 0% · +15%."""
    return "0%" if value == 0 else f"{value:+g}%"


def grid_lines(view: GridView) -> list[str]:
    """The table (about 40 characters wide): a row per spot shock, a column per vol shock,
    each cell the equity change in USD, starred where the shock liquidates something."""
    lines = [" " * 5 + " ".join(f"{signed_pct(v):>{CELL}}" for v in view.vol_pct)]
    for x, change, hit in zip(view.spot_pct, view.change_usd, view.liquidates, strict=True):
        cells = [short_usd(v) + ("*" if h else "") for v, h in zip(change, hit, strict=True)]
        lines.append(f"{signed_pct(x):>4} " + " ".join(f"{c:>{CELL}}" for c in cells))
    return lines


def grid_text(view: GridView) -> str:
    """The grid under a one-line title, with its legend and how options were priced."""
    lines = [
        f"Stress grid {view.underlying}: equity change, USD",
        "rows spot move, columns vol (σ·(1+v))",
        *grid_lines(view),
    ]
    if any(any(row) for row in view.liquidates):
        lines.append("* liquidates a position")
    lines += [f"margin {p.pool} after: the venue's (portfolio margin)"
              for p in view.pools if p.source == "venue"]  # fmt: skip
    if view.options_repriced:
        lines.append(f"{view.options_repriced} option(s) re-priced in full (Black-76)")
    lines += [f"note: {n}" for n in view.notes]
    return "\n".join(lines)


def grid_document(view: GridView) -> dict[str, Any]:
    """The `stress_grid` object of the `--json` document: ``[spot][vol]`` matrices."""
    return {
        "underlying": view.underlying,
        "spot_pct": list(view.spot_pct),
        "vol_pct": list(view.vol_pct),
        "vol_shock": "relative",
        "equity_before": view.equity_before_usd,
        "pnl": [list(row) for row in view.pnl_usd],
        "equity_after": [list(row) for row in view.equity_after_usd],
        "liquidates": [list(row) for row in view.liquidates],
        "pools": {
            p.pool: {
                "source": p.source,
                "margin_ratio_after": [list(row) for row in p.margin_ratio_after],
            }
            for p in view.pools
        },
        "options_repriced": view.options_repriced,
        "options_by_delta": view.options_by_delta,
        "notes": list(view.notes),
    }
