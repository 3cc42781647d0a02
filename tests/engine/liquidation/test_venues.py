"""Bybit, Hyperliquid, OKX, Deribit, BitMEX and generic formulas against hand arithmetic."""

from __future__ import annotations

import numpy as np

from engine.liquidation import compute
from engine.liquidation.select import BYBIT_CROSS
from engine.model import FORMULAS, Account, Formula
from tests.engine.liquidation.conftest import CROSS, INVERSE, ISOLATED, OPTION, make_snapshot


def formulas(snapshot_result: object) -> list[Formula]:
    """Formula names of a result (readable assertions)."""
    return [FORMULAS[c] for c in snapshot_result.formula]  # type: ignore[attr-defined]


def test_bybit_linear_isolated_with_extra_margin() -> None:
    """IM = 1·20,000/10 = 2,000, wallet 2,500 ⇒ ExtraMargin 500, MM = 20,000·0.005 − 0 = 100.

    LP_long = 20,000 − (2,000 − 100) − 500 = 17,600; LP_short = 20,000 + 1,900 + 500 = 22,400.
    """
    base = {"qty": 1.0, "entry": 20_000.0, "leverage": 10.0, "mmr": 0.005, "margin_mode": ISOLATED}
    snap = make_snapshot(
        "bybit",
        [
            {**base, "side": 1.0, "isolated_wallet": 2_500.0},
            {**base, "side": -1.0, "isolated_wallet": 2_500.0, "symbol": "ETH/USDT:USDT"},
        ],
    )
    result = compute(snap)
    np.testing.assert_allclose(result.price, [17_600, 22_400])
    assert formulas(result) == [Formula.BYBIT_LINEAR_ISOLATED] * 2


def test_bybit_linear_isolated_from_leverage_and_deduction() -> None:
    """No wallet: IM = 20,000/10 = 2,000; MM = 20,000·0.01 − 100 (deduction) = 100.

    LP_long = 20,000 − (2,000 − 100)/1 = 18,100, with a note that IM was assumed.
    """
    snap = make_snapshot(
        "bybit",
        [
            {
                "side": 1.0,
                "qty": 1.0,
                "entry": 20_000.0,
                "leverage": 10.0,
                "mmr": 0.01,
                "maint_amount": 100.0,
                "margin_mode": ISOLATED,
            }
        ],
    )
    result = compute(snap)
    np.testing.assert_allclose(result.price, [18_100])
    assert "isolated margin not reported: assumed value / leverage" in result.notes[0]


def test_bybit_inverse_isolated_both_sides() -> None:
    """Q = $10,000 at 20,000: PV = 0.5 BTC, IM = 0.05, MM = 0.5·0.005 = 0.0025 (coin).

    LP_long = 10,000/(0.5 + 0.05 − 0.0025) = 18,264.840; LP_short = 10,000/(0.5 − 0.0475)
    = 22,099.448.
    """
    base = {
        "symbol": "BTC/USD:BTC",
        "qty": 10_000.0,
        "entry": 20_000.0,
        "leverage": 10.0,
        "mmr": 0.005,
        "kind": INVERSE,
        "margin_mode": ISOLATED,
    }
    snap = make_snapshot(
        "bybit", [{**base, "side": 1.0}, {**base, "side": -1.0, "symbol": "ETH/USD:ETH"}]
    )
    result = compute(snap)
    np.testing.assert_allclose(result.price, [10_000 / 0.5475, 10_000 / 0.4525])
    assert formulas(result) == [Formula.BYBIT_INVERSE_ISOLATED] * 2


def test_bybit_cross_has_no_per_position_price() -> None:
    """Bybit cross margin: Formula.NONE, NaN and the account-level note."""
    snap = make_snapshot("bybit", [{"side": 1.0, "qty": 1.0, "entry": 20_000.0, "mmr": 0.005}])
    result = compute(snap)
    assert np.isnan(result.price[0])
    assert formulas(result) == [Formula.NONE]
    assert result.notes[0] == (BYBIT_CROSS,)


def test_hyperliquid_cross_both_sides() -> None:
    """MMR = 1/(2·25) = 0.02; accountValue 5,000 − crossMaintenanceMarginUsed 400 = 4,600.

    Long 10 ETH, mark 2,000: LP = 2,000 − 4,600/10/(1 − 0.02) = 1,530.612.
    Short (own account): LP = 2,000 + 460/(1 + 0.02) = 2,450.980.
    """
    account = Account(
        "hyperliquid", margin_balance={"USDC": 5_000}, maintenance_margin={"USDC": 400}
    )
    expected = {1.0: 2_000 - 460 / 0.98, -1.0: 2_000 + 460 / 1.02}
    for side, entry in ((1.0, 1_900.0), (-1.0, 2_100.0)):
        row = {
            "symbol": "ETH/USDC:USDC",
            "side": side,
            "qty": 10.0,
            "entry": entry,
            "mark": 2_000.0,
            "max_leverage": 25.0,
        }
        result = compute(make_snapshot("hyperliquid", [row], account=account))
        np.testing.assert_allclose(result.price, [expected[side]])
        assert formulas(result) == [Formula.HYPERLIQUID_CROSS]


