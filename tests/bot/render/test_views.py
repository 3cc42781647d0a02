"""Typed views of the engine's analysis, and the `--json` document built from them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bot.analysis.snapshot import parse
from bot.render.report import document, report, stress_report
from bot.render.views import AccountView, account_view, stress_view
from engine.analysis import Analysis, analyze
from engine.stress import stress

EXAMPLE: dict[str, Any] = json.loads(
    (Path(__file__).parents[3] / "examples" / "binanceusdm.json").read_text()
)
SOL = 2  # BTC long, ETH short, SOL long (isolated), XRP long, XRP short


def _analysis(doc: dict[str, Any] = EXAMPLE) -> Analysis:
    loaded = parse(doc, source="test")
    return analyze(loaded.snapshot, volatility=loaded.volatility, horizon_hours=24)


def _view(doc: dict[str, Any] = EXAMPLE) -> AccountView:
    return account_view(_analysis(doc), "binanceusdm")


def _without(field: str, *positions: int) -> dict[str, Any]:
    """The example with ``field`` unreported by the venue on these positions."""
    doc: dict[str, Any] = copy.deepcopy(EXAMPLE)
    for i in positions:
        doc["positions"][i][field] = None
        doc["positions"][i]["info"][field] = "0"
    return doc


def test_a_position_carries_its_figures_in_named_units() -> None:
    """The isolated SOL long, 200 @ 150 with the mark at 142 and liquidation at 133.5."""
    sol = _view().positions[SOL]
    assert (sol.symbol, sol.underlying, sol.side, sol.settle) == (
        "SOL/USDT:USDT",
        "SOL",
        "long",
        "USDT",
    )
    assert sol.notional_settle == pytest.approx(200 * 142)
    assert sol.unrealized_pnl_settle == pytest.approx((142 - 150) * 200)
    assert sol.distance_pct == pytest.approx((142 - 133.5) / 142 * 100)
    assert sol.margin_mode == "isolated" and not sol.computed_only


def test_advice_is_data_in_the_margin_currency() -> None:
    """Back to 15 %: the target price is 142 × 0.85; the share cut is contracts over 200."""
    advice = _view().positions[SOL].advice
    assert advice is not None
    assert advice.target_distance_pct == 15.0
    assert advice.target_liquidation_price == pytest.approx(142 * 0.85)
    assert advice.margin_currency == "USDT"
    assert advice.reduce_fraction == pytest.approx((advice.reduce_contracts or 0) / 200)


def test_only_positions_near_liquidation_are_advised() -> None:
    """The BTC long is 32.7 % away, past the 15 % target: no advice."""
    assert _view().positions[0].advice is None


def test_exposure_is_gross_and_net_per_underlying() -> None:
    """XRP: 40,000 long and 10,000 short at 0.52 are 26,000 gross and 15,600 net."""
    exposure = {e.underlying: (e.gross_usd, e.net_usd) for e in _view().exposure}
    assert exposure["XRP"] == pytest.approx((26_000, 15_600))
    assert exposure["ETH"] == pytest.approx((15_500, -15_500))


def test_closest_skips_unknown_distances_nearest_first() -> None:
    """Without its mark the SOL long has no distance: BTC (32.7 %) is then the nearest."""
    doc = copy.deepcopy(EXAMPLE)
    del doc["positions"][SOL]["markPrice"], doc["positions"][SOL]["info"]["markPrice"]
    view = _view(doc)
    assert view.positions[SOL].mark_price is None and view.positions[SOL].distance_pct is None
    assert [p.symbol for p in view.closest(2)] == ["BTC/USDT:USDT", "ETH/USDT:USDT"]


def test_a_price_only_the_engine_knows_is_computed_only() -> None:
    """The venue reports no liquidation price for BTC: the engine's own is used and flagged."""
    view = _view(_without("liquidationPrice", 0))
    assert view.positions[0].computed_only
    assert view.positions[0].liquidation_price == pytest.approx(41_750)
    assert not view.positions[SOL].computed_only


def test_a_shock_names_the_positions_it_liquidates() -> None:
    """SOL −10 %: the mark falls to 127.8, under the isolated long's 133.5; PnL −2,840."""
    analysis = _analysis()
    shocked = stress(
        analysis.snapshot, analysis.portfolio, analysis.liquidation_price,
        shock_pct=-10.0, underlying="SOL",
    )  # fmt: skip
    view = stress_view(shocked, analysis)
    assert view.underlying == "SOL"
    assert view.pnl_usd == pytest.approx(-2_840)
    assert [(h.symbol, h.side) for h in view.liquidated] == [("SOL/USDT:USDT", "long")]
    assert view.liquidated[0].shocked_mark_price == pytest.approx(127.8)
    assert stress_report(shocked, analysis)["liquidated"][0]["liquidation_price"] == 133.5


def test_the_json_document_keeps_the_contract_names_and_order() -> None:
    """report() is the document of the view: README's keys, in README's order."""
    doc = report(_analysis(), "binanceusdm")
    assert doc == document(_view())
    assert list(doc["positions"][SOL])[:16] == [
        "symbol", "side", "contracts", "notional", "entry_price", "mark_price", "leverage",
        "margin_mode", "unrealized_pnl", "exchange_liquidation_price",
        "computed_liquidation_price", "liquidation_price", "liquidation_formula",
        "distance_to_liquidation_pct", "liquidation_probability", "diagnostics",
    ]  # fmt: skip
    assert doc["positions"][SOL]["notional"] == pytest.approx(28_400)
    assert doc["account"]["net_exposure"] == pytest.approx(59_500)
