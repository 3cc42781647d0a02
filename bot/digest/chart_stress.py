"""The stress grid as a heat-map PNG (`/chart stress`): equity change per spot × vol shock,
green for gains and red for losses on one symmetric scale, each cell labelled with its amount
and the cells that liquidate something outlined and starred (docs/stress.md#grid).

Like the digest charts: matplotlib's object API (never pyplot), pure, and never raising on
empty or non-finite input.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from bot.digest.chart_base import FONT_PT, TEXT, empty, new_figure, note, png, set_title
from bot.render.stress_grid import GridView, short_usd, signed_pct

#: Red for losses, green for gains, pale yellow around zero.
COLOURS = "RdYlGn"
LIQUIDATES = "#222222"


def stress_png(view: GridView, *, title: str) -> bytes:
    return png(stress_figure(view, title=title))


def stress_figure(view: GridView, *, title: str) -> Figure:
    """Rows spot shocks (the largest rise on top), columns relative vol shocks."""
    fig, ax = new_figure()
    # The equity change, as the table shows it: coin collateral moves with its coin too.
    pnl = np.asarray([[math.nan if v is None else v for v in row] for row in view.change_usd])
    if not pnl.size or not np.isfinite(pnl).any():
        empty(ax, title)
        return fig
    limit = float(np.nanmax(np.abs(pnl))) or 1.0
    shown = pnl[::-1]
    ax.imshow(
        np.ma.masked_invalid(shown), cmap=COLOURS, norm=Normalize(-limit, limit), aspect="auto"
    )
    ax.set_xticks(range(len(view.vol_pct)), [signed_pct(v) for v in view.vol_pct])
    ax.set_yticks(range(len(view.spot_pct)), [signed_pct(x) for x in view.spot_pct[::-1]])
    ax.set_xlabel("implied volatility shock (relative)", fontsize=FONT_PT, color=TEXT)
    what = "every underlying" if view.underlying == "all" else view.underlying
    ax.set_ylabel(f"price shock, {what}", fontsize=FONT_PT, color=TEXT)
    hits = view.liquidates[::-1]
    for i, row in enumerate(shown.tolist()):
        for j, value in enumerate(row):
            star = "*" if hits[i][j] else ""
            label = short_usd(None if math.isnan(value) else value) + star
            # White on the deepest colours, where dark text would sink into the cell.
            deep = abs(value) > 0.7 * limit
            colour = "white" if deep else TEXT
            ax.text(j, i, label, ha="center", va="center", fontsize=FONT_PT, color=colour)
            if hits[i][j]:
                ax.add_patch(_outline(j, i))
    set_title(ax, title)
    if any(any(row) for row in view.liquidates):
        note(ax, "* outlined: liquidates a position", y=-0.16)
    return fig


def _outline(x: int, y: int) -> Rectangle:
    return Rectangle((x - 0.5, y - 0.5), 1.0, 1.0, fill=False, edgecolor=LIQUIDATES, linewidth=1.5)
