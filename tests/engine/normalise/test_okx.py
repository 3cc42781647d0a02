"""OKX v5 reader: contracts × ctVal, amounts-not-rates, isolated margin and the account."""

from __future__ import annotations

import math

from engine.model import ContractType, Leg, MarginMode
from tests.engine.normalise.helpers import account, read
from tests.engine.normalise.payloads import okx as o


def test_linear_qty_is_contracts_times_ct_val() -> None:
    """50 contracts of 0.01 BTC are Q = 0.5 BTC."""
    p = read("okx", o.okx_position(o.okx_raw()))
    assert math.isclose(p.qty[0], 0.5) and p.contracts[0] == 50.0


def test_inverse_qty_is_usd() -> None:
    """100 contracts of 100 USD are Q = 10,000 USD, settled in BTC."""
    p = read("okx", o.okx_position(o.okx_inverse_long()))
    assert (p.qty[0], p.kind[0], p.pool[0]) == (10000.0, ContractType.INVERSE, "BTC")


def test_mmr_amount_becomes_a_rate() -> None:
    """``mmr`` 124 USDT on a 31,000 USDT position is a 0.4 % rate."""
    p = read("okx", o.okx_position(o.okx_raw()))
    assert math.isclose(p.mmr[0], 0.004) and p.venue_maint_margin[0] == 124.0


def test_inverse_mmr_amount_is_divided_by_coin_notional() -> None:
    """An inverse ``mmr`` (BTC) is divided by Q / mark (BTC)."""
    p = read("okx", o.okx_position(o.okx_inverse_long()))
    assert math.isclose(p.mmr[0], 0.00064516 / (10000 / 62000), rel_tol=1e-6)


def test_isolated_wallet_is_margin() -> None:
    """An isolated position's wallet is ``margin`` (without upl), its leg from posSide."""
    p = read("okx", o.okx_position(o.okx_isolated_short()))
    assert p.margin_mode[0] == MarginMode.ISOLATED and p.isolated_wallet[0] == 600.0
    assert p.leg[0] == Leg.SHORT and p.side[0] == -1.0


def test_empty_liq_px_is_none() -> None:
    """liqPx "" is NaN."""
    p = read("okx", o.okx_position(o.okx_inverse_long()))
    assert math.isnan(p.venue_liq[0]) and p.valid[0]


def test_ct_val_derived_when_market_is_missing() -> None:
    """Without ccxt's contractSize, ctVal is back-solved from notionalUsd, with a note."""
    position = o.okx_position(o.okx_raw())
    position["contractSize"] = None
    p = read("okx", position)
    assert math.isclose(p.qty[0], 0.5)
    assert any("contract value" in d for d in p.diagnostics[0])


def test_account_cross_equity_excludes_isolated() -> None:
    """Per currency: margin balance eq − isoEq, wallet that minus the cross upl."""
    a = account("okx", o.okx_balance())
    assert a.margin_balance["USDT"] == 11800.0 and a.wallet_balance["USDT"] == 10800.0
    assert a.maintenance_margin["USDT"] == 124.0


def test_multi_currency_account_inverts_mgn_ratio() -> None:
    """In multi-currency margin, maintenance is adjEq / mgnRatio (OKX's ratio is inverted)."""
    a = account("okx", o.okx_balance({"adjEq": "43000", "mmr": "", "mgnRatio": "100"}))
    assert a.margin_balance["USD"] == 43000.0 and a.maintenance_margin["USD"] == 430.0


def test_multi_currency_account_drops_per_currency_pools() -> None:
    """Multi-currency margin leaves USDT positions to fall back to the USD pool."""
    a = account("okx", o.okx_balance({"adjEq": "43000", "mmr": "430"}))
    assert "USDT" not in a.margin_balance and a.usd_rate["USDT"] == 1.0
