"""Binance USDⓈ-M payloads (fapi v3 positionRisk, account, v1 leverageBracket) and liquidation."""

from __future__ import annotations

from collections.abc import Sequence

from bot.demo.accounts import DemoAccount
from bot.demo.payloads.common import (
    BINANCE_BRACKETS,
    Leg,
    Raw,
    decimal,
)


def binance_bracket_cache() -> dict[str, list[list[str]]]:
    """ccxt's ``options["leverageBrackets"]``: unified symbol → [[floor, MMR], …] as strings."""
    return {
        f"{market_id.removesuffix('USDT')}/USDT:USDT": [[str(b[0]), str(b[2])] for b in rows]
        for market_id, rows in BINANCE_BRACKETS.items()
    }


def binance_brackets() -> list[Raw]:
    """fapi/v1/leverageBracket for every demo symbol."""
    return [
        {
            "symbol": market_id,
            "notionalCoef": 1.0,
            "brackets": [
                {
                    "bracket": n + 1,
                    "initialLeverage": lev,
                    "notionalCap": cap,
                    "notionalFloor": floor,
                    "maintMarginRatio": mmr,
                    "cum": cum,
                }
                for n, (floor, cap, mmr, cum, lev) in enumerate(rows)
            ],
        }
        for market_id, rows in BINANCE_BRACKETS.items()
    ]


def _bracket(market_id: str, notional: float) -> tuple[float, float]:
    """(MMR, cum) of the bracket holding ``|notional|``."""
    found = BINANCE_BRACKETS[market_id][0]
    for row in BINANCE_BRACKETS[market_id]:
        if abs(notional) >= row[0]:
            found = row
    return found[2], found[3]


def _binance_maint(leg: Leg) -> float:
    mmr, cum = _bracket(leg.market_id, leg.value)
    return leg.value * mmr - cum


def binance_liquidation(legs: Sequence[Leg], mine: Leg, cross_wallet: float) -> float:
    """Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures", one-way mode.

    ``LP = (WB − TMM1 + UPNL1 + cum − s·Q·EP) / (Q·MMR − s·Q)``: WB is the isolated wallet, or
    the cross wallet with TMM1/UPNL1 the other cross positions' maintenance and uPnL. MMR and
    cum are the bracket at the liquidation notional, so the price is iterated to a fixed point.
    0 means no liquidation price (Binance's own convention).
    """
    spec = mine.spec
    wallet = spec.isolated_margin
    if not spec.isolated:
        others = [o for o in legs if o is not mine and not o.spec.isolated]
        wallet = cross_wallet + sum(o.upnl - _binance_maint(o) for o in others)
    price = mine.mark
    for _ in range(20):
        mmr, cum = _bracket(mine.market_id, spec.qty * price)
        price = (wallet + cum - spec.side * spec.qty * spec.entry) / (
            spec.qty * mmr - spec.side * spec.qty
        )
        if price <= 0:
            return 0.0
    return price


def binance_position_risk(account: DemoAccount, legs: Sequence[Leg], stamp_ms: int) -> list[Raw]:
    """fapi/v3/positionRisk rows (one-way mode) with Binance's liquidation prices."""
    return [
        _position_risk(leg, binance_liquidation(legs, leg, account.balance), stamp_ms)
        for leg in legs
    ]


def _position_risk(leg: Leg, liquidation: float, stamp_ms: int) -> Raw:
    spec = leg.spec
    notional = spec.size * leg.mark
    initial = leg.value / spec.leverage
    isolated_margin = spec.isolated_margin + leg.upnl if spec.isolated else 0.0
    return {
        "symbol": leg.market_id,
        "positionSide": "BOTH",
        "positionAmt": f"{spec.size:g}",
        "entryPrice": f"{spec.entry:g}",
        "breakEvenPrice": f"{spec.entry * (1 + 0.0004 * spec.side):.8g}",
        "markPrice": decimal(leg.mark),
        "unRealizedProfit": decimal(leg.upnl),
        "liquidationPrice": decimal(liquidation),
        "isolatedMargin": decimal(isolated_margin),
        "notional": decimal(notional),
        "marginAsset": "USDT",
        "isolatedWallet": decimal(spec.isolated_margin),
        "initialMargin": decimal(initial),
        "maintMargin": decimal(_binance_maint(leg)),
        "positionInitialMargin": decimal(initial),
        "openOrderInitialMargin": "0",
        "adl": 2,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": stamp_ms,
    }


def binance_account(account: DemoAccount, legs: Sequence[Leg], stamp_ms: int) -> Raw:
    """fapi/v3/account in single-asset mode: USDT totals consistent with ``legs``."""
    cross = [leg for leg in legs if not leg.spec.isolated]
    wallet = account.balance + sum(leg.spec.isolated_margin for leg in legs)
    upnl = sum(leg.upnl for leg in legs)
    cross_upnl = sum(leg.upnl for leg in cross)
    initial = sum(leg.value / leg.spec.leverage for leg in legs)
    maint = sum(_binance_maint(leg) for leg in legs)
    available = account.balance + cross_upnl - sum(leg.value / leg.spec.leverage for leg in cross)
    usdt = {
        "asset": "USDT",
        "walletBalance": decimal(wallet),
        "unrealizedProfit": decimal(upnl),
        "marginBalance": decimal(wallet + upnl),
        "maintMargin": decimal(maint),
        "initialMargin": decimal(initial),
        "positionInitialMargin": decimal(initial),
        "openOrderInitialMargin": decimal(0.0),
        "crossWalletBalance": decimal(account.balance),
        "crossUnPnl": decimal(cross_upnl),
        "availableBalance": decimal(available),
        "maxWithdrawAmount": decimal(max(min(available, account.balance), 0.0)),
        "updateTime": stamp_ms,
    }
    totals = {
        f"total{key[0].upper()}{key[1:]}": usdt[key]
        for key in ("initialMargin", "maintMargin", "walletBalance", "marginBalance")
    }
    totals |= {
        "totalUnrealizedProfit": usdt["unrealizedProfit"],
        "totalPositionInitialMargin": usdt["positionInitialMargin"],
        "totalOpenOrderInitialMargin": usdt["openOrderInitialMargin"],
        "totalCrossWalletBalance": usdt["crossWalletBalance"],
        "totalCrossUnPnl": usdt["crossUnPnl"],
        "availableBalance": usdt["availableBalance"],
        "maxWithdrawAmount": usdt["maxWithdrawAmount"],
    }
    return {**totals, "assets": [usdt], "positions": []}
