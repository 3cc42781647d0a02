"""`liqwatch analyze`: the input and output contracts, and a clear line for bad input."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.analysis.snapshot import parse
from bot.cli import main
from bot.render.report import report
from engine.analysis import analyze

ROOT = Path(__file__).resolve().parents[3]
BINANCE = ROOT / "examples" / "binanceusdm.json"
HYPERLIQUID = ROOT / "examples" / "hyperliquid.json"

CONTRACT_KEYS = {
    "symbol",
    "side",
    "contracts",
    "notional",
    "entry_price",
    "mark_price",
    "leverage",
    "margin_mode",
    "unrealized_pnl",
    "exchange_liquidation_price",
    "computed_liquidation_price",
    "liquidation_price",
    "liquidation_formula",
    "distance_to_liquidation_pct",
    "liquidation_probability",
    "diagnostics",
}


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main(["analyze", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_output_keeps_the_documented_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """Every contract key is present on every position, plus the account figures."""
    doc = _json(capsys, str(BINANCE))
    assert doc["exchange"] == "binanceusdm"
    assert {
        "equity",
        "gross_exposure",
        "net_exposure",
        "effective_leverage",
        "margin_ratio",
    } <= set(doc["account"])
    assert doc["positions"]
    for position in doc["positions"]:
        assert set(position) >= CONTRACT_KEYS
        assert position["side"] in ("long", "short")


def test_engine_and_venue_agree_on_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    """The example venue prices are what the venue formula gives: the engine's match to 1e-6."""
    for path in (BINANCE, HYPERLIQUID):
        for p in _json(capsys, str(path))["positions"]:
            assert p["liquidation_formula"]
            assert p["computed_liquidation_price"] == pytest.approx(
                p["exchange_liquidation_price"], rel=1e-6
            )


def test_distance_is_measured_from_the_mark(capsys: pytest.CaptureFixture[str]) -> None:
    """distance_to_liquidation_pct = |mark − liq| / mark × 100 for every position."""
    for p in _json(capsys, str(BINANCE))["positions"]:
        expected = abs(p["mark_price"] - p["liquidation_price"]) / p["mark_price"] * 100
        assert p["distance_to_liquidation_pct"] == pytest.approx(expected)


def test_table_names_the_closest_position_and_advice(capsys: pytest.CaptureFixture[str]) -> None:
    """The readable view lists each symbol and advises on the position nearest liquidation."""
    assert main(["analyze", str(BINANCE)]) == 0
    out = capsys.readouterr().out
    assert "SOL/USDT:USDT" in out and "BTC/USDT:USDT" in out
    assert "Advice:" in out and "SOL/USDT:USDT long" in out.split("Advice:")[1]


def test_shock_reports_equity_after_and_liquidations(capsys: pytest.CaptureFixture[str]) -> None:
    """A −10 % shock on SOL liquidates the isolated SOL long (5.99 % from liquidation)."""
    doc = _json(capsys, str(BINANCE), "--shock", "-10", "--asset", "SOL")
    assert doc["stress"]["underlying"] == "SOL"
    assert [hit["symbol"] for hit in doc["stress"]["liquidated"]] == ["SOL/USDT:USDT"]
    assert doc["stress"]["equity_after"] < doc["stress"]["equity_before"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"positions": []}', 'missing required key "exchange"'),
        ('{"exchange": "okx"}', 'missing required key "positions"'),
        ('{"exchange": "okx", "positions": [], "horizon_hours": -1}', "horizon_hours"),
        ('{"exchange": "okx", "positions": [], "volatility": {"BTC": "x"}}', "volatility"),
    ],
)
def test_bad_files_exit_2_with_one_line_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    """Each malformed snapshot gives status 2 and a single stderr line, no traceback."""
    path = tmp_path / "snap.json"
    path.write_text(content)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist is reported as such."""
    assert main(["analyze", str(tmp_path / "nope.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_garbage_position_does_not_hide_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A string and a position without a mark sit beside the good ones, with diagnostics."""
    doc = json.loads(BINANCE.read_text())
    good = len(doc["positions"])
    doc["positions"] += ["garbage", {"symbol": "DOGE/USDT:USDT", "contracts": 5, "side": "long"}]
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(doc))
    out = _json(capsys, str(path))["positions"]
    assert len(out) == good + 2
    assert all(p["liquidation_price"] is not None for p in out[:good])
    assert any("not an object" in d for d in out[good]["diagnostics"])
    assert any("mark" in d for d in out[good + 1]["diagnostics"])


