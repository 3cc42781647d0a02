"""The mark streams of every venue held: follow the held symbols, run, report, close."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence

from bot.exchanges import ExchangeHub
from bot.stream.feed import OpsSink, VenueFeed
from bot.stream.records import Backoff, MarkTick, Tuning, VenueStatus

log = logging.getLogger(__name__)


class MarkStreams:
    """Real-time marks of the symbols linked accounts hold, one websocket client per venue.

    ``follow`` says which symbols each venue must stream (call it whenever holdings change);
    ``run`` streams until cancelled, one task per venue (a venue that crashes is restarted
    alone, after a backoff); every mark goes to ``on_ticks``, which must be synchronous and
    cheap (it is called from the streams' tasks; coalesce there). A symbol the stream leaves
    quiet for ``stale_after_s`` is read over REST every ``rest_every_s`` through ``hub``,
    and ``ops`` (``bot.delivery.ops.OpsAlerts``) hears once when a venue degrades and once
    when it recovers. ``close`` (or
    cancelling ``run``) closes every client; close the streams before ``hub``.
    """

    def __init__(
        self,
        hub: ExchangeHub,
        on_ticks: Callable[[Sequence[MarkTick]], None],
        *,
        ops: OpsSink | None = None,
        ws_prefix: str | None = None,
        stale_after_s: float = 10.0,
        rest_every_s: float = 3.0,
        backoff_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hub, self.ops, self.ws_prefix = hub, ops, ws_prefix
        self.on_ticks, self.clock = on_ticks, clock
        self.tuning = Tuning(
            stale_after_s=stale_after_s,
            rest_every_s=rest_every_s,
            backoff_s=backoff_s,
            backoff_cap_s=backoff_cap_s,
            http_timeout_s=hub.timeout_s,
        )
        self._feeds: dict[str, VenueFeed] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._on_traders: Callable[[str, Collection[str]], object] | None = None
        self._running = False
        self._closed = asyncio.Event()

    def follow(self, held: Mapping[str, Collection[str]]) -> None:
        """Stream exactly these symbols (venue → unified symbols): new ones are subscribed,
        gone ones unsubscribed, a venue no longer held closes its client."""
        for venue in sorted(held.keys() | self._feeds.keys()):
            symbols = frozenset(s for s in held.get(venue, ()) if s)
            feed = self._feeds.get(venue)
            if feed is None:
                if not symbols:
                    continue
                feed = self._feeds[venue] = self._feed(venue)
                if self._running:
                    self._start(feed)
            feed.follow(symbols)

    def tell_traders(self, handler: Callable[[str, Collection[str]], object]) -> None:
        """Who hears the addresses a venue's public trades name (venue, addresses): the
        monitor re-polls the watched wallets among them at once. Venues whose trades name no
        one (all but Hyperliquid) never call it."""
        self._on_traders = handler

    def _traded(self, venue: str, addresses: Collection[str]) -> None:
        if self._on_traders is not None:
            self._on_traders(venue, addresses)

    async def run(self) -> None:
        """Stream until cancelled or closed; closes every client on the way out."""
        if self._closed.is_set():
            raise RuntimeError("the mark streams are closed")
        if self._running:
            raise RuntimeError("the mark streams are already running")
        self._running = True
        try:
            for feed in self._feeds.values():
                self._start(feed)
            await self._closed.wait()
        finally:
            self._running = False
            await self._stop()

    def status(self) -> dict[str, VenueStatus]:
        """Each venue ever followed: its state, last tick age, symbols, stale ones, reconnects."""
        now = self.clock()
        return {venue: feed.status(now) for venue, feed in sorted(self._feeds.items())}

    async def close(self) -> None:
        """Stop every venue and close its client (``run`` returns); the streams cannot run
        again."""
        self._closed.set()
        await self._stop()

    def _feed(self, venue: str) -> VenueFeed:
        return VenueFeed(
            venue,
            hub=self.hub,
            emit=self.on_ticks,
            ops=self.ops,
            tuning=self.tuning,
            ws_prefix=self.ws_prefix,
            clock=self.clock,
            traders=self._traded,
        )

    def _start(self, feed: VenueFeed) -> None:
        task = asyncio.create_task(self._supervise(feed), name=f"marks:{feed.venue}")
        self._tasks[feed.venue] = task

    async def _supervise(self, feed: VenueFeed) -> None:
        """Run one venue; if it crashes (a bug: network and venue failures are handled
        inside), log it and run it again after a backoff, the other venues untouched."""
        backoff = Backoff(self.tuning.backoff_s, self.tuning.backoff_cap_s)
        while True:
            try:
                await feed.run()
            except Exception:
                log.exception("the %s mark stream crashed: restarting it", feed.venue)
            await asyncio.sleep(backoff.next())

    async def _stop(self) -> None:
        tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(feed.close() for feed in self._feeds.values()))
