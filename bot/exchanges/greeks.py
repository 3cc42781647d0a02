"""Option terms and greeks for snapshots: the held options' ccxt markets, and ccxt's greeks of
them read on the venue's public instance (docs/risk.md#greeks).

A venue's option position carries its own greeks (Deribit, OKX's BS fields, Bybit) but not its
mark implied volatility, which the engine needs to check those greeks against Black-76 and to
reprice the option under a stress; so the greeks of every held option are read, not only of
those whose position lacks greeks. They are public and best effort (``market_data.MarketData``
caches them briefly and never fails a poll on them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from bot.exchanges.budget import Priority, priority

#: The market keys the engine reads for an option (engine/normalise/options.py), and those of
#: ``info`` (OKX lists the 0.01 BTC multiplier apart from ``contractSize``: ``ctMult``).
MARKET_KEYS = (
    "id",
    "symbol",
    "type",
    "option",
    "contract",
    "base",
    "quote",
    "settle",
    "linear",
    "inverse",
    "strike",
    "expiry",
    "optionType",
    "contractSize",
)
INFO_KEYS = ("ctMult", "ctVal", "instFamily", "uly")

#: Venues whose one greeks request answers many options: OKX's public/opt-summary per
#: instrument family, Bybit's option tickers per base coin. Elsewhere (Deribit's public/ticker)
#: one request per option.
_FAMILY_PARAM = {"okx": "instFamily", "bybit": "baseCoin"}


def is_option(public: Any, symbol: str) -> bool:
    """``symbol`` is an option market of the loaded markets."""
    market = (public.markets or {}).get(symbol)
    return bool(isinstance(market, dict) and market.get("option"))


def option_markets(public: Any, symbols: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The ccxt markets of the options among ``symbols``, trimmed to what the engine reads
    (strike, expiry, call/put, contract size and OKX's multiplier): a snapshot is stored and
    logged, and a venue's full instrument record would only weigh it down."""
    out: dict[str, dict[str, Any]] = {}
    for symbol in dict.fromkeys(symbols):
        if not is_option(public, symbol):
            continue
        market = public.markets[symbol]
        trimmed = {key: market.get(key) for key in MARKET_KEYS}
        info = market.get("info")
        if isinstance(info, Mapping):
            trimmed["info"] = {key: info[key] for key in INFO_KEYS if key in info}
        out[symbol] = trimmed
    return out


def groups(venue: str, public: Any, symbols: Iterable[str]) -> list[list[str]]:
    """``symbols`` (options) grouped by what one greeks request answers on ``venue``."""
    param = _FAMILY_PARAM.get(venue)
    if param is None or not public.has.get("fetchAllGreeks"):
        return [[s] for s in symbols]
    grouped: dict[str, list[str]] = {}
    for symbol in symbols:
        grouped.setdefault(_family(venue, public.markets[symbol]), []).append(symbol)
    return list(grouped.values())


def _family(venue: str, market: Mapping[str, Any]) -> str:
    if venue == "okx":
        info = market.get("info")
        return str(info.get("instFamily") if isinstance(info, Mapping) else market.get("base"))
    return str(market.get("base"))


async def fetch(public: Any, symbols: list[str]) -> dict[str, Any]:
    """ccxt's greeks of ``symbols`` (one group of ``groups``), by symbol; a symbol the venue
    sent none for is left out. Raises if the venue cannot say (``MarketData`` turns it into
    "unknown"). Waits behind every poll for the venue's budget: a poll can go without them."""
    venue = public.id
    with priority(Priority.BACKGROUND):
        param = _FAMILY_PARAM.get(venue)
        if param is not None and public.has.get("fetchAllGreeks"):
            family = _family(venue, public.markets[symbols[0]])
            found = await public.fetch_all_greeks(symbols, {param: family})
            return {s: found[s] for s in symbols if isinstance(found.get(s), dict)}
        if not public.has.get("fetchGreeks"):
            raise NotImplementedError("fetchGreeks")
        answers = await asyncio.gather(
            *(public.fetch_greeks(s) for s in symbols), return_exceptions=True
        )
    failed = [a for a in answers if isinstance(a, BaseException)]
    if failed and len(failed) == len(answers):
        raise failed[0]
    return {s: a for s, a in zip(symbols, answers, strict=True) if isinstance(a, dict)}
