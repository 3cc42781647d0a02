"""`liqwatch candles fetch` end to end: the real command and real ccxt against the fake
Binance's klines (tests/fakes/exchange/history.py serves a deterministic series).

Each test runs the command in a thread (it runs its own event loop, as on the command line)
while the fake serves from the test's loop.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from bot.candles.files import read_csv
from bot.cli import main
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange.base import NOW_MS
from tests.fakes.exchange.history import bar

MIN = 60_000
#: Three days before the fake's "now", on a day boundary: 2,500 one-minute bars from here are
#: three pages of ccxt's 1,000 (1,000, 1,000, 500).
SINCE = (NOW_MS - 3 * 86_400_000) // 86_400_000 * 86_400_000
UNTIL = SINCE + 2500 * MIN
ARGS = ["--timeframe", "1m", "--since", "2024-05-27", "--until", "2024-05-28T17:40"]


@pytest.fixture
async def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeExchange]:
    async with FakeExchange() as exchange:
        monkeypatch.chdir(tmp_path)  # no stray .env
        monkeypatch.setenv("LIQWATCH_EXCHANGE_URL_PREFIX", exchange.url)
        monkeypatch.setenv("LIQWATCH_CANDLES_DIR", str(tmp_path / "cache"))
        yield exchange


async def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["candles", "fetch", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _file(tmp_path: Path, name: str = "BTC-USDT-USDT_1m.csv") -> Path:
    return tmp_path / "cache" / "binanceusdm" / name


def _pages(fake: FakeExchange) -> list[int]:
    return [int(r.query["startTime"]) for r in fake.requests if r.path == "/fapi/v1/klines"]


def test_the_arguments_span_the_scripted_range() -> None:
    from bot.candles.dates import parse_day

    assert (parse_day("2024-05-27", "x"), parse_day("2024-05-28T17:40", "x")) == (SINCE, UNTIL)


async def test_a_fetch_pages_through_the_range_and_stores_every_bar_once(
    fake: FakeExchange, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *ARGS)
    assert (code, err) == (0, "")
    assert out.startswith("binanceusdm BTC/USDT:USDT last 1m: added 2500 bars, 2024-05-27T00:00Z")
    assert "; 0 gaps" in out
    assert _pages(fake) == [SINCE, SINCE + 1000 * MIN, SINCE + 2000 * MIN]
    candles = read_csv(_file(tmp_path))
    assert len(candles) == 2500 and candles.gaps() == []
    assert candles.ts_ms[0] == SINCE and candles.ts_ms[-1] == UNTIL - MIN
    # The values are the venue's, unchanged.
    k = 1234
    expected = bar("BTCUSDT", SINCE + k * MIN, MIN)
    got = [candles.open[k], candles.high[k], candles.low[k], candles.close[k], candles.volume[k]]
    assert got == list(expected)


async def test_an_interrupted_fetch_keeps_its_pages_and_a_rerun_ends_identical(
    fake: FakeExchange, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch
) -> None:
    """The third page fails past the hub's retries: the command says so in one sentence and
    keeps the first two; the same command again fetches only the rest, and the file is byte
    for byte what an uninterrupted fetch writes."""
    third = {"startTime": str(SINCE + 2000 * MIN)}
    fake.fail("binanceusdm", path="/fapi/v1/klines", query=third, status=503, times=4)
    code, out, err = await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *ARGS)
    assert code == 2 and out == ""
    assert err.startswith("liqwatch: error: the fetch stopped: binanceusdm")
    assert "added 2000 bars" in err and "run the same command again to continue." in err
    assert err.count("\n") == 1
    assert len(read_csv(_file(tmp_path))) == 2000

    code, out, _ = await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *ARGS)
    assert code == 0 and "added 500 bars, 2024-05-28T09:20Z" in out
    assert _pages(fake)[-1] == SINCE + 2000 * MIN

    monkeypatch.setenv("LIQWATCH_CANDLES_DIR", str(tmp_path / "clean"))
    assert (await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *ARGS))[0] == 0
    clean = tmp_path / "clean" / "binanceusdm" / "BTC-USDT-USDT_1m.csv"
    assert _file(tmp_path).read_bytes() == clean.read_bytes()


async def test_a_range_the_venue_lacks_is_recorded_as_a_gap_never_filled(
    fake: FakeExchange, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    hole = (SINCE + 1500 * MIN, SINCE + 1620 * MIN)  # two hours, inside the second page
    fake.missing_candles.append(hole)
    code, out, _ = await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *ARGS)
    assert code == 0
    assert "added 2380 bars" in out
    assert "1 gap recorded (2024-05-28T01:00Z … 2024-05-28T03:00Z (120 bars))" in out
    candles = read_csv(_file(tmp_path))
    assert candles.gaps() == [hole]
    doc = json.loads(_file(tmp_path, "BTC-USDT-USDT_1m.gaps.json").read_text())
    assert doc["gaps"] == [list(hole)] and doc["timeframe"] == "1m"


async def test_reruns_and_overlapping_imports_never_duplicate_a_bar(
    fake: FakeExchange, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A rerun of a finished fetch asks only after the last bar and adds nothing; a wider
    rerun adds only the new bars; a CSV overlapping the cache adds only what lies after it."""
    early = ["--timeframe", "1m", "--since", "2024-05-27", "--until", "2024-05-27T12:00"]
    assert (await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *early))[0] == 0
    code, out, _ = await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *early)
    assert code == 0 and "added no bars" in out
    code, out, _ = await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *ARGS)
    assert "added 1780 bars, 2024-05-27T12:00Z" in out
    # A CSV of the first 3,000 bars: its first 2,500 are already stored.
    rows = ["timestamp_ms,open,high,low,close,volume"]
    for k in range(3000):
        t = SINCE + k * MIN
        rows.append(",".join([str(t), *(repr(v) for v in bar("BTCUSDT", t, MIN))]))
    extra = tmp_path / "more.csv"
    extra.write_text("\n".join(rows) + "\n")
    code, out, _ = await _run(capsys, "binanceusdm", "BTC/USDT:USDT", "--timeframe", "1m",
                              "--file", str(extra))  # fmt: skip
    assert code == 0 and "added 500 bars, 2024-05-28T17:40Z" in out
    candles = read_csv(_file(tmp_path))
    assert len(candles) == 3000 and len(np.unique(candles.ts_ms)) == 3000
    assert candles.gaps() == []


