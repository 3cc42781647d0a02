"""`liqwatch analyze`: the input and output contracts, and a clear line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
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
