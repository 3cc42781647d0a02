"""PNG charts for the daily exposure digest: exposure and the liquidation ladder (the equity
chart is ``chart_equity``'s; shared pieces are ``chart_base``'s, re-exported here).

Rendering uses matplotlib's object API (``Figure`` + ``FigureCanvasAgg``) and never pyplot:
pyplot keeps global figure state, which is not safe when charts render in worker threads, while
separate Agg figures are. Renderers are pure (data in, PNG bytes out) and never raise on empty or
non-finite input, so a digest always has a picture to post. ``render`` moves the CPU-bound work
off the event loop and ``ChartCache`` makes sure one snapshot's chart is drawn once.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from bot.digest.build import Digest
from bot.digest.chart_base import (
    BACKGROUND,
    CACHE_SIZE,
    DEFAULT_LEVELS,
    EQUITY_COLOUR,
    FONT_PT,
    GRID,
    LEVERAGE_COLOUR,
    LONG_COLOUR,
    MAX_EXPOSURE_BARS,
    MAX_LADDER_ROWS,
    SEVERITY_COLOURS,
    SHORT_COLOUR,
    STALE_ALPHA,
    STALE_HATCH,
    TEXT,
    EquityPoint,
    ExposureBar,
    LadderRow,
    empty,
    finite,
    new_figure,
    png,
    set_title,
)
from bot.digest.chart_equity import equity_chart, equity_figure, equity_png, equity_window
from bot.render import format as fmt
from bot.render.symbols import short_symbol

#: What callers and tests import from here, wherever it is defined.
__all__ = [
    "BACKGROUND", "DEFAULT_LEVELS", "EQUITY_COLOUR", "LEVERAGE_COLOUR", "LONG_COLOUR",
    "SEVERITY_COLOURS", "SHORT_COLOUR", "ChartCache", "EquityPoint", "ExposureBar", "LadderRow",
    "equity_chart", "equity_figure", "equity_png", "equity_window", "exposure_figure",
    "exposure_order", "exposure_png", "ladder_chart", "ladder_figure", "ladder_order",
    "ladder_png", "ladder_rows", "render",
]  # fmt: skip


def exposure_order(bars: Sequence[ExposureBar]) -> list[ExposureBar]:
    """Finite bars, largest gross exposure first, at most ``MAX_EXPOSURE_BARS``."""
    ok = [b for b in bars if finite(b.long_usd, b.short_usd)]
    ok.sort(key=lambda b: (-(abs(b.long_usd) + abs(b.short_usd)), b.underlying))
    return ok[:MAX_EXPOSURE_BARS]


def exposure_png(bars: Sequence[ExposureBar], *, title: str = "Exposure by underlying") -> bytes:
    return png(exposure_figure(bars, title=title))


def exposure_figure(
    bars: Sequence[ExposureBar], *, title: str = "Exposure by underlying"
) -> Figure:
    """Long bars right, short bars left and a diamond at the net, largest exposure on top."""
    fig, ax = new_figure()
    shown = exposure_order(bars)
    if not shown:
        empty(ax, title)
        return fig
    y = list(range(len(shown)))
    longs = [abs(b.long_usd) for b in shown]
    shorts = [-abs(b.short_usd) for b in shown]
    nets = [lo + sh for lo, sh in zip(longs, shorts, strict=True)]
    ax.barh(y, longs, color=LONG_COLOUR, height=0.6, label="Long")
    ax.barh(y, shorts, color=SHORT_COLOUR, height=0.6, label="Short")
    stale = _stale_overlay(ax, y, shown, longs, shorts)
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
    handles: list[Patch | Line2D] = [Patch(color=LONG_COLOUR), Patch(color=SHORT_COLOUR)]
    labels = ["Long", "Short"]
    if stale:
        handles.append(_stale_patch())
        labels.append("stale figures")
    ax.legend([*handles, net_handle], [*labels, "Net"], fontsize=FONT_PT, loc="lower right")
    set_title(ax, title)
    return fig


def _stale_patch() -> Patch:
    return Patch(facecolor="white", edgecolor=TEXT, hatch=STALE_HATCH)


def _stale_overlay(
    ax: Axes,
    y: Sequence[int],
    shown: Sequence[ExposureBar],
    longs: Sequence[float],
    shorts: Sequence[float],
) -> bool:
    """Hatch the stale share of each bar at its outer end (split long and short in the bar's
    own proportion: the stale accounts' long/short split is not kept); True if any."""
    drawn = False
    for yi, bar, lo, sh in zip(y, shown, longs, shorts, strict=True):
        gross = lo - sh
        if not (bar.stale_usd > 0 and gross > 0):
            continue
        share = min(bar.stale_usd / gross, 1.0)
        for end in (lo, sh):
            if end:
                drawn_at = ax.barh(yi, -end * share, left=end, height=0.6, color="none",
                                   edgecolor="white", hatch=STALE_HATCH, linewidth=0)  # fmt: skip
                for patch in drawn_at:  # based at the bar's end: must not pin the axis there
                    patch.sticky_edges.x.clear()
        drawn = True
    return drawn


def ladder_order(rows: Sequence[LadderRow]) -> list[LadderRow]:
    """Finite rows, closest to liquidation first, at most ``MAX_LADDER_ROWS``."""
    ok = [r for r in rows if finite(r.mark, r.liquidation, r.distance_pct)]
    ok.sort(key=lambda r: (r.distance_pct, r.label))
    return ok[:MAX_LADDER_ROWS]


def ladder_rows(digest: Digest) -> list[LadderRow]:
    """The digest's closest positions, coloured by the accounts' own liquidation rules."""
    return [
        LadderRow(
            f"{c.account} {short_symbol(c.symbol)} {c.side}"
            + (" (stale)" if c.stale_as_of is not None else ""),
            c.mark or float("nan"),
            c.liquidation or float("nan"),
            c.distance_pct,
            None if c.severity is None else c.severity.value,
            stale=c.stale_as_of is not None,
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
    return png(ladder_figure(rows, levels=levels, title=title))


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
    fig, ax = new_figure()
    shown = ladder_order(rows)
    if not shown:
        empty(ax, title)
        return fig
    y = list(range(len(shown)))
    # A position already past its liquidation price sits at 0: the axis starts at "liquidated".
    widths = [max(r.distance_pct, 0.0) for r in shown]
    colours = [SEVERITY_COLOURS.get(r.severity, SEVERITY_COLOURS[None]) for r in shown]
    bars = ax.barh(y, widths, color=colours, height=0.6)
    for bar, row in zip(bars, shown, strict=True):
        if row.stale:  # an old reading: faded and hatched, never mistaken for a live one
            bar.set_alpha(STALE_ALPHA)
            bar.set_hatch(STALE_HATCH)
            bar.set_edgecolor("white")
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
    set_title(ax, title)
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
        if any(r.stale for r in shown):
            handles.append(_stale_patch())
            labels.append("stale figures")
        # Top rows are the shortest bars, so the upper right is the free corner.
        ax.legend(handles, labels, fontsize=FONT_PT, loc="upper right")


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
