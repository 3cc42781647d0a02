"""Binance readers: USDⓈ-M positionRisk v3 (mode, leverage, cum, legs) and COIN-M units."""

from __future__ import annotations

import math

from engine.model import ContractType, Leg, MarginMode
from engine.normalise import normalise
from tests.engine.normalise.helpers import account, read
from tests.engine.normalise.payloads import binance as b


def _usdm() -> list[dict[str, object]]:
    return b.usdm_positions()


def test_v3_margin_mode_from_isolated_margin() -> None:
    """positionRisk v3 has no marginType: isolatedMargin 0 is cross, otherwise isolated."""
    p = read("binanceusdm", *_usdm())
    assert list(p.margin_mode[:3]) == [MarginMode.CROSS, MarginMode.CROSS, MarginMode.ISOLATED]


def test_isolated_wallet_excludes_unrealised_pnl() -> None:
    """The isolated wallet is isolatedWallet, not isolatedMargin (which includes uPnL)."""
    p = read("binanceusdm", *_usdm())
    assert p.isolated_wallet[2] == 3542.0


def test_leverage_derived_from_position_initial_margin() -> None:
    """v3 leverage is |notional| / positionInitialMargin."""
    p = read("binanceusdm", *_usdm())
    assert math.isclose(p.leverage[0], 10.0) and math.isclose(p.leverage[1], 20.0)


def test_maintenance_amount_is_the_bracket_cum() -> None:
    """SOL at 28,400 notional sits in the 1 % bracket with cum 25: maint_amount is 25."""
    p = read("binanceusdm", *_usdm())
    assert p.mmr[2] == 0.01 and math.isclose(p.maint_amount[2], 25.0, abs_tol=1e-6)


def test_hedge_mode_legs() -> None:
    """positionSide LONG and SHORT become the legs of one hedge-mode pair."""
    p = read("binanceusdm", *_usdm())
    assert (p.leg[3], p.leg[4]) == (Leg.LONG, Leg.SHORT)
    assert (p.side[3], p.side[4]) == (1.0, -1.0)


def test_zero_liquidation_price_is_none() -> None:
    """liquidationPrice "0" means none."""
    raw = b.raw_positions()[0] | {"liquidationPrice": "0"}
    p = read("binanceusdm", *b.usdm_positions([raw]))
    assert math.isnan(p.venue_liq[0]) and p.valid[0]


def test_without_maint_margin_the_rate_is_left_to_the_tiers() -> None:
    """positionRisk without maintMargin leaves MMR and cum to the leverage tiers."""
    raw = b.raw_positions()[2]
    del raw["maintMargin"]
    p = normalise("binanceusdm", b.usdm_positions([raw]), None, b.usdm_tiers()).positions
    assert p.mmr[0] == 0.01 and p.maint_amount[0] == 25.0


def test_usdm_account_per_asset() -> None:
    """Cross wallet, margin balance and maintenance of USDT from fapi/v3/account."""
    a = account("binanceusdm", b.usdm_balance())
    assert a.wallet_balance["USDT"] == b.CROSS_WALLET
    assert math.isclose(a.maintenance_margin["USDT"], sum(b.maint(leg) for leg in b.LEGS))


def test_multi_assets_mode_adds_the_usd_pool() -> None:
    """Multi-Assets mode puts the account totals under ``USD``."""
    raw = b.raw_account() | {"multiAssetsMargin": True}
    a = account("binanceusdm", b.usdm_balance(raw))
    assert a.margin_balance["USD"] == float(raw["totalMarginBalance"])


def test_coinm_qty_is_contracts_times_face_value() -> None:
    """100 BTCUSD_PERP contracts of 100 USD are Q = 10,000 USD, settled in BTC."""
    p = read("binancecoinm", b.coinm_position(b.coinm_raw()))
    assert (p.qty[0], p.kind[0], p.pool[0]) == (10000.0, ContractType.INVERSE, "BTC")


def test_coinm_isolated_wallet_in_coin() -> None:
    """COIN-M isolatedWallet is the wallet in BTC, the leverage as reported."""
    p = read("binancecoinm", b.coinm_position(b.coinm_raw()))
    assert p.isolated_wallet[0] == 0.03333333 and p.leverage[0] == 5.0


def test_coinm_face_value_assumed_without_market() -> None:
    """Without ccxt's contractSize, BTC contracts are assumed 100 USD, with a note."""
    position = b.coinm_position(b.coinm_raw())
    position["contractSize"] = None
    p = read("binancecoinm", position)
    assert p.qty[0] == 10000.0 and any("assumed 100 USD" in d for d in p.diagnostics[0])
