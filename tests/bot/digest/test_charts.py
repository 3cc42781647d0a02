"""Charts for the daily digest: valid phone-sized PNGs with the data drawn in them, robust input
handling, and a cache that renders each snapshot's chart once, off the event loop."""

from __future__ import annotations

import asyncio
import io
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from PIL import Image

from bot.digest.charts import (
    EQUITY_COLOUR,
    LEVERAGE_COLOUR,
    LONG_COLOUR,
    SEVERITY_COLOURS,
    SHORT_COLOUR,
    ChartCache,
    EquityPoint,
    ExposureBar,
    LadderRow,
    equity_figure,
    equity_png,
    equity_window,
    exposure_figure,
    exposure_order,
    exposure_png,
    ladder_figure,
    ladder_order,
    ladder_png,
    render,
)

NAN = float("nan")
INF = float("inf")
NOW = 1_764_000_000.0  # 2025-11-24 UTC

EXPOSURES = [
    ExposureBar("BTC", 1_250_000.0, 400_000.0),
    ExposureBar("ETH", 300_000.0, 650_000.0),
    ExposureBar("SOL", 80_000.0, 0.0),
]
LADDER = [
    LadderRow("BTC-PERP long", 64_250.0, 52_100.0, 18.9, "info"),
    LadderRow("ETH-PERP short", 3_120.5, 3_260.0, 4.5, "critical"),
    LadderRow("SOL-PERP long", 142.3, 131.0, 7.9, "warning"),
    LadderRow("PEPE long", 0.0000123, 0.0000101, 17.9, None),
    LadderRow("ARB long", 1.10, 1.05, 4.55, "critical"),
    LadderRow("XRP short", 0.52, 0.56, 9.6, "warning"),
]
EQUITY = [
    EquityPoint(NOW - 3600 * h, 100_000 + 5_000 * math.sin(h / 20), 3 + math.cos(h / 30))
    for h in range(24 * 30)
]


def assert_phone_png(png: bytes) -> None:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    width, height = image.size
    assert 800 <= width <= 1000
    assert 500 <= height <= 700


def pixels(png: bytes, colour: str) -> int:
    """How many pixels of the PNG are ``colour`` (#rrggbb, give or take antialiasing)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - target).sum(axis=2) <= 12).sum())


#: Far fewer than one bar or line draws at 900x600, far more than antialiasing alone makes.
DRAWN = 500


# Inputs carry a non-finite row so one render covers both "realistic" and "NaN is skipped";
# the ordering helpers below prove the skipping itself.
SERIES = (LONG_COLOUR, SHORT_COLOUR, EQUITY_COLOUR, LEVERAGE_COLOUR, *SEVERITY_COLOURS.values())


@pytest.mark.parametrize(
    ("renderer", "data", "colours"),
    [
        (
            exposure_png,
            [*EXPOSURES, ExposureBar("DOGE", NAN, 1_000.0)],
            (LONG_COLOUR, SHORT_COLOUR),
        ),
        (ladder_png, [*LADDER, LadderRow("BAD", 1.0, 0.5, NAN, "info")], SEVERITY_COLOURS.values()),
        (equity_png, [*EQUITY, EquityPoint(NOW - 60, INF, 2.0)], (EQUITY_COLOUR, LEVERAGE_COLOUR)),
    ],
    ids=["exposure", "ladder", "equity"],
)
def test_realistic_inputs_render_phone_sized_png_with_every_series_drawn(
    renderer: Callable[..., bytes], data: list[Any], colours: Iterable[str]
) -> None:
    """The PNG is phone-sized and each series' colour covers a bar's or a line's worth of it."""
    png = renderer(data)
    assert_phone_png(png)
    assert {c: pixels(png, c) > DRAWN for c in colours} == dict.fromkeys(colours, True)


@pytest.mark.parametrize("renderer", [exposure_png, ladder_png, equity_png])
def test_empty_input_still_renders(renderer: Callable[..., bytes]) -> None:
    """An empty chart says so and draws no series."""
    png = renderer([])
    assert_phone_png(png)
    assert max(pixels(png, c) for c in SERIES) < DRAWN


def test_only_non_finite_input_falls_back_to_the_empty_chart() -> None:
    # Exposure and ladder draw exactly what their order helpers return, so [] means the empty
    # chart tested above; equity filters each series itself, so it gets a real render.
    assert exposure_order([ExposureBar("BTC", NAN, INF)]) == []
    assert ladder_order([LadderRow("BTC", NAN, 1.0, 3.0, "critical")]) == []
    assert_phone_png(equity_png([EquityPoint(NAN, 1.0, 1.0), EquityPoint(NOW, NAN, INF)]))


def test_same_input_gives_same_png() -> None:
    assert exposure_png(EXPOSURES) == exposure_png(EXPOSURES)


