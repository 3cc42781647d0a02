"""Marks over REST: which symbols one request answers on each venue, and the mark in a ticker."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any


def groups(venue: str, markets: Any, symbols: Collection[str]) -> list[list[str]]:
    """``symbols`` the venue lists, grouped by what one mark request can answer: a market type
    (ccxt picks the endpoint from it), on Bybit also linear or inverse (its category), on
    Deribit the base currency (its book summary is per currency)."""
    grouped: dict[tuple[Any, ...], list[str]] = {}
    for symbol in sorted(set(symbols)):
        market = markets.get(symbol) if isinstance(markets, dict) else None
        if not isinstance(market, dict):
            continue
        key: tuple[Any, ...] = (market.get("type"),)
        if venue == "deribit":
            key = (market.get("base"),)
        elif venue == "bybit":
            key = (market.get("type"), bool(market.get("linear")))
        grouped.setdefault(key, []).append(symbol)
    return list(grouped.values())


async def fetch(venue: str, public: Any, symbols: list[str]) -> Any:
    """One request for the marks of ``symbols`` (one group of ``groups``)."""
    if venue == "deribit":
        # Every kind of the currency: with symbols ccxt would keep only the first one's kind.
        base = public.markets[symbols[0]]["base"]
        return await public.fetch_tickers(None, {"code": base})
    if venue == "hyperliquid":
        # metaAndAssetCtxs: the perps' contexts, each carrying its markPx.
        return await public.fetch_tickers(symbols, {"type": "swap"})
    if public.has.get("fetchMarkPrices") is True:
        return await public.fetch_mark_prices(symbols)
    return await public.fetch_tickers(symbols)


def mark_of(venue: str, ticker: Any) -> float | None:
    """A REST ticker's mark: ``markPrice``, but Hyperliquid's context ``markPx`` (ccxt leaves
    its ``markPrice`` empty). ``None`` unless finite and positive."""
    if not isinstance(ticker, dict):
        return None
    raw: Any = ticker.get("markPrice")
    info = ticker.get("info")
    if venue == "hyperliquid" and isinstance(info, dict):
        raw = info.get("markPx")
    try:
        mark = float(raw)
    except (TypeError, ValueError):
        return None
    return mark if math.isfinite(mark) and mark > 0 else None
