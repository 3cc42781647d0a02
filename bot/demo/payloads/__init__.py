"""Raw venue payloads for the demo accounts at given marks, with each venue's liquidation price.

Shapes follow the venues' API docs and ccxt's source comments; each liquidation price is the
venue's published formula (docs/risk.md#liquidation-price-per-venue), computed here
independently of the engine so that the demo doubles as a cross-check.
"""

from bot.demo.payloads.binance import (
    binance_account,
    binance_bracket_cache,
    binance_brackets,
    binance_liquidation,
    binance_position_risk,
)
from bot.demo.payloads.bybit import (
    bybit_liquidation,
    bybit_position,
    bybit_risk_limits,
    bybit_wallet,
)
from bot.demo.payloads.common import Leg, Raw, leg, markets
from bot.demo.payloads.hyperliquid import clearinghouse_state, hl_liquidation

__all__ = [
    "Leg",
    "Raw",
    "binance_account",
    "binance_bracket_cache",
    "binance_brackets",
    "binance_liquidation",
    "binance_position_risk",
    "bybit_liquidation",
    "bybit_position",
    "bybit_risk_limits",
    "bybit_wallet",
    "clearinghouse_state",
    "hl_liquidation",
    "leg",
    "markets",
]