def test_ladder_orders_closest_first_and_skips_non_finite() -> None:
    rows = [*LADDER, LadderRow("NAN", 1.0, 0.9, NAN, None), LadderRow("INF", INF, 0.9, 1.0, None)]
    ordered = ladder_order(rows)
    assert [r.label for r in ordered] == [
        "ETH-PERP short",
        "ARB long",
        "SOL-PERP long",
        "XRP short",
        "PEPE long",
        "BTC-PERP long",
    ]


def test_ladder_keeps_the_15_closest() -> None:
    rows = [LadderRow(f"P{i}", 1.0, 0.9, float(i), "info") for i in range(20, 0, -1)]
    assert [r.distance_pct for r in ladder_order(rows)] == [float(i) for i in range(1, 16)]


def test_exposure_sorted_by_gross_top_12() -> None:
    bars = [ExposureBar(f"C{i}", float(i), float(i)) for i in range(20)]
    bars.append(ExposureBar("NAN", NAN, 1e12))
    ordered = exposure_order(bars)
    assert [b.underlying for b in ordered] == [f"C{i}" for i in range(19, 7, -1)]
    assert [b.underlying for b in exposure_order(EXPOSURES)] == ["BTC", "ETH", "SOL"]


def test_equity_window_is_30_days_before_newest_point() -> None:
    old = EquityPoint(NOW - 31 * 86_400, 1.0, 1.0)
    newest = EquityPoint(NOW + 3600, 1.0, 1.0)
    window = equity_window([newest, old, *EQUITY, EquityPoint(NAN, 1.0, 1.0)])
    assert old not in window
    assert window[-1] == newest
    assert [p.at for p in window] == sorted(p.at for p in window)
    assert min(p.at for p in window) >= newest.at - 30 * 86_400


def _bars(fig: Figure, container: int = 0) -> list[tuple[float, str]]:
    """(width, colour) of each bar of one ``barh`` call, top row first."""
    return [(r.get_width(), to_hex(r.get_facecolor())) for r in fig.axes[0].containers[container]]


def _dashed(fig: Figure) -> list[float]:
    """Where the dashed (alert level) lines cross the x axis."""
    return [
        float(np.asarray(line.get_xdata())[0])
        for line in fig.axes[0].get_lines()
        if line.get_linestyle() == "--"
    ]


def test_ladder_bars_are_distances_coloured_by_severity() -> None:
    """Closest first; each bar as long as its distance, in its severity's colour."""
    colour = SEVERITY_COLOURS
    assert _bars(ladder_figure(LADDER)) == [
        (4.5, colour["critical"]),
        (4.55, colour["critical"]),
        (7.9, colour["warning"]),
        (9.6, colour["warning"]),
        (17.9, colour[None]),
        (18.9, colour["info"]),
    ]


def test_ladder_prices_read_as_the_digest_text_writes_them() -> None:
    """Mark → liquidation in the shared price format: six significant figures."""
    texts = [t.get_text() for t in ladder_figure(LADDER).axes[0].texts]
    assert texts[0] == "3,120.5 → 3,260.0"  # ETH short, the closest
    assert texts[4] == "0.0000123000 → 0.0000101000"  # PEPE: plain decimals, no 1.23e-05


def test_ladder_draws_the_levels_it_is_given() -> None:
    """One dashed line per alert level, and room on the axis for the farthest one."""
    fig = ladder_figure(LADDER, levels=(3.0, 8.0, 25.0))
    assert _dashed(fig) == [3.0, 8.0, 25.0]
    assert fig.axes[0].get_xlim()[1] == pytest.approx(25.0 * 1.6)


def test_ladder_without_levels_draws_the_default_rules() -> None:
    """Not told: the 5 % and 10 % every new account's liquidation rules fire at."""
    assert _dashed(ladder_figure(LADDER)) == [5.0, 10.0]


def test_ladder_with_no_levels_draws_no_line() -> None:
    """Accounts without a liquidation rule: no dashed line claims a rule would fire there."""
    assert _dashed(ladder_figure(LADDER, levels=())) == []


def test_exposure_bars_long_right_short_left_net_marked() -> None:
    """Largest gross first; longs positive, shorts negative, the net diamond at their sum."""
    fig = exposure_figure(EXPOSURES)
    assert [w for w, _ in _bars(fig, 0)] == [1_250_000, 300_000, 80_000]
    assert [w for w, _ in _bars(fig, 1)] == [-400_000, -650_000, 0]
    nets = np.asarray(fig.axes[0].collections[0].get_offsets())[:, 0].tolist()
    assert nets == [850_000, -350_000, 80_000]


def test_equity_chart_plots_equity_and_leverage_in_time_order() -> None:
    """Equity on the left axis, leverage on the right, oldest point first."""
    fig = equity_figure(EQUITY)
    equity, leverage = (ax.get_lines()[0].get_ydata() for ax in fig.axes)
    oldest_first = sorted(EQUITY, key=lambda p: p.at)
    assert np.asarray(equity).tolist() == [p.equity_usd for p in oldest_first]
    assert np.asarray(leverage).tolist() == [p.leverage for p in oldest_first]


