"""`liqwatch backtest --account`: a stored two-position account replayed over each symbol's
own candles, with the outcome worked out by hand; and the candle cache read when no
``--candles`` is given."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.backtest.position import PositionSpec, payload
from bot.candles.files import HEADER_LINE
from bot.cli import main

HOUR_S = 3600
T0_S = 1_700_000_000 // HOUR_S * HOUR_S
BTC = "BTC/USDT:USDT"
ETH = "ETH/USDT:USDT"


def _account() -> dict[str, Any]:
    """BTC long 2.5 @ 60000 5x and ETH short 20 @ 3000 5x, both isolated, in one account."""
    btc = payload(
        PositionSpec(BTC, "long", 2.5, 60000.0, 5.0, "isolated"), 60000.0, taken_at_s=T0_S
    )
    eth = payload(
        PositionSpec(ETH, "short", 20.0, 3000.0, 5.0, "isolated"), 3000.0, taken_at_s=T0_S
    )
    btc["positions"] += eth["positions"]
    btc["leverage_tiers"] |= eth["leverage_tiers"]
    asset = btc["balance"]["info"]["assets"][0]
    asset["marginBalance"] = str(30000.0 + 12000.0)
    return btc


def _csv(path: Path, opens: list[float], highs: list[float], lows: list[float]) -> Path:
    lines = [HEADER_LINE]
    for n, (o, h, lo) in enumerate(zip(opens, highs, lows, strict=True)):
        lines.append(f"{(T0_S + n * HOUR_S) * 1000},{o},{h},{lo},{o},0")
    path.write_text("\n".join(lines) + "\n")
    return path


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIQWATCH_CANDLES_DIR", str(tmp_path / "cache"))
    account = tmp_path / "account.json"
    account.write_text(json.dumps(_account()))
    btc = _csv(
        tmp_path / "btc.csv",
        [60000, 58000, 56000, 54000, 52000, 51000],
        [60500, 58500, 56500, 54500, 52500, 51200],
        [57900, 55900, 53900, 51900, 50900, 47000],
    )
    eth = _csv(
        tmp_path / "eth.csv",
        [3000] * 6,
        [3050, 3050, 3300, 3050, 3050, 3050],
        [2950] * 6,
    )
    return {"account": account, "btc": btc, "eth": eth}


def test_a_two_position_account_is_liquidated_where_worked_by_hand(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Binance isolated: LP = (WB + cum − s·Q·EP) / (Q·mmr − s·Q).

    BTC long (s = 1, Q 2.5, EP 60000, WB 30000, bracket 2: mmr 0.005, cum 50):
    (30000 + 50 − 150000) / (0.0125 − 2.5) = 48221.1055. ETH short (s = −1, Q 20, EP 3000,
    WB 12000, bracket 2: mmr 0.0065, cum 75): (12000 + 75 + 60000) / (0.13 + 20) = 3580.4769.
    Isolated, so neither moves with the other's mark.

    Each symbol follows its own adverse-last path: BTC (net long) open → high at +20 min →
    low at +40 min; ETH (net short) open → low → high. Default rules: warning under 10 %
    (clear 12 %), critical under 5 %.

    - ETH's bar-2 high 3300 at T0 + 2 h 40 min is (3580.48 − 3300)/3300 = 8.5 % away: the
      first warning. At T0 + 3 h it is back at 3000 (19 %): resolved past 12 %.
    - BTC's bar-3 low 51900 at T0 + 3 h 40 min is (51900 − 48221.11)/51900 = 7.1 % away:
      its warning. Bar 4's low 50900 is 5.3 %, not under 5 %: no critical.
    - BTC's bar-5 low 47000 at T0 + 5 h 40 min is beyond 48221.11: the account replay marks
      the touch at that evaluation (no interpolation across symbols), ending the replay.
      First warning lead: 5 h 40 min − 2 h 40 min = 3 h.
    """
    code = main([
        "backtest", "--account", str(files["account"]), "--json",
        "--candles", f"{BTC}={files['btc']}", "--candles", f"{ETH}={files['eth']}",
    ])  # fmt: skip
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    doc = json.loads(out)
    liq = {(p["symbol"], p["side"]): p["liquidation_price"] for p in doc["positions"]}
    assert liq[(BTC, "long")] == pytest.approx(48221.1055, abs=1e-3)
    assert liq[(ETH, "short")] == pytest.approx(72075 / 20.13, abs=1e-3)
    assert doc["liquidated_position"] == f"{BTC}:long"
    assert doc["liquidated_at"] == _iso(T0_S + 5 * HOUR_S + 2400)
    assert doc["liquidation_price"] == pytest.approx(48221.1055, abs=1e-3)
    assert doc["first_warning_lead_s"] == 3 * HOUR_S
    assert doc["first_critical_lead_s"] is None
    told = [(n["at"], n["severity"], n["resolved"]) for n in doc["notices"]]
    assert told[:3] == [
        (_iso(T0_S + 2 * HOUR_S + 2400), "warning", False),
        (_iso(T0_S + 3 * HOUR_S), "warning", True),
        (_iso(T0_S + 3 * HOUR_S + 2400), "warning", False),
    ]
    assert "ETH/USDT:USDT short — liquidation 8.50% away" in doc["notices"][0]["text"]
    assert "BTC/USDT:USDT long — liquidation 7.09% away" in doc["notices"][2]["text"]
    assert all(n["at"] < doc["liquidated_at"] for n in doc["notices"])


