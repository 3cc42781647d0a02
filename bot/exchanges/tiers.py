"""Leverage tiers cached per venue and symbol; failing to get them never fails a poll."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from bot.exchanges.venues import TierSource

log = logging.getLogger(__name__)

Tiers = dict[str, list[dict[str, Any]]]
#: Awaits a ccxt call under the hub's retry policy.
Caller = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]


class TierCache:
    """Tiers of each (venue, symbol), fetched once per ``ttl_s`` however many accounts hold it."""

    def __init__(self, *, ttl_s: float, clock: Callable[[], float]) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._tiers: dict[tuple[str, str], tuple[float, list[dict[str, Any]]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _fresh(self, venue: str, symbols: Iterable[str]) -> Tiers:
        now = self._clock()
        found: Tiers = {}
        for symbol in symbols:
            cached = self._tiers.get((venue, symbol))
            if cached is not None and now - cached[0] < self._ttl_s:
                found[symbol] = cached[1]
        return found

    async def get(
        self,
        venue: str,
        symbols: list[str],
        source: TierSource,
        call: Caller,
        public: Any,
        private: Any,
    ) -> Tiers:
        """Tiers of ``symbols``, fetching the missing ones through ``call`` (retrying wrapper)."""
        wanted = [s for s in dict.fromkeys(symbols) if _tiered(public, s)]
        if source == "none" or not wanted:
            return {}
        async with self._locks.setdefault(venue, asyncio.Lock()):
            missing = [s for s in wanted if s not in self._fresh(venue, wanted)]
            if missing:
                fetched = await self._fetch(venue, missing, source, call, public, private)
                now = self._clock()
                for symbol, tiers in fetched.items():
                    self._tiers[(venue, symbol)] = (now, tiers)
        return self._fresh(venue, wanted)

    async def _fetch(
        self,
        venue: str,
        symbols: list[str],
        source: TierSource,
        call: Caller,
        public: Any,
        private: Any,
    ) -> Tiers:
        try:
            if source == "account":
                result = await call(lambda: private.fetch_leverage_tiers(symbols))
                return {s: list(t) for s, t in dict(result).items() if s in symbols}
            lists = await asyncio.gather(
                *(call(functools.partial(public.fetch_market_leverage_tiers, s)) for s in symbols)
            )
            return {s: list(t) for s, t in zip(symbols, lists, strict=True)}
        except Exception as exc:  # tiers only refine the engine's maths: never fatal
            log.warning("%s: leverage tiers unavailable (%s)", venue, type(exc).__name__)
            return {}


def _tiered(public: Any, symbol: str) -> bool:
    """Only swaps and futures have leverage tiers (options and spot make ccxt raise)."""
    market = (public.markets or {}).get(symbol)
    return bool(market and market.get("contract") and not market.get("option"))
