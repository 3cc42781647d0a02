"""Volatility, funding rates and option greeks for snapshots: public data cached per venue,
never fatal."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.exchanges import greeks
from bot.exchanges.budget import Priority, priority
from bot.exchanges.flight import Flights
from engine.errors import EngineError
from engine.volatility import periods_per_year, realised_volatility

log = logging.getLogger(__name__)

#: Daily closes: a month of them is what the realised σ is defined on (docs/risk.md#volatility).
TIMEFRAME = "1d"
CANDLES = 31
VOLATILITY = "volatility"
FUNDING = "funding_rates"
GREEKS = "greeks"

#: How long a poll waits for σ's candles or an option's first greeks (background reads, served
#: last on a busy budget).
SIGMA_WAIT_S = 1.0
#: Fetches values for some symbols of one venue (may raise: the cache turns it into "unknown").
Fetch = Callable[[Any, list[str]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class _Entry:
    expires_at: float
    #: ``None``: the venue could not tell us; remembered so a failing endpoint is not hammered.
    #: A float (σ, a funding rate) or ccxt's greeks dict of an option.
    value: Any


class MarketData:
    """Realised σ and funding rates of held symbols and ccxt's greeks of held options (their
    mark IV above all), fetched on each venue's public instance.

    Best effort: one attempt per fetch (no retries), a time budget per snapshot, and any error
    only drops the key from the snapshot. Concurrent polls share each symbol's fetch, and no
    lock is held across one: a slow σ read of one symbol delays only the polls that hold it
    (and those by ``timeout_s`` at most; it finishes in the background, cached for later).
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        volatility_ttl_s: float = 6 * 3600.0,
        funding_ttl_s: float = 60.0,
        greeks_ttl_s: float = 60.0,
        retry_failed_s: float = 600.0,
        timeout_s: float = 10.0,
        sigma_wait_s: float = SIGMA_WAIT_S,
    ) -> None:
        self._clock = clock
        self._sigma_wait_s = min(sigma_wait_s, timeout_s)
        self._ttl_s = {VOLATILITY: volatility_ttl_s, FUNDING: funding_ttl_s, GREEKS: greeks_ttl_s}
        # A failure is retried sooner than a 6 h σ would be refreshed, never more often than
        # a success would be.
        self._failed_ttl_s = {k: min(ttl, retry_failed_s) for k, ttl in self._ttl_s.items()}
        self._timeout_s = timeout_s
        self._cache: dict[tuple[str, str, str], _Entry] = {}
        self._flights: Flights[tuple[str, str, str]] = Flights()
        self._reported: set[tuple[str, str]] = set()

    async def extras(
        self, venue: str, public: Any, symbols: list[str]
    ) -> dict[str, dict[str, Any]]:
        """``{"volatility": …, "funding_rates": …, "greeks": …}`` for ``symbols``; a key is
        omitted when no symbol has a value. Markets must be loaded on ``public``."""
        held = list(dict.fromkeys(symbols))
        priced = [s for s in held if _market_flag(public, s, "contract", "option")]
        swaps = [s for s in held if _market_flag(public, s, "swap", "option")]
        options = [s for s in held if greeks.is_option(public, s)]
        try:
            async with asyncio.timeout(self._timeout_s):
                # σ is one request per symbol, funding one per subtype for all symbols, greeks
                # one per option or per option family (``greeks.groups``).
                self._start(VOLATILITY, venue, public, [[s] for s in priced], self._sigmas)
                self._start(FUNDING, venue, public, [swaps], self._rates)
                self._start(
                    GREEKS, venue, public, greeks.groups(venue, public, options), greeks.fetch
                )
                # σ's candles and the greeks wait for the venue's budget behind every poll: a
                # poll waiting for them on a busy budget would wait its whole timeout, every
                # poll (near ones included) until they come. It waits briefly, and only for
                # symbols with none at all: an expired value is served while it is refreshed.
                unknown = [
                    (kind, venue, s)
                    for kind, wanted in ((VOLATILITY, priced), (GREEKS, options))
                    for s in wanted
                    if (kind, venue, s) not in self._cache
                ]
                await self._flights.wait(unknown, timeout_s=self._sigma_wait_s)
                await self._flights.wait([(FUNDING, venue, s) for s in swaps])
        except TimeoutError:
            # Whatever finished in time is cached and used; the rest is tried next poll.
            self._report(venue, "market data", "TimeoutError")
        found = {VOLATILITY: self._known(VOLATILITY, venue, priced, stale_ok=True)}
        found[FUNDING] = self._known(FUNDING, venue, swaps)
        found[GREEKS] = self._known(GREEKS, venue, options, stale_ok=True)
        return {key: values for key, values in found.items() if values}

    def _known(
        self, kind: str, venue: str, symbols: list[str], *, stale_ok: bool = False
    ) -> dict[str, Any]:
        """The cached values of ``symbols``; with ``stale_ok``, expired ones too for up to
        one more TTL (their refresh has started)."""
        now = self._clock()
        grace = self._ttl_s[kind] if stale_ok else 0.0
        out: dict[str, Any] = {}
        for symbol in symbols:
            entry = self._cache.get((kind, venue, symbol))
            if entry is not None and entry.value is not None and now < entry.expires_at + grace:
                out[symbol] = entry.value
        return out

    def _stale(self, kind: str, venue: str, symbols: list[str]) -> list[str]:
        now = self._clock()
        return [
            s
            for s in symbols
            if (entry := self._cache.get((kind, venue, s))) is None or now >= entry.expires_at
        ]

    async def settle(self) -> None:
        """Until every fetch in flight has ended."""
        await self._flights.settle()

    async def close(self) -> None:
        """Cancel the fetches in flight (the hub is closing their instances)."""
        await self._flights.close()

    def _start(
        self, kind: str, venue: str, public: Any, groups: list[list[str]], fetch: Fetch
    ) -> None:
        """One fetch per group of the symbols that are due and not being fetched already."""
        for group in groups:
            due = [
                s
                for s in self._stale(kind, venue, group)
                if not self._flights.flying((kind, venue, s))
            ]
            if due:
                keys = [(kind, venue, s) for s in due]
                self._flights.start(
                    keys, functools.partial(self._fill, kind, venue, public, due, fetch)
                )

    async def _fill(
        self, kind: str, venue: str, public: Any, missing: list[str], fetch: Fetch
    ) -> None:
        try:
            found = await fetch(public, missing)
        except Exception as exc:  # σ, funding and greeks only enrich a snapshot: never fatal
            self._report(venue, kind, type(exc).__name__)
            found = {}
        now = self._clock()
        for symbol in missing:
            value = found.get(symbol)
            ttl_s = self._ttl_s[kind] if value is not None else self._failed_ttl_s[kind]
            self._cache[(kind, venue, symbol)] = _Entry(now + ttl_s, value)

    def _report(self, venue: str, kind: str, reason: str) -> None:
        """INFO the first time a venue lacks ``kind``, DEBUG after: a venue without the
        endpoint would otherwise log on every poll."""
        level = logging.DEBUG if (venue, kind) in self._reported else logging.INFO
        self._reported.add((venue, kind))
        log.log(level, "%s: %s unavailable, snapshots go without it (%s)", venue, kind, reason)

    async def _sigmas(self, public: Any, symbols: list[str]) -> dict[str, float]:
        if not public.has.get("fetchOHLCV"):
            raise NotImplementedError("fetchOHLCV")
        # A month of candles per symbol, every 6 h: the dearest public read, and the one a
        # poll can best go without, so it waits behind every poll for the venue's budget.
        with priority(Priority.BACKGROUND):
            candles = await asyncio.gather(
                *(public.fetch_ohlcv(s, TIMEFRAME, None, CANDLES) for s in symbols),
                return_exceptions=True,
            )
        out: dict[str, float] = {}
        for symbol, ohlcv in zip(symbols, candles, strict=True):
            if isinstance(ohlcv, BaseException):
                self._report(public.id, VOLATILITY, type(ohlcv).__name__)
                continue
            sigma = sigma_of(ohlcv)
            if sigma is not None:
                out[symbol] = sigma
        return out

    async def _rates(self, public: Any, symbols: list[str]) -> dict[str, float]:
        # Every poll holding a swap waits for this read (once a minute per venue), whatever
        # its band: queued at the band of the poll that happened to start it (far, say), it
        # would hold near polls behind the whole far queue.
        with priority(Priority.NEAR):
            return await self._rates_now(public, symbols)

    async def _rates_now(self, public: Any, symbols: list[str]) -> dict[str, float]:
        if public.has.get("fetchFundingRates"):
            groups = _by_subtype(public, symbols)
            # One call per subtype: Bybit's tickers take one category per request.
            params: list[dict[str, Any]] = (
                [{"subType": sub} for sub in groups] if len(groups) > 1 else [{}]
            )
            answers = await asyncio.gather(
                *(
                    public.fetch_funding_rates(group, extra)
                    for group, extra in zip(groups.values(), params, strict=True)
                )
            )
            merged = {k: v for answer in answers for k, v in dict(answer).items()}
        elif public.has.get("fetchFundingRate"):
            rates = await asyncio.gather(*(public.fetch_funding_rate(s) for s in symbols))
            merged = dict(zip(symbols, rates, strict=True))
        else:
            raise NotImplementedError("fetchFundingRates")
        return {s: rate for s in symbols if (rate := _rate(merged.get(s))) is not None}


def sigma_of(ohlcv: Any) -> float | None:
    """Annualised σ of ccxt OHLCV rows (close is column 4) by the engine; ``None`` if unusable
    (too few or bad closes, or a flat series: the snapshot schema wants σ > 0)."""
    try:
        closes = np.array([float(row[4]) for row in ohlcv], dtype=np.float64)
        sigma = realised_volatility(closes, periods_per_year(TIMEFRAME))
    except (TypeError, ValueError, IndexError, KeyError, EngineError):
        return None
    return sigma if math.isfinite(sigma) and sigma > 0.0 else None


def _rate(funding: Any) -> float | None:
    rate = funding.get("fundingRate") if isinstance(funding, dict) else None
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
        return None
    return float(rate)


def _market_flag(public: Any, symbol: str, wanted: str, unwanted: str) -> bool:
    market = (public.markets or {}).get(symbol)
    return bool(market and market.get(wanted) and not market.get(unwanted))


def _by_subtype(public: Any, symbols: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for symbol in symbols:
        inverse = bool(public.markets[symbol].get("inverse"))
        groups.setdefault("inverse" if inverse else "linear", []).append(symbol)
    return groups
