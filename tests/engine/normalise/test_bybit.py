"""Bybit v5 reader: units, margin mode from tradeMode, sentinels, margins and UTA account."""

from __future__ import annotations

import math

import numpy as np

from engine.model import ContractType, Leg, MarginMode
from tests.engine.normalise.helpers import account, read
from tests.engine.normalise.payloads import bybit as b


def test_linear_size_is_base_units() -> None:
    """A linear position's Q is ``size`` in coins."""
    p = read("bybit", b.bybit_position(b.bybit_raw()))
    assert p.qty[0] == 0.5 and p.kind[0] == ContractType.LINEAR


def test_inverse_size_is_usd() -> None:
    """An inverse position's Q is ``size`` in USD and it settles in the coin at the mark."""
    p = read("bybit", b.bybit_position(b.bybit_inverse_long()))
    assert (p.qty[0], p.kind[0], p.settle[0]) == (10000.0, ContractType.INVERSE, "BTC")
    assert p.settle_usd[0] == 62000.0


def test_trade_mode_zero_is_cross_on_the_unified_pool() -> None:
    """tradeMode 0 is cross, without the 'assumed' note, drawing on the unified USD pool."""
    p = read("bybit", b.bybit_position(b.bybit_raw()))
    assert p.margin_mode[0] == MarginMode.CROSS
    assert p.pool[0] == "USD" and p.diagnostics[0] == ()


def test_missing_trade_mode_is_assumed_cross_with_a_note() -> None:
    """Without tradeMode the position is cross and says it was assumed."""
    raw = b.bybit_raw()
    del raw["tradeMode"]
    p = read("bybit", b.bybit_position(raw))
    assert p.margin_mode[0] == MarginMode.CROSS
    assert any("tradeMode not reported" in d for d in p.diagnostics[0])


def test_isolated_wallet_is_position_balance() -> None:
    """tradeMode 1 is isolated with positionBalance (margin without uPnL) as its wallet."""
    p = read("bybit", b.bybit_position(b.bybit_isolated_short()))
    assert p.margin_mode[0] == MarginMode.ISOLATED
    assert p.isolated_wallet[0] == 600.0 and p.pool[0] == "USDT"


def test_isolated_without_position_balance_falls_back_to_position_im() -> None:
    """An isolated position with positionBalance "" uses positionIM and says so."""
    p = read("bybit", b.bybit_position(b.bybit_isolated_short(positionBalance="")))
    assert p.isolated_wallet[0] == 603.41
    assert any("positionIM" in d for d in p.diagnostics[0])


def test_liquidation_sentinel_0001_is_none() -> None:
    """Bybit's liqPrice "0.0001" means no liquidation price."""
    raw = b.bybit_raw("XRPUSDT", size="100", avgPrice="0.3615", positionValue="36.15")
    raw.update(markPrice="0.3432", liqPrice="0.0001", positionIM="3.63", positionMM="0.38")
    p = read("bybit", b.bybit_position(raw))
    assert math.isnan(p.venue_liq[0]) and p.valid[0]


def test_empty_liquidation_price_is_none() -> None:
    """liqPrice "" (unified cross) is NaN without any note."""
    p = read("bybit", b.bybit_position(b.bybit_raw(liqPrice="")))
    assert math.isnan(p.venue_liq[0]) and p.diagnostics[0] == ()


def test_mmr_is_position_mm_over_position_value() -> None:
    """The MMR is positionMM / positionValue (Bybit's MM base), with no separate deduction."""
    p = read("bybit", b.bybit_position(b.bybit_raw()))
    assert math.isclose(p.mmr[0], 172.05 / 30000) and p.maint_amount[0] == 0.0
    assert p.venue_maint_margin[0] == 172.05 and p.venue_initial_margin[0] == 3117.05


def test_inverse_mmr_uses_coin_position_value() -> None:
    """Inverse MMR divides positionMM (coin) by positionValue (coin)."""
    p = read("bybit", b.bybit_position(b.bybit_inverse_long()))
    assert math.isclose(p.mmr[0], 0.00089606 / 0.16666667)


def test_missing_leverage_is_derived_from_position_im() -> None:
    """leverage "" is derived as position value at the mark / positionIM, with a note."""
    p = read("bybit", b.bybit_position(b.bybit_raw(leverage="")))
    assert math.isclose(p.leverage[0], 31000 / 3117.05)
    assert any("leverage not reported" in d for d in p.diagnostics[0])


def test_hedge_mode_position_idx_sets_the_leg() -> None:
    """positionIdx 2 is the short leg of a hedge-mode pair."""
    p = read("bybit", b.bybit_position(b.bybit_raw(positionIdx=2, side="Sell")))
    assert p.leg[0] == Leg.SHORT and p.side[0] == -1.0


def test_position_above_its_risk_limit_is_noted() -> None:
    """A position value beyond riskLimitValue is flagged."""
    p = read("bybit", b.bybit_position(b.bybit_raw(riskLimitValue="20000")))
    assert any("risk limit" in d for d in p.diagnostics[0])


def test_unified_account_totals_are_under_usd() -> None:
    """The unified account's margin balance, wallet and maintenance are keyed ``USD``."""
    a = account("bybit", b.bybit_balance())
    assert a.margin_balance["USD"] == 42950.5 and a.wallet_balance["USD"] == 42150.5
    assert a.maintenance_margin["USD"] == 270.6


def test_account_per_coin_figures_and_rates() -> None:
    """Each coin has its equity, wallet, position MM and a USD rate from usdValue."""
    a = account("bybit", b.bybit_balance())
    assert a.margin_balance["BTC"] == 0.48537634 and a.maintenance_margin["BTC"] == 0.00089606
    assert math.isclose(a.usd_rate["BTC"], 30093.33 / 0.48537634)


def test_account_maintenance_from_mm_rate_when_total_missing() -> None:
    """accountMMRate (maintenance / margin balance, our convention) fills a missing total."""
    a = account("bybit", b.bybit_balance(totalMaintenanceMargin=""))
    assert math.isclose(a.maintenance_margin["USD"], 0.0063 * 42950.5)
    assert a.diagnostics


def test_account_without_payload_says_so() -> None:
    """A balance without Bybit's response has a diagnostic and no figures."""
    a = account("bybit", {"total": {"USDT": 1}})
    assert a.diagnostics and not a.margin_balance


def test_liquidation_price_far_above_the_mark_is_kept() -> None:
    """An isolated short's liqPrice 400,000 at a mark of 3,100 is real data: kept as is."""
    p = read("bybit", b.bybit_position(b.bybit_isolated_short(liqPrice="400000")))
    np.testing.assert_allclose(p.venue_liq, [400_000.0])
    assert p.diagnostics[0] == ()


def test_liquidation_0001_is_a_price_for_a_short_below_it() -> None:
    """A short marked at 0.00008 liquidates above its mark: liqPrice 0.0001 is real there."""
    raw = b.bybit_raw("XRPUSDT", side="Sell", size="100", avgPrice="0.00007")
    raw.update(markPrice="0.00008", positionValue="0.007", liqPrice="0.0001")
    p = read("bybit", b.bybit_position(raw))
    np.testing.assert_allclose(p.venue_liq, [0.0001])
