"""Raw venue payloads for the demo accounts at given marks, with each venue's liquidation price.

Shapes follow the venues' API docs and ccxt's source comments (Binance fapi v3 positionRisk and
account, fapi v1 leverageBracket; Bybit v5 position/list, account/wallet-balance and
market/risk-limit; Hyperliquid info ``clearinghouseState``). Each liquidation price is the
venue's published formula (docs/risk.md#liquidation-price-per-venue) for these figures,
computed here independently of the engine so that the demo doubles as a cross-check.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.demo.accounts import DemoAccount, PositionSpec

Raw = dict[str, Any]

SETTLE = {"binanceusdm": "USDT", "bybit": "USDT", "hyperliquid": "USDC"}
MARKET_IDS = {
    "binanceusdm": {"BTC": "BTCUSDT", "ETH": "ETHUSDT", "SOL": "SOLUSDT"},
    "bybit": {"BTC": "BTCUSDT", "ETH": "ETHUSDT", "SOL": "SOLUSDT"},
    "hyperliquid": {"BTC": "0", "ETH": "1", "SOL": "5"},
}

#: fapi/v1/leverageBracket: (notionalFloor, notionalCap, maintMarginRatio, cum, leverage).
BINANCE_BRACKETS = {
    "BTCUSDT": ((0, 50_000, 0.004, 0.0, 125), (50_000, 600_000, 0.005, 50.0, 100),
                (600_000, 3_000_000, 0.01, 3_050.0, 75)),
    "ETHUSDT": ((0, 50_000, 0.005, 0.0, 100), (50_000, 600_000, 0.0065, 75.0, 75),
                (600_000, 3_000_000, 0.01, 2_175.0, 50)),
    "SOLUSDT": ((0, 5_000, 0.005, 0.0, 75), (5_000, 50_000, 0.01, 25.0, 50),
                (50_000, 600_000, 0.025, 775.0, 20)),
}  # fmt: skip

#: v5 market/risk-limit: (id, riskLimitValue, maintenanceMargin, initialMargin, maxLeverage).
BYBIT_RISK_LIMITS = {
    "BTCUSDT": ((1, 2_000_000, 0.005, 0.01, 100), (2, 2_600_000, 0.0056, 0.0106, 94.33)),
    "ETHUSDT": ((1, 900_000, 0.005, 0.01, 100), (2, 1_200_000, 0.0058, 0.0108, 92.59)),
    "SOLUSDT": ((1, 200_000, 0.01, 0.02, 50), (2, 400_000, 0.0125, 0.0225, 44.44)),
}

#: Hyperliquid maxLeverage per coin; its maintenance rate is ``1/(2·maxLeverage)``.
HL_MAX_LEVERAGE = {"BTC": 40, "ETH": 25, "SOL": 20}


@dataclass(frozen=True)
class Leg:
    """One demo position priced at a mark, with its venue symbol and market id."""

    spec: PositionSpec
    symbol: str
    market_id: str
    mark: float

    @property
    def underlying(self) -> str:
        return self.spec.underlying

    @property
    def value(self) -> float:
        """|size| × mark, in the settle currency."""
        return self.spec.qty * self.mark

    @property
    def upnl(self) -> float:
        return self.spec.size * (self.mark - self.spec.entry)


def leg(venue: str, spec: PositionSpec, mark: float) -> Leg:
    """``spec`` on ``venue`` at ``mark``."""
    settle = SETTLE[venue]
    symbol = f"{spec.underlying}/{settle}:{settle}"
    return Leg(spec, symbol, MARKET_IDS[venue][spec.underlying], mark)


def markets(venue: str) -> list[Raw]:
    """Minimal ccxt linear-swap markets for ``set_markets`` (what the parsers look up)."""
    settle = SETTLE[venue]
    return [_market(market_id, base, settle) for base, market_id in MARKET_IDS[venue].items()]


def _market(market_id: str, base: str, settle: str) -> Raw:
    return {
        "id": market_id,
        "symbol": f"{base}/{settle}:{settle}",
        "base": base,
        "quote": settle,
        "settle": settle,
        "baseId": base,
        "quoteId": settle,
        "settleId": settle,
        "baseName": base,
        "type": "swap",
        "spot": False,
        "margin": False,
        "swap": True,
        "future": False,
        "option": False,
        "contract": True,
        "linear": True,
        "inverse": False,
        "contractSize": 1.0,
        "active": True,
        "precision": {"amount": 0.001, "price": 0.01, "base": 1e-8, "quote": 1e-8},
    }


def _f(value: float, digits: int = 8) -> str:
    return f"{value:.{digits}f}"


# ---------------------------------------------------------------------------- Binance USDⓈ-M
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
        "markPrice": _f(leg.mark),
        "unRealizedProfit": _f(leg.upnl),
        "liquidationPrice": _f(liquidation),
        "isolatedMargin": _f(isolated_margin),
        "notional": _f(notional),
        "marginAsset": "USDT",
        "isolatedWallet": _f(spec.isolated_margin),
        "initialMargin": _f(initial),
        "maintMargin": _f(_binance_maint(leg)),
        "positionInitialMargin": _f(initial),
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
        "walletBalance": _f(wallet),
        "unrealizedProfit": _f(upnl),
        "marginBalance": _f(wallet + upnl),
        "maintMargin": _f(maint),
        "initialMargin": _f(initial),
        "positionInitialMargin": _f(initial),
        "openOrderInitialMargin": _f(0.0),
        "crossWalletBalance": _f(account.balance),
        "crossUnPnl": _f(cross_upnl),
        "availableBalance": _f(available),
        "maxWithdrawAmount": _f(max(min(available, account.balance), 0.0)),
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


# ---------------------------------------------------------------------------- Bybit v5
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
        "positionValue": _f(spec.qty * spec.entry, 2),
        "tradeMode": 1 if isolated else 0,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": f"{spec.leverage:g}",
        "markPrice": _f(leg.mark, 2),
        "liqPrice": _f(bybit_liquidation(leg), 2) if isolated else "",
        "bustPrice": _f(spec.entry - spec.side * initial / spec.qty, 2) if isolated else "",
        "positionIM": _f(initial, 4),
        "positionMM": _f(maint, 4),
        "positionBalance": _f(initial, 4) if isolated else "",
        "tpslMode": "Full",
        "takeProfit": "",
        "stopLoss": "",
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": _f(leg.upnl, 4),
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
        "walletBalance": _f(wallet, 4),
        "equity": _f(equity, 4),
        "usdValue": _f(equity, 4),
        "totalPositionMM": _f(maint, 4),
        "totalPositionIM": _f(initial, 4),
        "unrealisedPnl": _f(upnl, 4),
        "availableToWithdraw": "",
        "borrowAmount": "0",
        "accruedInterest": "0",
        "totalOrderIM": "0",
        "bonus": "0",
        "cumRealisedPnl": "0",
    }
    entry = {
        "accountType": "UNIFIED",
        "totalEquity": _f(equity, 4),
        "totalWalletBalance": _f(wallet, 4),
        "totalMarginBalance": _f(equity, 4),
        "totalAvailableBalance": _f(equity - initial, 4),
        "totalPerpUPL": _f(upnl, 4),
        "totalInitialMargin": _f(initial, 4),
        "totalMaintenanceMargin": _f(maint, 4),
        "accountIMRate": _f(initial / equity, 4),
        "accountMMRate": _f(maint / equity, 4),
        "accountLTV": "0",
        "coin": [coin],
    }
    return {"retCode": 0, "retMsg": "OK", "result": {"list": [entry]}, "time": stamp_ms}


# ---------------------------------------------------------------------------- Hyperliquid
def _hl_mmr(leg: Leg) -> float:
    return 1.0 / (2.0 * HL_MAX_LEVERAGE[leg.underlying])


def _hl_margin_used(leg: Leg) -> float:
    """positionValue/leverage for cross; isolated margin plus uPnL for isolated."""
    if leg.spec.isolated:
        return leg.spec.isolated_margin + leg.upnl
    return leg.value / leg.spec.leverage


def hl_liquidation(leg: Leg, account_value: float, cross_maint: float) -> float:
    """Hyperliquid docs "Liquidations": ``LP = mark − s·margin_available/Q/(1 − s·MMR)``.

    margin_available is ``accountValue − crossMaintenanceMarginUsed`` for cross positions and
    ``isolated_margin − positionValue·MMR`` for isolated ones; 0 means none.
    """
    spec, mmr = leg.spec, _hl_mmr(leg)
    if spec.isolated:
        available = _hl_margin_used(leg) - leg.value * mmr
    else:
        available = account_value - cross_maint
    return max(leg.mark - spec.side * available / spec.qty / (1.0 - spec.side * mmr), 0.0)


def clearinghouse_state(account: DemoAccount, legs: Sequence[Leg], stamp_ms: int) -> Raw:
    """The info endpoint's ``clearinghouseState`` for the account's wallet."""
    cross = [leg for leg in legs if not leg.spec.isolated]
    cross_value = account.balance + sum(leg.upnl for leg in cross)
    cross_maint = sum(leg.value * _hl_mmr(leg) for leg in cross)
    isolated_value = sum(_hl_margin_used(leg) for leg in legs if leg.spec.isolated)
    positions = [_asset_position(leg, cross_value, cross_maint) for leg in legs]
    withdrawable = cross_value - sum(_hl_margin_used(leg) for leg in cross)
    return {
        "assetPositions": positions,
        "crossMaintenanceMarginUsed": _f(cross_maint, 6),
        "crossMarginSummary": _summary(cross_value, cross),
        "marginSummary": _summary(cross_value + isolated_value, legs),
        "time": stamp_ms,
        "withdrawable": _f(max(withdrawable, 0.0), 6),
    }


def _asset_position(leg: Leg, account_value: float, cross_maint: float) -> Raw:
    spec = leg.spec
    leverage: Raw = {"type": "isolated" if spec.isolated else "cross", "value": int(spec.leverage)}
    if spec.isolated:
        leverage["rawUsd"] = _f(spec.isolated_margin - spec.size * spec.entry, 6)
    liquidation = hl_liquidation(leg, account_value, cross_maint)
    return {
        "type": "oneWay",
        "position": {
            "coin": spec.underlying,
            "cumFunding": {"allTime": "0.0", "sinceChange": "0.0", "sinceOpen": "0.0"},
            "entryPx": f"{spec.entry:g}",
            "leverage": leverage,
            "liquidationPx": _f(liquidation, 6) if liquidation > 0 else None,
            "marginUsed": _f(_hl_margin_used(leg), 6),
            "maxLeverage": HL_MAX_LEVERAGE[spec.underlying],
            "positionValue": _f(leg.value, 6),
            "returnOnEquity": _f(leg.upnl / (spec.qty * spec.entry / spec.leverage), 6),
            "szi": f"{spec.size:g}",
            "unrealizedPnl": _f(leg.upnl, 6),
        },
    }


def _summary(value: float, legs: Iterable[Leg]) -> Raw:
    chosen = list(legs)
    return {
        "accountValue": _f(value, 6),
        "totalMarginUsed": _f(sum(_hl_margin_used(leg) for leg in chosen), 6),
        "totalNtlPos": _f(sum(leg.value for leg in chosen), 6),
        "totalRawUsd": _f(value - sum(leg.spec.size * leg.mark for leg in chosen), 6),
    }