def test_hyperliquid_isolated_adds_unrealised_pnl_back() -> None:
    """isolated_wallet excludes uPnL: marginUsed = 1,000 + 10·(2,000 − 1,900) = 2,000.

    margin_available = 2,000 − 20,000·0.02 = 1,600; LP = 2,000 − 160/0.98 = 1,836.735.
    """
    row = {
        "symbol": "ETH/USDC:USDC",
        "side": 1.0,
        "qty": 10.0,
        "entry": 1_900.0,
        "mark": 2_000.0,
        "max_leverage": 25.0,
        "isolated_wallet": 1_000.0,
        "margin_mode": ISOLATED,
    }
    result = compute(make_snapshot("hyperliquid", [row]))
    np.testing.assert_allclose(result.price, [2_000 - 160 / 0.98])
    assert formulas(result) == [Formula.HYPERLIQUID_ISOLATED]


def test_okx_isolated_linear_both_sides() -> None:
    """ratio = (margin + UPL)/(Q·MP·(MMR + fee)) = 1, margin 2,000, MMR 0.004, fee 0.0005.

    Long: (20,000 − 2,000)/(1 − 0.0045) = 18,081.366; short: 22,000/1.0045 = 21,901.444.
    """
    base = {"qty": 1.0, "entry": 20_000.0, "mmr": 0.004, "taker_fee": 0.0005}
    rows = [
        {**base, "side": 1.0, "isolated_wallet": 2_000.0, "margin_mode": ISOLATED},
        {**base, "side": -1.0, "isolated_wallet": 2_000.0, "margin_mode": ISOLATED},
    ]
    result = compute(make_snapshot("okx", rows))
    np.testing.assert_allclose(result.price, [18_000 / 0.9955, 22_000 / 1.0045])
    assert formulas(result) == [Formula.OKX_ESTIMATE] * 2


def test_okx_default_fee_is_noted() -> None:
    """No taker fee: 0.05 % is assumed (same LP as above) and said."""
    row = {"side": 1.0, "qty": 1.0, "entry": 20_000.0, "mmr": 0.004}
    result = compute(
        make_snapshot("okx", [{**row, "isolated_wallet": 2_000.0, "margin_mode": ISOLATED}])
    )
    np.testing.assert_allclose(result.price, [18_000 / 0.9955])
    assert "taker fee unknown: assumed 0.05%" in result.notes[0]


def test_okx_inverse_isolated_in_coin() -> None:
    """Q = $10,000, EP 20,000, margin 0.05 BTC: MP = Q·(1 + 0.0055)/(0.05 + 0.5) = 18,281.818."""
    row = {
        "symbol": "BTC/USD:BTC",
        "side": 1.0,
        "qty": 10_000.0,
        "entry": 20_000.0,
        "mmr": 0.005,
        "taker_fee": 0.0005,
        "kind": INVERSE,
        "isolated_wallet": 0.05,
        "margin_mode": ISOLATED,
    }
    np.testing.assert_allclose(compute(make_snapshot("okx", [row])).price, [10_055 / 0.55])


def test_okx_cross_uses_the_pool_margin_balance() -> None:
    """Margin balance 3,000 includes the +1,000 uPnL (mark 21,000): 2,000 outside the position.

    Same equation as the isolated long with margin 2,000: 18,000/0.9955 = 18,081.366.
    """
    row = {"side": 1.0, "qty": 1.0, "entry": 20_000.0, "mark": 21_000.0, "mmr": 0.004}
    account = Account("okx", margin_balance={"USDT": 3_000})
    result = compute(make_snapshot("okx", [{**row, "taker_fee": 0.0005}], account=account))
    np.testing.assert_allclose(result.price, [18_000 / 0.9955])


def test_deribit_inverse_long_and_short() -> None:
    """LP = N·(MMR + s)/(E + s·N/EP); N = $20,000, EP = mark = 20,000, MMR 0.01.

    Long, equity 1 BTC: 20,000·1.01/(1 + 1) = 10,100. Short, equity 0.5 BTC:
    20,000·(0.01 − 1)/(0.5 − 1) = 39,600.
    """
    base = {"symbol": "BTC/USD:BTC", "qty": 20_000.0, "entry": 20_000.0, "mmr": 0.01}
    for side, equity, expected in ((1.0, 1.0, 10_100.0), (-1.0, 0.5, 39_600.0)):
        account = Account("deribit", margin_balance={"BTC": equity})
        snap = make_snapshot("deribit", [{**base, "side": side, "kind": INVERSE}], account=account)
        result = compute(snap)
        np.testing.assert_allclose(result.price, [expected])
        assert formulas(result) == [Formula.DERIBIT]


