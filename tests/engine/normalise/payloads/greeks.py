"""Option positions whose greeks check out against Black-76 by hand, in each venue's shape.

Deribit private/get_positions (coin-settled, position totals), OKX v5 account/positions
(instType OPTION, coin-settled, ``*BS`` position totals, ``*PA`` in coin units beside them),
Bybit v5 position/list (category=option, USDC-settled), each parsed by real ccxt; ccxt's
fetch_greeks results by symbol; and the account payloads that carry portfolio margin.

One option throughout: BTC at F = 100,000 USD, strike 100,000, σ = 0.50, expiry 26 Jun 2026
08:00 UTC, snapshot 91.25 days (0.25 year) before it. Black-76 by hand (r = 0):
σ√T = 0.5 · 0.5 = 0.25, d1 = (ln(F/K) + σ²T/2)/(σ√T) = (0 + 0.03125)/0.25 = 0.125, d2 = −0.125,
N(0.125) = 0.5497382, φ(0.125) = 0.3989423 · e^(−0.0078125) = 0.3958377, per ONE coin:
  price   F·(N(d1) − N(d2)) = 100,000 · 0.0994764 = 9,947.64 USD = 0.0994764 BTC
  delta   call N(d1) = 0.5497382; put −0.4502618; Deribit's premium-adjusted call delta
          0.5497382 − 0.0994764 = 0.4502618 (N(d2) at the money)
  gamma   φ/(F·σ√T) = 0.3958377 / 25,000 = 1.583351e-5 per USD
  vega    F·φ·√T / 100 = 197.9188 USD per vol point
  theta   −F·φ·σ/(2√T) / 365 = −19,791.88 / 365 = −54.22434 USD per day
"""

from __future__ import annotations

import functools
from typing import Any

import ccxt

from tests.engine.normalise.payloads import Raw, market

F = 100_000.0
EXPIRY_MS = 1_782_460_800_000
#: 0.25 × 365 days before the expiry, in POSIX seconds.
TAKEN_AT = EXPIRY_MS / 1000.0 - 0.25 * 365 * 86_400
SIGMA = 0.5
PREMIUM_COIN = 0.0994764
CALL_DELTA, PUT_DELTA, ADJUSTED_CALL_DELTA = 0.5497382, -0.4502618, 0.4502618
GAMMA, VEGA, THETA = 1.583351e-5, 197.9188, -54.22434

DERIBIT_CALL = "BTC/USD:BTC-260626-100000-C"
OKX_PUT = "BTC/USD:BTC-260626-100000-P"
BYBIT_CALL = "BTC/USDC:USDC-260626-100000-C"


def _option(market_id: str, symbol: str, kind: str, **extra: Any) -> Raw:
    return market(
        market_id, symbol, kind="option", strike=F, optionType=kind, expiry=EXPIRY_MS, **extra
    )


MARKETS: dict[str, dict[str, Raw]] = {
    "deribit": {DERIBIT_CALL: _option("BTC-26JUN26-100000-C", DERIBIT_CALL, "call")},
    # ccxt lists OKX's ctVal (1) as contractSize; a contract is ctVal × ctMult = 0.01 BTC.
    "okx": {OKX_PUT: _option("BTC-USD-260626-100000-P", OKX_PUT, "put", info={"ctMult": "0.01"})},
    "bybit": {BYBIT_CALL: _option("BTC-26JUN26-100000-C-USDC", BYBIT_CALL, "call")},
}


@functools.cache
def exchange(venue: str) -> Any:
    ex = getattr(ccxt, venue)({"enableRateLimit": False})
    ex.set_markets(list(MARKETS[venue].values()))
    return ex


