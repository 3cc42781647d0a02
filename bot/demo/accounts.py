"""The demo's three accounts: long and short, cross and isolated, on three venues."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PositionSpec:
    """One open position: signed size in base units (+ long, − short), entry and leverage.

    ``isolated`` positions post ``|size|·entry/leverage`` as their own margin; cross ones draw
    on the account's cross balance.
    """

    underlying: str
    size: float
    entry: float
    leverage: float
    isolated: bool = False

    @property
    def side(self) -> float:
        return 1.0 if self.size > 0 else -1.0

    @property
    def qty(self) -> float:
        return abs(self.size)

    @property
    def isolated_margin(self) -> float:
        """Margin posted to an isolated position (0 for cross)."""
        return self.qty * self.entry / self.leverage if self.isolated else 0.0


@dataclass(frozen=True)
class DemoAccount:
    """A simulated account: ``balance`` is the cross wallet in the venue's settle currency.

    The balance excludes isolated margin and unrealised PnL; ``wallet_address`` is set for
    venues tracked by address (Hyperliquid).
    """

    label: str
    venue: str
    wallet_address: str | None
    positions: tuple[PositionSpec, ...]
    balance: float


#: Cross BTC long sized so the scripted crash takes it below 5 % from liquidation (the ETH
#: short is small: a larger one would hedge the long out of the crash), plus a cross ETH short.
DESK_BINANCE = DemoAccount(
    label="desk-binance",
    venue="binanceusdm",
    wallet_address=None,
    positions=(
        PositionSpec("BTC", 0.6, 63_000.0, 20),
        PositionSpec("ETH", -1.0, 3_250.0, 10),
    ),
    balance=5_000.0,
)

#: Isolated BTC long entered low enough to reach only the warning zone; isolated SOL short.
SWING_BYBIT = DemoAccount(
    label="swing-bybit",
    venue="bybit",
    wallet_address=None,
    positions=(
        PositionSpec("BTC", 0.3, 56_300.0, 10, isolated=True),
        PositionSpec("SOL", -40.0, 160.0, 5, isolated=True),
    ),
    balance=4_000.0,
)

#: Conservative wallet: a 3x cross ETH long and a 4x isolated BTC long that ride the crash out.
HL_WALLET = DemoAccount(
    label="hl-wallet",
    venue="hyperliquid",
    wallet_address="0xde30000000000000000000000000000000000001",
    positions=(
        PositionSpec("ETH", 3.0, 3_100.0, 5),
        PositionSpec("BTC", 0.2, 62_000.0, 4, isolated=True),
    ),
    balance=2_800.0,
)

DEMO_ACCOUNTS = (DESK_BINANCE, SWING_BYBIT, HL_WALLET)
