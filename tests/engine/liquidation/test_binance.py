"""Binance USDⓈ-M and COIN-M liquidation prices against hand-computed FAQ arithmetic."""

from __future__ import annotations

import numpy as np

from engine.liquidation import NO_LIQUIDATION, compute
from engine.model import FORMULAS, Formula, formula_code
from engine.normalise import normalise
from tests.engine.liquidation.conftest import BTCUSDT_TIERS, binance_balance, binance_position

TIERS = {"BTC/USDT:USDT": BTCUSDT_TIERS}


def test_usdm_cross_one_way_long() -> None:
    """One long, no other symbols: LP = (WB + cum − Q·EP)/(Q·MMR − Q).

    (1,000 + 0 − 20,000)/(0.004 − 1) = 19,000/0.996 = 19,076.305 (notional 19,076: tier 1).
    """
    snap = normalise("binanceusdm", [binance_position()], binance_balance({"USDT": 1_000}), TIERS)
    result = compute(snap)
    np.testing.assert_allclose(result.price, [19_000 / 0.996])
    assert FORMULAS[result.formula[0]] == Formula.BINANCE_USDM_CROSS


def test_usdm_cross_one_way_short() -> None:
    """One short: LP = (WB + cum + Q·EP)/(Q·MMR + Q) = 21,000/1.004 = 20,916.335."""
    snap = normalise(
        "binanceusdm",
        [binance_position(side="short")],
        binance_balance({"USDT": 1_000}),
        TIERS,
    )
    np.testing.assert_allclose(compute(snap).price, [21_000 / 1.004])


def test_usdm_cross_counts_other_symbols() -> None:
    """TMM1 and UPNL1 come from the other symbols of the pool.

    ETH long 10 @ 1,500, mark 1,600: UPNL1 = +1,000, TMM1 = 10·1,600·0.01 = 160.
    BTC: (1,000 − 160 + 1,000 − 20,000)/(0.004 − 1) = 18,160/0.996 = 18,232.932.
    ETH: TMM1 = 20,000·0.004 = 80 and UPNL1 = 0 from BTC at its mark:
    (1,000 − 80 + 0 − 15,000)/(10·0.01 − 10) = 14,080/9.9 = 1,422.222.
    """
    eth = binance_position("ETH/USDT:USDT", contracts=10, entry=1_500, mark=1_600)
    eth_tiers = [{"minNotional": 0, "maxNotional": None, "maintenanceMarginRate": 0.01}]
    snap = normalise(
        "binanceusdm",
        [binance_position(), eth],
        binance_balance({"USDT": 1_000}),
        {**TIERS, "ETH/USDT:USDT": eth_tiers},
    )
    np.testing.assert_allclose(compute(snap).price, [18_160 / 0.996, 14_080 / 9.9])


def test_usdm_cross_mark_override_reprices_the_others() -> None:
    """A shocked ETH mark changes BTC's cross LP: ETH at its entry 1,500 has UPNL1 = 0 and
    TMM1 = 10·1,500·0.01 = 150, so BTC's LP = (1,000 − 150 − 20,000)/(0.004 − 1) = 19,226.908.
    """
    eth = binance_position("ETH/USDT:USDT", contracts=10, entry=1_500, mark=1_600)
    eth_tiers = [{"minNotional": 0, "maxNotional": None, "maintenanceMarginRate": 0.01}]
    snap = normalise(
        "binanceusdm",
        [binance_position(), eth],
        binance_balance({"USDT": 1_000}),
        {**TIERS, "ETH/USDT:USDT": eth_tiers},
    )
    shocked = compute(snap, mark=np.array([20_000.0, 1_500.0]))
    np.testing.assert_allclose(shocked.price[0], 19_150 / 0.996)


def test_usdm_long_lands_in_a_lower_bracket() -> None:
    """Long 3 BTC (notional 60,000: tier 2) whose LP falls in tier 1.

    Tier 2: (15,000 + 50 − 60,000)/(3·0.005 − 3) = 15,058.63 → notional 45,176 is tier 1;
    tier 1: (15,000 + 0 − 60,000)/(3·0.004 − 3) = 45,000/2.988 = 15,060.241 (notional 45,181 ✓).
    """
    snap = normalise(
        "binanceusdm",
        [binance_position(contracts=3)],
        binance_balance({"USDT": 15_000}),
        TIERS,
    )
    result = compute(snap)
    np.testing.assert_allclose(result.price, [45_000 / 2.988])
    assert result.notes == ((),)