async def test_mark_price_candles_go_to_their_own_file(
    fake: FakeExchange, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = await _run(capsys, "binanceusdm", "ETH/USDT:USDT", "--price", "mark", *ARGS)
    assert code == 0 and "ETH/USDT:USDT mark 1m: added 2500 bars" in out
    assert fake.count("binanceusdm", "/fapi/v1/markPriceKlines") == 3
    candles = read_csv(_file(tmp_path, "ETH-USDT-USDT-MARK_1m.csv"))
    assert candles.open[0] == bar("ETHUSDT-mark", SINCE, MIN)[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nosuchvenue", "BTC/USDT:USDT", *ARGS], "'nosuchvenue' is not a venue ccxt knows"),
        (["binanceusdm", "BTC/USDT:USDT", "--timeframe", "2m", "--since", "2024-05-27"],
         "--timeframe '2m': choose one of 1m, 5m, 15m, 1h."),
        (["binanceusdm", "BTC/USDT:USDT", "--since", "last tuesday"],
         "--since 'last tuesday' is not a date such as 2024-01-01."),
        (["binanceusdm", "BTC/USDT:USDT"], "--since DATE is required to fetch"),
        (["binanceusdm", "DOGE/USDT:USDT", *ARGS], "DOGE/USDT:USDT is not a market of binanceusdm"),
        (["binanceusdm", "BTC/USDT:USDT", "--price", "index", *ARGS], "--price 'index': choose"),
        (["binanceusdm", "BTC/USDT:USDT", "--since", "2024-05-28", "--until", "2024-05-27"],
         "nothing to fetch: --since 2024-05-28T00:00Z is not before 2024-05-27T00:00Z."),
    ],
)  # fmt: skip
async def test_bad_input_is_one_clear_sentence(
    fake: FakeExchange, capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, out, err = await _run(capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"liqwatch: error: {expected}"), err
    assert err.count("\n") == 1


async def test_a_line_cut_short_by_a_crash_is_fetched_again(
    fake: FakeExchange, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch
) -> None:
    """A process killed mid-append leaves half a line: the next run drops it and fetches that
    bar again, ending byte for byte like a clean fetch."""
    assert (await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *ARGS))[0] == 0
    whole = _file(tmp_path).read_bytes()
    _file(tmp_path).write_bytes(whole[:-20])
    code, out, _ = await _run(capsys, "binanceusdm", "BTC/USDT:USDT", *ARGS)
    assert code == 0 and "added 1 bars, 2024-05-28T17:39Z" in out
    assert _file(tmp_path).read_bytes() == whole
