"""PNG charts for the daily exposure digest.

Rendering uses matplotlib's object API (``Figure`` + ``FigureCanvasAgg``) and never pyplot:
pyplot keeps global figure state, which is not safe when charts render in worker threads, while
separate Agg figures are. Renderers are pure (data in, PNG bytes out) and never raise on empty or
non-finite input, so a digest always has a picture to post. ``render`` moves the CPU-bound work
off the event loop and ``ChartCache`` makes sure one snapshot's chart is drawn once.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from bot.digest.build import Digest
from bot.render import format as fmt
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


@dataclass(frozen=True)
class LadderRow:
    label: str
    mark: float
    liquidation: float
    distance_pct: float
    severity: str | None  # "critical" | "warning" | "info" | None


@dataclass(frozen=True)
class EquityPoint:
    at: float  # unix seconds
    equity_usd: float
    leverage: float


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def _new_figure() -> tuple[Figure, Axes]:
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


def _title(ax: Axes, title: str) -> None:
    ax.set_title(title, fontsize=TITLE_PT, color=TEXT, loc="left")


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # No Software/date metadata keeps output stable between runs of the same version.
    fig.savefig(buf, format="png", dpi=DPI, facecolor=BACKGROUND, metadata={"Software": None})
    return buf.getvalue()


def _empty(ax: Axes, title: str) -> None:
    _title(ax, title)
    ax.set_axis_off()
    ax.text(0.5, 0.5, "Nothing to show", ha="center", va="center", fontsize=TITLE_PT, color=TEXT)


def exposure_order(bars: Sequence[ExposureBar]) -> list[ExposureBar]:
    """Finite bars, largest gross exposure first, at most ``MAX_EXPOSURE_BARS``."""
    ok = [b for b in bars if _finite(b.long_usd, b.short_usd)]
    ok.sort(key=lambda b: (-(abs(b.long_usd) + abs(b.short_usd)), b.underlying))
    return ok[:MAX_EXPOSURE_BARS]


def exposure_png(bars: Sequence[ExposureBar], *, title: str = "Exposure by underlying") -> bytes:
    return _png(exposure_figure(bars, title=title))


def exposure_figure(
    bars: Sequence[ExposureBar], *, title: str = "Exposure by underlying"
) -> Figure:
    """Long bars right, short bars left and a diamond at the net, largest exposure on top."""
    fig, ax = _new_figure()
    shown = exposure_order(bars)
    if not shown:
        _empty(ax, title)
        return fig
    y = list(range(len(shown)))
    longs = [abs(b.long_usd) for b in shown]
    shorts = [-abs(b.short_usd) for b in shown]
    nets = [lo + sh for lo, sh in zip(longs, shorts, strict=True)]
    ax.barh(y, longs, color=LONG_COLOUR, height=0.6, label="Long")
    ax.barh(y, shorts, color=SHORT_COLOUR, height=0.6, label="Short")
    ax.scatter(nets, y, marker="D", s=36, c=TEXT, edgecolors="white", linewidths=1.2, zorder=3)
    ax.axvline(0, color=TEXT, linewidth=0.8)
    ax.set_yticks(y, [b.underlying for b in shown])
    ax.invert_yaxis()  # biggest exposure on top, where the eye starts
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.usd_compact(v)))
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    net_handle = Line2D(
        [], [], marker="D", linestyle="", markerfacecolor=TEXT, markeredgecolor="white"
    )
    handles = [Patch(color=LONG_COLOUR), Patch(color=SHORT_COLOUR), net_handle]
    ax.legend(handles, ["Long", "Short", "Net"], fontsize=FONT_PT, loc="lower right")
    _title(ax, title)
    return fig


def ladder_order(rows: Sequence[LadderRow]) -> list[LadderRow]:
    """Finite rows, closest to liquidation first, at most ``MAX_LADDER_ROWS``."""
    ok = [r for r in rows if _finite(r.mark, r.liquidation, r.distance_pct)]
    ok.sort(key=lambda r: (r.distance_pct, r.label))
    return ok[:MAX_LADDER_ROWS]


def ladder_rows(digest: Digest) -> list[LadderRow]:
    """The digest's closest positions, coloured by the accounts' own liquidation rules."""
    return [
        LadderRow(
            f"{c.account} {c.symbol.split('/')[0]} {c.side}",
            c.mark or float("nan"),
            c.liquidation or float("nan"),
            c.distance_pct,
            None if c.severity is None else c.severity.value,
        )
        for c in digest.closest
    ]


def ladder_chart(digest: Digest) -> bytes:
    """The digest's ladder, with a dashed line at each level its accounts' rules alert at."""
    return ladder_png(ladder_rows(digest), levels=digest.levels)


def ladder_png(
    rows: Sequence[LadderRow],
    *,
    levels: Sequence[float] | None = None,
    title: str = "Distance to liquidation",
) -> bytes:
    return _png(ladder_figure(rows, levels=levels, title=title))


def ladder_figure(
    rows: Sequence[LadderRow],
    *,
    levels: Sequence[float] | None = None,
    title: str = "Distance to liquidation",
) -> Figure:
    """Bars of distance to liquidation coloured by severity, closest on top, each with its
    "mark → liquidation" prices; ``levels`` (% from liquidation, the alert rules' thresholds)
    are drawn dashed so the ladder shows which rule would fire. None: the levels of the rules
    every account is born with."""
    levels = DEFAULT_LEVELS if levels is None else levels
    fig, ax = _new_figure()
    shown = ladder_order(rows)
    if not shown:
        _empty(ax, title)
        return fig
    y = list(range(len(shown)))
    # A position already past its liquidation price sits at 0: the axis starts at "liquidated".
    widths = [max(r.distance_pct, 0.0) for r in shown]
    colours = [SEVERITY_COLOURS.get(r.severity, SEVERITY_COLOURS[None]) for r in shown]
    ax.barh(y, widths, color=colours, height=0.6)
    # Headroom on the right for the "mark → liq" text; always show every alert level (and
    # some width when every bar is at 0 and no rule gives a level).
    right = max([*widths, *levels, 1.0]) * 1.6
    ax.set_xlim(0, right)
    _prices(ax, shown, widths, right)
    for level in levels:
        ax.axvline(level, color="#666666", linestyle="--", linewidth=1)
    ax.set_yticks(y, [r.label for r in shown])
    ax.invert_yaxis()  # closest to liquidation on top
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.axis_pct(v)))
    ax.set_xlabel("% from liquidation", fontsize=FONT_PT, color=TEXT)
    _severity_legend(ax, shown)
    _title(ax, title)
    return fig


def _prices(ax: Axes, shown: Sequence[LadderRow], widths: Sequence[float], right: float) -> None:
    """ "mark → liquidation" at the end of each bar."""
    # A white backing keeps the prices legible where they cross the dashed level lines.
    backing = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1}
    for yi, (width, row) in enumerate(zip(widths, shown, strict=True)):
        text = f"{fmt.price(row.mark)} → {fmt.price(row.liquidation)}"
        ax.text(
            width + right * 0.01, yi, text, va="center", fontsize=FONT_PT, color=TEXT, bbox=backing
        )


def _severity_legend(ax: Axes, shown: Sequence[LadderRow]) -> None:
    present = [s for s in SEVERITY_COLOURS if any(r.severity == s for r in shown)]
    if present:
        handles = [Patch(color=SEVERITY_COLOURS[s]) for s in present]
        labels = [s or "no alert" for s in present]
        # Top rows are the shortest bars, so the upper right is the free corner.
        ax.legend(handles, labels, fontsize=FONT_PT, loc="upper right")


def equity_window(points: Sequence[EquityPoint]) -> list[EquityPoint]:
    """Points with a finite time inside the 30 days before the newest one, oldest first."""
    timed = [p for p in points if _finite(p.at)]
    if not timed:
        return []
    newest = max(p.at for p in timed)
    return sorted((p for p in timed if p.at >= newest - EQUITY_WINDOW_S), key=lambda p: p.at)


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, tz=UTC)


def equity_png(
    points: Sequence[EquityPoint], *, title: str = "Equity and leverage, 30 days"
) -> bytes:
    return _png(equity_figure(points, title=title))


def equity_figure(
    points: Sequence[EquityPoint], *, title: str = "Equity and leverage, 30 days"
) -> Figure:
    """Equity (left axis) and leverage (right axis) over the last 30 days, in UTC."""
    fig, ax = _new_figure()
    window = equity_window(points)
    # Each series drops its own non-finite values so one bad leverage sample keeps its equity.
    equity = [(_utc(p.at), p.equity_usd) for p in window if _finite(p.equity_usd)]
    leverage = [(_utc(p.at), p.leverage) for p in window if _finite(p.leverage)]
    if not equity and not leverage:
        _empty(ax, title)
        return fig
    lev_ax = ax.twinx()
    lev_ax.tick_params(labelsize=FONT_PT, colors=TEXT)
    if equity:
        ax.plot(*zip(*equity, strict=True), color=EQUITY_COLOUR, linewidth=1.6)
    if leverage:
        lev_ax.plot(*zip(*leverage, strict=True), color=LEVERAGE_COLOUR, linewidth=1.2)
    # matplotlib.dates ships these constructors without annotations.
    locator = mdates.AutoDateLocator(tz=UTC, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    dates = mdates.ConciseDateFormatter(locator, tz=UTC)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(dates)
    # A new account has minutes of history, for which the date locator has no tick interval
    # (it warns): show at least the last hour.
    times = [t for t, _ in equity or leverage]
    if times[-1] - times[0] < timedelta(hours=1):
        start, end = times[-1] - timedelta(hours=1), times[-1] + timedelta(minutes=5)
        span = mdates.date2num([start, end])  # type: ignore[no-untyped-call]
        ax.set_xlim(float(span[0]), float(span[1]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.usd_compact(v)))
    lev_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.axis_ratio(v)))
    ax.set_ylabel("Equity (USD)", fontsize=FONT_PT, color=EQUITY_COLOUR)
    lev_ax.set_ylabel("Leverage", fontsize=FONT_PT, color=LEVERAGE_COLOUR)
    ax.set_xlabel("Date (UTC)", fontsize=FONT_PT, color=TEXT)
    ax.grid(color=GRID, linewidth=0.6)
    _title(ax, title)
    return fig


async def render(fn: Callable[..., bytes], *args: Any, **kwargs: Any) -> bytes:
    """Run a renderer in a worker thread: a chart takes ~100 ms of CPU the loop can't spare."""
    return await asyncio.to_thread(fn, *args, **kwargs)


class ChartCache:
    """LRU of rendered PNGs keyed by the caller (e.g. ``("ladder", accounts, taken_at)``).

    Concurrent requests for one key share a single in-flight render, so a burst of ``/chart``
    commands after a snapshot draws the chart once. Failures are not cached.
    """

    def __init__(self, max_entries: int = CACHE_SIZE) -> None:
        self._max = max_entries
        self._done: OrderedDict[Hashable, bytes] = OrderedDict()
        self._inflight: dict[Hashable, asyncio.Task[bytes]] = {}

    def __len__(self) -> int:
        return len(self._done)

    async def get_or_render(
        self, key: Hashable, fn: Callable[..., bytes], *args: Any, **kwargs: Any
    ) -> bytes:
        if key in self._done:
            self._done.move_to_end(key)
            return self._done[key]
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fill(key, fn, args, kwargs))
            task.add_done_callback(_retrieve)
            self._inflight[key] = task
        # Shield: one impatient caller being cancelled must not cancel the others' render.
        return await asyncio.shield(task)

    async def _fill(
        self, key: Hashable, fn: Callable[..., bytes], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> bytes:
        try:
            png = await render(fn, *args, **kwargs)
            self._done[key] = png
            while len(self._done) > self._max:
                self._done.popitem(last=False)
            return png
        finally:
            del self._inflight[key]


def _retrieve(task: asyncio.Task[bytes]) -> None:
    # Every waiter may have been cancelled; read the exception so asyncio doesn't log it as lost.
    if not task.cancelled():
        task.exception()
