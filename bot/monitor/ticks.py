"""Streamed marks into alerts: coalesce ticks, re-price the book, run the alert stage.

Ticks arrive from the venues' streams many times a second. They are gathered per venue and
applied at most every ``coalesce_s``: one re-pricing of the accounts holding a symbol that
moved, then, in ONE transaction for the whole batch, the alert stage for the accounts the
screen says are due (a value crossed a threshold, a clear level or an escalation point, or a
timer ran out: ``engine.alerts.screen``). A batch that changes nothing anyone is told
writes nothing. Snapshots stay at poll cadence: ticks never store one.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bot.monitor.book import Book, Moved
from bot.monitor.events import PollEvent
from bot.stream.records import VenueStatus
from engine.book import Repriced
from engine.domain import AccountStatus
from engine.types import BoolArray, IntArray
from storage import Database, Transaction

log = logging.getLogger(__name__)

#: At most one re-pricing per this many seconds (a venue pushes marks every 0.1-1 s per
#: symbol; re-pricing more often than a phone can show buys nothing).
COALESCE_S = 0.25


class Tick(Protocol):
    """One streamed mark (``bot.stream.MarkTick`` is one)."""

    @property
    def venue(self) -> str: ...

    @property
    def symbol(self) -> str: ...

    @property
    def mark(self) -> float: ...


class MarkSource(Protocol):
    """Where marks come from: the venues' streams (``bot.stream.MarkStreams``), or the demo's
    simulated market. It calls the ``on_ticks`` it was built with."""

    def follow(self, held: Mapping[str, Collection[str]]) -> None:
        """Stream these symbols per venue from now on (and stop the others)."""
        ...

    async def run(self) -> None:
        """Stream until cancelled."""
        ...

    def status(self) -> Mapping[str, VenueStatus]:
        """Per venue: live, degraded or off, and how old its last tick is."""
        ...

    def tell_traders(self, handler: Callable[[str, Collection[str]], object]) -> None:
        """Who hears the addresses a venue's public trades name (a source without such
        trades never calls it)."""
        ...

    async def close(self) -> None: ...


class Stage(Protocol):
    """The alert stage's tick side (``bot.alerting.stage.AlertPipeline``)."""

    def due(
        self, accounts: IntArray, generations: IntArray, repriced: Repriced, *, at: float
    ) -> BoolArray:
        """Per re-priced account: whether its evaluation may be material."""
        ...

    async def stage_many(self, tx: Transaction, events: Sequence[PollEvent]) -> int:
        """Evaluate and write each event; how many wrote."""
        ...


@dataclass
class TickStats:
    """What the stream did to the book, since start (operators and benchmarks read it)."""

    ticks: int = 0
    batches: int = 0
    repriced: int = 0
    looked_at: int = 0
    written: int = 0
    last_tick_at: float | None = None
    #: Seconds from the oldest tick of a batch to its alert stage's commit, last batch.
    last_latency_s: float | None = None


class TickStage:
    """``on_ticks`` is the streams' callback (cheap, synchronous); ``run`` applies batches."""

    def __init__(
        self,
        db: Database,
        book: Book,
        alerts: Stage,
        *,
        coalesce_s: float = COALESCE_S,
        clock: Callable[[], float] = time.time,
        on_moved: Callable[[Moved], object] | None = None,
    ) -> None:
        self.db, self.book, self.alerts = db, book, alerts
        #: Told of every re-pricing (the monitor polls accounts a mark brought near at once).
        self.on_moved = on_moved
        self.coalesce_s, self.clock = coalesce_s, clock
        self.stats = TickStats()
        #: Venue → symbol → latest mark not applied yet.
        self._pending: dict[str, dict[str, float]] = {}
        self._first_pending_at: float | None = None
        self._arrived = asyncio.Event()

    def on_ticks(self, ticks: Sequence[Tick]) -> None:
        """Keep the latest finite mark per (venue, symbol); wake ``run``."""
        for tick in ticks:
            if math.isfinite(tick.mark) and tick.mark > 0:
                self._pending.setdefault(tick.venue, {})[tick.symbol] = float(tick.mark)
                self.stats.ticks += 1
        if self._pending:
            now = self.clock()
            self.stats.last_tick_at = now
            if self._first_pending_at is None:
                self._first_pending_at = now
            self._arrived.set()

    async def run(self) -> None:
        """Apply batches until cancelled, at most one per ``coalesce_s``: a tick after a quiet
        spell is applied at once, one arriving during a batch waits for the rest of the window
        (counted from the batch's start, so the wait never exceeds ``coalesce_s``)."""
        loop = asyncio.get_running_loop()
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            started = loop.time()
            await self.apply()
            await asyncio.sleep(max(0.0, self.coalesce_s - (loop.time() - started)))

    async def apply(self) -> int:
        """Apply every pending mark now; the number of accounts whose alerts were written."""
        batch, self._pending = self._pending, {}
        first, self._first_pending_at = self._first_pending_at, None
        if not batch:
            return 0
        self.stats.batches += 1
        events = self._events(batch)
        written = await self._stage(events) if events else 0
        if first is not None:
            self.stats.last_latency_s = self.clock() - first
        return written

    def _events(self, batch: dict[str, dict[str, float]]) -> list[PollEvent]:
        """The re-pricings worth a full evaluation: only their analyses are assembled."""
        at = self.clock()
        events = []
        for venue, marks in batch.items():
            for moved in self.book.reprice(venue, marks):
                self.stats.repriced += len(moved.accounts)
                if self.on_moved is not None:
                    self.on_moved(moved)
                due = self.alerts.due(moved.accounts, moved.generations, moved.repriced, at=at)
                for k in np.flatnonzero(due).tolist():
                    account_id = int(moved.accounts[k])
                    events.append(
                        PollEvent(
                            self.book.account(account_id), at, AccountStatus.ACTIVE,
                            analysis=self.book[account_id], poll=False,
                            generation=int(moved.generations[k]),
                        )
                    )  # fmt: skip
        return events

    async def _stage(self, events: list[PollEvent]) -> int:
        async with self.db.transaction() as tx:
            written = await self.alerts.stage_many(tx, events)
        self.stats.looked_at += len(events)
        self.stats.written += written
        return written
