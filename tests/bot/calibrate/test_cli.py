"""`liqwatch calibrate` through the real command line: the report, the chart, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.calibrate.run import Options, calibrate, parse_date
from bot.candles.cache import CacheFile
from bot.candles.files import read_csv, write_csv
from bot.cli import main
from engine.calibration import HOUR_MS
from engine.candles import Candles
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


def test_without_candles_it_reads_the_cache_or_says_how_to_fill_it(
    candles: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No --candles: the venue's mark candles from LIQWATCH_CANDLES_DIR (what `liqwatch
    candles fetch` fills); none there, one sentence with the fetch command."""
    monkeypatch.setenv("LIQWATCH_CANDLES_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no stray .env
    code, _, err = run(capsys, "SYN/USDT:USDT")
    assert code == 2 and "pass --candles FILE.csv, or fetch them first with" in err
    assert "liqwatch candles fetch binanceusdm SYN/USDT:USDT --timeframe 1h --price mark" in err
    cache = CacheFile(tmp_path, "binanceusdm", "SYN/USDT:USDT", "1h", "mark").path
    cache.parent.mkdir(parents=True)
    write_csv(cache, read_csv(candles))
    code, out, err = run(capsys, "SYN/USDT:USDT", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["candles"] == cache.name


def test_finer_candles_still_start_once_an_hour(tmp_path: Path) -> None:
    """A 15m file: starts every 4 candles (hourly), so the trials do not grow fourfold."""
    hourly = path(np.full(4 * 24 * 60, HOURLY / 2.0), seed=8)
    quarter = Candles(
        ts_ms=hourly.ts_ms[0] + 900_000 * np.arange(len(hourly), dtype=np.int64),
        open=hourly.open, high=hourly.high, low=hourly.low, close=hourly.close,
        volume=hourly.volume, timeframe_ms=900_000,
    )  # fmt: skip
    file = tmp_path / "SYN_15m.csv"
    write_csv(file, quarter)
    report = calibrate(Options(symbol="SYN", candles=file, model="gbm"))
    assert report["step_candles"] == 4 and report["timeframe"] == "15m"
    for span in report["spans"].values():
        starts = (parse_date(span["to"], "to") - parse_date(span["from"], "from")) // HOUR_MS + 1
        assert span["starts"] == starts  # every hour from the first start to the last
