"""BitMEX reader: integer contracts, satoshi/micro-USDT units, posMargin and posMaint."""

from __future__ import annotations

import math

import numpy as np

from engine.model import ContractType, MarginMode
from tests.engine.normalise.helpers import account, read
from tests.engine.normalise.payloads import bitmex as m


def test_inverse_qty_is_usd_contracts() -> None:
    """XBTUSD: 10,000 contracts are Q = 10,000 USD."""
    p = read("bitmex", m.bitmex_position(m.bitmex_raw()))
    assert (p.qty[0], p.kind[0]) == (10000.0, ContractType.INVERSE)


def test_linear_qty_is_home_notional() -> None:
    """XBTUSDT: 500,000 contracts of 1e-6 XBT are Q = 0.5 BTC."""
    p = read("bitmex", m.bitmex_position(m.bitmex_linear_isolated_short()))
    assert p.qty[0] == 0.5 and p.side[0] == -1.0


def test_satoshi_amounts_are_converted() -> None:
    """posMaint and unrealisedPnl in XBt become BTC."""
    p = read("bitmex", m.bitmex_position(m.bitmex_raw()))
    assert math.isclose(p.venue_maint_margin[0], 0.00070968)
    assert math.isclose(p.venue_upnl[0], 0.00537635)


def test_isolated_wallet_is_pos_margin() -> None:
    """An isolated position's wallet is posMargin in USDT, not ccxt's maintMargin."""
    p = read("bitmex", m.bitmex_position(m.bitmex_linear_isolated_short()))
    assert p.margin_mode[0] == MarginMode.ISOLATED and math.isclose(p.isolated_wallet[0], 3045.0)


def test_mmr_and_fee_from_the_position() -> None:
    """MMR is maintMarginReq and the taker fee is commission."""
    p = read("bitmex", m.bitmex_position(m.bitmex_raw()))
    assert (p.mmr[0], p.taker_fee[0]) == (0.0035, 0.00075)


def test_zero_liquidation_price_is_none() -> None:
    """liquidationPrice 0 means none."""
    p = read("bitmex", m.bitmex_position(m.bitmex_raw(liquidationPrice=0)))
    assert math.isnan(p.venue_liq[0])


def test_short_liquidation_at_one_hundred_million_is_none() -> None:
    """A short's liquidationPrice 100,000,000 is BitMEX's "none" marker, not a price."""
    raw = m.bitmex_linear_isolated_short(liquidationPrice=100000000)
    p = read("bitmex", m.bitmex_position(raw))
    assert math.isnan(p.venue_liq[0]) and p.valid[0]


def test_short_liquidation_far_above_the_mark_is_kept() -> None:
    """A short's liquidationPrice 10,000,000 at a mark near 62,000 is real data, kept as is."""
    raw = m.bitmex_linear_isolated_short(liquidationPrice=10_000_000)
    p = read("bitmex", m.bitmex_position(raw))
    np.testing.assert_allclose(p.venue_liq, [10_000_000.0])


def test_leverage_from_init_margin_req_when_missing() -> None:
    """leverage 0 falls back to 1 / initMarginReq."""
    p = read("bitmex", m.bitmex_position(m.bitmex_raw(leverage=0)))
    assert p.leverage[0] == 100.0


def test_quanto_contract_is_noted() -> None:
    """ETHUSD (settled in XBT) is sized from markValue and flagged as quanto."""
    raw = m.bitmex_raw(symbol="ETHUSD", underlying="ETH", currentQty=1000, markPrice=3100.0)
    raw.update(homeNotional=0.31, foreignNotional=-961.0, markValue=-310000000)
    p = read("bitmex", m.bitmex_position(raw))
    assert math.isclose(p.qty[0], 3.1 / 3100) and any("quanto" in x for x in p.diagnostics[0])


def test_unknown_currency_is_noted() -> None:
    """A currency code without a known unit leaves amounts unknown, with a note."""
    p = read("bitmex", m.bitmex_position(m.bitmex_raw(currency="ZZZ")))
    assert math.isnan(p.venue_maint_margin[0]) and p.diagnostics[0]


def test_account_from_user_margin() -> None:
    """user/margin entries become BTC and USDT figures."""
    a = account("bitmex", m.bitmex_balance())
    assert math.isclose(a.margin_balance["BTC"], 1.20537635) and a.wallet_balance["USDT"] == 10000