def test_the_console_script_module_runs_in_a_fresh_process() -> None:
    """`python -m bot analyze FILE --json` prints parseable JSON and exits 0."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "analyze", str(HYPERLIQUID), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["exchange"] == "hyperliquid"


def _example() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(BINANCE.read_text())
    return doc


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


#: Inputs the engine cannot compute with: each is one line on stderr and status 2.
REFUSED: dict[str, tuple[Callable[[dict[str, Any]], str], str]] = {
    "500 digits in a position": (
        lambda d: _dump(d, ("positions", 0, "contracts"), 10**500),
        "positions[0].contracts is a number too large",
    ),
    "500 digits in raw info": (
        lambda d: _dump(d, ("positions", 2, "info", "isolatedWallet"), -(10**500)),
        "positions[2].info.isolatedWallet is a number too large",
    ),
    "500 digits in the balance": (
        lambda d: _dump(d, ("balance", "info", "totalWalletBalance"), 10**500),
        "balance.info.totalWalletBalance is a number too large",
    ),
    "500 digits in a tier": (
        lambda d: _dump(d, ("leverage_tiers", "SOL/USDT:USDT", 0, "minNotional"), 10**500),
        "leverage_tiers.SOL/USDT:USDT[0].minNotional is a number too large",
    ),
    "500 digits in horizon_hours": (
        lambda d: _dump(d, ("horizon_hours",), 10**500),
        "horizon_hours is a number too large",
    ),
    "500 digits in volatility": (
        lambda d: _dump(d, ("volatility", "BTC"), 10**500),
        "volatility.BTC is a number too large",
    ),
    "5,000 digits (past Python's own limit)": (
        lambda d: '{"exchange": "okx", "positions": [], "horizon_hours": ' + "9" * 5000 + "}",
        "a number has too many digits",
    ),
    "100k-deep nesting": (lambda d: _deep(100_000), "nested too deeply"),
    "100k-deep nesting in a position": (
        lambda d: '{"exchange": "okx", "positions": [' + _deep(100_000) + "]}",
        "nested too deeply",
    ),
    "a string tier table": (
        lambda d: _dump(d, ("leverage_tiers", "SOL/USDT:USDT"), "abc"),
        '"leverage_tiers" of "SOL/USDT:USDT" must be a list of tier objects',
    ),
    "a tier table of strings": (
        lambda d: _dump(d, ("leverage_tiers", "SOL/USDT:USDT"), ["abc"]),
        '"leverage_tiers" of "SOL/USDT:USDT" must be a list of tier objects',
    ),
    "a bad tier table under a key with a line break": (
        lambda d: _dump(d, ("leverage_tiers", "SOL\nUSDT"), "abc"),
        '"leverage_tiers" of "SOL\\nUSDT" must be a list of tier objects',
    ),
    "horizon_hours: Infinity": (
        lambda d: _dump(d, ("horizon_hours",), float("inf")),
        '"horizon_hours" must be a positive, finite number',
    ),
    "horizon_hours: NaN": (
        lambda d: _dump(d, ("horizon_hours",), float("nan")),
        '"horizon_hours" must be a positive, finite number',
    ),
}


def _dump(doc: dict[str, Any], where: tuple[str | int, ...], value: Any) -> str:
    """``doc`` as JSON text with ``value`` at ``where`` (NaN and Infinity as Python writes them)."""
    target: Any = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return json.dumps(doc)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_inputs_beyond_computation_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """Huge numbers, deep nesting, a tier table that is not a list of tiers and an infinite
    horizon each exit 2 with one stderr line naming the problem, no traceback."""
    build, message = REFUSED[case]
    path = tmp_path / "snap.json"
    path.write_text(build(_example()))
    assert main(["analyze", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert message in captured.err and str(path) in captured.err


@pytest.mark.parametrize("shock", ["nan", "inf", "-inf", "-150", "-100"])
def test_a_shock_without_a_meaning_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], shock: str
) -> None:
    """--shock must be finite and above −100 % (as /stress): prices cannot go to or below 0."""
    assert main(["analyze", str(BINANCE), f"--shock={shock}"]) == 2
    err = capsys.readouterr().err
    assert err == f"liqwatch: error: --shock {shock}: must be a finite percentage above -100\n"


@pytest.mark.parametrize("shock", ["-inf", "-nan", "-1e3"])
def test_a_shock_written_as_a_separate_word_is_checked_the_same_way(
    capsys: pytest.CaptureFixture[str], shock: str
) -> None:
    """`--shock -inf` (not `--shock=-inf`) used to reach argparse as an unknown option."""
    assert main(["analyze", str(BINANCE), "--shock", shock]) == 2
    _, err = capsys.readouterr()
    expected = f"--shock {float(shock):g}: must be a finite percentage above -100"
    assert err == f"liqwatch: error: {expected}\n"


def test_a_shock_just_above_minus_100_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    """−99.9 % is a move every price can take: exit 0, and it liquidates every long."""
    doc = _json(capsys, str(BINANCE), "--shock=-99.9")
    assert doc["stress"]["shock_pct"] == -99.9


def test_negative_contracts_with_side_long_is_a_diagnostic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The contradiction is named on that position; the others are priced as usual."""
    doc = _example()
    doc["positions"][2]["contracts"] = -200
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(doc))
    out = _json(capsys, str(path))["positions"]
    assert "side is long but contracts is negative (-200): side unknown" in out[2]["diagnostics"]
    assert all(p["liquidation_price"] is not None for i, p in enumerate(out) if i != 2)


