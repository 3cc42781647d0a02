"""What every demo venue's payloads share: settle coins, market ids, risk tables, legs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.demo.accounts import PositionSpec

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


def decimal(value: float, digits: int = 8) -> str:
    """A venue-style decimal string."""
    return f"{value:.{digits}f}"
