"""Venue-style market names: what a desk reads on a phone instead of ccxt's symbols."""

from __future__ import annotations

import pytest

from bot.render.symbols import short_symbol


@pytest.mark.parametrize(
    ("symbol", "shown"),
    [
        ("BTC/USDT:USDT", "BTC-PERP"),
        ("ETH/USDC:USDC", "ETH (USDC)"),
        ("BTC/USD:BTC", "BTC (coin-m)"),
        ("BTC/USDT:USDT-261225", "BTC-261225"),
        ("BTC/USD:BTC-261225-60000-C", "BTC-261225-60000-C (coin-m)"),
        ("ETH/USDC:USDC-261225-3000-P", "ETH-261225-3000-P (USDC)"),
        ("BTC/USDT", "BTC/USDT"),  # spot: nothing to shorten
        ("odd", "odd"),
    ],
)
def test_ccxt_symbols_read_as_the_venues_name_them(symbol: str, shown: str) -> None:
    assert short_symbol(symbol) == shown
