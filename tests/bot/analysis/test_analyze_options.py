"""`liqwatch analyze` on option books: the snapshot's time, markets and greeks are inputs of
the file (issue 21, item 4), so the answer needs no network and no clock."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pytest

from bot.analysis.analyze import analyze_file
from bot.analysis.snapshot import parse
from bot.errors import UserError
from tests.engine.normalise.payloads import options as o

YEAR_S = 365 * 86_400
GREEKS = {o.USDC_PUT: {"symbol": o.USDC_PUT, "markImpliedVolatility": 0.55,
                       "underlyingPrice": 95_400.0, "delta": None}}  # fmt: skip


def _file(**extra: Any) -> dict[str, Any]:
    """A Bybit UNIFIED account (USDC) short 5 BTC of the 90k put, with no venue delta."""
    coin = o.bybit_coin("USDC", equity=70_037.5, usd=70_037.5, maint=12_121.2)
    balance = o.bybit_wallet(o.bybit_unified(coin, margin=70_037.5, maint=12_121.2, equity=71e3))
    return {
        "exchange": "bybit",
        "positions": [o.bybit_option(delta="")],
        "balance": balance,
        "markets": {o.USDC_PUT: o.MARKETS["bybit"][o.USDC_PUT]},
        "greeks": GREEKS,
        **extra,
    }


def _run(tmp_path: Path, data: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out: dict[str, Any] = json.loads(analyze_file(path, as_json=True))
    return out


def _short_put_exposure(taken_s: float) -> float:
    """−1 · 5 BTC · (N(d1) − 1) · forward, Black-76 by hand at ``taken_s``."""
    years = (o.EXPIRY_MS / 1000.0 - taken_s) / YEAR_S
    s_t = 0.55 * math.sqrt(years)
    d1 = (math.log(95_400.0 / o.STRIKE) + 0.5 * s_t * s_t) / s_t
    return -5.0 * (NormalDist().cdf(d1) - 1.0) * 95_400.0


def test_timestamp_drives_the_options_exposure(tmp_path: Path) -> None:
    """The file's "timestamp" (ms) is the snapshot time: the short put's exposure is the
    Black-76 delta equivalent there, positive, and a day later it differs."""
    at = o.TAKEN_MS
    doc = _run(tmp_path, _file(timestamp=at))
    net = doc["account"]["exposure_by_underlying"]["BTC"]["net"]
    assert net == pytest.approx(_short_put_exposure(at / 1000.0), rel=1e-9) and net > 0
    later = _run(tmp_path, _file(timestamp=at + 86_400_000))
    assert later["account"]["net_exposure"] == pytest.approx(
        _short_put_exposure(at / 1000.0 + 86_400), rel=1e-9
    )


def test_balance_timestamp_is_the_default(tmp_path: Path) -> None:
    """Without "timestamp" the balance's ccxt timestamp (Bybit's response time) is used."""
    assert parse(_file()).taken_at == o.TAKEN_MS / 1000.0
    assert _run(tmp_path, _file()) == _run(tmp_path, _file(timestamp=o.TAKEN_MS))


def test_notional_and_equity_in_the_output(tmp_path: Path) -> None:
    """notional_usd is 5 × the underlying (not 5.0); equity is the wallet once (not doubled)
    and maintenance the venue's totalMaintenanceMargin."""
    doc = _run(tmp_path, _file())
    assert doc["positions"][0]["notional_usd"] == pytest.approx(5 * 95_400.0)
    assert doc["account"]["equity"] == pytest.approx(70_037.5)
    assert doc["account"]["maintenance_margin"] == pytest.approx(12_121.2)


def test_markets_give_the_contract_size_ccxt_lacked() -> None:
    """An OKX option parsed without its market: the file's market (ctVal × ctMult) sizes it."""
    position = o.okx_option(notionalUsd="")
    position["contractSize"] = None
    data = {"exchange": "okx", "positions": [position], "markets": o.MARKETS["okx"]}
    assert parse(data).snapshot.positions.qty[0] == pytest.approx(5.0)


@pytest.mark.parametrize("bad", [-1, "soon", True, 0])
def test_bad_timestamp_is_refused(bad: Any) -> None:
    """A "timestamp" that is not a positive number of milliseconds names the field."""
    with pytest.raises(UserError, match='"timestamp"'):
        parse(_file(timestamp=bad))


@pytest.mark.parametrize("key", ["markets", "greeks"])
def test_markets_and_greeks_must_be_objects(key: str) -> None:
    """ "markets" and "greeks" are objects keyed by symbol."""
    with pytest.raises(UserError, match=f'"{key}"'):
        parse(_file(**{key: [1]}))


def test_output_names_each_positions_delta_and_exposure(tmp_path: Path) -> None:
    """Per position, "exposure_usd" (the delta equivalent) and "delta" (one long unit), and
    the snapshot's "timestamp" echoed in ms."""
    doc = _run(tmp_path, _file(timestamp=o.TAKEN_MS))
    (put,) = doc["positions"]
    assert put["exposure_usd"] == pytest.approx(_short_put_exposure(o.TAKEN_MS / 1000.0))
    assert put["delta"] == pytest.approx(put["exposure_usd"] / (-5.0 * 95_400.0))
    assert put["delta"] < 0 < put["exposure_usd"] and doc["timestamp"] == o.TAKEN_MS
