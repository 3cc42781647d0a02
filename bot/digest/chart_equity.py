"""The digest's equity and leverage chart, in the chat's time zone.

A young account has one hourly point: a line through one point draws nothing, so every point
gets a marker while the history is short, and the chart says where the history starts. When the
digest's totals hold stale figures (a blind account), the chart says so: its last point is not
a current reading of every account.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bot.digest.build import Digest
from bot.digest.chart_base import (
    EQUITY_COLOUR,
    EQUITY_WINDOW_S,
    FONT_PT,
    GRID,
    LEVERAGE_COLOUR,
    TEXT,
    EquityPoint,
    empty,
    finite,
    new_figure,
    note,
    png,
    set_title,
)
from bot.render import format as fmt

TITLE = "Equity and leverage, 30 days"
#: Up to this many points each gets a marker (a day of hourly points); beyond, the line is
#: dense enough to read and markers would only clutter it.
MARKERS_UP_TO = 24
#: A history shorter than this is young: the chart notes where it starts.
YOUNG_S = 2 * 86_400


def equity_window(points: Sequence[EquityPoint]) -> list[EquityPoint]:
    """Points with a finite time inside the 30 days before the newest one, oldest first."""
    timed = [p for p in points if finite(p.at)]
    if not timed:
        return []
    newest = max(p.at for p in timed)
    return sorted((p for p in timed if p.at >= newest - EQUITY_WINDOW_S), key=lambda p: p.at)


def equity_chart(digest: Digest, *, tz: str = "UTC") -> bytes:
    """The digest's history, noting the stale accounts its newest figures include."""
    points = [EquityPoint(p.at, p.equity_usd, p.leverage) for p in digest.history]
    stale = tuple(line.label for line in digest.stale)
    return png(equity_figure(points, tz=tz, stale=stale))


def equity_png(points: Sequence[EquityPoint], *, title: str = TITLE, tz: str = "UTC") -> bytes:
    return png(equity_figure(points, title=title, tz=tz))


def equity_figure(
    points: Sequence[EquityPoint],
    *,
    title: str = TITLE,
    tz: str = "UTC",
    stale: Sequence[str] = (),
) -> Figure:
    """Equity (left axis) and leverage (right axis) over the last 30 days, in ``tz``."""
    zone = ZoneInfo(tz)
    fig, ax = new_figure()
    window = equity_window(points)
    # Each series drops its own non-finite values so one bad leverage sample keeps its equity.
    equity = [(_local(p.at, zone), p.equity_usd) for p in window if finite(p.equity_usd)]
    leverage = [(_local(p.at, zone), p.leverage) for p in window if finite(p.leverage)]
    if not equity and not leverage:
        empty(ax, title)
        return fig
    lev_ax = ax.twinx()
    lev_ax.tick_params(labelsize=FONT_PT, colors=TEXT)
    marker = "o" if max(len(equity), len(leverage)) <= MARKERS_UP_TO else None
    if equity:
        ax.plot(*zip(*equity, strict=True), color=EQUITY_COLOUR, linewidth=1.6,
                marker=marker, markersize=6)  # fmt: skip
    if leverage:
        lev_ax.plot(*zip(*leverage, strict=True), color=LEVERAGE_COLOUR, linewidth=1.2,
                    marker=marker and "s", markersize=5)  # fmt: skip
    times = [t for t, _ in equity or leverage]
    _time_axis(ax, zone, times)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.usd_compact(v)))
    lev_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt.axis_ratio(v)))
    ax.set_ylabel("Equity (USD)", fontsize=FONT_PT, color=EQUITY_COLOUR)
    lev_ax.set_ylabel("Leverage", fontsize=FONT_PT, color=LEVERAGE_COLOUR)
    ax.set_xlabel(f"Date ({tz})", fontsize=FONT_PT, color=TEXT)
    ax.grid(color=GRID, linewidth=0.6)
    remarks = []
    if (times[-1] - times[0]).total_seconds() < YOUNG_S:
        remarks.append(f"history starts {_start(times[0], times[-1])}")
    if stale:
        remarks.append(f"latest includes stale figures: {', '.join(stale)}")
    if remarks:
        note(ax, "\n".join(remarks))
    set_title(ax, title)
    return fig


def _local(at: float, zone: tzinfo) -> datetime:
    return datetime.fromtimestamp(at, tz=zone)


def _start(first: datetime, last: datetime) -> str:
    """ "14:00", or "06 Dec 14:00" when the history starts on an earlier day."""
    return first.strftime("%H:%M" if first.date() == last.date() else "%d %b %H:%M")


def _time_axis(ax: Axes, zone: tzinfo, times: Sequence[datetime]) -> None:
    # matplotlib.dates ships these constructors without annotations.
    locator = mdates.AutoDateLocator(tz=zone, maxticks=7)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    dates = mdates.ConciseDateFormatter(locator, tz=zone)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(dates)
    # A new account has minutes of history, for which the date locator has no tick interval
    # (it warns), and one point has no width at all: show at least the hour before the last
    # point, with a margin after it so its marker is not cut by the frame.
    if times[-1] - times[0] < timedelta(hours=1):
        start, end = times[-1] - timedelta(hours=1), times[-1] + timedelta(minutes=5)
        span = mdates.date2num([start, end])  # type: ignore[no-untyped-call]
        ax.set_xlim(float(span[0]), float(span[1]))