async def test_render_runs_off_the_event_loop_thread() -> None:
    seen: list[int] = []

    def renderer(tag: bytes, *, suffix: bytes) -> bytes:
        seen.append(threading.get_ident())
        return tag + suffix

    assert await render(renderer, b"png", suffix=b"!") == b"png!"
    assert seen and seen[0] != threading.get_ident()


class CountingRenderer:
    """Stands in for a chart renderer: slow enough to overlap, counts calls per key."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: dict[object, int] = {}
        self._lock = threading.Lock()

    def __call__(self, key: object) -> bytes:
        time.sleep(self.delay)
        with self._lock:
            self.calls[key] = self.calls.get(key, 0) + 1
        return repr(key).encode()


async def test_cache_renders_once_for_concurrent_requests() -> None:
    cache = ChartCache()
    fn = CountingRenderer(delay=0.05)
    key = ("ladder", ("acct-1", "acct-2"), NOW)
    results = await asyncio.gather(*(cache.get_or_render(key, fn, key) for _ in range(5)))
    assert fn.calls == {key: 1}
    assert len(set(results)) == 1
    assert await cache.get_or_render(key, fn, key) == results[0]
    assert fn.calls == {key: 1}


async def test_cache_evicts_least_recently_used_and_rerenders() -> None:
    cache = ChartCache()
    fn = CountingRenderer()
    for i in range(64):
        await cache.get_or_render(i, fn, i)
    await cache.get_or_render(0, fn, 0)  # touch: 0 is now the most recently used
    await cache.get_or_render(64, fn, 64)  # pushes out 1, the least recently used
    assert len(cache) == 64
    await cache.get_or_render(0, fn, 0)
    assert fn.calls[0] == 1
    await cache.get_or_render(1, fn, 1)
    assert fn.calls[1] == 2


async def test_cache_does_not_keep_failures() -> None:
    cache = ChartCache()
    attempts: list[int] = []

    def flaky() -> bytes:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("boom")
        return b"ok"

    with pytest.raises(RuntimeError):
        await cache.get_or_render("k", flaky)
    assert await cache.get_or_render("k", flaky) == b"ok"
    assert len(attempts) == 2


async def test_cancelled_waiter_does_not_cancel_the_shared_render() -> None:
    cache = ChartCache()
    fn = CountingRenderer(delay=0.1)
    first = asyncio.create_task(cache.get_or_render("k", fn, "k"))
    second = asyncio.create_task(cache.get_or_render("k", fn, "k"))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == b"'k'"
    assert fn.calls == {"k": 1}


def test_one_hourly_point_is_drawn_as_a_marker_with_the_start_noted() -> None:
    """An account's first hour has one point: a line through it draws nothing, so it gets a
    marker in each series' colour, and the chart says where the history starts (in the
    chat's zone)."""
    at = NOW  # 2025-11-24 16:00 UTC: 17:00 in Paris
    one = [EquityPoint(at, 12_500.0, 3.0)]
    png = equity_png(one, tz="Europe/Paris")
    assert pixels(png, EQUITY_COLOUR) > 40 and pixels(png, LEVERAGE_COLOUR) > 40
    notes = [t.get_text() for t in equity_figure(one, tz="Europe/Paris").axes[0].texts]
    assert "history starts 17:00" in notes
    # A month of history has no markers' worth of clutter and no note.
    assert not [t for t in equity_figure(EQUITY).axes[0].texts if "history" in t.get_text()]


def test_stale_figures_are_drawn_apart_in_the_ladder_and_the_exposure() -> None:
    """A stale account's ladder bar is faded and hatched and the legend names it; an
    exposure bar with a stale share gets a hatched end and the legend entry."""
    stale_row = LadderRow("hl SOL (USDC) long (stale)", 145.0, 138.5, 4.5, "critical", stale=True)
    rows = [LadderRow("live SOL-PERP long", 142.0, 133.5, 5.99, "warning"), stale_row]
    ax = ladder_figure(rows).axes[0]
    bars = {p.get_y(): p for p in ax.patches if p.get_height() == pytest.approx(0.6)}
    hatched = [p for p in bars.values() if p.get_hatch()]
    assert len(hatched) == 1 and hatched[0].get_alpha() == pytest.approx(0.45)
    legend = ax.get_legend()
    assert legend is not None and "stale figures" in [t.get_text() for t in legend.get_texts()]
    fresh = exposure_figure([ExposureBar("BTC", 1000.0, 0.0)]).axes[0]
    stale = exposure_figure([ExposureBar("BTC", 1000.0, 0.0, stale_usd=400.0)]).axes[0]
    assert not [p for p in fresh.patches if p.get_hatch()]
    assert [p.get_width() for p in stale.patches if p.get_hatch()] == [pytest.approx(-400.0)]
