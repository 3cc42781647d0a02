"""Deribit reader: cross margin, USD/coin sizes, ×100 percentages and account summaries."""

from __future__ import annotations

import math

import numpy as np

from engine.model import ContractType, MarginMode
from tests.engine.normalise.helpers import account, read
from tests.engine.normalise.payloads import deribit as d


def test_always_cross_without_a_note() -> None:
    """Deribit positions are cross margin and do not say the mode was assumed."""
    p = read("deribit", d.deribit_position(d.deribit_raw()))
    assert p.margin_mode[0] == MarginMode.CROSS and p.diagnostics[0] == ()


def test_inverse_future_size_is_usd() -> None:
    """BTC-PERPETUAL ``size`` is Q in USD."""
    p = read("deribit", d.deribit_position(d.deribit_raw()))
    assert (p.qty[0], p.kind[0]) == (10000.0, ContractType.INVERSE)


def test_option_size_is_coins() -> None:
    """An option's ``size`` is Q in BTC, its side from ``direction``."""
    p = read("deribit", d.deribit_position(d.deribit_option_short()))
    assert (p.qty[0], p.side[0], p.kind[0]) == (1.5, -1.0, ContractType.OPTION)


def test_linear_size_is_coins() -> None:
    """A USDC-settled perpetual's Q is the coin size, its MMR over Q × mark."""
    p = read("deribit", d.deribit_position(d.deribit_linear_short()))
    assert p.qty[0] == 0.5 and math.isclose(p.mmr[0], 310 / 31000)


def test_mmr_is_a_rate_not_a_percentage() -> None:
    """MMR is maintenance_margin / size_currency, not ccxt's ×100 percentage."""
    position = d.deribit_position(d.deribit_raw())
    p = read("deribit", position)
    assert math.isclose(p.mmr[0], 0.0016129 / 0.16129032, rel_tol=1e-6)
    assert position["maintenanceMarginPercentage"] > 0.5


def test_null_estimated_liquidation_price_is_none() -> None:
    """estimated_liquidation_price null and 0 are NaN."""
    p = read(
        "deribit",
        d.deribit_position(d.deribit_option_short()),
        d.deribit_position(d.deribit_linear_short()),
    )
    assert np.isnan(p.venue_liq).all()


def test_settle_rate_is_the_index() -> None:
    """A BTC-settled position's USD rate is the index price."""
    p = read("deribit", d.deribit_position(d.deribit_raw()))
    assert p.settle_usd[0] == 61990.12


def test_missing_leverage_is_derived() -> None:
    """A future without leverage gets size_currency / initial_margin, with a note."""
    raw = d.deribit_raw()
    del raw["leverage"]
    p = read("deribit", d.deribit_position(raw))
    assert math.isclose(p.leverage[0], 0.16129032 / 0.00322581, rel_tol=1e-6)


def test_account_per_currency() -> None:
    """Each currency has its balance, margin balance and maintenance."""
    a = account("deribit", d.deribit_balance())
    assert a.wallet_balance["BTC"] == 1.2 and a.margin_balance["BTC"] == 1.2053
    assert a.maintenance_margin["USDC"] == 310.0 and a.usd_rate["USDC"] == 1.0
