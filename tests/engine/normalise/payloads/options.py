"""Option books in the venues' documented shapes, parsed by real ccxt (issue 21).

Deribit private/get_positions and get_account_summary (coin-settled BTC options and the
BTC-PERPETUAL), Bybit v5 position/list (category=option, USDC-settled) and
account/wallet-balance, OKX v5 account/positions (instType OPTION, coin-settled). One book
throughout: BTC index 95,000, a short 90,000 put expiring 27 Mar 2026 08:00 UTC.
"""

from __future__ import annotations

import functools
from typing import Any

import ccxt

from tests.engine.normalise.payloads import Raw, market

INDEX = 95_000.0
STRIKE = 90_000.0
#: 2026-03-27 08:00 UTC in ms (every venue's expiry hour) and a snapshot 2026-01-15 12:00 UTC.
EXPIRY_MS = 1_774_598_400_000
TAKEN_MS = 1_768_478_400_000

PUT = "BTC/USD:BTC-260327-90000-P"
CALL = "BTC/USD:BTC-260327-110000-C"
USDC_PUT = "BTC/USDC:USDC-260327-90000-P"


def _option(market_id: str, symbol: str, strike: float, kind: str, **extra: Any) -> Raw:
    return market(
        market_id,
        symbol,
        kind="option",
        strike=strike,
        optionType=kind,
        expiry=EXPIRY_MS,
        **extra,
    )


@functools.cache
def _exchange(venue: str) -> Any:
    ex = getattr(ccxt, venue)({"enableRateLimit": False})
    ex.set_markets(list(MARKETS[venue].values()))
    return ex


MARKETS: dict[str, dict[str, Raw]] = {
    "deribit": {
        PUT: _option("BTC-27MAR26-90000-P", PUT, STRIKE, "put"),
        CALL: _option("BTC-27MAR26-110000-C", CALL, 110_000.0, "call"),
        "BTC/USD:BTC": market("BTC-PERPETUAL", "BTC/USD:BTC", contract_size=10.0),
    },
    "bybit": {
        USDC_PUT: _option("BTC-27MAR26-90000-P", USDC_PUT, STRIKE, "put"),
        "BTC/USDT:USDT": market("BTCUSDT", "BTC/USDT:USDT"),
    },
    # ccxt lists OKX's ctVal (1) as contractSize; a contract is ctVal × ctMult = 0.01 BTC.
    "okx": {PUT: _option("BTC-USD-260327-90000-P", PUT, STRIKE, "put", info={"ctMult": "0.01"})},
}


def deribit_option(name: str, *, size: float, mark: float, delta: float, **fields: Any) -> Raw:
    """A Deribit option position (``size`` in BTC, signed; ``delta`` the position's)."""
    raw: Raw = {
        "average_price": mark * 1.1,
        "delta": delta,
        "direction": "buy" if size > 0 else "sell",
        "estimated_liquidation_price": None,
        "floating_profit_loss": 0.004,
        "gamma": -0.00002,
        "index_price": INDEX,
        "initial_margin": 0.25 if size < 0 else 0.0,
        "instrument_name": name,
        "kind": "option",
        "maintenance_margin": 0.158 if size < 0 else 0.0,
        "mark_price": mark,
        "realized_profit_loss": 0.0,
        "settlement_price": mark,
        "size": size,
        "theta": 120.5,
        "total_profit_loss": 0.004,
        "vega": -80.2,
    }
    raw.update(fields)
    return raw


def deribit_book() -> list[Raw]:
    """Short 2 BTC of the 90k put, long 1 BTC of the 110k call, short 100,000 USD perpetual."""
    put = deribit_option("BTC-27MAR26-90000-P", size=-2.0, mark=0.0317, delta=0.62)
    call = deribit_option("BTC-27MAR26-110000-C", size=1.0, mark=0.012, delta=0.25)
    perp: Raw = {
        "average_price": 96_000.0,
        "delta": -1.05252,
        "direction": "sell",
        "estimated_liquidation_price": 180_000.0,
        "floating_profit_loss": 0.0105,
        "index_price": INDEX,
        "initial_margin": 0.021,
        "instrument_name": "BTC-PERPETUAL",
        "kind": "future",
        "leverage": 50,
        "maintenance_margin": 0.0105,
        "mark_price": 95_010.0,
        "size": -100_000.0,
        "size_currency": -1.05252,
        "total_profit_loss": 0.0105,
    }
    ex = _exchange("deribit")
    return [ex.parse_position(raw) for raw in (put, call, perp)]


