"""Leverage tiers cached per venue and symbol; failing to get them never fails a poll."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.exchanges.flight import Flights
from bot.exchanges.venues import TierSource

log = logging.getLogger(__name__)

Tiers = dict[str, list[dict[str, Any]]]
#: Awaits a ccxt call under the hub's retry policy.
Caller = Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]
#: How long a failed read is remembered before a poll tries again (a failing endpoint is asked
#: once per symbol in this window, however many accounts hold the symbol).
RETRY_FAILED_S = 60.0


@dataclass(frozen=True)
class _Entry:
    #: When a poll should read the symbol again (older tiers are served meanwhile).
    refresh_at: float
    #: ``None``: no read has succeeded yet (the last one failed).
    tiers: list[dict[str, Any]] | None


class TierCache:
    """Tiers of each (venue, symbol), read once per ``ttl_s`` however many accounts hold it.

    Reads are single-flight per (venue, symbol) and hold no lock: concurrent polls that hold a
    symbol share its read, and a poll never waits for a symbol it does not hold. A poll waits
    only for held symbols with no tiers yet; expired tiers are served while one refresh runs;
    a failed read is remembered for ``retry_s`` (keeping older tiers, if any).
    """

    def __init__(
        self, *, ttl_s: float, clock: Callable[[], float], retry_s: float = RETRY_FAILED_S
    ) -> None:
        self._ttl_s = ttl_s
        self._retry_s = min(retry_s, ttl_s)
        self._clock = clock
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._flights: Flights[tuple[str, str]] = Flights()

    async def get(
        self,
        venue: str,
        symbols: list[str],
        source: TierSource,
        call: Caller,
        public: Any,
        private: Any,
    ) -> Tiers:
        """Tiers of ``symbols``, reading the due ones through ``call`` (retrying wrapper)."""
        wanted = [s for s in dict.fromkeys(symbols) if _tiered(public, s)]
        if source == "none" or not wanted:
            return {}
        self._refresh(venue, wanted, source, call, public, private)
        await self._flights.wait([(venue, s) for s in wanted if self._tiers(venue, s) is None])
        return {s: tiers for s in wanted if (tiers := self._tiers(venue, s)) is not None}

    async def settle(self) -> None:
        """Until every read in flight has ended."""
        await self._flights.settle()

    async def close(self) -> None:
        """Cancel the reads in flight (the hub is closing their instances)."""
        await self._flights.close()

    def _tiers(self, venue: str, symbol: str) -> list[dict[str, Any]] | None:
        entry = self._entries.get((venue, symbol))
        return None if entry is None else entry.tiers

    def _refresh(
        self,
        venue: str,
        wanted: list[str],
        source: TierSource,
        call: Caller,
        public: Any,
        private: Any,
    ) -> None:
        """Start reads of the symbols that are due and not already being read."""
        now = self._clock()
        due = [
            s
            for s in wanted
            if not self._flights.flying((venue, s))
            and ((entry := self._entries.get((venue, s))) is None or now >= entry.refresh_at)
        ]
        if not due:
            return
        if source == "account":  # one private call answers for every symbol
            read = functools.partial(_account_tiers, call, private, due)
            self._flights.start(
                [(venue, s) for s in due], functools.partial(self._read, venue, due, read)
            )
            return
        for symbol in due:  # one public call per symbol: a slow one delays only its holders
            read = functools.partial(_market_tiers, call, public, symbol)
            self._flights.start(
                [(venue, symbol)], functools.partial(self._read, venue, [symbol], read)
            )

    async def _read(
        self, venue: str, symbols: list[str], read: Callable[[], Awaitable[Tiers]]
    ) -> None:
        try:
            found = await read()
        except Exception as exc:  # tiers only refine the engine's maths: never fatal
            log.warning("%s: leverage tiers unavailable (%s)", venue, type(exc).__name__)
            found = {}
        now = self._clock()
        for symbol in symbols:
            tiers = found.get(symbol)
            if tiers is not None:
                self._entries[(venue, symbol)] = _Entry(now + self._ttl_s, tiers)
            else:
                older = self._tiers(venue, symbol)
                self._entries[(venue, symbol)] = _Entry(now + self._retry_s, older)


async def _account_tiers(call: Caller, private: Any, symbols: list[str]) -> Tiers:
    result = await call(lambda: private.fetch_leverage_tiers(symbols))
    return {s: list(t) for s, t in dict(result).items() if s in symbols}


async def _market_tiers(call: Caller, public: Any, symbol: str) -> Tiers:
    return {symbol: list(await call(functools.partial(public.fetch_market_leverage_tiers, symbol)))}


def _tiered(public: Any, symbol: str) -> bool:
    """Only swaps and futures have leverage tiers (options and spot make ccxt raise)."""
    market = (public.markets or {}).get(symbol)
    return bool(market and market.get("contract") and not market.get("option"))