def test_usdm_short_lands_in_a_higher_bracket() -> None:
    """Short 12 BTC (notional 240,000: tier 2) whose LP falls in tier 3.

    Tier 2: (20,000 + 50 + 240,000)/(12·0.005 + 12) = 21,563.02 → notional 258,756 is tier 3;
    tier 3: (20,000 + 1,300 + 240,000)/(12·0.01 + 12) = 261,300/12.12 = 21,559.406 ✓.
    """
    snap = normalise(
        "binanceusdm",
        [binance_position(side="short", contracts=12)],
        binance_balance({"USDT": 20_000}),
        TIERS,
    )
    np.testing.assert_allclose(compute(snap).price, [261_300 / 12.12])


def test_usdm_cross_hedge_legs_share_one_price() -> None:
    """Hedge mode: LONG 2 @ 20,000 and SHORT 1 @ 21,000 share one LP (FAQ, LONG/SHORT terms).

    (WB + cumL + cumS − QL·EPL + QS·EPS)/(QL·MMRL + QS·MMRS − QL + QS)
    = (5,000 − 40,000 + 21,000)/(0.008 + 0.004 − 2 + 1) = 14,000/0.988 = 14,170.040.
    """
    legs = [
        binance_position(contracts=2, leg="LONG", mark=20_500),
        binance_position(side="short", entry=21_000, leg="SHORT", mark=20_500),
    ]
    snap = normalise("binanceusdm", legs, binance_balance({"USDT": 5_000}), TIERS)
    np.testing.assert_allclose(compute(snap).price, [14_000 / 0.988] * 2)


def test_usdm_isolated_one_way_both_sides() -> None:
    """Isolated: WB = isolated wallet, TMM1 = UPNL1 = 0.

    Long 1 @ 20,000, wallet 2,000: (2,000 − 20,000)/(0.004 − 1) = 18,000/0.996 = 18,072.289.
    Short 1 @ 20,000, wallet 2,000: (2,000 + 20,000)/(0.004 + 1) = 22,000/1.004 = 21,912.351.
    """
    snap = normalise(
        "binanceusdm",
        [
            binance_position(isolated_wallet=2_000),
            binance_position("ETH/USDT:USDT", side="short", isolated_wallet=2_000),
        ],
        binance_balance({"USDT": 1_000}),
        {**TIERS, "ETH/USDT:USDT": BTCUSDT_TIERS},
    )
    result = compute(snap)
    np.testing.assert_allclose(result.price, [18_000 / 0.996, 22_000 / 1.004])
    assert {FORMULAS[c] for c in result.formula} == {Formula.BINANCE_USDM_ISOLATED}


def test_usdm_isolated_hedge_legs_price_separately() -> None:
    """Isolated hedge legs each have their own wallet and LP.

    LONG 1 @ 20,000, wallet 2,000: 18,000/0.996; SHORT 1 @ 21,000, wallet 1,500:
    (1,500 + 21,000)/1.004 = 22,410.359.
    """
    legs = [
        binance_position(leg="LONG", isolated_wallet=2_000),
        binance_position(side="short", entry=21_000, leg="SHORT", isolated_wallet=1_500),
    ]
    snap = normalise("binanceusdm", legs, binance_balance({"USDT": 0}), TIERS)
    np.testing.assert_allclose(compute(snap).price, [18_000 / 0.996, 22_500 / 1.004])


def test_usdm_multi_assets_falls_back_to_the_usd_wallet() -> None:
    """Multi-Assets mode: no USDT cross wallet, so WB is the USD total (1,000) → 19,076.305."""
    balance = binance_balance({"BNB": 3.0}, multi_assets=1_000)
    snap = normalise("binanceusdm", [binance_position()], balance, TIERS)
    np.testing.assert_allclose(compute(snap).price, [19_000 / 0.996])


def test_cross_without_wallet_is_nan_with_a_note_and_hides_nothing() -> None:
    """No USDT cross wallet: the cross position is NaN with a note, the isolated one is priced."""
    snap = normalise(
        "binanceusdm",
        [binance_position(), binance_position("ETH/USDT:USDT", isolated_wallet=2_000)],
        {"info": {"assets": []}},
        {**TIERS, "ETH/USDT:USDT": BTCUSDT_TIERS},
    )
    result = compute(snap)
    np.testing.assert_allclose(result.price, [np.nan, 18_000 / 0.996])
    assert (
        "cross position: needs the account's cross wallet balance, not in the balance"
        in (result.notes[0])
    )
    assert result.formula[0] == formula_code(Formula.BINANCE_USDM_CROSS)


COINM_TIERS = [
    {"minNotional": 0, "maxNotional": 0.55, "maintenanceMarginRate": 0.004},
    {"minNotional": 0.55, "maxNotional": None, "maintenanceMarginRate": 0.01},  # cum 0.0033
]