def test_an_account_reads_the_cache_for_symbols_without_a_file(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """ETH from --candles, BTC from the cache (imported with `candles fetch --file`): the
    same outcome as with both files given."""
    code = main(["candles", "fetch", "binanceusdm", BTC, "--timeframe", "1h",
                 "--file", str(files["btc"])])  # fmt: skip
    assert code == 0
    capsys.readouterr()
    code = main(["backtest", "--account", str(files["account"]), "--json",
                 "--candles", f"{ETH}={files['eth']}"])  # fmt: skip
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert json.loads(out)["liquidated_at"] == _iso(T0_S + 5 * HOUR_S + 2400)


def test_the_position_replay_reads_the_cache_too(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["candles", "fetch", "binanceusdm", BTC, "--timeframe", "1h", "--price", "mark",
                 "--file", str(files["btc"])]) == 0  # fmt: skip
    capsys.readouterr()
    code = main(["backtest", "--position", f"{BTC} long 2.5 @ 60000 5x isolated", "--json"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    assert json.loads(out)["liquidation_price"] == pytest.approx(48221.1055, abs=1e-3)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["backtest", "--position", f"{BTC} long 2.5 @ 60000 5x isolated"],
         f"no candles for {BTC} on binanceusdm in the cache"),
        (["backtest", "--account", "ACCOUNT"],
         f"no candles for {BTC} on binanceusdm in the cache"),
        (["backtest", "--account", "ACCOUNT", "--candles", "BTC"],
         "--candles BTC: the account holds BTC/USDT:USDT, ETH/USDT:USDT; name each file's"),
        (["backtest", "--account", "ACCOUNT", "--sweep"], "--account replays a stored account"),
        (["backtest"], 'pass --position "SYMBOL long|short SIZE @ PRICE …" or --account FILE.'),
        (["calibrate", ETH, "--timeframe", "1m"], f"no 1m candles for {ETH} on binanceusdm"),
        (["calibrate", ETH, "--timeframe", "2h"], "--timeframe '2h': choose one of"),
    ],
)  # fmt: skip
def test_missing_candles_are_one_sentence_saying_how_to_fetch(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    args = [str(files["account"]) if a == "ACCOUNT" else a for a in args]
    code = main(args)
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(f"liqwatch: error: {expected}"), err
    assert err.count("\n") == 1


def test_a_cross_account_moves_each_liquidation_price_with_the_other_symbol(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same two positions on one cross wallet of 42,000: BTC's liquidation price depends
    on ETH's mark. ETH's bar-5 high (3500) lifts it from 43,523.6 (at the entries) to
    47,569.8, the engine's figure for those two marks, and the BTC low of 40,000 at the same
    instant (T0 + 5 h 40 min) touches it."""
    from bot.analysis.snapshot import load
    from engine.backtest import Priced

    data = _account()
    for position in data["positions"]:
        position["marginMode"] = position["info"]["marginType"] = "cross"
        position["info"]["isolatedMargin"] = position["info"]["isolatedWallet"] = "0"
    data["balance"]["info"]["assets"][0] |= {
        "crossWalletBalance": "42000", "marginBalance": "42000",
    }  # fmt: skip
    account = tmp_path / "cross.json"
    account.write_text(json.dumps(data))
    btc = _csv(
        tmp_path / "btc.csv",
        [60000, 58000, 56000, 54000, 52000, 51000],
        [60500, 58500, 56500, 54500, 52500, 51200],
        [57900, 55900, 53900, 51900, 50900, 40000],
    )
    eth = _csv(tmp_path / "eth.csv", [3000] * 6, [3050, 3050, 3300, 3050, 3400, 3500], [2950] * 6)
    code = main(["backtest", "--account", str(account), "--json",
                 "--candles", f"{BTC}={btc}", "--candles", f"{ETH}={eth}"])  # fmt: skip
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    doc = json.loads(out)
    priced = Priced(load(account).snapshot, BTC)
    at_entry = priced.at_marks({BTC: 60000.0, ETH: 3000.0}).liquidation_price
    at_touch = priced.at_marks({BTC: 40000.0, ETH: 3500.0}).liquidation_price
    assert [p["liquidation_price"] for p in doc["positions"]] == pytest.approx(list(at_entry))
    assert at_entry[0] == pytest.approx(43523.618, abs=1e-3)
    assert at_touch[0] == pytest.approx(47569.849, abs=1e-3)
    assert doc["liquidated_position"] == f"{BTC}:long"
    assert doc["liquidation_price"] == pytest.approx(at_touch[0])
    assert doc["liquidated_at"] == _iso(T0_S + 5 * HOUR_S + 2400)
