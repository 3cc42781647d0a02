"""Every venue reader turns garbage into diagnostics, never into an exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.analysis import analyze
from engine.model import MarginMode
from engine.normalise import normalise
from tests.engine.normalise.payloads import binance, bitmex, bybit, deribit, hyperliquid, okx

GOOD: dict[str, Callable[[], list[dict[str, Any]]]] = {
    "binanceusdm": binance.usdm_positions,
    "binancecoinm": lambda: [binance.coinm_position(binance.coinm_raw())],
    "bybit": lambda: [
        bybit.bybit_position(r()) for r in (bybit.bybit_raw, bybit.bybit_isolated_short)
    ],
    "okx": lambda: [okx.okx_position(okx.okx_raw()), okx.okx_position(okx.okx_isolated_short())],
    "hyperliquid": hyperliquid.positions,
    "deribit": lambda: [deribit.deribit_position(deribit.deribit_raw())],
    "bitmex": lambda: [bitmex.bitmex_position(bitmex.bitmex_raw())],
}
GOOD_CACHE = {venue: build() for venue, build in GOOD.items()}

GARBAGE = st.one_of(
    st.none(),
    st.sampled_from(["abc", "", "nan", "inf", "-1", "0", "1e400", "None"]),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.just([]),
    st.just({}),
    st.just({"position": None, "leverage": None}),
)


def _garbled(position: dict[str, Any], keys: list[str], value: Any) -> dict[str, Any]:
    info = dict(position["info"])
    inner = info.get("position")
    if isinstance(inner, dict):
        info["position"] = dict.fromkeys(inner, value)
    for key in keys:
        info[key] = value
    return {**position, "info": info}


@pytest.mark.parametrize("venue", sorted(GOOD))
@settings(max_examples=40, deadline=None)
@given(value=GARBAGE, data=st.data())
def test_garbage_info_fields_never_raise(venue: str, value: Any, data: st.DataObject) -> None:
    """Any raw field replaced by garbage still normalises (and the account too)."""
    good = GOOD_CACHE[venue][0]
    keys = data.draw(st.lists(st.sampled_from(sorted(good["info"])), min_size=1, max_size=6))
    snapshot = normalise(venue, [_garbled(good, keys, value)], {"info": value})
    assert len(snapshot.positions) <= 1


@pytest.mark.parametrize("venue", sorted(GOOD))
def test_one_garbage_position_leaves_the_others_valid(venue: str) -> None:
    """A position with garbage everywhere is invalid with reasons; the good ones stay valid."""
    good = GOOD_CACHE[venue]
    garbage = {**dict.fromkeys(good[0], "abc"), "info": dict.fromkeys(good[0]["info"], "abc")}
    p = normalise(venue, [*good, garbage]).positions
    assert p.valid[: len(good)].all() and not p.valid[len(good)]
    assert p.diagnostics[len(good)]


@pytest.mark.parametrize("venue", sorted(GOOD))
def test_missing_info_is_a_diagnostic(venue: str) -> None:
    """A position without ``info`` is read from ccxt's fields with a note."""
    position = {k: v for k, v in GOOD_CACHE[venue][0].items() if k != "info"}
    p = normalise(venue, [position]).positions
    assert any("info" in d for d in p.diagnostics[0])


@pytest.mark.parametrize("venue", sorted(GOOD))
@pytest.mark.parametrize("balance", [None, {}, {"info": None}, {"info": "abc"}, {"info": [1]}])
def test_garbage_balance_gives_an_account_with_diagnostics(venue: str, balance: Any) -> None:
    """A missing or garbled balance yields an empty account that says why."""
    account = normalise(venue, [], balance).account
    assert account.diagnostics and not any(np.isfinite(list(account.margin_balance.values())))


#: One list nested far deeper than Python's recursion limit: ``str()`` of it cannot finish.
DEEP: list[Any] = []
for _ in range(100_000):
    DEEP = [DEEP]

#: What a venue (or a broken proxy) can put where ccxt promises a number or a word.
HOSTILE = st.one_of(
    GARBAGE,
    st.sampled_from([10**500, -(10**500), 10**5000, "1" * 400, "-1e999", "Infinity", "NaN"]),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), [1, "2"], {"a": {"b": 1}}]),
    st.text(max_size=5),
)

#: Every venue's good positions plus, where the defaults are cross, an isolated one.
NEIGHBOURS = {
    **GOOD_CACHE,
    "bitmex": [
        *GOOD_CACHE["bitmex"],
        bitmex.bitmex_position(bitmex.bitmex_linear_isolated_short()),
    ],
}


def _poisoned(victim: dict[str, Any], data: st.DataObject, value: Any) -> dict[str, Any]:
    """``victim`` with some unified and some raw fields replaced by ``value``."""
    unified = sorted(k for k in victim if k != "info")
    keys = data.draw(st.lists(st.sampled_from(unified), max_size=4))
    raw = data.draw(st.lists(st.sampled_from(sorted(victim["info"])), max_size=4))
    return {**_garbled(victim, raw, value), **dict.fromkeys(keys, value)}


@pytest.mark.parametrize("venue", sorted(NEIGHBOURS))
@settings(max_examples=60, deadline=None)
@given(value=HOSTILE, data=st.data())
def test_a_poisoned_position_costs_only_itself(venue: str, value: Any, data: st.DataObject) -> None:
    """A copy of one position with hostile values in its fields (and, maybe, as its symbol's
    tier table) normalises and analyses without raising, and every isolated position on
    another symbol keeps exactly the price it had without it."""
    good = NEIGHBOURS[venue]
    victim = good[data.draw(st.integers(0, len(good) - 1))]
    poisoned = _poisoned(victim, data, value)
    tiers = {victim["symbol"]: value} if data.draw(st.booleans()) else None
    before = analyze(normalise(venue, good))
    after = analyze(normalise(venue, [*good, poisoned], {"info": value}, tiers))
    p = before.snapshot.positions
    same = p.valid & (p.margin_mode == MarginMode.ISOLATED) & ~p.symbol.equals(victim["symbol"])
    np.testing.assert_array_equal(
        after.computed.price[: len(good)][same], before.computed.price[same]
    )


@pytest.mark.parametrize("field", ["side", "marginMode", "symbol", "contracts", "markPrice"])
def test_a_deeply_nested_field_is_garbage_not_a_crash(field: str) -> None:
    """A list nested 100,000 deep where a word or number goes: the position is read around it
    (``str()`` of it would overflow the stack)."""
    good = GOOD_CACHE["binanceusdm"][0]
    p = normalise("binanceusdm", [{**good, field: DEEP, "info": {**good["info"], "x": DEEP}}])
    assert len(p.positions) == 1
