"""``"BTC/USDT:USDT long 2.5 @ 60000 10x isolated"`` → a snapshot the engine prices.

The position becomes the same ccxt-shaped payload `liqwatch analyze` reads (a Binance USDⓈ-M
positionRisk row, its account and the symbol's maintenance brackets), so the backtest's
liquidation price is the engine's, by the venue's formula and tiers, not a shortcut.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from bot.analysis.snapshot import SnapshotFile, parse
from bot.errors import UserError

#: Binance USDⓈ-M maintenance brackets (notional floor, cap, rate, max leverage, cum) as the
#: example snapshot examples/binanceusdm.json carries them: offline, so a backtest needs no key.
BRACKETS: dict[str, tuple[tuple[float, float, float, float, float], ...]] = {
    "BTC/USDT:USDT": (
        (0.0, 50_000.0, 0.004, 125.0, 0.0),
        (50_000.0, 600_000.0, 0.005, 100.0, 50.0),
        (600_000.0, 3_000_000.0, 0.01, 75.0, 3050.0),
    ),
    "ETH/USDT:USDT": (
        (0.0, 50_000.0, 0.005, 100.0, 0.0),
        (50_000.0, 600_000.0, 0.0065, 75.0, 75.0),
        (600_000.0, 3_000_000.0, 0.01, 50.0, 2175.0),
    ),
}
VENUES = ("binanceusdm",)
USAGE = '"SYMBOL long|short SIZE @ PRICE|market LEVERAGEx isolated|cross"'
_SHAPE = re.compile(
    r"^\s*(?P<symbol>\S+)\s+(?P<side>long|short)\s+(?P<size>\S+)\s*@\s*(?P<price>\S+)"
    r"\s+(?P<lev>[0-9.]+)x\s+(?P<mode>isolated|cross)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PositionSpec:
    """One position as typed; ``entry`` None means "at the market when the replay starts"."""

    symbol: str
    side: str
    size: float
    entry: float | None
    leverage: float
    margin_mode: str

    @property
    def sign(self) -> float:
        return 1.0 if self.side == "long" else -1.0


def parse_position(text: str, *, venue: str = "binanceusdm") -> PositionSpec:
    """Parse the ``--position`` string; a bad one is a UserError showing the expected shape."""
    found = _SHAPE.match(text)
    if not found:
        raise UserError(f"--position {text!r}: expected {USAGE}, e.g. {EXAMPLE!r}.")
    symbol = found["symbol"].upper()
    if venue not in VENUES:
        raise UserError(f"--venue {venue}: the backtest knows the tiers of {', '.join(VENUES)}.")
    if symbol not in BRACKETS:
        raise UserError(
            f"--position: unknown symbol {symbol} on {venue}; known: {', '.join(BRACKETS)}."
        )
    size, leverage = _positive(found["size"], "size"), _positive(found["lev"], "leverage")
    price = found["price"].lower()
    entry = None if price == "market" else _positive(found["price"], "entry price")
    return PositionSpec(symbol, found["side"].lower(), size, entry, leverage, found["mode"].lower())


EXAMPLE = "BTC/USDT:USDT long 2.5 @ 60000 10x isolated"


def _positive(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"--position: the {what} {text!r} is not a number.") from None
    if not (math.isfinite(value) and value > 0):
        raise UserError(f"--position: the {what} must be a positive number, not {text}.")
    return value


def _tiers(symbol: str) -> list[dict[str, Any]]:
    return [
        {
            "tier": n + 1,
            "symbol": symbol,
            "currency": "USDT",
            "minNotional": floor,
            "maxNotional": cap,
            "maintenanceMarginRate": rate,
            "maxLeverage": lev,
            "info": {"cum": cum},
        }
        for n, (floor, cap, rate, lev, cum) in enumerate(BRACKETS[symbol])
    ]


def snapshot(spec: PositionSpec, entry: float, *, taken_at_s: float) -> SnapshotFile:
    """The position opened at ``entry`` with margin notional / leverage, as a Binance payload.

    Cross margin gets a wallet of exactly that margin and nothing else: the same position
    alone in its account.
    """
    return parse(payload(spec, entry, taken_at_s=taken_at_s), source="--position")


def payload(spec: PositionSpec, entry: float, *, taken_at_s: float) -> dict[str, Any]:
    """``snapshot``'s input: the ccxt-shaped JSON ``liqwatch analyze`` reads."""
    qty, margin = spec.size, spec.size * entry / spec.leverage
    notional = qty * entry
    isolated = spec.margin_mode == "isolated"
    info = {
        "symbol": spec.symbol.split("/")[0] + "USDT",
        "positionSide": "BOTH",
        "positionAmt": str(spec.sign * qty),
        "entryPrice": str(entry),
        "markPrice": str(entry),
        "unRealizedProfit": "0",
        "marginType": spec.margin_mode,
        "isolatedMargin": str(margin if isolated else 0.0),
        "isolatedWallet": str(margin if isolated else 0.0),
        "positionInitialMargin": str(margin),
        "notional": str(spec.sign * notional),
        "marginAsset": "USDT",
    }
    position = {
        "symbol": spec.symbol,
        "side": spec.side,
        "contracts": qty,
        "contractSize": 1.0,
        "entryPrice": entry,
        "markPrice": entry,
        "notional": notional,
        "leverage": spec.leverage,
        "marginMode": spec.margin_mode,
        "unrealizedPnl": 0.0,
        "initialMargin": margin,
        "info": info,
    }
    wallet = 0.0 if isolated else margin
    asset = {
        "asset": "USDT",
        "crossWalletBalance": str(wallet),
        "marginBalance": str(margin),
        "maintMargin": "0",
    }
    return {
        "exchange": "binanceusdm",
        "positions": [position],
        "balance": {"info": {"assets": [asset]}},
        "leverage_tiers": {spec.symbol: _tiers(spec.symbol)},
        "timestamp": taken_at_s * 1000.0,
    }