def deribit_call(**fields: Any) -> Raw:
    """Long 2 BTC of the call: delta 2 × 0.4502618 (premium-adjusted), gamma 2 × 1.583351e-5,
    vega 2 × 197.9188, theta 2 × −54.22434 (position totals)."""
    raw: Raw = {
        "instrument_name": "BTC-26JUN26-100000-C",
        "kind": "option",
        "direction": "buy",
        "size": 2.0,
        "average_price": 0.09,
        "mark_price": PREMIUM_COIN,
        "index_price": F,
        "delta": 2 * ADJUSTED_CALL_DELTA,
        "gamma": 2 * GAMMA,
        "vega": 2 * VEGA,
        "theta": 2 * THETA,
        "floating_profit_loss": 0.019,
        "total_profit_loss": 0.019,
        "realized_profit_loss": 0.0,
        "initial_margin": 0.0,
        "maintenance_margin": 0.0,
        "settlement_price": 0.095,
        "estimated_liquidation_price": None,
    }
    raw.update(fields)
    result: Raw = exchange("deribit").parse_position(raw)
    return result


def okx_put(**fields: Any) -> Raw:
    """Short 100 contracts (1 BTC) of the put: deltaBS +0.4502618 (plain Black-Scholes),
    gammaBS −1.583351e-5, vegaBS −197.9188, thetaBS +54.22434; the PA fields in coin units."""
    raw: Raw = {
        "instId": "BTC-USD-260626-100000-P",
        "instType": "OPTION",
        "mgnMode": "cross",
        "posSide": "net",
        "pos": "-100",
        "ccy": "BTC",
        "avgPx": "0.1",
        "markPx": str(PREMIUM_COIN),
        "idxPx": str(F),
        "usdPx": str(F),
        "notionalUsd": str(F),
        "upl": "0.0005",
        "imr": "",
        "mmr": "0.12",
        "margin": "",
        "lever": "",
        "liqPx": "",
        "optVal": str(-PREMIUM_COIN),
        "deltaBS": str(-PUT_DELTA),
        "deltaPA": str(-PUT_DELTA + PREMIUM_COIN),
        "gammaBS": str(-GAMMA),
        "gammaPA": "-1.58",
        "vegaBS": str(-VEGA),
        "vegaPA": "-0.00197919",
        "thetaBS": str(-THETA),
        "thetaPA": "0.00054224",
        "cTime": "1774000000000",
        "uTime": "1774576000000",
    }
    raw.update(fields)
    result: Raw = exchange("okx").parse_position(raw)
    return result


def bybit_call(**fields: Any) -> Raw:
    """Long 3 BTC of the USDC-settled call: delta 3 × 0.5497382 (plain: the premium is USDC),
    gamma 3 × 1.583351e-5, vega 3 × 197.9188, theta 3 × −54.22434."""
    raw: Raw = {
        "positionIdx": 0,
        "symbol": "BTC-26JUN26-100000-C-USDC",
        "side": "Buy",
        "size": "3",
        "avgPrice": "9000",
        "positionValue": "29842.92",
        "markPrice": "9947.64",
        "unrealisedPnl": "2842.92",
        "positionIM": "",
        "positionMM": "",
        "delta": str(3 * CALL_DELTA),
        "gamma": str(3 * GAMMA),
        "vega": str(3 * VEGA),
        "theta": str(3 * THETA),
        "leverage": "",
        "liqPrice": "",
        "tradeMode": 0,
        "createdTime": "1774000000000",
        "updatedTime": "1774576000000",
    }
    raw.update(fields)
    result: Raw = exchange("bybit").parse_position(raw)
    return result


def deribit_ticker_greeks(**fields: Any) -> Raw:
    """ccxt's fetch_greeks of the Deribit call (public/ticker): delta plain Black-Scholes,
    mark IV in percent, gamma/vega/theta per ONE coin."""
    ticker: Raw = {
        "instrument_name": "BTC-26JUN26-100000-C",
        "timestamp": int(TAKEN_AT * 1000),
        "mark_price": PREMIUM_COIN,
        "mark_iv": SIGMA * 100,
        "bid_iv": 49.0,
        "ask_iv": 51.0,
        "underlying_price": F,
        "index_price": F,
        "greeks": {"delta": CALL_DELTA, "gamma": GAMMA, "vega": VEGA, "theta": THETA, "rho": 60.0},
        **fields,
    }
    result: Raw = exchange("deribit").parse_greeks(ticker)
    return result


