"""One venue's websocket client: a ccxt.pro instance and one watch per followed symbol."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any

import ccxt.pro as ccxtpro  # type: ignore[import-untyped]
from ccxt.base.errors import BaseError  # type: ignore[import-untyped]

from bot.exchanges import ExchangeFailure, apply_prefix
from bot.exchanges.factory import shared_ssl_context
from bot.exchanges.urls import apply_ws_prefix
from bot.exchanges.venues import spec_for
from bot.stream.venues import StreamSpec, read_mark, stream_spec, traders

log = logging.getLogger(__name__)

#: What a failing client raises that only calls for a new one (the venue, the network, ccxt).
EXPECTED = (BaseError, ExchangeFailure, TimeoutError, OSError)


class StreamSilent(Exception):
    """The socket is open but the venue sends nothing: a stale symbol's watch timed out, or a
    new subscription got no first push in time."""


def build(
    venue: str,
    *,
    rest_prefix: str | None,
    ws_prefix: str | None,
    timeout_s: float,
    rate_limit: bool = True,
) -> Any:
    """A ccxt.pro instance of ``venue`` as the hub builds REST ones (its options, the shared
    TLS context, REST behind ``rest_prefix``) with its streams behind ``ws_prefix``."""
    if venue not in ccxtpro.exchanges:
        raise ExchangeFailure("exchange", f"ccxt has no websocket client for {venue[:40]}")
    options = {**spec_for(venue).options, **stream_spec(venue).options}
    # The rate limit paces ccxt's subscribe frames too (Binance drops a client over 10/s).
    exchange = getattr(ccxtpro, venue)({"enableRateLimit": rate_limit, "options": options})
    exchange.ssl_context = shared_ssl_context()
    exchange.timeout = int(timeout_s * 1000)
    apply_prefix(exchange, rest_prefix)
    apply_ws_prefix(exchange, ws_prefix)
    return exchange


class Session:
    """One client's life: markets, the subscriptions, a watch task per symbol, then close.

    ``failed`` completes with the first error of any watch (a drop, a refusal, a stale symbol
    whose watch timed out); the owner then closes the session and builds another.
    """

    def __init__(
        self,
        venue: str,
        exchange: Any,
        *,
        watch_timeout_s: float,
        answer_timeout_s: float,
        on_mark: Callable[[str, float], None],
        stale: Callable[[str], bool],
        on_traders: Callable[[Collection[str]], None] | None = None,
    ) -> None:
        self.venue, self.exchange = venue, exchange
        self.spec: StreamSpec = stream_spec(venue)
        self.failed: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()
        self._watch_timeout_s, self._answer_timeout_s = watch_timeout_s, answer_timeout_s
        self._on_mark, self._stale = on_mark, stale
        #: Every symbol the session serves, listed by the venue or not.
        self.symbols: frozenset[str] = frozenset()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        #: Per symbol, the watch of its public trades (``StreamSpec.trades`` venues).
        self._trade_tasks: dict[str, asyncio.Task[None]] = {}
        self._on_traders = on_traders if self.spec.trades else None
        self._primed = False

    async def start(self, symbols: Collection[str]) -> None:
        """Markets over REST (a new listing is seen on the next client), one subscribe request
        for all symbols where the venue wants that, then the watches."""
        await self.exchange.load_markets()
        listed = self._listed(symbols)
        if listed and self.spec.batch is not None:
            await self._subscribe_all(self.spec.batch, listed)
        self.add(symbols)
        # Symbols added later subscribe on their own watch; a cached ticker of theirs could
        # predate an earlier un-watch.
        self._primed = False

    def _listed(self, symbols: Collection[str]) -> list[str]:
        markets = self.exchange.markets or {}
        return sorted(s for s in symbols if s in markets)

    async def _subscribe_all(self, method: str, symbols: list[str]) -> None:
        """Subscribe every symbol in one request; returns at the first push (the watches
        then take the first pushes from ccxt's cache: a push that came before a watch
        waited resolved nothing)."""
        try:
            async with asyncio.timeout(self._answer_timeout_s):
                await getattr(self.exchange, method)(symbols, dict(self.spec.params))
        except TimeoutError:
            silent = f"{self.venue}: no first push in {self._answer_timeout_s:g} s"
            raise StreamSilent(silent) from None
        self._primed = True

    def add(self, symbols: Collection[str]) -> None:
        """Watch ``symbols`` too (each subscribes on its first watch unless already done)."""
        new = set(symbols) - self.symbols
        listed = self._listed(new)
        if len(listed) < len(new):
            unknown = ", ".join(sorted(new - set(listed)))
            log.warning("%s does not list %s: no stream for it", self.venue, unknown)
        for symbol in listed:
            watch = self._watch(symbol, cached=self._primed)
            task = asyncio.create_task(watch, name=f"marks:{self.venue}:{symbol}")
            task.add_done_callback(self._ended)
            self._tasks[symbol] = task
            if self._on_traders is not None:
                trades = asyncio.create_task(
                    self._trades(symbol, self._on_traders), name=f"trades:{self.venue}:{symbol}"
                )
                trades.add_done_callback(self._ended)
                self._trade_tasks[symbol] = trades
        self.symbols |= frozenset(symbols)

    async def drop(self, symbols: Collection[str]) -> bool:
        """Stop watching ``symbols`` and unsubscribe them; False when the venue could not
        (no un-watch, an error, no answer): then only a new client drops them."""
        self.symbols -= frozenset(symbols)
        ended = [task for s in symbols if (task := self._tasks.pop(s, None)) is not None]
        trading = [t for s in symbols if (t := self._trade_tasks.pop(s, None)) is not None]
        await _cancel(ended + trading)
        if self.spec.unwatch is None:
            return False
        unwatch = getattr(self.exchange, self.spec.unwatch)
        try:
            async with asyncio.timeout(self._answer_timeout_s):
                for symbol in sorted(s for s in symbols if s in (self.exchange.markets or {})):
                    await unwatch(symbol)
                    if self._on_traders is not None:
                        await self.exchange.un_watch_trades(symbol)
        except EXPECTED as exc:
            log.warning("%s: un-watching failed (%s): restarting", self.venue, type(exc).__name__)
            return False
        return True

    async def close(self) -> None:
        """Cancel every watch and close the instance (ccxt keeps an abandoned one's sockets
        and subscriptions alive)."""
        tasks = [*self._tasks.values(), *self._trade_tasks.values()]
        self._tasks, self._trade_tasks = {}, {}
        await _cancel(tasks)
        try:
            await self.exchange.close()
        except Exception as exc:
            log.warning("%s: closing the stream client failed (%s)", self.venue, type(exc).__name__)

    async def _watch(self, symbol: str, *, cached: bool) -> None:
        """Deliver every mark of ``symbol`` (first the one in ccxt's cache if ``cached``)."""
        watch = getattr(self.exchange, self.spec.method)
        if cached:
            self._deliver(symbol, None)
        while True:
            try:
                async with asyncio.timeout(self._watch_timeout_s):
                    ticker = await watch(symbol, dict(self.spec.params))
            except TimeoutError:
                # A quiet market is no failure; a symbol already judged stale is.
                if self._stale(symbol):
                    raise StreamSilent(f"{self.venue}: {symbol} is stale") from None
                continue
            self._deliver(symbol, ticker)

    async def _trades(self, symbol: str, tell: Callable[[Collection[str]], None]) -> None:
        """Tell who trades ``symbol`` from now on (a quiet market is no fault here: the
        mark's own watch judges the socket)."""
        since_ms = self.exchange.milliseconds()
        while True:
            try:
                async with asyncio.timeout(self._watch_timeout_s):
                    trades = await self.exchange.watch_trades(symbol)
            except TimeoutError:
                continue
            named = traders(trades, since_ms=since_ms)
            if named:
                tell(named)

    def _deliver(self, symbol: str, ticker: Any) -> None:
        # A watch resolves once per wait: a second push of the symbol before its task waits
        # again lands only in ccxt's ticker cache, so the cache's is the latest mark (and a
        # venue that pushes on change only will not repeat it).
        tickers = self.exchange.tickers
        latest = tickers.get(symbol) if isinstance(tickers, dict) else None
        mark = read_mark(self.spec, latest)
        if mark is None:
            mark = read_mark(self.spec, ticker)
        if mark is not None:
            self._on_mark(symbol, mark)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception() or StreamSilent(f"{self.venue}: a watch ended by itself")
        if not self.failed.done():
            self.failed.set_result(error)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