def test_coinm_cross_long_and_short_in_coin() -> None:
    """COIN-M: LP = N·(MMR + s)/(WB + cum + s·N/EP), N = 100 contracts × 100 USD.

    Long, WB 0.1 BTC: 10,000·1.004/(0.1 + 0.5) = 16,733.333 (one bracket).
    Short (separate account): 10,000·(0.004 − 1)/(0.1 − 0.5) = 24,900.
    """
    one_tier = {"BTC/USD:BTC": COINM_TIERS[:1]}
    for side, expected in (("long", 10_040 / 0.6), ("short", 9_960 / 0.4)):
        pos = binance_position("BTC/USD:BTC", side=side, contracts=100, contract_size=100)
        snap = normalise("binancecoinm", [pos], binance_balance({"BTC": 0.1}), one_tier)
        result = compute(snap)
        np.testing.assert_allclose(result.price, [expected])
        assert FORMULAS[result.formula[0]] == Formula.BINANCE_COINM_CROSS


def test_coinm_bracket_by_coin_notional_at_the_liquidation_price() -> None:
    """At the mark the coin notional is 0.5 BTC (tier 1), at LP ≈ 16,733 it is 0.598 (tier 2).

    Tier 2: cum = 0.55·(0.01 − 0.004) = 0.0033; LP = 10,000·1.01/(0.1 + 0.0033 + 0.5)
    = 10,100/0.6033 = 16,741.256 (notional 0.597 ✓).
    """
    pos = binance_position("BTC/USD:BTC", contracts=100, contract_size=100)
    snap = normalise(
        "binancecoinm", [pos], binance_balance({"BTC": 0.1}), {"BTC/USD:BTC": COINM_TIERS}
    )
    np.testing.assert_allclose(compute(snap).price, [10_100 / 0.6033])


def test_coinm_isolated_uses_the_position_wallet() -> None:
    """Isolated COIN-M long, wallet 0.1 BTC: same arithmetic as cross, 10,040/0.6 = 16,733.333."""
    pos = binance_position("BTC/USD:BTC", contracts=100, contract_size=100, isolated_wallet=0.1)
    snap = normalise(
        "binancecoinm", [pos], binance_balance({"BTC": 5}), {"BTC/USD:BTC": COINM_TIERS[:1]}
    )
    result = compute(snap)
    np.testing.assert_allclose(result.price, [10_040 / 0.6])
    assert FORMULAS[result.formula[0]] == Formula.BINANCE_COINM_ISOLATED


def test_coin_pool_never_falls_back_to_the_usd_total() -> None:
    """A BTC-margined pool with only a USD total has no wallet in its unit: NaN with a note."""
    pos = binance_position("BTC/USD:BTC", contracts=100, contract_size=100)
    balance = binance_balance({}, multi_assets=1_000)
    snap = normalise("binancecoinm", [pos], balance, {"BTC/USD:BTC": COINM_TIERS[:1]})
    result = compute(snap)
    assert np.isnan(result.price[0])
    assert any("cross wallet balance" in note for note in result.notes[0])


def test_coinm_fully_collateralised_short_has_no_liquidation() -> None:
    """Short $10,000 with 0.5 BTC at 20,000: LP = 10,000·(−0.996)/(0.5 − 0.5) → none (NaN)."""
    pos = binance_position("BTC/USD:BTC", side="short", contracts=100, contract_size=100)
    snap = normalise(
        "binancecoinm", [pos], binance_balance({"BTC": 0.5}), {"BTC/USD:BTC": COINM_TIERS[:1]}
    )
    result = compute(snap)
    assert np.isnan(result.price[0])
    assert NO_LIQUIDATION in result.notes[0]


def test_coinm_short_a_rounding_error_from_1x_has_no_liquidation() -> None:
    """Short $100 at 100 with 0.9999999999999998 BTC (1 BTC at leverage 1 + 2e-16):
    LP = 100·(0.125 − 1)/(0.9999999999999998 − 1) = 3.9e17 is the rounding of a 1x short's
    zero denominator, not a price: none (NaN), like the exact 1x short."""
    pos = binance_position(
        "BTC/USD:BTC", side="short", contracts=1, entry=100.0, mark=100.0, contract_size=100
    )
    tiers = {"BTC/USD:BTC": [{"minNotional": 0, "maintenanceMarginRate": 0.125}]}
    wallet = 100 / 100 / 1.0000000000000002
    snap = normalise("binancecoinm", [pos], binance_balance({"BTC": wallet}), tiers)
    result = compute(snap)
    assert np.isnan(result.price[0])
    assert NO_LIQUIDATION in result.notes[0]