def okx_summary_greeks(**fields: Any) -> Raw:
    """ccxt's fetch_greeks of the OKX put (public/opt-summary): ccxt's unified delta/gamma/
    vega/theta are OKX's coin-unit PA fields; the BS ones per coin stay in ``info``."""
    row: Raw = {
        "instType": "OPTION",
        "instId": "BTC-USD-260626-100000-P",
        "uly": "BTC-USD",
        "delta": str(PUT_DELTA - PREMIUM_COIN),
        "gamma": "1.58",
        "vega": "0.00197919",
        "theta": "-0.00054224",
        "deltaBS": str(PUT_DELTA),
        "gammaBS": str(GAMMA),
        "vegaBS": str(VEGA),
        "thetaBS": str(THETA),
        "markVol": str(SIGMA),
        "bidVol": "0.49",
        "askVol": "0.51",
        "fwdPx": str(F),
        "ts": str(int(TAKEN_AT * 1000)),
        **fields,
    }
    result: Raw = exchange("okx").parse_greeks(row)
    return result


def deribit_summary(**fields: Any) -> Raw:
    """ccxt's balance of get_account_summary for BTC on cross portfolio margin: maintenance
    0.3 of margin balance 1.2 BTC (25 %), the portfolio greeks of ``deribit_call``."""
    summary: Raw = {
        "currency": "BTC",
        "balance": 1.0,
        "equity": 1.2,
        "margin_balance": 1.2,
        "maintenance_margin": 0.3,
        "initial_margin": 0.4,
        "available_funds": 0.8,
        "margin_model": "cross_pm",
        "portfolio_margining_enabled": True,
        "cross_collateral_enabled": True,
        "total_equity_usd": 120_000.0,
        "delta_total": 2 * ADJUSTED_CALL_DELTA,
        "delta_total_map": {"btc_usd": 2 * ADJUSTED_CALL_DELTA},
        "options_delta": 2 * ADJUSTED_CALL_DELTA,
        "options_gamma": 2 * GAMMA,
        "options_vega": 2 * VEGA,
        "options_theta": 2 * THETA,
        "options_vega_map": {"btc_usd": 2 * VEGA},
        "estimated_liquidation_ratio": 0.0,
        **fields,
    }
    result: Raw = exchange("deribit").parse_balance(summary)
    return result


def okx_balance(acct_lv: str, mgn_ratio: str) -> Raw:
    """ccxt's balance of account/balance in multi-currency or portfolio margin (adjEq 50,000
    USD, mmr 5,000: the engine's 10 %), with ``acctLv`` from account/config merged into the
    response beside ``data`` (ccxt's balance does not fetch it)."""
    data: Raw = {
        "adjEq": "50000",
        "imr": "8000",
        "mmr": "5000",
        "mgnRatio": mgn_ratio,
        "totalEq": "50000",
        "details": [{"ccy": "USDT", "eq": "50000", "eqUsd": "50000"}],
        "uTime": "1774576000000",
    }
    response = {"code": "0", "data": [data], "msg": "", "acctLv": acct_lv}
    result: Raw = exchange("okx").parse_trading_balance(response)
    return result


def bybit_balance(margin_mode: str) -> Raw:
    """ccxt's balance of a UNIFIED account/wallet-balance whose accountMMRate (30 %) is not
    maintenance / margin balance (10 %), with /v5/account/info's ``marginMode`` merged in."""
    entry: Raw = {
        "accountType": "UNIFIED",
        "totalEquity": "50000",
        "totalWalletBalance": "49000",
        "totalMarginBalance": "50000",
        "totalInitialMargin": "8000",
        "totalMaintenanceMargin": "5000",
        "accountMMRate": "0.3",
        "accountIMRate": "0.16",
        "coin": [],
    }
    response = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"list": [entry]},
        "time": 1774576000000,
        "marginMode": margin_mode,
    }
    result: Raw = exchange("bybit").parse_balance(response)
    return result
