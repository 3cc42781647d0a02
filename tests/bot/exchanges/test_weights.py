"""The weight table (bot/exchanges/weights.py) against ccxt's api definitions and against
docs/polling.md: a ccxt upgrade that changes what it charges a call liqwatch makes, or a
document that drifts from the table, fails here."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import ccxt  # type: ignore[import-untyped]
import pytest

from bot.exchanges import weights
from bot.exchanges.meter import cost_of
from bot.exchanges.weights import CALLS, LIMITS, Call

DOC = Path(__file__).parents[3] / "docs" / "polling.md"


@functools.cache
def _exchange(venue: str) -> Any:
    return getattr(ccxt, venue)()


def _config(exchange: Any, call: Call) -> dict[str, Any]:
    """The endpoint's entry in ccxt's ``api`` definition (its cost and cost rules)."""
    api = exchange.describe()["api"]
    entry = api[call.api][call.method.lower()][call.path]
    return entry if isinstance(entry, dict) else {"cost": entry}


def _params(call: Call) -> dict[str, Any]:
    """What liqwatch sends with the call (Hyperliquid names the read in ``type``)."""
    params = dict(call.params or {})
    if call.kind is not None:
        params["type"] = call.kind
    return params


def _ids(call: Call) -> str:
    return f"{call.venue} {call.endpoint}"


@pytest.mark.parametrize("call", CALLS, ids=_ids)
def test_the_ccxt_column_is_what_ccxt_charges(call: Call) -> None:
    """ccxt's cost of the call as liqwatch makes it, from ccxt's own api definition."""
    exchange = _exchange(call.venue)
    config = _config(exchange, call)
    charged = exchange.calculate_rate_limiter_cost(
        call.api, call.method, call.path, _params(call), config
    )
    assert float(charged) == call.ccxt_cost


@pytest.mark.parametrize("call", CALLS, ids=_ids)
def test_the_budget_charges_the_published_weight(call: Call) -> None:
    """What the hub's budget and meter charge the request: the published weight, whatever
    ccxt says."""
    exchange = _exchange(call.venue)
    config = _config(exchange, call)
    assert cost_of(exchange, [call.api], call.method, call.path, _params(call), config) == (
        call.weight
    )


def test_venues_off_the_table_keep_ccxts_costs() -> None:
    """Bybit limits per key and counts requests, not weights: ccxt's cost stands."""
    bybit = _exchange("bybit")
    assert weights.weight("bybit", ["private"], "GET", "v5/position/list", {}) is None
    assert weights.limit_per_minute("bybit") is None
    assert cost_of(bybit, ["private"], "GET", "v5/position/list", {}, {"cost": 5}) == 5.0


def test_an_unlisted_hyperliquid_info_read_weighs_what_hyperliquid_says() -> None:
    """Not in the table, still not ccxt's 10: every info read but the light ones weighs 20."""
    assert weights.weight("hyperliquid", ["public"], "POST", "info", {"type": "meta"}) == 20.0
    assert weights.weight("hyperliquid", ["public"], "POST", "info", {"type": "l2Book"}) == 2.0


def _doc_rows() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("<!-- weights:start -->")
    end = text.index("<!-- weights:end -->")
    return [line for line in text[start:end].splitlines() if line.startswith("| ")]


def _row(call: Call) -> str:
    return (
        f"| {call.venue} | {call.reads} | `{call.endpoint}` | {call.weight:g} | "
        f"{call.ccxt_cost:g} | {call.note} |"
    )


def test_docs_polling_shows_exactly_the_table() -> None:
    """docs/polling.md's weight table, row for row (the limits first, then every call)."""
    limits = [
        f"| {limit.venue} | limit, per IP | a minute | {limit.per_minute:,.0f} | "
        f"{60_000 / _exchange(limit.venue).rateLimit:,.0f} | {limit.source} |"
        for limit in LIMITS.values()
    ]
    header = "| venue | reads | endpoint | weight | ccxt | note |"
    assert _doc_rows() == [header, *limits, *(_row(c) for c in CALLS)]
