"""What every digest chart shares: the figure, its size and colours, the data records.

Split from ``charts`` so the equity chart (``chart_equity``) can live in its own module.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from engine.alerts.rules import Kind, default_specs

# 6x4 in at 150 dpi = 900x600 px: sharp on a phone without being a heavy upload.
FIGSIZE = (6.0, 4.0)
DPI = 150
FONT_PT = 10.0  # the smallest size we use anywhere; below this phone screens blur
TITLE_PT = 12.0
# Opaque light background with dark-grey text: reads the same in dark and light chat themes,
# unlike a transparent PNG whose black text vanishes on a dark theme.
BACKGROUND = "#f7f7f7"
TEXT = "#222222"
GRID = "#d9d9d9"
LONG_COLOUR = "#2e9d5b"
SHORT_COLOUR = "#d64545"
EQUITY_COLOUR = "#2f6db5"
LEVERAGE_COLOUR = "#e07b00"
SEVERITY_COLOURS: dict[str | None, str] = {
    "critical": "#d64545",
    "warning": "#f28e2b",
    "info": "#4e79a7",
    None: "#9e9e9e",
}
#: The liquidation-distance thresholds of the rules every new account is born with.
DEFAULT_LEVELS = tuple(sorted(s.threshold for s in default_specs() if s.kind is Kind.LIQ))
MAX_EXPOSURE_BARS = 12
MAX_LADDER_ROWS = 15
EQUITY_WINDOW_S = 30 * 86_400
CACHE_SIZE = 64


@dataclass(frozen=True)
class ExposureBar:
    underlying: str
    long_usd: float
    short_usd: float  # magnitude, >= 0
    #: The part of long + short from accounts whose figures are stale (drawn hatched).
    stale_usd: float = 0.0


@dataclass(frozen=True)
class LadderRow:
    label: str
    mark: float
    liquidation: float
    distance_pct: float
    severity: str | None  # "critical" | "warning" | "info" | None
    #: The account's figures are stale: drawn faded and hatched, its label says so.
    stale: bool = False


@dataclass(frozen=True)
class EquityPoint:
    at: float  # unix seconds
    equity_usd: float
    leverage: float


def finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def new_figure() -> tuple[Figure, Axes]:
    # Constrained layout keeps tick labels and titles inside the canvas without changing its
    # pixel size (bbox_inches="tight" would crop and break the fixed 900x600 contract).
    fig = Figure(figsize=FIGSIZE, dpi=DPI, facecolor=BACKGROUND, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor("white")
    ax.tick_params(labelsize=FONT_PT, colors=TEXT)
    for spine in ax.spines.values():
        spine.set_color(GRID)
    return fig, ax


def set_title(ax: Axes, title: str) -> None:
    ax.set_title(title, fontsize=TITLE_PT, color=TEXT, loc="left")


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # No Software/date metadata keeps output stable between runs of the same version.
    fig.savefig(buf, format="png", dpi=DPI, facecolor=BACKGROUND, metadata={"Software": None})
    return buf.getvalue()


def empty(ax: Axes, title: str) -> None:
    set_title(ax, title)
    ax.set_axis_off()
    ax.text(0.5, 0.5, "Nothing to show", ha="center", va="center", fontsize=TITLE_PT, color=TEXT)


#: Stale figures are hatched with this pattern (and faded) wherever a chart draws them.
STALE_HATCH = "///"
STALE_ALPHA = 0.45


def note(ax: Axes, text: str, *, y: float = 0.97) -> None:
    """A short remark in the plot's upper left corner, on a white backing (history start,
    stale figures): said on the chart itself, since a chart travels without its text."""
    backing = {"facecolor": "white", "edgecolor": GRID, "alpha": 0.9, "pad": 3}
    ax.text(
        0.02, y, text, transform=ax.transAxes, ha="left", va="top", fontsize=FONT_PT,
        color=TEXT, bbox=backing, zorder=5,
    )  # fmt: skip
