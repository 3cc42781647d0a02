"""BitMEX /position and /user/margin payloads and the unified dicts ccxt built from them.

ccxt 4.5 no longer ships BitMEX, so ``bitmex_position`` reproduces the last
``ccxt.bitmex.parse_position``: ``contracts`` = |currentQty|, ``maintenanceMargin`` from
``maintMargin`` (which on BitMEX is posMargin plus uPnL, not a requirement), ``side`` from
``homeNotional``'s sign, amounts converted from XBt (1e-8) or USDt (1e-6).
"""

from __future__ import annotations

from typing import Any

from tests.engine.normalise.payloads import Raw

#: BitMEX market id → (ccxt symbol, contract size, settle unit).
MARKETS = {
    "XBTUSD": ("BTC/USD:BTC", 1.0, 1e-8),
    "XBTUSDT": ("BTC/USDT:USDT", 1e-6, 1e-6),
    "ETHUSD": ("ETH/USD:BTC", 1.0, 1e-8),
}


#: XBTUSD cross long 10,000 contracts of 1 USD as /position returns it (amounts in satoshis).
XBTUSD_POSITION: Raw = {
    "account": 9371654,
    "symbol": "XBTUSD",
    "currency": "XBt",
    "underlying": "XBT",
    "quoteCurrency": "USD",
    "commission": 0.00075,
    "initMarginReq": 0.01,
    "maintMarginReq": 0.0035,
    "riskLimit": 20000000000,
    "leverage": 100,
    "crossMargin": True,
    "deleveragePercentile": 1,
    "currentQty": 10000,
    "currentCost": -16666667,
    "isOpen": True,
    "markPrice": 62000.0,
    "markValue": -16129032,
    "riskValue": 16129032,
    "homeNotional": 0.16129032,
    "foreignNotional": -10000,
    "posCost": -16666667,
    "posInit": 166667,
    "posComm": 12626,
    "posMargin": 179293,
    "posMaint": 70968,
    "maintMargin": 716927,
    "realisedPnl": -12500,
    "unrealisedPnl": 537635,
    "unrealisedPnlPcnt": 0.0323,
    "unrealisedRoePcnt": 3.2258,
    "avgCostPrice": 60000,
    "avgEntryPrice": 60000,
    "breakEvenPrice": 60045,
    "marginCallPrice": 30600.5,
    "liquidationPrice": 30600.5,
    "bankruptPrice": 30400,
    "timestamp": "2024-05-30T12:00:00.000Z",
    "lastPrice": 62000.0,
    "lastValue": -16129032,
}


def bitmex_raw(**fields: Any) -> Raw:
    """XBTUSD cross long 10,000 contracts of 1 USD (amounts in satoshis)."""
    return {**XBTUSD_POSITION, **fields}


def bitmex_linear_isolated_short(**fields: Any) -> Raw:
    """XBTUSDT isolated short 500,000 contracts of 1e-6 XBT = 0.5 XBT at 10x (amounts in USDt)."""
    raw = bitmex_raw(
        symbol="XBTUSDT",
        currency="USDt",
        quoteCurrency="USDT",
        initMarginReq=0.1,
        leverage=10,
        crossMargin=False,
        currentQty=-500000,
        markValue=-31000000000,
        homeNotional=-0.5,
        foreignNotional=31000,
        posInit=3000000000,
        posComm=45000000,
        posMargin=3045000000,
        posMaint=130500000,
        maintMargin=2045000000,
        unrealisedPnl=-1000000000,
        avgEntryPrice=60000,
        liquidationPrice=65630.5,
        bankruptPrice=66090,
    )
    raw.update(fields)
    return raw


def bitmex_position(raw: Raw) -> Raw:
    """The unified position ccxt's bitmex.parse_position made of ``raw``."""
    symbol, contract_size, unit = MARKETS.get(str(raw.get("symbol")), ("?", None, 1e-8))
    home = raw.get("homeNotional")
    side = None if home is None else ("short" if str(home).startswith("-") else "long")
    qty = raw.get("currentQty")
    notional = raw.get("foreignNotional") or raw.get("homeNotional")
    return {
        "info": raw,
        "id": str(raw.get("account")),
        "symbol": symbol,
        "timestamp": None,
        "datetime": raw.get("timestamp"),
        "lastUpdateTimestamp": None,
        "hedged": None,
        "side": side,
        "contracts": abs(qty) if isinstance(qty, int | float) else None,
        "contractSize": contract_size,
        "entryPrice": raw.get("avgEntryPrice"),
        "markPrice": raw.get("markPrice"),
        "lastPrice": None,
        "notional": abs(notional) if isinstance(notional, int | float) else None,
        "leverage": raw.get("leverage"),
        "collateral": None,
        "initialMargin": None,
        "initialMarginPercentage": raw.get("initMarginReq"),
        "maintenanceMargin": _scaled(raw.get("maintMargin"), unit),
        "maintenanceMarginPercentage": raw.get("maintMarginReq"),
        "unrealizedPnl": _scaled(raw.get("unrealisedPnl"), unit),
        "liquidationPrice": raw.get("liquidationPrice"),
        "marginMode": "cross" if raw.get("crossMargin") is True else "isolated",
        "marginRatio": None,
        "percentage": raw.get("unrealisedPnlPcnt"),
        "stopLossPrice": None,
        "takeProfitPrice": None,
    }


def bitmex_balance(*entries: Raw) -> Raw:
    """The unified balance ccxt built from /user/margin?currency=all."""
    listed = list(entries) or [
        {
            "account": 9371654,
            "currency": "XBt",
            "walletBalance": 120000000,
            "marginBalance": 120537635,
            "maintMargin": 70968,
            "initMargin": 0,
            "unrealisedPnl": 537635,
            "availableMargin": 120300000,
        },
        {
            "account": 9371654,
            "currency": "USDt",
            "walletBalance": 10000000000,
            "marginBalance": 9000000000,
            "maintMargin": 130500000,
            "unrealisedPnl": -1000000000,
        },
    ]
    result: Raw = {"info": listed}
    for entry in listed:
        code = {"XBt": "BTC", "USDt": "USDT"}.get(str(entry.get("currency")), "?")
        unit = 1e-8 if code == "BTC" else 1e-6
        result[code] = {"total": _scaled(entry.get("marginBalance"), unit)}
    return result


def _scaled(value: Any, unit: float) -> float | None:
    return value * unit if isinstance(value, int | float) else None
