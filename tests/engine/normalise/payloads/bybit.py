"""Bybit v5 position/list and account/wallet-balance payloads, parsed by ccxt.bybit."""

from __future__ import annotations

from typing import Any

from tests.engine.normalise.payloads import Raw, exchange

BYBIT_MARKETS = (
    ("BTCUSDT", "BTC/USDT:USDT", 1.0, "swap"),
    ("ETHUSDT", "ETH/USDT:USDT", 1.0, "swap"),
    ("XRPUSDT", "XRP/USDT:USDT", 1.0, "swap"),
    ("BTCUSD", "BTC/USD:BTC", 1.0, "swap"),
)


def bybit_raw(symbol: str = "BTCUSDT", **fields: Any) -> Raw:
    """One v5 position/list entry (Unified account, cross, linear BTC long by default)."""
    raw: Raw = {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": symbol,
        "side": "Buy",
        "size": "0.5",
        "avgPrice": "60000",
        "positionValue": "30000",
        "tradeMode": 0,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": "10",
        "markPrice": "62000",
        "liqPrice": "",
        "bustPrice": "",
        "positionIM": "3117.05",
        "positionMM": "172.05",
        "positionBalance": "",
        "tpslMode": "Full",
        "takeProfit": "",
        "stopLoss": "",
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": "1000",
        "curRealisedPnl": "-16.5",
        "cumRealisedPnl": "-16.5",
        "adlRankIndicator": 2,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "createdTime": "1717000000000",
        "updatedTime": "1717100000000",
        "seq": 8172241024,
    }
    raw.update(fields)
    return raw


def bybit_isolated_short(**fields: Any) -> Raw:
    """ETHUSDT isolated short 2 ETH at 10x: IM 600, MM 30 ⇒ LP = 3000 + 570/2 = 3285."""
    raw = bybit_raw(
        "ETHUSDT",
        side="Sell",
        size="2",
        avgPrice="3000",
        positionValue="6000",
        tradeMode=1,
        markPrice="3100",
        liqPrice="3285.00",
        bustPrice="3300.00",
        positionIM="603.41",
        positionMM="33.41",
        positionBalance="600",
        unrealisedPnl="-200",
        riskLimitValue="900000",
    )
    raw.update(fields)
    return raw


def bybit_inverse_long(**fields: Any) -> Raw:
    """BTCUSD inverse long 10,000 USD at 5x (amounts in BTC)."""
    raw = bybit_raw(
        "BTCUSD",
        size="10000",
        positionValue="0.16666667",
        leverage="5",
        liqPrice="50419.5",
        bustPrice="50000.0",
        positionIM="0.03338889",
        positionMM="0.00089606",
        unrealisedPnl="0.00537634",
        riskLimitValue="150",
    )
    raw.update(fields)
    return raw


def bybit_position(raw: Raw) -> Raw:
    """ccxt's unified position for a Bybit raw entry."""
    result: Raw = exchange("bybit", BYBIT_MARKETS).parse_position(raw)
    return result


def bybit_balance(**fields: Any) -> Raw:
    """ccxt's unified balance from a v5 account/wallet-balance response (Unified account)."""
    entry: Raw = {
        "totalEquity": "43100.5",
        "accountIMRate": "0.1062",
        "totalMarginBalance": "42950.5",
        "totalInitialMargin": "4561.2",
        "accountType": "UNIFIED",
        "totalAvailableBalance": "38389.3",
        "accountMMRate": "0.0063",
        "totalPerpUPL": "800",
        "totalWalletBalance": "42150.5",
        "accountLTV": "0",
        "totalMaintenanceMargin": "270.6",
        "coin": [
            _bybit_coin("USDT", "12150.5", "12950.5", "12950.5", "205.46"),
            _bybit_coin("BTC", "0.48", "0.48537634", "30093.33", "0.00089606"),
        ],
    }
    entry.update(fields)
    response = {"retCode": 0, "retMsg": "OK", "result": {"list": [entry]}, "time": 1717100000000}
    result: Raw = exchange("bybit", BYBIT_MARKETS).parse_balance(response)
    return result


def _bybit_coin(coin: str, wallet: str, equity: str, usd: str, mm: str) -> Raw:
    return {
        "coin": coin,
        "walletBalance": wallet,
        "equity": equity,
        "usdValue": usd,
        "totalPositionMM": mm,
        "totalPositionIM": "0",
        "unrealisedPnl": "0",
        "availableToWithdraw": "",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "totalOrderIM": "0",
        "bonus": "0",
        "cumRealisedPnl": "0",
    }
