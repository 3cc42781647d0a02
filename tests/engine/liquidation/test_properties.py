"""Properties over random solvent positions: LP on the losing side of the mark, ratio 1 there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.liquidation import UNSETTLED, compute, margin_ratio_at
from engine.model import Account
from engine.normalise import Snapshot, normalise
from tests.engine.liquidation.conftest import (
    BTCUSDT_TIERS,
    INVERSE,
    ISOLATED,
    binance_balance,
    binance_position,
    make_snapshot,
)

Case = dict[str, Any]


def _binance_cross(c: Case) -> Snapshot:
    side = "long" if c["side"] > 0 else "short"
    pos = binance_position(side=side, contracts=c["qty"], entry=c["entry"], mark=c["mark"])
    other = binance_position("ETH/USDT:USDT", contracts=1.0, entry=1_000.0, mark=1_010.0)
    tiers = {"BTC/USDT:USDT": BTCUSDT_TIERS, "ETH/USDT:USDT": BTCUSDT_TIERS}
    return normalise("binanceusdm", [pos, other], binance_balance({"USDT": c["margin"]}), tiers)


def _binance_coinm(c: Case) -> Snapshot:
    side = "long" if c["side"] > 0 else "short"
    contracts = max(round(c["qty"] * c["entry"] / 100), 1)
    pos = binance_position(
        "BTC/USD:BTC",
        side=side,
        contracts=contracts,
        entry=c["entry"],
        mark=c["mark"],
        contract_size=100,
    )
    coin_margin = contracts * 100 / c["entry"] / c["leverage"]
    tiers = {"BTC/USD:BTC": [{"minNotional": 0, "maintenanceMarginRate": c["mmr"]}]}
    return normalise("binancecoinm", [pos], binance_balance({"BTC": coin_margin}), tiers)


def _row(c: Case, **extra: Any) -> dict[str, Any]:
    base = {"side": c["side"], "qty": c["qty"], "entry": c["entry"], "mark": c["mark"]}
    return {**base, "mmr": c["mmr"], **extra}


def _generic_isolated(c: Case) -> Snapshot:
    row = _row(c, isolated_wallet=c["margin"], margin_mode=ISOLATED, symbol="X/USDT:USDT")
    return make_snapshot("kraken", [row])


def _bybit_inverse(c: Case) -> Snapshot:
    usd = c["qty"] * c["entry"]
    row = {**_row(c), "qty": usd, "leverage": c["leverage"], "margin_mode": ISOLATED}
    return make_snapshot("bybit", [{**row, "symbol": "BTC/USD:BTC", "kind": INVERSE}])


def _hyperliquid_cross(c: Case) -> Snapshot:
    row = _row(c, symbol="ETH/USDC:USDC", max_leverage=0.5 / c["mmr"])
    account = Account("hyperliquid", margin_balance={"USDC": c["margin"]})
    return make_snapshot("hyperliquid", [row], account=account)


def _okx_isolated(c: Case) -> Snapshot:
    row = _row(c, isolated_wallet=c["margin"], margin_mode=ISOLATED, taker_fee=0.0005)
    return make_snapshot("okx", [row])


def _deribit(c: Case) -> Snapshot:
    usd = c["qty"] * c["entry"]
    row = {**_row(c), "qty": usd, "symbol": "BTC/USD:BTC", "kind": INVERSE}
    account = Account("deribit", margin_balance={"BTC": usd / c["entry"] / c["leverage"]})
    return make_snapshot("deribit", [row], account=account)


BUILDERS: dict[str, Callable[[Case], Snapshot]] = {
    "binance-usdm-cross": _binance_cross,
    "binance-coinm-cross": _binance_coinm,
    "generic-isolated": _generic_isolated,
    "bybit-inverse": _bybit_inverse,
    "hyperliquid-cross": _hyperliquid_cross,
    "okx-isolated": _okx_isolated,
    "deribit": _deribit,
}


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A position with leverage 1–50, MMR below half the initial rate, mark within ±3 %."""
    entry = draw(st.floats(100.0, 100_000.0))
    leverage = draw(st.floats(1.0, 50.0))
    qty = draw(st.floats(0.01, 20.0))
    return {
        "side": draw(st.sampled_from([1.0, -1.0])),
        "qty": qty,
        "entry": entry,
        "mark": entry * (1 + draw(st.floats(-0.03, 0.03))),
        "leverage": leverage,
        "mmr": draw(st.floats(0.05, 0.5)) / leverage,
        "margin": qty * entry / leverage,
    }


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(BUILDERS)), case=cases())
def test_lp_is_on_the_losing_side_and_the_ratio_there_is_one(name: str, case: Case) -> None:
    """For a solvent position with a finite LP: a long's LP < mark < a short's LP, and moving
    its mark to the LP gives a margin ratio of 1 (the formula and the ratio agree)."""
    snap = BUILDERS[name](case)
    at_mark = margin_ratio_at(snap, snap.positions.mark)
    result = compute(snap)
    assume(at_mark[0] < 0.999 and np.isfinite(result.price[0]))
    lp, mark = result.price[0], snap.positions.mark[0]
    assert (lp < mark) if case["side"] > 0 else (lp > mark)
    assert UNSETTLED not in result.notes[0]
    np.testing.assert_allclose(margin_ratio_at(snap, result.price)[0], 1.0, rtol=1e-7)
