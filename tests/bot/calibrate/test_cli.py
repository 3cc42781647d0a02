"""`liqwatch calibrate` through the real command line: the report, the chart, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.candles.files import write_csv
from bot.cli import main
from engine.calibration import HOUR_MS
from engine.probability import DEFAULT_TOUCH_MODEL, STUDENT_T_NU
from tests.engine.test_calibration import HOURLY, path


@pytest.fixture(scope="module")
def candles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A year of hourly GBM candles, gzip CSV, as `liqwatch candles` or data/candles/ has."""
    file = tmp_path_factory.mktemp("candles") / "SYN_1h.csv.gz"
    write_csv(file, path(np.full(24 * 365, HOURLY), seed=4))
    return file


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["calibrate", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_report_and_chart(
    candles: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints the table per span, both models' Brier scores, the model and the spans;
    --chart writes a PNG."""
    chart = tmp_path / "reliability.png"
    code, out, err = run(
        capsys, "SYN/USDT", "--candles", str(candles), "--horizon", "24h", "--json",
        "--split", "2021-04-01", "--chart", str(chart),
    )  # fmt: skip
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["model"] == DEFAULT_TOUCH_MODEL.value
    assert report["nu"] == STUDENT_T_NU
    assert report["horizon_hours"] == 24.0 and report["timeframe"] == "1h"
    fit, held = report["spans"]["fit"], report["spans"]["held_out"]
    assert fit["to"] < "2021-04-01" <= held["from"]
    for span in (fit, held):
        assert set(span["brier"]) == {"gbm", "student-t"}
        gap = span["brier_student_t_minus_gbm"]
        brier = span["brier"]
        assert gap["mean"] == pytest.approx(
            brier["student-t"]["score"] - brier["gbm"]["score"], abs=1e-12
        )
        assert gap["se"] > 0
        assert sum(row["count"] for row in span["table"]) == span["trials"] > 0
        assert span["trials"] == 50 * span["starts"]  # 25 barriers below and 25 above
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_text_report_names_both_spans_and_the_gbm_model(
    candles: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "SYN/USDT", "--candles", str(candles), "--model", "gbm")
    assert code == 0
    assert "model gbm" in out and "fitting span" in out and "held-out span" in out
    assert "Brier: gbm " in out


@pytest.mark.parametrize(
    ("argv", "sentence"),
    [
        (["--horizon", "2x"], "--horizon '2x' is not a duration such as 30m, 4h, 24h or 7d."),
        (["--model", "normal"], "--model: unknown touch model 'normal': expected one of gbm"),
        (["--split", "soon"], "--split 'soon' is not a date such as 2024-01-01."),
        (["--to", "2020-10-10"], "too little history: calibration needs 30 days"),
    ],
)
def test_bad_options_are_one_sentence(
    candles: Path, capsys: pytest.CaptureFixture[str], argv: list[str], sentence: str
) -> None:
    code, out, err = run(capsys, "SYN/USDT", "--candles", str(candles), *argv)
    assert code == 2 and out == ""
    assert err.startswith("liqwatch: error: ") and sentence in err
    assert err.count("\n") == 1  # one line, no traceback


def test_a_corrupt_candle_file_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "timestamp_ms,open,high,low,close,volume\n"
        f"{HOUR_MS},1,2,0.5,1,0\n{2 * HOUR_MS},1,2,oops,1,0\n"
    )
    code, _, err = run(capsys, "X", "--candles", str(bad))
    assert code == 2 and "bad.csv line 3: 'oops' is not a number." in err


def test_without_candles_it_says_to_pass_them(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "BTC/USDT:USDT")
    assert code == 2 and "needs --candles FILE.csv" in err
