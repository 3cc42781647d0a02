"""`liqwatch analyze` with greeks (issue 19): the --json fields per position and per underlying,
checked against Black-76 by hand, and the text's greeks block for option books only."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import NormalDist
from typing import Any

import pytest

from bot.analysis.analyze import analyze_file
from tests.bot.analysis.test_analyze_options import _file
from tests.engine.normalise.payloads import options as o

ROOT = Path(__file__).resolve().parents[3]
YEAR_S = 365 * 86_400
GREEK_KEYS = ("delta_coin", "delta_usd", "gamma_usd", "vega_usd", "theta_usd", "greeks_source")


def _short_put() -> dict[str, float]:
    """Short 5 BTC of the 90k put, F 95,400, σ 0.55 (no venue greeks: Black-76 on the forward,
    r = 0): d1 = (ln F/K + σ²T/2)/(σ√T); per long unit Δ = N(d1) − 1, γ = n(d1)/(F σ√T),
    vega = F n(d1) √T per unit σ (× 0.01 per vol point), θ = −F n(d1) σ / (2√T) per year
    (÷ 365 per day). The position is −5 of each; γ in USD per 1 % is −5·γ·F²/100."""
    f, k, sigma = 95_400.0, o.STRIKE, 0.55
    years = (o.EXPIRY_MS - o.TAKEN_MS) / 1000.0 / YEAR_S
    s_t = sigma * math.sqrt(years)
    d1 = (math.log(f / k) + 0.5 * s_t * s_t) / s_t
    pdf = NormalDist().pdf(d1)
    delta_coin = -5.0 * (NormalDist().cdf(d1) - 1.0)
    return {
        "delta_coin": delta_coin,
        "delta_usd": delta_coin * f,
        "gamma_usd": -5.0 * pdf / (f * s_t) * f * f / 100.0,
        "vega_usd": -5.0 * f * pdf * math.sqrt(years) * 0.01,
        "theta_usd": 5.0 * f * pdf * sigma / (2.0 * math.sqrt(years)) / 365.0,
    }


def _run(tmp_path: Path, data: dict[str, Any], *, as_json: bool = True) -> Any:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    out = analyze_file(path, as_json=as_json)
    return json.loads(out) if as_json else out


def _put_file() -> dict[str, Any]:
    return _file(positions=[o.bybit_option(delta="", gamma="", vega="", theta="")])


def test_option_greeks_in_json_match_black76_by_hand(tmp_path: Path) -> None:
    """The short put is long delta and short gamma and vega, earning theta; its figures and
    the underlying's sums equal the hand values, and the engine is named as their source."""
    doc = _run(tmp_path, _put_file())
    (put,) = doc["positions"]
    hand = _short_put()
    assert {k: put[k] for k in hand} == pytest.approx(hand, rel=1e-9)
    assert put["greeks_source"] == "engine"
    assert put["delta_coin"] > 0 > put["gamma_usd"] and put["vega_usd"] < 0 < put["theta_usd"]
    btc = doc["greeks"]["BTC"]
    assert {k: btc[k] for k in hand} == pytest.approx(hand, rel=1e-9)
    assert btc["price_usd"] == 95_400.0 and btc["options"] == 1 and btc["unknown"] == 0
    assert "USD per +1 volatility point" in doc["greeks_units"]
    # The delta equivalent the exposure already used is the same delta in USD.
    assert put["delta_usd"] == pytest.approx(put["exposure_usd"], rel=1e-12)


def test_option_book_text_has_the_greeks_and_the_table(tmp_path: Path) -> None:
    """The terminal shows the underlying's net figures and the put's row under its expiry."""
    text = _run(tmp_path, _put_file(), as_json=False)
    hand = _short_put()
    assert f"BTC   Δ {hand['delta_coin']:+.3f} = {hand['delta_usd']:+,.0f} USD" in text
    assert " BTC 27 Mar 2026 08:00 UTC, in 70.8 d" in text
    assert "90,000 P    -5" in text


def test_perpetuals_have_delta_only_and_no_greeks_block(tmp_path: Path) -> None:
    """examples/binanceusdm.json (perpetuals only): each position's delta in USD is its signed
    exposure, in coin that over the mark; gamma, vega, theta 0 and no source; the
    underlying's delta in USD is its net exposure; the text adds no greeks block."""
    data = json.loads((ROOT / "examples" / "binanceusdm.json").read_text(encoding="utf-8"))
    doc = _run(tmp_path, data)
    for p in doc["positions"]:
        assert p["delta_usd"] == pytest.approx(p["exposure_usd"], rel=1e-12)
        assert p["delta_coin"] == pytest.approx(p["exposure_usd"] / p["mark_price"], rel=1e-12)
        assert (p["gamma_usd"], p["vega_usd"], p["theta_usd"], p["greeks_source"]) == (
            0.0, 0.0, 0.0, None,
        )  # fmt: skip
    nets = doc["account"]["exposure_by_underlying"]
    assert set(doc["greeks"]) == set(nets)
    for name, figures in doc["greeks"].items():
        assert figures["delta_usd"] == pytest.approx(nets[name]["net"], rel=1e-12)
        assert figures["options"] == 0
    assert "Greeks per underlying" not in _run(tmp_path, data, as_json=False)


def test_every_position_carries_the_new_keys(tmp_path: Path) -> None:
    """The keys are on every position, options or not (null where unknown)."""
    data = json.loads((ROOT / "examples" / "hyperliquid.json").read_text(encoding="utf-8"))
    for doc in (_run(tmp_path, data), _run(tmp_path, _put_file())):
        assert all(set(GREEK_KEYS) <= set(p) for p in doc["positions"])
