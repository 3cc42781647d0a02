"""`liqwatch backtest` end to end on the real candles in data/candles, and one clear sentence
for each kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[3]
MARK = ROOT / "data" / "candles" / "BTC-USDT-PERP-MARK_1h.csv.gz"
POSITION = "BTC/USDT:USDT long 2.5 @ market 10x isolated"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["backtest", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_june_2022_crash_liquidates_a_10x_long_after_a_critical(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chart = tmp_path / "bt.png"
    code, out, _ = _run(
        capsys, "--position", POSITION, "--candles", str(MARK), "--from", "2022-06-01",
        "--to", "2022-06-20", "--json", "--chart", str(chart),
    )  # fmt: skip
    assert code == 0
    doc = json.loads(out)
    assert doc["liquidated_at"].startswith("2022-06-11")
    assert doc["first_critical_lead_s"] > 600
    assert doc["first_warning_lead_s"] >= doc["first_critical_lead_s"]
    assert {n["severity"] for n in doc["notices"]} == {"warning", "critical"}
    assert all(n["at"] < doc["liquidated_at"] for n in doc["notices"])
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_sweep_prints_one_row_per_rules_and_marks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "--sweep", "--position", POSITION, "--candles", str(MARK),
        "--from", "2022-05-01", "--to", "2022-07-01", "--poll", "5m", "--json",
    )  # fmt: skip
    assert code == 0
    rows = json.loads(out)
    assert [(r["rules"], r["marks"]) for r in rows] == [("default", "stream"), ("default", "5m")]
    assert rows[0]["starts"] == 61 * 24
    assert 0 < rows[0]["liquidated"] < rows[0]["starts"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--position", "BTC long lots"], "--position 'BTC long lots': expected"),
        (
            ["--position", "DOGE/USDT:USDT long 1 @ 1 5x isolated"],
            "--position: unknown symbol DOGE/USDT:USDT on binanceusdm",
        ),
        (["--position", POSITION, "--from", "2030-01-01"], "empty range: the candles cover"),
        (["--position", POSITION, "--poll", "soon"], "--poll 'soon': expected a duration"),
    ],
)
def test_bad_input_is_one_clear_sentence(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, _, err = _run(capsys, *args, "--candles", str(MARK))
    assert code == 2
    assert err.startswith(f"liqwatch: error: {expected}")
    assert err.count("\n") == 1


def test_a_corrupt_candle_file_names_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "c.csv"
    bad.write_text("timestamp_ms,open,high,low,close,volume\n0,1,2,1,1,0\n3600000,1,x,1,1,0\n")
    code, _, err = _run(capsys, "--position", POSITION, "--candles", str(bad))
    assert code == 2
    assert err == "liqwatch: error: c.csv line 3: 'x' is not a number.\n"
