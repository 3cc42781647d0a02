"""Venue-style market names for a phone: ``BTC-PERP`` and ``ETH (USDC)``, not ccxt's symbols.

ccxt's unified symbol ``BASE/QUOTE:SETTLE[-EXPIRY[-STRIKE-TYPE]]`` is exact but long and reads
as noise in a narrow chat column. A desk names a USDT perpetual by its coin, the settle coin
only where it is not USDT, and a dated contract by its expiry (as the venues' own apps do).
"""

from __future__ import annotations

#: Settle currencies a desk reads as "the usual one": no suffix.
_PLAIN_SETTLE = "USDT"


def short_symbol(symbol: str) -> str:
    """``BTC/USDT:USDT`` → ``BTC-PERP``; ``ETH/USDC:USDC`` → ``ETH (USDC)``;
    ``BTC/USD:BTC`` → ``BTC (coin-m)``; ``BTC/USDT:USDT-261225`` → ``BTC-261225``;
    ``BTC/USD:BTC-261225-60000-C`` → ``BTC-261225-60000-C (coin-m)``. A spot pair or
    anything else unrecognised is returned as it is."""
    base, slash, rest = symbol.partition("/")
    quote, colon, settle_part = rest.partition(":")
    if not slash or not colon or not base or not quote:
        return symbol
    settle, _, expiry = settle_part.partition("-")
    name = f"{base}-{expiry}" if expiry else base
    if settle == base:
        return f"{name} (coin-m)"
    if settle == _PLAIN_SETTLE:
        return name if expiry else f"{name}-PERP"
    return f"{name} ({settle})"