#: private/get_account_summary for BTC (cross margin: Deribit adds the ``*_usd`` totals).
DERIBIT_SUMMARY: Raw = {
    "currency": "BTC",
    "balance": 2.4,
    "equity": 2.5197,
    "margin_balance": 2.5197,
    "initial_margin": 0.271,
    "maintenance_margin": 0.1685,
    "available_funds": 2.2487,
    "options_value": -0.0514,
    "options_delta": 0.87,
    "delta_total": -0.18252,
    "session_upl": 0.1197,
    "total_pl": 0.1197,
    "margin_model": "cross_sm",
    "cross_collateral_enabled": True,
    "portfolio_margining_enabled": False,
    "total_equity_usd": 239_369.0,
    "total_margin_balance_usd": 239_369.0,
    "total_initial_margin_usd": 25_745.0,
    "total_maintenance_margin_usd": 16_007.5,
}


def deribit_balance(**fields: Any) -> Raw:
    """ccxt's unified balance of ``DERIBIT_SUMMARY`` (get_account_summary: one currency)."""
    result: Raw = _exchange("deribit").parse_balance({**DERIBIT_SUMMARY, **fields})
    return result


def bybit_option(**fields: Any) -> Raw:
    """Bybit position/list, category=option: short 5 BTC of the 90k put, USDC-settled."""
    raw: Raw = {
        "positionIdx": 0,
        "symbol": "BTC-27MAR26-90000-P",
        "side": "Sell",
        "size": "5",
        "avgPrice": "3100",
        "positionValue": "14000",
        "markPrice": "2800",
        "unrealisedPnl": "1500",
        "positionIM": "",
        "positionMM": "",
        "delta": "1.75",
        "gamma": "-0.0001",
        "vega": "-500",
        "theta": "300",
        "leverage": "",
        "liqPrice": "",
        "tradeMode": 0,
        "createdTime": "1768400000000",
        "updatedTime": "1768470000000",
    }
    raw.update(fields)
    result: Raw = _exchange("bybit").parse_position(raw)
    return result


def bybit_wallet(*entries: Raw, time_ms: int = TAKEN_MS) -> Raw:
    """ccxt's unified balance of a v5 account/wallet-balance response with ``entries``."""
    response = {"retCode": 0, "retMsg": "OK", "result": {"list": list(entries)}, "time": time_ms}
    result: Raw = _exchange("bybit").parse_balance(response)
    return result


def bybit_unified(*coins: Raw, margin: float, maint: float, equity: float) -> Raw:
    """An account/wallet-balance entry of a UNIFIED account (USD totals and its coin rows)."""
    return {
        "accountType": "UNIFIED",
        "totalEquity": str(equity),
        "totalWalletBalance": str(margin - 1_000.0),
        "totalMarginBalance": str(margin),
        "totalPerpUPL": "1000",
        "totalInitialMargin": str(maint * 1.5),
        "totalMaintenanceMargin": str(maint),
        "accountMMRate": f"{maint / margin:.4f}",
        "accountIMRate": f"{maint * 1.5 / margin:.4f}",
        "totalAvailableBalance": str(margin - maint * 1.5),
        "accountLTV": "0",
        "coin": list(coins),
    }


def bybit_coin(coin: str, *, equity: float, usd: float, maint: float) -> Raw:
    """One coin row of wallet-balance (its own equity and USD value, its positions' MM)."""
    return {
        "coin": coin,
        "equity": str(equity),
        "usdValue": str(usd),
        "walletBalance": str(equity - 10.0),
        "unrealisedPnl": "10",
        "totalPositionMM": str(maint),
        "totalPositionIM": str(maint * 1.5),
        "totalOrderIM": "0",
        "availableToWithdraw": "",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "bonus": "0",
        "cumRealisedPnl": "0",
    }


def okx_option(**fields: Any) -> Raw:
    """OKX account/positions, instType OPTION: short 500 contracts (5 BTC) of the 90k put."""
    raw: Raw = {
        "instId": "BTC-USD-260327-90000-P",
        "instType": "OPTION",
        "mgnMode": "cross",
        "posSide": "net",
        "pos": "-500",
        "ccy": "BTC",
        "avgPx": "0.032",
        "markPx": "0.0295",
        "idxPx": str(INDEX),
        "usdPx": str(INDEX),
        "notionalUsd": "475000",
        "upl": "0.0125",
        "uplRatio": "0.08",
        "imr": "",
        "mmr": "0.61",
        "margin": "",
        "lever": "",
        "liqPx": "",
        "optVal": "-0.1475",
        "deltaBS": "1.75",
        "deltaPA": "1.8975",
        "gammaBS": "-0.00001",
        "gammaPA": "-0.9",
        "thetaBS": "300",
        "thetaPA": "0.003",
        "vegaBS": "-500",
        "vegaPA": "-0.005",
        "cTime": "1768400000000",
        "uTime": "1768470000000",
    }
    raw.update(fields)
    result: Raw = _exchange("okx").parse_position(raw)
    return result
