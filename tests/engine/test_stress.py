"""Price-shock stress: equity after the shock and which positions it liquidates."""

from __future__ import annotations

import math

import numpy as np

from engine.analysis import analyze
from engine.normalise import normalise
from engine.stress import stress
from tests.engine.liquidation.conftest import BTCUSDT_TIERS, binance_balance, binance_position


def _run(snapshot, shock_pct: float, underlying: str | None = None):  # type: ignore[no-untyped-def]
    result = analyze(snapshot)
    return stress(
        snapshot,
        result.portfolio,
        result.liquidation_price,
        shock_pct=shock_pct,
        underlying=underlying,
    )


def _isolated_long():  # type: ignore[no-untyped-def]
    # LP = (2000 − 20000)/(0.004 − 1) = 18072.29 (bracket 1 at 18k notional): 9.64 % away.
    pos = binance_position(contracts=1, entry=20_000, mark=20_000, isolated_wallet=2_000)
    return normalise(
        "binanceusdm", [pos], binance_balance({"USDT": 0.0}), {"BTC/USDT:USDT": BTCUSDT_TIERS}
    )


def test_a_shock_short_of_the_liquidation_price_liquidates_nothing() -> None:
    """−9 % puts the mark at 18200, above the 18072.29 liquidation price."""
    result = _run(_isolated_long(), -9.0)
    assert result.liquidated.tolist() == [False]
    np.testing.assert_allclose(result.mark, [18_200.0])


def test_a_shock_past_the_liquidation_price_liquidates() -> None:
    """−10 % puts the mark at 18000, below 18072.29; the PnL is −2000 USD."""
    result = _run(_isolated_long(), -10.0)
    assert result.liquidated.tolist() == [True]
    assert math.isclose(result.pnl_usd, -2_000.0)


def _cross_book():  # type: ignore[no-untyped-def]
    btc = binance_position("BTC/USDT:USDT", contracts=1, entry=20_000, mark=20_000)
    eth = binance_position("ETH/USDT:USDT", contracts=10, entry=1_000, mark=1_000)
    tiers = {"BTC/USDT:USDT": BTCUSDT_TIERS, "ETH/USDT:USDT": BTCUSDT_TIERS}
    return normalise("binanceusdm", [btc, eth], binance_balance({"USDT": 3_000.0}), tiers)


def test_a_shock_to_one_coin_can_liquidate_a_cross_position_in_another() -> None:
    """ETH −29 %: equity 3000 − 2900 = 100 < maintenance 80 + 7100·0.004 = 108.4, so the
    untouched BTC long goes too (its cross LP moves to (3000 − 28.4 − 2900 − 20000)/(−0.996)
    = 20008.4, above its 20000 mark)."""
    result = _run(_cross_book(), -29.0, "ETH")
    assert result.liquidated.tolist() == [True, True]
    np.testing.assert_allclose(result.liquidation_price[0], 19_928.4 / 0.996)
    assert math.isclose(result.equity_usd_after, 100.0)


def test_a_smaller_shock_to_one_coin_leaves_the_cross_book_alive() -> None:
    """ETH −25 %: equity 500 stays above maintenance 80 + 7500·0.004 = 110; BTC unmoved."""
    result = _run(_cross_book(), -25.0, "ETH")
    assert result.liquidated.tolist() == [False, False]
    np.testing.assert_allclose(result.mark, [20_000.0, 750.0])
    assert math.isclose(result.equity_usd_after, 500.0)
