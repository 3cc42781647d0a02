"""The /stress reply and the grid table, rendered from hand-built views: phone width, compact
amounts, the venue's ratio named, the liquidating cells starred."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.render.stress import PoolView, ShockView, shock_text
from bot.render.stress_grid import GridPoolView, GridView, grid_lines, grid_text, short_usd, summed
from bot.render.views import LiquidatedView, StressView
from engine.stress_options import VolShock


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"), (950.4, "+950"), (-12.0, "-12"), (-1_234.0, "-1.2k"), (-9_960.0, "-10k"),
        (-12_345.0, "-12k"), (-123_456.0, "-123k"), (3_400_000.0, "+3.4M"), (None, "—"),
        (999.6, "+1.0k"),
    ],
)  # fmt: skip
def test_short_amounts(value: float | None, text: str) -> None:
    """At most five characters, so a cell and its star fit six."""
    assert short_usd(value) == text


def _grid(pnl: list[list[float | None]], hits: list[list[bool]]) -> GridView:
    return GridView(
        underlying="BTC", spot_pct=(-20.0, 0.0, 20.0), vol_pct=(-30.0, 0.0, 30.0),
        equity_before_usd=100_000.0,
        pnl_usd=tuple(tuple(r) for r in pnl),
        equity_after_usd=tuple(tuple(None if v is None else 100_000.0 + v for v in r)
                               for r in pnl),
        liquidates=tuple(tuple(r) for r in hits),
        pools=(GridPoolView("BTC", "venue", ((0.1,) * 3,) * 3),),
        options_repriced=2, options_by_delta=1, notes=("X: not re-priced",),
    )  # fmt: skip


WIDE = _grid(
    [[-123_456.0, -99_999.0, -100_000.0], [2_500.0, 0.0, -2_500.0], [None, -7.0, 1e9]],
    [[True, True, True], [False, False, False], [False, False, True]],
)


def test_the_grid_fits_a_phone() -> None:
    """The widest cells (−123k with its star) keep every row within 40 characters."""
    lines = grid_lines(WIDE)
    assert lines == [
        "       -30%     0%   +30%",
        "-20% -123k* -100k* -100k*",
        "  0%  +2.5k      0  -2.5k",
        "+20%      —     -7 +1.0B*",
    ]
    assert max(len(line) for line in grid_text(WIDE).splitlines()[2:6]) <= 40


def test_the_grid_text_says_what_it_shows() -> None:
    """Title, axes, legend, the venue's ratio, how options were priced and the notes."""
    assert grid_text(WIDE).splitlines()[:2] == [
        "Stress grid BTC: equity change, USD",
        "rows spot move, columns vol (σ·(1+v))",
    ]
    assert grid_text(WIDE).splitlines()[6:] == [
        "* liquidates a position",
        "margin BTC after: the venue's (portfolio margin)",
        "2 option(s) re-priced in full (Black-76)",
        "note: X: not re-priced",
    ]


def test_the_grid_shows_the_equity_change_with_coin_collateral() -> None:
    """A BTC-margined account: −10 % loses its positions' PnL (−1,000) and its collateral's
    value (1 BTC at 60,000 → 54,000: −6,000); the cell shows the equity change, −7,000."""
    grid = _grid([[-1_000.0]], [[False]])
    grid = replace(grid, spot_pct=(-10.0,), vol_pct=(0.0,), equity_after_usd=((93_000.0,),))
    assert grid.change_usd == ((-7_000.0,),)
    assert grid_lines(grid)[1].split() == ["-10%", "-7.0k"]
    unknown = replace(grid, equity_before_usd=None)
    assert unknown.change_usd == ((None,),)


def test_grids_of_several_accounts_add_up() -> None:
    """PnL and equity add, a cell liquidates if it does anywhere, an unknown cell stays so."""
    other = _grid([[1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]], [[False] * 3] * 3)
    both = summed([WIDE, other])
    assert both.pnl_usd[1] == (2_501.0, 1.0, -2_499.0)
    assert both.pnl_usd[2][0] is None
    assert both.equity_before_usd == 200_000.0
    assert both.liquidates == WIDE.liquidates
    assert both.pools == () and both.options_repriced == 4


def _shock(pools: tuple[PoolView, ...], liquidated: tuple[LiquidatedView, ...]) -> ShockView:
    base = StressView(-10.0, "BTC", -9_200.0, 320_000.0, 278_800.0, liquidated)
    return ShockView(base, VolShock(5.0, points=True), -19_200.0, 2, 0, pools, ("n",))


def test_the_shock_reply() -> None:
    """Headline with the vol shock, PnL with the options' part, equity, each pool's ratio
    (the venue's named), who goes, and the notes."""
    pools = (
        PoolView("BTC", "venue", 5.0, 4.84, 0.315625, 0.063125, 0.0652, wiped=False),
        PoolView("USDC", "engine", 100.0, -5.0, 50.0, 0.5, None, wiped=True),
    )
    hit = LiquidatedView("BTC/USDC:USDC", "long", 57_600.0, 58_000.0)
    assert shock_text(_shock(pools, (hit,))).splitlines() == [
        "Stress BTC -10.0%, vol +5pt",
        "PnL -9,200.00 USD (options -19,200)",
        "equity 320,000 → 278,800 USD",
        "margin BTC 6.31% → 6.52% (the venue's, portfolio margin)",
        "margin USDC 50.0% → equity gone",
        "LIQUIDATED BTC/USDC:USDC long (mark 57,600.0, liq 58,000.0)",
        "2 option(s) re-priced in full (Black-76)",
        "note: n",
    ]
