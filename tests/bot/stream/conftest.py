"""Fixtures: the REST and stream fakes linked (a set mark moves both), a hub on the REST one,
mark streams on both, and every venue of the fakes as a case.

The streams judge staleness on a ``FakeClock``: nothing goes stale until a test moves it past
``stale_after_s`` (a loaded machine cannot make a test flap), while their sleeps (REST
every 0.1 s, reconnect backoff) are real and short."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.exchanges import ExchangeHub
from bot.stream import MarkStreams, MarkTick, OpsSink
from bot.stream.venues import stream_spec
from engine.alerts.events import OpsNotice
from tests.fakes.clock import FakeClock
from tests.fakes.exchange import FakeExchange
from tests.fakes.stream import FakeStream

#: Every wait of these tests ends by then (seconds).
DEADLINE = 5.0
#: The streams' timings in these tests (production: 10 s, 3 s, 0.5 s doubling to 30 s); the
#: stale limit is on the fake clock, the others are real sleeps.
STALE_AFTER_S = 10.0
TIMINGS: dict[str, float] = {
    "stale_after_s": STALE_AFTER_S,
    "rest_every_s": 0.1,
    "backoff_s": 0.05,
    "backoff_cap_s": 0.2,
}


@dataclass(frozen=True)
class Case:
    """A venue of the fakes, a market of it and (where the fakes list one) another."""

    venue: str
    symbol: str
    other: str | None
    #: What the REST fake sees in a request for marks (a path, or Hyperliquid's body type).
    rest: str

    @property
    def restarts(self) -> bool:
        """A change of the followed set restarts the venue's client (no reliable un-watch)."""
        return stream_spec(self.venue).unwatch is None

    def __str__(self) -> str:
        return self.venue


CASES = (
    Case("binanceusdm", "BTC/USDT:USDT", "ETH/USDT:USDT", "/fapi/v1/premiumIndex"),
    Case("binancecoinm", "BTC/USD:BTC", None, "/dapi/v1/premiumIndex"),
    # Linear and inverse: two endpoints, so two sockets of one client.
    Case("bybit", "ETH/USDT:USDT", "BTC/USD:BTC", "/v5/market/tickers"),
    Case("okx", "BTC/USDT:USDT", "ETH/USDT:USDT", "/api/v5/public/mark-price"),
    Case("deribit", "BTC/USD:BTC", "BTC/USD:BTC-250627-70000-C", "get_book_summary_by_currency"),
    Case("hyperliquid", "SOL/USDC:USDC", "BTC/USDC:USDC", "metaAndAssetCtxs"),
)
each_venue = pytest.mark.parametrize("case", CASES, ids=str)


class RecordingOps:
    """The ops sink: records every message it is told, with its dedup key."""

    def __init__(self) -> None:
        self.told: list[tuple[str, OpsNotice]] = []

    async def tell(self, notice: OpsNotice, key: str) -> bool:
        self.told.append((key, notice))
        return True

    def about(self, venue: str, change: str) -> list[OpsNotice]:
        prefix = f"ops:marks:{venue}:{change}:"
        return [notice for key, notice in self.told if key.startswith(prefix)]


@dataclass
class World:
    """The fakes, the hub and what the streams handed out."""

    fake: FakeExchange
    stream: FakeStream
    hub: ExchangeHub
    clock: FakeClock = field(default_factory=FakeClock)
    ticks: list[MarkTick] = field(default_factory=list)
    ops: RecordingOps = field(default_factory=RecordingOps)
    streams: MarkStreams | None = None
    #: The task running ``streams.run()``.
    runner: asyncio.Task[None] | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def start(
        self,
        held: Mapping[str, Collection[str]],
        *,
        on_ticks: Callable[[Sequence[MarkTick]], None] | None = None,
        ops: OpsSink | None = None,
        **timings: Any,
    ) -> MarkStreams:
        """Mark streams following ``held``, running (closed at teardown); their ticks go to
        ``ticks`` and their operator messages to ``ops`` unless others are given."""
        streams = MarkStreams(
            self.hub,
            on_ticks or self.ticks.extend,
            ops=ops or self.ops,
            ws_prefix=self.stream.url,
            clock=self.clock,
            **(TIMINGS | timings),
        )
        streams.follow(held)
        self.streams = streams
        self.runner = asyncio.create_task(streams.run())
        self._tasks.append(self.runner)
        return streams

    def go_quiet(self) -> None:
        """Move the clock past the stale limit: every symbol without a push since is quiet."""
        self.clock.now += STALE_AFTER_S + 1.0

    def agree(self, venue: str, *symbols: str) -> None:
        """Both fakes at each symbol's current streamed mark (their defaults differ)."""
        for symbol in symbols:
            self.stream.set_mark(venue, symbol, self.stream.quote(venue, symbol).mark)

    def marks(self, symbol: str, source: str | None = None) -> list[float]:
        return [t.mark for t in self.ticks if t.symbol == symbol and source in (None, t.source)]

    async def until(self, predicate: Callable[[], bool], what: str) -> None:
        """Return once ``predicate()`` holds; fail after ``DEADLINE``."""
        deadline = time.monotonic() + DEADLINE
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f"not within {DEADLINE} s: {what}")
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.streams is not None:
            await self.streams.close()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with (
        FakeExchange() as fake,
        FakeStream(exchange=fake) as stream,
        ExchangeHub(fake.url, rate_limit=False, backoff_s=0.01) as hub,
    ):
        here = World(fake, stream, hub)
        try:
            yield here
        finally:
            await here.close()
