"""Hyperliquid ``clearinghouseState`` payloads and the venue's liquidation price."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.demo.accounts import DemoAccount
from bot.demo.payloads.common import (
    HL_MAX_LEVERAGE,
    Leg,
    Raw,
    decimal,
)


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
        "crossMaintenanceMarginUsed": decimal(cross_maint, 6),
        "crossMarginSummary": _summary(cross_value, cross),
        "marginSummary": _summary(cross_value + isolated_value, legs),
        "time": stamp_ms,
        "withdrawable": decimal(max(withdrawable, 0.0), 6),
    }


def _asset_position(leg: Leg, account_value: float, cross_maint: float) -> Raw:
    spec = leg.spec
    leverage: Raw = {"type": "isolated" if spec.isolated else "cross", "value": int(spec.leverage)}
    if spec.isolated:
        leverage["rawUsd"] = decimal(spec.isolated_margin - spec.size * spec.entry, 6)
    liquidation = hl_liquidation(leg, account_value, cross_maint)
    return {
        "type": "oneWay",
        "position": {
            "coin": spec.underlying,
            "cumFunding": {"allTime": "0.0", "sinceChange": "0.0", "sinceOpen": "0.0"},
            "entryPx": f"{spec.entry:g}",
            "leverage": leverage,
            "liquidationPx": decimal(liquidation, 6) if liquidation > 0 else None,
            "marginUsed": decimal(_hl_margin_used(leg), 6),
            "maxLeverage": HL_MAX_LEVERAGE[spec.underlying],
            "positionValue": decimal(leg.value, 6),
            "returnOnEquity": decimal(leg.upnl / (spec.qty * spec.entry / spec.leverage), 6),
            "szi": f"{spec.size:g}",
            "unrealizedPnl": decimal(leg.upnl, 6),
        },
    }


def _summary(value: float, legs: Iterable[Leg]) -> Raw:
    chosen = list(legs)
    return {
        "accountValue": decimal(value, 6),
        "totalMarginUsed": decimal(sum(_hl_margin_used(leg) for leg in chosen), 6),
        "totalNtlPos": decimal(sum(leg.value for leg in chosen), 6),
        "totalRawUsd": decimal(value - sum(leg.spec.size * leg.mark for leg in chosen), 6),
    }
