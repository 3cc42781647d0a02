"""A Hyperliquid wallet's positions and balance from one ``clearinghouseState`` request.

ccxt's ``fetch_positions`` and ``fetch_balance`` each ask for the same clearinghouse state (2
weight apiece of the IP's 1,200 a minute); this asks once and builds both with ccxt's own code:
``parse_position`` per asset position, and the perp branch of ``fetch_balance`` (ccxt 4.5,
``hyperliquid.fetch_balance``: no unified margin, no isolated margin mode — what the hub's
``balance_params`` asked ccxt for before), which ccxt writes inline rather than as a parser.
"""

from __future__ import annotations

from typing import Any


async def read(exchange: Any, params: dict[str, Any]) -> tuple[Any, Any]:
    """(positions, balance) of the wallet in ``params["user"]``, as ``fetch_positions(None,
    params)`` and ``fetch_balance(params)`` would return them; markets must be loaded."""
    state = await exchange.publicPostInfo({**params, "type": "clearinghouseState"})
    if not isinstance(state, dict):
        return state, state  # the hub's checks call it malformed
    return positions_of(exchange, state), balance_of(exchange, state)


def positions_of(exchange: Any, state: dict[str, Any]) -> Any:
    """ccxt's ``fetch_positions`` on a clearinghouse state already fetched."""
    entries = exchange.safe_list(state, "assetPositions", [])
    parsed = [exchange.parse_position(entry) for entry in entries]
    return exchange.filter_by_array_positions(parsed, "symbol", None)


def balance_of(exchange: Any, state: dict[str, Any]) -> Any:
    """ccxt's ``fetch_balance`` (perp, cross) on a clearinghouse state already fetched."""
    summary = exchange.safe_dict(state, "marginSummary", {})
    timestamp = exchange.safe_integer(state, "time")
    return exchange.safe_balance(
        {
            "info": state,
            "USDC": {
                "total": exchange.safe_number(summary, "accountValue"),
                "used": exchange.safe_number(summary, "totalMarginUsed"),
            },
            "timestamp": timestamp,
            "datetime": exchange.iso8601(timestamp),
        }
    )
