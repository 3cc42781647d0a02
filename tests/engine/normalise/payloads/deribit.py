"""Deribit private/get_positions and get_account_summaries payloads, parsed by ccxt.deribit."""

from __future__ import annotations

from typing import Any

from tests.engine.normalise.payloads import Raw, exchange, market

DERIBIT_MARKETS = (
    ("BTC-PERPETUAL", "BTC/USD:BTC", 10.0, "swap"),
    ("BTC_USDC-PERPETUAL", "BTC/USDC:USDC", 0.001, "swap"),
)
OPTION = market(
    "BTC-27JUN25-70000-C",
    "BTC/USD:BTC-250627-70000-C",
    kind="option",
    strike=70000.0,
    optionType="call",
    expiry=1751011200000,
)


def deribit_raw(**fields: Any) -> Raw:
    """BTC-PERPETUAL long 10,000 USD (inverse: ``size`` in USD, ``size_currency`` in BTC)."""
    raw: Raw = {
        "average_price": 60000.0,
        "delta": 0.16129032,
        "direction": "buy",
        "estimated_liquidation_price": 38250.5,
        "floating_profit_loss": 0.00537634,
        "index_price": 61990.12,
        "initial_margin": 0.00322581,
        "instrument_name": "BTC-PERPETUAL",
        "interest_value": 0.0,
        "kind": "future",
        "leverage": 50,
        "maintenance_margin": 0.00161290,
        "mark_price": 62000.0,
        "open_orders_margin": 0.0,
        "realized_funding": -0.00000123,
        "realized_profit_loss": -0.00000123,
        "settlement_price": 61850.0,
        "size": 10000.0,
        "size_currency": 0.16129032,
        "total_profit_loss": 0.00537511,
    }
    raw.update(fields)
    return raw


def deribit_option_short(**fields: Any) -> Raw:
    """A short 1.5 BTC call (options: ``size`` in BTC, premium in BTC, no liquidation price)."""
    raw = deribit_raw(
        average_price=0.05,
        delta=-0.45,
        direction="sell",
        estimated_liquidation_price=None,
        floating_profit_loss=0.0075,
        initial_margin=0.3,
        instrument_name="BTC-27JUN25-70000-C",
        kind="option",
        maintenance_margin=0.25,
        mark_price=0.045,
        settlement_price=0.048,
        size=-1.5,
        total_profit_loss=0.0075,
    )
    for key in ("leverage", "size_currency", "interest_value", "realized_funding"):
        raw.pop(key, None)
    raw.update(fields)
    return raw


def deribit_linear_short(**fields: Any) -> Raw:
    """BTC_USDC-PERPETUAL short 0.5 BTC (linear: sizes in BTC, amounts in USDC)."""
    raw = deribit_raw(
        average_price=63000.0,
        direction="sell",
        estimated_liquidation_price=0,
        floating_profit_loss=500.0,
        initial_margin=620.0,
        instrument_name="BTC_USDC-PERPETUAL",
        leverage=50,
        maintenance_margin=310.0,
        size=-0.5,
        size_currency=-0.5,
    )
    raw.update(fields)
    return raw


def _exchange() -> Any:
    ex = exchange("deribit", DERIBIT_MARKETS)
    if OPTION["symbol"] not in ex.markets:
        ex.set_markets([*ex.markets.values(), OPTION])
    return ex


def deribit_position(raw: Raw) -> Raw:
    """ccxt's unified position for a Deribit raw position."""
    result: Raw = _exchange().parse_position(raw)
    return result


def deribit_balance(*summaries: Raw) -> Raw:
    """ccxt's unified balance from get_account_summaries (BTC and USDC by default)."""
    listed = list(summaries) or [
        _summary("BTC", balance=1.2, equity=1.2053, margin_balance=1.2053, maint=0.0016129),
        _summary("USDC", balance=20000.0, equity=20500.0, margin_balance=20500.0, maint=310.0),
    ]
    result: Raw = _exchange().parse_balance({"summaries": listed})
    return result


def _summary(
    code: str, *, balance: float, equity: float, margin_balance: float, maint: float
) -> Raw:
    return {
        "currency": code,
        "balance": balance,
        "equity": equity,
        "margin_balance": margin_balance,
        "maintenance_margin": maint,
        "initial_margin": maint * 2,
        "available_funds": margin_balance - maint * 2,
        "available_withdrawal_funds": balance - maint * 2,
        "session_upl": equity - balance,
        "total_pl": equity - balance,
        "portfolio_margining_enabled": False,
        "cross_collateral_enabled": False,
        "margin_model": "segregated_sm",
        "options_value": 0.0,
    }
