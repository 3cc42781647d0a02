"""Account-level figures: equity, exposure per underlying, leverage and margin ratio."""

from __future__ import annotations

import math

import numpy as np

from engine.model import Account, ContractType, MarginMode
from engine.portfolio import build
from tests.engine.builders import positions


def _usdt_book() -> object:
    return positions(
        symbol=["BTC/USDT:USDT", "BTC/USDT:USDT", "ETH/USDT:USDT"],
        underlying=["BTC", "BTC", "ETH"],
        side=[1, -1, 1],
        qty=[0.1, 0.05, 1.0],
        mark=[60_000, 60_000, 3_000],
        entry=[60_000, 60_000, 3_000],
        mmr=[0.004, 0.004, 0.005],
    )


def test_exposure_is_gross_and_net_per_underlying() -> None:
    """BTC: 6000 long + 3000 short ⇒ gross 9000, net 3000; ETH 3000 both; total 12000 / 6000."""
    p = _usdt_book()
    got = build(p, Account(venue="t", margin_balance={"USDT": 1000.0}), np.zeros(3))  # type: ignore[arg-type]
    assert got.underlyings == ("BTC", "ETH")
    np.testing.assert_allclose(got.gross_by_underlying, [9000.0, 3000.0])
    np.testing.assert_allclose(got.net_by_underlying, [3000.0, 3000.0])
    assert (got.gross_exposure_usd, got.net_exposure_usd) == (12_000.0, 6_000.0)


def test_effective_leverage_and_margin_ratio_use_equity() -> None:
    """Equity 1000, gross 12000 ⇒ 12x; venue maintenance 60 ⇒ margin ratio 0.06."""
    account = Account(venue="t", margin_balance={"USDT": 1000.0}, maintenance_margin={"USDT": 60.0})
    got = build(_usdt_book(), account, np.zeros(3))  # type: ignore[arg-type]
    assert math.isclose(got.effective_leverage, 12.0)
    assert math.isclose(got.margin_ratio, 0.06)


def test_margin_ratio_falls_back_to_the_positions_maintenance() -> None:
    """No venue maintenance: 6000·0.004 + 3000·0.004 + 3000·0.005 = 51 over equity 1000."""
    got = build(_usdt_book(), Account(venue="t", margin_balance={"USDT": 1000.0}), np.zeros(3))  # type: ignore[arg-type]
    assert math.isclose(got.margin_ratio, 0.051)


def test_coin_margined_equity_is_valued_at_the_coin_mark() -> None:
    """0.5 BTC of margin balance with BTC marked at 60000 is 30000 USD of equity."""
    p = positions(
        symbol=["BTC/USD:BTC"],
        underlying=["BTC"],
        settle=["BTC"],
        pool=["BTC"],
        side=[1],
        qty=[1000],
        mark=[60_000],
        kind=[int(ContractType.INVERSE)],
        settle_usd=[60_000],
    )
    got = build(p, Account(venue="t", margin_balance={"BTC": 0.5}), np.zeros(1))
    assert math.isclose(got.equity_usd, 30_000.0)
    assert math.isclose(got.gross_exposure_usd, 1000.0)


def test_equity_from_wallet_adds_pnl_and_isolated_wallets() -> None:
    """Without a margin balance: cross wallet 900 + uPnL (10 − 5) + isolated wallet 50 = 955."""
    p = positions(
        side=[1, 1],
        qty=[1, 1],
        mark=[100, 100],
        isolated_wallet=[np.nan, 50.0],
        margin_mode=[int(MarginMode.CROSS), int(MarginMode.ISOLATED)],
    )
    got = build(p, Account(venue="t", wallet_balance={"USDT": 900.0}), np.array([10.0, -5.0]))
    assert math.isclose(got.equity_usd, 955.0)


def test_without_a_balance_equity_is_unknown_and_said_so() -> None:
    """No balance: equity NaN, leverage NaN, and a diagnostic naming why."""
    got = build(_usdt_book(), Account(venue="t"), np.zeros(3))  # type: ignore[arg-type]
    assert math.isnan(got.equity_usd) and math.isnan(got.effective_leverage)
    assert any("no balance" in d for d in got.diagnostics)


def test_invalid_positions_add_no_exposure() -> None:
    """An invalid row (its values NaN) contributes zero, the others still count."""
    p = positions(side=[1, np.nan], qty=[1, np.nan], mark=[100, np.nan])
    p.valid[1] = False
    got = build(p, Account(venue="t", margin_balance={"USDT": 100.0}), np.zeros(2))
    assert got.gross_exposure_usd == 100.0


def test_a_coin_pool_never_borrows_the_usd_total() -> None:
    """A BTC pool with only a multi-asset USD total has no ratio (USD over BTC is no ratio);
    a USDT pool takes the USD total."""
    p = positions(
        symbol=["BTC/USD:BTC", "ETH/USDT:USDT"],
        underlying=["BTC", "ETH"],
        settle=["BTC", "USDT"],
        pool=["BTC", "USDT"],
        side=[1, 1],
        qty=[1000, 1.0],
        mark=[60_000, 3_000],
        mmr=[0.005, 0.005],
        settle_usd=[60_000, 1.0],
        kind=[int(ContractType.INVERSE), int(ContractType.LINEAR)],
    )
    account = Account(venue="t", margin_balance={"USD": 1000.0}, maintenance_margin={"USD": 50.0})
    got = build(p, account, np.zeros(2))
    assert math.isnan(got.pool_margin_ratio["BTC"])
    assert math.isclose(got.pool_margin_ratio["USDT"], 0.05)
