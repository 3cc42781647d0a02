"""Every venue reader turns garbage into diagnostics, never into an exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
