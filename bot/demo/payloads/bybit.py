"""Bybit v5 payloads (position list, wallet balance, risk limits) and isolated liquidation."""

from __future__ import annotations

from collections.abc import Sequence

from bot.demo.accounts import DemoAccount
from bot.demo.payloads.common import (
    BYBIT_RISK_LIMITS,
    Leg,
    Raw,
    decimal,
)


def bybit_risk_limits(market_id: str) -> list[Raw]:
    """v5 market/risk-limit rows of one symbol."""
    return [
        {
            "id": tier,
            "symbol": market_id,
            "riskLimitValue": f"{limit:g}",
            "maintenanceMargin": f"{mmr:g}",
            "initialMargin": f"{imr:g}",
            "isLowestRisk": 1 if tier == 1 else 0,
            "maxLeverage": f"{lev:.2f}",
            "mmDeduction": "",
        }
        for tier, limit, mmr, imr, lev in BYBIT_RISK_LIMITS[market_id]
    ]


def bybit_liquidation(leg: Leg) -> float:
    """Bybit "Liquidation Price (USDT Contract)", isolated: ``LP = EP − s·(IM − MM)/Q``."""
    spec = leg.spec
    initial, maint = _bybit_margins(leg)
    return max(spec.entry - spec.side * (initial - maint) / spec.qty, 0.0)


def _bybit_margins(leg: Leg) -> tuple[float, float]:
    """(positionIM, positionMM): first risk-limit tier, on the position value at entry."""
    value = leg.spec.qty * leg.spec.entry
    mmr = BYBIT_RISK_LIMITS[leg.market_id][0][2]
    return value / leg.spec.leverage, value * mmr


def bybit_position(leg: Leg, stamp_ms: int) -> Raw:
    """One v5 position/list entry (tradeMode 1 isolated, 0 cross: no per-position price)."""
    spec = leg.spec
    initial, maint = _bybit_margins(leg)
    isolated = spec.isolated
    return {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": f"{BYBIT_RISK_LIMITS[leg.market_id][0][1]:g}",
        "symbol": leg.market_id,
        "side": "Buy" if spec.side > 0 else "Sell",
        "size": f"{spec.qty:g}",
        "avgPrice": f"{spec.entry:g}",
        "positionValue": decimal(spec.qty * spec.entry, 2),
        "tradeMode": 1 if isolated else 0,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": f"{spec.leverage:g}",
        "markPrice": decimal(leg.mark, 2),
        "liqPrice": decimal(bybit_liquidation(leg), 2) if isolated else "",
        "bustPrice": decimal(spec.entry - spec.side * initial / spec.qty, 2) if isolated else "",
        "positionIM": decimal(initial, 4),
        "positionMM": decimal(maint, 4),
        "positionBalance": decimal(initial, 4) if isolated else "",
        "tpslMode": "Full",
        "takeProfit": "",
        "stopLoss": "",
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": decimal(leg.upnl, 4),
        "curRealisedPnl": "0",
        "cumRealisedPnl": "0",
        "adlRankIndicator": 2,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "createdTime": str(stamp_ms - 86_400_000),
        "updatedTime": str(stamp_ms),
        "seq": 1,
    }


def bybit_wallet(account: DemoAccount, legs: Sequence[Leg], stamp_ms: int) -> Raw:
    """v5 account/wallet-balance of a Unified account holding only USDT."""
    margins = [_bybit_margins(leg) for leg in legs]
    wallet = account.balance + sum(leg.spec.isolated_margin for leg in legs)
    upnl = sum(leg.upnl for leg in legs)
    equity = wallet + upnl
    initial = sum(im for im, _ in margins)
    maint = sum(mm for _, mm in margins)
    coin = {
        "coin": "USDT",
        "walletBalance": decimal(wallet, 4),
        "equity": decimal(equity, 4),
        "usdValue": decimal(equity, 4),
        "totalPositionMM": decimal(maint, 4),
        "totalPositionIM": decimal(initial, 4),
        "unrealisedPnl": decimal(upnl, 4),
        "availableToWithdraw": "",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "totalOrderIM": "0",
        "bonus": "0",
        "cumRealisedPnl": "0",
    }
    entry = {
        "accountType": "UNIFIED",
        "totalEquity": decimal(equity, 4),
        "totalWalletBalance": decimal(wallet, 4),
        "totalMarginBalance": decimal(equity, 4),
        "totalAvailableBalance": decimal(equity - initial, 4),
        "totalPerpUPL": decimal(upnl, 4),
        "totalInitialMargin": decimal(initial, 4),
        "totalMaintenanceMargin": decimal(maint, 4),
        "accountIMRate": decimal(initial / equity, 4),
        "accountMMRate": decimal(maint / equity, 4),
        "accountLTV": "0",
        "coin": [coin],
    }
    return {"retCode": 0, "retMsg": "OK", "result": {"list": [entry]}, "time": stamp_ms}