#: Garbage a venue could send in one position (SOL's isolated copy, as DOGE), via the
#: monitor's path (``parse`` on what ccxt returned, no file checks).
VENUE_GARBAGE: dict[str, tuple[tuple[str | int, ...], Any]] = {
    "an int past float range": (("contracts",), 10**500),
    "one in raw info": (("info", "isolatedWallet"), 10**500),
    "a string for a number": (("entryPrice",), "n/a"),
    "infinity": (("markPrice",), float("inf")),
    "NaN": (("info", "isolatedWallet"), float("nan")),
    "a string tier table": (("leverage_tiers",), "abc"),
    "a tier table of strings": (("leverage_tiers",), ["abc", 1]),
}


@pytest.mark.parametrize("case", sorted(VENUE_GARBAGE))
def test_venue_garbage_in_one_position_costs_only_that_position(case: str) -> None:
    """Every example position keeps its prices and the JSON report still renders."""
    where, value = VENUE_GARBAGE[case]
    doc = _example()
    before = analyze(parse(copy.deepcopy(doc)).snapshot)
    bad = {**copy.deepcopy(doc["positions"][2]), "symbol": "DOGE/USDT:USDT"}
    if where == ("leverage_tiers",):
        doc["leverage_tiers"]["DOGE/USDT:USDT"] = value
    else:
        target = bad
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = value
    doc["positions"].append(bad)
    after = analyze(parse(doc, source="binanceusdm account 1").snapshot)
    n = len(before.snapshot.positions)
    np.testing.assert_array_equal(after.computed.price[:n], before.computed.price)
    np.testing.assert_array_equal(after.liquidation_price[:n], before.liquidation_price)
    assert after.diagnostics(n)
    json.dumps(report(after, "binanceusdm"), allow_nan=False)


def test_huge_finite_numbers_analyse_without_numpy_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """1e300 everywhere overflows on the way (read as unknown, by design): exit 0, and no
    RuntimeWarning printed after the answer."""
    position = {
        "symbol": "Y/USDT:USDT", "side": "long", "contracts": 1e300, "entryPrice": 1e300,
        "markPrice": 1e300, "maintenanceMarginPercentage": 0.01, "marginMode": "isolated",
        "initialMargin": 1e300, "info": {},
    }  # fmt: skip
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"exchange": "kraken", "positions": [position]}))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert main(["analyze", str(path), "--json", "--shock", "-10"]) == 0
    assert capsys.readouterr().err == ""
