"""`liqwatch analyze --shock PCT [--asset COIN] [--vol PCT]` and `--grid` on an option book:
the stress object's new fields beside the stable ones, the grid object, and bad vol shocks."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pytest

from bot.cli import main
from tests.bot.analysis.test_analyze_options import _file
from tests.engine.normalise.payloads import options as o

YEAR_S = 365 * 86_400
FORWARD, SIGMA = 95_400.0, 0.55  # the file's greeks: underlyingPrice and markImpliedVolatility


def _put(forward: float, sigma: float) -> float:
    """Black-76 put, r = 0, by hand: K·N(−d2) − F·N(−d1), at the file's time to expiry."""
    years = (o.EXPIRY_MS - o.TAKEN_MS) / 1000.0 / YEAR_S
    s = sigma * math.sqrt(years)
    d1 = (math.log(forward / o.STRIKE) + s * s / 2) / s
    n = NormalDist().cdf
    return o.STRIKE * n(-(d1 - s)) - forward * n(-d1)


@pytest.fixture
def book(tmp_path: Path) -> str:
    """A Bybit account short 5 BTC of the 90k put (USDC), its IV from ccxt's greeks."""
    path = tmp_path / "book.json"
    path.write_text(json.dumps(_file(timestamp=o.TAKEN_MS)), encoding="utf-8")
    return str(path)


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["analyze", *args, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_shock_with_vol_reprices_the_put(book: str, capsys: pytest.CaptureFixture[str]) -> None:
    """BTC −10 %, vol +20 %: the short put's PnL is −5·(P(85,860, 0.66) − P(95,400, 0.55)),
    by hand; the contract's keys stay, the new ones say how it was priced."""
    doc = _json(capsys, book, "--shock", "-10", "--asset", "BTC", "--vol", "20")
    stress = doc["stress"]
    want = -5.0 * (_put(FORWARD * 0.9, SIGMA * 1.2) - _put(FORWARD, SIGMA))
    assert stress["pnl"] == pytest.approx(want, rel=1e-9)
    assert stress["option_pnl"] == pytest.approx(want, rel=1e-9)
    assert stress["equity_after"] == pytest.approx(stress["equity_before"] + want, rel=1e-9)
    assert {"shock_pct", "underlying", "pnl", "equity_before", "equity_after", "liquidated"} <= set(
        stress
    )
    assert stress["vol_shock"] == {"value": 20.0, "unit": "pct", "label": "vol +20%"}
    assert (stress["options_repriced"], stress["options_by_delta"], stress["notes"]) == (1, 0, [])
    (pool,) = stress["pools"]
    assert pool["source"] == "engine"
    assert pool["margin_ratio_after"] > pool["margin_ratio_before"] > 0


def test_vol_in_points_as_a_separate_word(book: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--vol -5pt` (not `--vol=-5pt`): σ 0.55 → 0.50 at an unmoved price."""
    doc = _json(capsys, book, "--shock", "-0.0001", "--vol", "-5pt")
    assert doc["stress"]["vol_shock"]["unit"] == "pt"
    want = -5.0 * (_put(FORWARD * 0.999999, 0.50) - _put(FORWARD, SIGMA))
    assert doc["stress"]["pnl"] == pytest.approx(want, rel=1e-6)


def test_grid_json(book: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--grid adds "stress_grid": 9 spot × 5 vol cells, each the PnL of that shock; the short
    put loses when BTC falls and gains when it rises, and more so with vol down."""
    grid = _json(capsys, book, "--grid")["stress_grid"]
    assert grid["spot_pct"] == [-20, -15, -10, -5, 0, 5, 10, 15, 20]
    assert grid["vol_pct"] == [-30, -15, 0, 15, 30]
    assert grid["vol_shock"] == "relative" and grid["underlying"] == "all"
    pnl = grid["pnl"]
    assert len(pnl) == 9 and all(len(row) == 5 for row in pnl)
    assert pnl[4][2] == 0.0
    want = -5.0 * (_put(FORWARD * 0.8, SIGMA * 1.3) - _put(FORWARD, SIGMA))
    assert pnl[0][4] == pytest.approx(want, rel=1e-9)
    assert pnl[0][2] < 0 < pnl[8][2] and pnl[8][0] > pnl[8][4]
    assert len(grid["liquidates"]) == 9 and isinstance(grid["liquidates"][0][0], bool)
    assert set(grid["pools"]) and "margin_ratio_after" in next(iter(grid["pools"].values()))


def test_grid_table(book: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The table mode prints the shock's lines and the grid, rows by spot shock."""
    assert main(["analyze", book, "--shock", "-10", "--vol", "+20%", "--grid"]) == 0
    out = capsys.readouterr().out
    assert "Stress all -10.0%, vol +20%" in out
    assert "Stress grid all: equity change, USD" in out
    assert "1 option(s) re-priced in full (Black-76)" in out
    assert max(len(line) for line in out.split("Stress grid")[1].splitlines()) <= 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shock", "-10", "--vol", "-120"], "--vol -120: vol shock -120% would make "
                                              "volatility negative."),
        (["--shock", "-10", "--vol", "up"], "--vol up: not a vol shock like 20 (percent) or "
                                            "5pt (vol points)"),
        (["--vol", "20"], "--vol needs --shock PCT (the price move it comes with)"),
    ],
)  # fmt: skip
def test_a_bad_vol_shock_exits_2_with_one_line(
    book: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["analyze", book, *args]) == 2
    assert capsys.readouterr().err == f"liqwatch: error: {message}\n"