def test_deribit_counts_other_maintenance_and_skips_options() -> None:
    """A second BTC future (N $10,000 at 20,000, MMR 0.01: 0.005 BTC) and an option (venue
    maintenance 0.02 BTC) take E = 1 − 0.025 = 0.975: LP = 20,200/1.975 = 10,227.848.
    The option itself gets Formula.NONE.
    """
    future = {"symbol": "BTC/USD:BTC", "kind": INVERSE, "entry": 20_000.0, "mmr": 0.01}
    rows = [
        {**future, "side": 1.0, "qty": 20_000.0},
        {**future, "symbol": "BTC/USD:BTC-250627", "side": -1.0, "qty": 10_000.0},
        {
            "symbol": "BTC/USD:BTC-250627-60000-C",
            "kind": OPTION,
            "side": 1.0,
            "qty": 1.0,
            "entry": 0.01,
            "venue_maint_margin": 0.02,
        },
    ]
    account = Account("deribit", margin_balance={"BTC": 1.0})
    result = compute(make_snapshot("deribit", rows, account=account))
    np.testing.assert_allclose(result.price[0], 20_200 / 1.975)
    assert formulas(result)[2] == Formula.NONE


def test_deribit_linear_uses_the_generic_cross() -> None:
    """USDC-settled Deribit perpetual: Formula.GENERIC_CROSS (margin balance 1,000, MMR 0.01).

    1,000 + (P − 20,000) = 0.01·P ⇒ P = 19,000/0.99 = 19,191.919.
    """
    row = {"symbol": "BTC/USDC:USDC", "side": 1.0, "qty": 1.0, "entry": 20_000.0, "mmr": 0.01}
    account = Account("deribit", margin_balance={"USDC": 1_000})
    result = compute(make_snapshot("deribit", [row], account=account))
    np.testing.assert_allclose(result.price, [19_000 / 0.99])
    assert formulas(result) == [Formula.GENERIC_CROSS]


def test_bitmex_inverse_isolated_both_sides() -> None:
    """IMR = 1/10 + 2·0.00075 = 0.1015, MMR = 0.0035 + 0.00075 = 0.00425.

    LP_long = 20,000/(1 + 0.1015 − 0.00425) = 18,227.386; LP_short = 20,000/0.90275 = 22,154.528.
    """
    base = {
        "symbol": "BTC/USD:BTC",
        "qty": 10_000.0,
        "entry": 20_000.0,
        "leverage": 10.0,
        "mmr": 0.0035,
        "taker_fee": 0.00075,
        "kind": INVERSE,
        "margin_mode": ISOLATED,
    }
    rows = [{**base, "side": 1.0}, {**base, "side": -1.0, "symbol": "ETH/USD:ETH"}]
    result = compute(make_snapshot("bitmex", rows))
    np.testing.assert_allclose(result.price, [20_000 / 1.09725, 20_000 / 0.90275])
    assert formulas(result) == [Formula.BITMEX] * 2
    assert any("funding rate" in note for note in result.notes[0])


def test_generic_isolated_both_sides() -> None:
    """MM = 10·100·0.01 = 10; LP = 100 ∓ (200 − 10)/10 = 81 (long) and 119 (short)."""
    base = {"symbol": "X/USDT:USDT", "qty": 10.0, "entry": 100.0, "mmr": 0.01}
    rows = [
        {**base, "side": 1.0, "isolated_wallet": 200.0, "margin_mode": ISOLATED},
        {**base, "side": -1.0, "isolated_wallet": 200.0, "margin_mode": ISOLATED},
    ]
    result = compute(make_snapshot("kraken", rows))
    np.testing.assert_allclose(result.price, [81, 119])
    assert formulas(result) == [Formula.GENERIC] * 2


def test_generic_inverse_isolated_analogue() -> None:
    """Q = $1,000 at 50: PV = 20 coin, MM = 0.2; LP_long = 1,000/(20 + 2 − 0.2) = 45.872."""
    row = {
        "symbol": "X/USD:X",
        "side": 1.0,
        "qty": 1_000.0,
        "entry": 50.0,
        "mmr": 0.01,
        "kind": INVERSE,
        "isolated_wallet": 2.0,
        "margin_mode": ISOLATED,
    }
    np.testing.assert_allclose(compute(make_snapshot("kraken", [row])).price, [1_000 / 21.8])


def test_generic_cross_counts_the_pool() -> None:
    """Margin balance 500 holds uPnL +100 (long 10 @ 100, mark 110) and +50 (short 5 @ 50,
    mark 40, maintenance 5·40·0.01 = 2): outside the long, E = 350 + 50 = 400, M = 2.

    400 + 10·(P − 100) = 2 + 0.1·P ⇒ P = 602/9.9 = 60.808.
    """
    rows = [
        {"symbol": "X/USDT:USDT", "side": 1.0, "qty": 10.0, "entry": 100.0, "mark": 110.0},
        {"symbol": "Y/USDT:USDT", "side": -1.0, "qty": 5.0, "entry": 50.0, "mark": 40.0},
    ]
    rows = [{**row, "mmr": 0.01, "margin_mode": CROSS} for row in rows]
    account = Account("kraken", margin_balance={"USDT": 500})
    result = compute(make_snapshot("kraken", rows, account=account))
    np.testing.assert_allclose(result.price[0], 602 / 9.9)
    assert formulas(result) == [Formula.GENERIC_CROSS] * 2
