"""Hyperliquid ``clearinghouseState`` payloads, parsed by ccxt.hyperliquid (read-only, by address).

Numbers follow Hyperliquid's margining (docs "Margining", "Liquidations"): ``marginUsed`` is
positionValue / leverage for cross and isolated margin plus uPnL for isolated,
``MMR = 1/(2·maxLeverage)``, and each ``liquidationPx`` is the formula of
docs/risk.md#hyperliquid for these figures.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from tests.engine.normalise.payloads import Raw, exchange

ADDRESS = "0x1111111111111111111111111111111111111111"
HL_MARKETS = (
    ("0", "BTC/USDC:USDC", 1.0, "swap"),
    ("1", "ETH/USDC:USDC", 1.0, "swap"),
    ("5", "SOL/USDC:USDC", 1.0, "swap"),
)
CROSS_ACCOUNT_VALUE = 8000.0


@dataclass(frozen=True)
class Asset:
    """One perpetual position: coin, signed size, entry, mark, leverage, max leverage, mode."""

    coin: str
    szi: float
    entry: float
    mark: float
    leverage: int
    max_leverage: int
    isolated_margin: float = 0.0

    @property
    def value(self) -> float:
        return abs(self.szi) * self.mark

    @property
    def upnl(self) -> float:
        return self.szi * (self.mark - self.entry)

    @property
    def mmr(self) -> float:
        return 1.0 / (2.0 * self.max_leverage)

    @property
    def margin_used(self) -> float:
        if self.isolated_margin:
            return self.isolated_margin + self.upnl
        return self.value / self.leverage


ASSETS = (
    Asset("BTC", 0.5, 60000.0, 62000.0, 10, 40),
    Asset("ETH", -5.0, 3000.0, 3100.0, 10, 25),
    Asset("SOL", 100.0, 150.0, 145.0, 10, 20, isolated_margin=1500.0),
)


def cross_maintenance(assets: tuple[Asset, ...]) -> float:
    """crossMaintenanceMarginUsed: Σ positionValue·MMR over cross positions."""
    return sum(a.value * a.mmr for a in assets if not a.isolated_margin)


def liquidation_px(asset: Asset, assets: tuple[Asset, ...]) -> float:
    """``LP = price − s·margin_available/Q/(1 − s·MMR)`` (docs/risk.md#hyperliquid)."""
    side = 1.0 if asset.szi > 0 else -1.0
    if asset.isolated_margin:
        available = asset.margin_used - asset.value * asset.mmr
    else:
        available = CROSS_ACCOUNT_VALUE - cross_maintenance(assets)
    price = asset.mark - side * available / abs(asset.szi) / (1.0 - side * asset.mmr)
    return max(price, 0.0)


def asset_position(asset: Asset, assets: tuple[Asset, ...] = ASSETS) -> Raw:
    """One ``assetPositions`` entry."""
    leverage: Raw = {"type": "isolated" if asset.isolated_margin else "cross"}
    leverage["value"] = asset.leverage
    if asset.isolated_margin:
        leverage["rawUsd"] = f"{asset.isolated_margin - asset.szi * asset.entry:.6f}"
    liq = liquidation_px(asset, assets)
    return {
        "type": "oneWay",
        "position": {
            "coin": asset.coin,
            "cumFunding": {"allTime": "-1.25", "sinceChange": "-0.5", "sinceOpen": "-0.5"},
            "entryPx": f"{asset.entry:g}",
            "leverage": leverage,
            "liquidationPx": f"{liq:.6f}" if liq > 0 else None,
            "marginUsed": f"{asset.margin_used:.6f}",
            "maxLeverage": asset.max_leverage,
            "positionValue": f"{asset.value:.6f}",
            "returnOnEquity": f"{asset.upnl / (asset.value / asset.leverage):.6f}",
            "szi": f"{asset.szi:g}",
            "unrealizedPnl": f"{asset.upnl:.6f}",
        },
    }


def clearinghouse_state(assets: tuple[Asset, ...] = ASSETS) -> Raw:
    """The info endpoint's clearinghouseState for ``ADDRESS``."""
    cross = [a for a in assets if not a.isolated_margin]
    isolated_value = sum(a.margin_used for a in assets if a.isolated_margin)
    signed = sum(a.szi * a.mark for a in assets)
    cross_signed = sum(a.szi * a.mark for a in cross)
    total_value = CROSS_ACCOUNT_VALUE + isolated_value
    return {
        "assetPositions": [asset_position(a, assets) for a in assets],
        "crossMaintenanceMarginUsed": f"{cross_maintenance(assets):.6f}",
        "crossMarginSummary": _summary(
            CROSS_ACCOUNT_VALUE, sum(a.margin_used for a in cross), cross, cross_signed
        ),
        "marginSummary": _summary(
            total_value, sum(a.margin_used for a in assets), list(assets), signed
        ),
        "time": 1717100000000,
        "withdrawable": f"{CROSS_ACCOUNT_VALUE - sum(a.margin_used for a in cross):.6f}",
    }


def _summary(value: float, used: float, assets: list[Asset], signed: float) -> Raw:
    return {
        "accountValue": f"{value:.6f}",
        "totalMarginUsed": f"{used:.6f}",
        "totalNtlPos": f"{sum(a.value for a in assets):.6f}",
        "totalRawUsd": f"{value - signed:.6f}",
    }


@functools.cache
def _exchange() -> Any:
    return exchange("hyperliquid", HL_MARKETS)


def _serving(state: Raw) -> Any:
    ex = _exchange()
    ex.publicPostInfo = lambda params=None: state
    return ex


def positions(state: Raw | None = None) -> list[Raw]:
    """ccxt.hyperliquid.fetch_positions for ``ADDRESS`` answered with ``state`` (no HTTP)."""
    ex = _serving(state or clearinghouse_state())
    result: list[Raw] = ex.fetch_positions(params={"user": ADDRESS})
    return result


def balance(state: Raw | None = None) -> Raw:
    """ccxt.hyperliquid.fetch_balance for ``ADDRESS`` answered with ``state`` (no HTTP)."""
    ex = _serving(state or clearinghouse_state())
    result: Raw = ex.fetch_balance(params={"user": ADDRESS, "enableUnifiedMargin": False})
    return result
