"""Raw venue payloads (shaped like the API docs and ccxt's source comments) parsed by real ccxt.

Every builder returns what production sees: the raw response run through ccxt's own parser
offline (``set_markets`` + ``parse_*``; no HTTP). Keyword overrides patch the raw payload, so a
test states only the field it is about. ccxt 4.5 no longer ships BitMEX: its unified dict is
built here the way ccxt's last ``bitmex.parse_position`` built it.
"""

from __future__ import annotations

import functools
from typing import Any

import ccxt

Raw = dict[str, Any]


def market(
    market_id: str, symbol: str, *, contract_size: float = 1.0, kind: str = "swap", **extra: Any
) -> Raw:
    """A minimal ccxt market dict for ``set_markets`` (symbol ``BASE/QUOTE:SETTLE[-…]``)."""
    pair, _, settle_part = symbol.partition(":")
    base, _, quote = pair.partition("/")
    settle = settle_part.split("-")[0]
    inverse = settle == base
    return {
        "id": market_id,
        "symbol": symbol,
        "base": base,
        "quote": quote,
        "settle": settle,
        "baseId": base,
        "quoteId": quote,
        "settleId": settle,
        "type": kind,
        "spot": False,
        "margin": False,
        "swap": kind == "swap",
        "future": kind == "future",
        "option": kind == "option",
        "contract": True,
        "linear": not inverse,
        "inverse": inverse,
        "contractSize": contract_size,
        "active": True,
        "precision": {"amount": 0.001, "price": 0.01, "base": 1e-8, "quote": 1e-8},
        **extra,
    }


@functools.cache
def exchange(venue: str, markets: tuple[tuple[str, str, float, str], ...]) -> Any:
    """A ccxt sync exchange with ``markets`` (id, symbol, contract size, type) set; no I/O."""
    ex = getattr(ccxt, venue)({"enableRateLimit": False})
    ex.set_markets([market(i, s, contract_size=c, kind=k) for i, s, c, k in markets])
    return ex
