"""Candle CSV files: the real ones in data/candles read whole, and a malformed file refused
with one sentence naming the file, the line and the problem."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from bot.candles.files import read_csv, write_csv
from bot.errors import UserError
from engine.candles import Candles, from_rows

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "data" / "candles"
HEADER = "timestamp_ms,open,high,low,close,volume\n"
HOUR = 3_600_000


def _write(tmp_path: Path, body: str, name: str = "c.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_the_real_btc_perp_file_reads_whole_with_no_gaps() -> None:
    candles = read_csv(DATA / "BTC-USDT-PERP_1h.csv.gz")
    assert len(candles) == 58_623
    assert candles.timeframe_ms == HOUR
    assert candles.gaps() == []
    # The listing-day first candle (2019-09-08 17:00 UTC) and the 2021-07-26 01:00 wick.
    assert int(candles.ts_ms[0]) == 1_567_962_000_000
    wick = candles.slice(1_627_261_200_000, 1_627_261_200_000 + HOUR)
    assert float(wick.high[0]) == 48168.6


def test_a_15m_file_infers_its_timeframe(tmp_path: Path) -> None:
    quarter = 900_000
    body = HEADER + "".join(f"{k * quarter},10,11,9,10.5,1\n" for k in (0, 1, 2, 4, 5))
    assert read_csv(_write(tmp_path, body)).timeframe_ms == quarter


def test_a_plain_csv_with_a_gap_reports_it(tmp_path: Path) -> None:
    rows = [0, 1, 2, 5, 6]  # hours 3 and 4 missing
    body = HEADER + "".join(f"{h * HOUR},10,11,9,10.5,1\n" for h in rows)
    candles = read_csv(_write(tmp_path, body))
    assert candles.timeframe_ms == HOUR
    assert candles.gaps() == [(3 * HOUR, 5 * HOUR)]
    assert len(candles.slice(HOUR, 5 * HOUR)) == 2


def test_write_then_read_round_trips_gzip(tmp_path: Path) -> None:
    table = np.array([[0, 1.5, 2.0, 1.0, 1.25, 0.0], [HOUR, 1.25, 1.3, 1.2, 1.3, 7.0]])
    path = tmp_path / "x.csv.gz"
    write_csv(path, from_rows(table, HOUR))
    back = read_csv(path)
    assert back.ts_ms.tolist() == [0, HOUR]
    assert back.close.tolist() == [1.25, 1.3]
    assert gzip.decompress(path.read_bytes()).decode().splitlines()[1] == "0,1.5,2,1,1.25,0"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("0,1,2,1,1,0\n", "c.csv line 1: the header must be"),
        (HEADER + "0,1,2,1,1,0\n3600000,1,2,abc,1,0\n", "c.csv line 3: 'abc' is not a number."),
        (HEADER + "0,1,2,1,1\n", "c.csv line 2: expected 6 comma-separated fields"),
        (HEADER + "3600000,1,2,1,1,0\n0,1,2,1,1,0\n", "c.csv line 3: timestamp 0 is earlier"),
        (HEADER + "0,1,2,1,1,0\n0,1,2,1,1,0\n", "c.csv line 3: timestamp 0 repeats"),
        (HEADER + "0,1,2,1,1,0\n3600000,1,1,2,1,0\n", "c.csv line 3: high 1 is below low 2."),
        (HEADER + "0,1,nan,1,1,0\n", "c.csv line 2: a value is not a finite number."),
        (HEADER, "c.csv: the file has a header but no candles."),
    ],
)
def test_a_malformed_file_is_one_sentence_naming_line_and_problem(
    tmp_path: Path, body: str, expected: str
) -> None:
    with pytest.raises(UserError) as caught:
        read_csv(_write(tmp_path, body))
    assert str(caught.value).startswith(expected)
    assert str(caught.value).count("\n") == 0


def test_a_corrupt_gzip_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(UserError, match=r"bad.csv.gz: cannot read it as a candle file"):
        read_csv(path)


def test_a_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such candle file"):
        read_csv(tmp_path / "nope.csv")


def test_candles_refuse_unsorted_timestamps_and_slice_by_open_time() -> None:
    ones = np.ones(3)
    with pytest.raises(ValueError, match="ascending and unique"):
        Candles(np.array([0, 2, 1], dtype=np.int64), ones, ones, ones, ones, ones, 1)
    c = Candles(np.array([0, 1, 2], dtype=np.int64), ones, ones, ones, ones, ones, 1)
    assert c.slice(1, None).ts_ms.tolist() == [1, 2]
    assert c.slice(None, 1).ts_ms.tolist() == [0]
    assert len(c.slice(5, 9)) == 0
