"""One token bucket per venue budget, shared by every ccxt instance that spends it, served by
priority: near-risk polls before far ones, and background reads only when nobody else waits.

Units are the venue's published weights where ``weights.py`` lists the venue (Binance
USDⓈ-M: 2,400 a minute per IP, ``positionRisk`` 5; Hyperliquid: 1,200, ``clearinghouseState``
2), else ccxt's cost units (60,000 / ``rateLimit`` a minute, each endpoint at ccxt's cost:
``meter.cost_of``). The bucket is ccxt's own leaky bucket (capacity 1, a request
goes when the tokens are not negative and may leave them negative), made shared and ordered,
so in any window of a minute it lets through at most ``share`` of the limit plus one burst
unit plus the dearest single request: the headroom under ``share`` covers that.

A 429 or 418 halves the bucket's pace and recovers it by a tenth of the full pace a minute
(the venue said this pace was too much: giving it all back at once would ask again), and a
``Retry-After`` pauses the whole budget, every account on it, not just the one refused.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from bot.exchanges import weights
from bot.exchanges.errors import MAX_RETRY_AFTER_S, VenuePaused


class Priority(IntEnum):
    """Who goes first when requests wait for a budget (lower is served first)."""

    #: An account near its warning level, or with an alert firing.
    NEAR = 0
    #: An account's first poll, its risk not read yet: after the near ones (whose risk is
    #: known), before every account known to be safer. As a middle one, the 5,000-account run
    #: never read most accounts (docs/polling.md).
    FIRST = 1
    #: The default: whatever did not say otherwise.
    MIDDLE = 2
    #: An account far from every threshold.
    FAR = 3
    #: Ledger reads and backfills, candles for σ: only when nobody else waits.
    BACKGROUND = 4


_PRIORITY: ContextVar[Priority] = ContextVar("liqwatch_budget_priority", default=Priority.MIDDLE)


@dataclass(frozen=True)
class _Place:
    """When a task (a poll) first asked a budget, and which task that was."""

    task: weakref.ref[asyncio.Task[Any]] | None
    at: float


#: The current task's place in its priority's queue: its later requests queue from its first
#: one, and so do the reads it starts and waits for (tiers, funding). Queued by request alone,
#: a poll's balance read waited behind the first request of every poll started after it, and
#: 300 Binance accounts started together each took a minute and a half to finish their first
#: poll (test_budget_scale.py). A place inherited from a task that has ended is not kept:
#: APScheduler starts polls from callbacks that copy the context of whichever poll last
#: rescheduled a job.
_PLACE: ContextVar[_Place | None] = ContextVar("liqwatch_budget_place", default=None)
#: A task older than this takes a new place in the queue (a long-lived task must not keep
#: going first within its priority).
TICKET_S = 60.0


@contextmanager
def priority(level: Priority) -> Iterator[None]:
    """Requests made inside (by this task, and by the tasks it starts) wait at ``level``."""
    token = _PRIORITY.set(level)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


def current() -> Priority:
    """The priority requests made here would wait at."""
    return _PRIORITY.get()


def _ticket(now: float) -> float:
    """The calling task's place in a priority's queue (``_PLACE``)."""
    place, task = _PLACE.get(), asyncio.current_task()
    owner = None if place is None or place.task is None else place.task()
    kept = (
        place is not None
        and now - place.at <= TICKET_S
        and owner is not None
        and (owner is task or not owner.done())
    )
    if place is not None and kept:
        return place.at
    _PLACE.set(_Place(None if task is None else weakref.ref(task), now))
    return now


#: The part of a venue's limit the bucket spends: room for the burst and the dearest request
#: (see the module docstring), for weight a venue adds after the answer (Hyperliquid's per 20
#: history entries returned), and for a request another tool on the IP makes.
SHARE = 0.9
#: ccxt's leaky bucket capacity: no burst beyond one request.
BURST = 1.0
#: A 429 never slows a budget below this part of its full pace.
MIN_PACE = 1 / 16
#: After a 429 the pace grows back by this part of the full pace per minute.
RECOVERY = 0.1
#: The longest pause a ``Retry-After`` can impose: Binance's IP bans (418) last from 2 minutes to
#: 3 days, longer for repeat offenders — asking again before the end risks a longer one.
MAX_PAUSE_S = 3 * 86400.0

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class BudgetState:
    """One venue's budget as the operator reads it (``ExchangeHub.budgets``)."""

    venue: str
    #: The limit is the IP's, shared by every account of the venue; else each key has its own
    #: bucket of this size (``buckets`` of them, the public reads' included).
    per_ip: bool
    #: The venue's limit a minute: its published weight (``weights.py``), else ccxt's units
    #: (60,000 / rateLimit).
    limit_per_minute: float
    #: What the bucket lets through a minute now: ``SHARE`` of the limit, less after a 429
    #: (the slowest bucket's, per key).
    pace_per_minute: float
    #: Seconds until a venue's Retry-After pause ends (0: not paused; the longest, per key).
    paused_s: float
    #: Requests waiting for tokens, by priority (summed over the buckets).
    queued: Mapping[Priority, int]
    buckets: int = 1
    #: 429 and 418 answers since start (summed over the buckets).
    throttled: int = 0


class Budget:
    """One shared token bucket: ``acquire(cost)`` before each request it pays for."""

    def __init__(
        self,
        limit_per_minute: float,
        *,
        minute_s: float = 60.0,
        share: float = SHARE,
        pace: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        max_wait_s: float = MAX_RETRY_AFTER_S,
    ) -> None:
        self.limit_per_minute = limit_per_minute
        self._minute_s = minute_s
        #: Tokens per second at full pace.
        self._full = max(limit_per_minute * share / minute_s, 1e-9)
        self._pace = pace
        self._clock = clock
        self._sleep = sleep
        self._max_wait_s = max_wait_s
        self._tokens = BURST
        self._refilled = clock()
        #: Pace after the last 429, and from when it grows back.
        self._slow = self._full
        self._recover_from = -float("inf")
        self._shrunk_at = -float("inf")
        self._paused_until = -float("inf")
        #: 429/418 answers so far (the metrics' liqwatch_rate_limited_total).
        self.throttles = 0
        self._waiters: list[tuple[Priority, tuple[float, int], float, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ spending
    async def acquire(self, cost: float) -> float:
        """Wait until the budget pays ``cost`` at the caller's priority; returns the time it
        did (the clock's). Raises ``VenuePaused`` at once when the venue's pause is longer
        than ``max_wait_s``: a poll that would wait out an IP ban fails instead."""
        now = self._clock()
        if self._paused_until - now > self._max_wait_s:
            raise VenuePaused(self._paused_until - now)
        ticket = _ticket(now)  # from the task's first request, whether it waited or not
        self._refill(now)
        if self._live() is None and self._wait_s(now) <= 0:
            self._spend(cost)
            return now
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        place = (ticket, next(self._seq))
        heapq.heappush(self._waiters, (current(), place, cost, future))
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.get_running_loop().create_task(self._dispatch())
        # Cancelled while waiting (a poll given up): the dispatcher skips it, charging nothing,
        # where ccxt's throttler charges a cancelled request's cost all the same.
        await future
        return self._clock()

    def debit(self, cost: float) -> None:
        """Pay ``cost`` after the fact (weight a venue adds for what it answered): the next
        requests wait for it."""
        self._refill(self._clock())
        self._spend(cost)

    def throttled(self, sent_at: float, retry_after_s: float | None) -> None:
        """The venue refused a request sent at ``sent_at`` with 429/418: halve the pace (once
        for the requests sent at the old pace: they were all in flight together) and pause
        every request for ``retry_after_s`` if the venue said how long."""
        now = self._clock()
        self._refill(now)
        self.throttles += 1
        if retry_after_s is not None and retry_after_s > 0:
            self._paused_until = max(self._paused_until, now + min(retry_after_s, MAX_PAUSE_S))
            if self._paused_until - now > self._max_wait_s:
                self._fail_waiters(self._paused_until - now)
        pace = self.pace(now)
        if sent_at > self._shrunk_at:
            self._slow = max(pace / 2, self._full * MIN_PACE)
            self._shrunk_at = now
        else:  # keep what was recovered so far, recovering again after the pause
            self._slow = pace
        self._recover_from = max(now, self._paused_until)
        self._tokens = min(self._tokens, 0.0)

    def pace(self, now: float | None = None) -> float:
        """Tokens per second now (the full pace, or less since a 429)."""
        now = self._clock() if now is None else now
        if now <= self._recover_from:
            return self._slow
        grown = self._slow + self._full * RECOVERY * (now - self._recover_from) / self._minute_s
        return min(self._full, grown)

    def state(self) -> tuple[float, float, dict[Priority, int]]:
        """(pace per minute, seconds paused, waiting requests by priority)."""
        now = self._clock()
        queued = dict.fromkeys(Priority, 0)
        for level, _, _, future in self._waiters:
            if not future.done():
                queued[level] += 1
        paused_s = max(0.0, self._paused_until - now)
        return self.pace(now) * self._minute_s, paused_s, queued

    def _fail_waiters(self, paused_s: float) -> None:
        """A pause longer than anyone should wait: every waiting request fails now."""
        for _, _, _, future in self._waiters:
            if not future.done():
                future.set_exception(VenuePaused(paused_s))
        self._waiters.clear()

    def close(self) -> None:
        """Stop serving: the waiting requests are cancelled."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
        for _, _, _, future in self._waiters:
            future.cancel()
        self._waiters.clear()

    # ------------------------------------------------------------------ internals
    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - max(self._refilled, self._paused_until))
        self._tokens = min(BURST, self._tokens + elapsed * self.pace(now))
        self._refilled = max(self._refilled, now)

    def _spend(self, cost: float) -> None:
        if self._pace:
            self._tokens -= cost

    def _wait_s(self, now: float) -> float:
        """How long until a request may go: the pause, then (pacing) the debt's refill."""
        paused = self._paused_until - now
        if paused > 0:
            return paused
        if self._pace and self._tokens < 0:
            return -self._tokens / self.pace(now)
        return 0.0

    def _live(self) -> tuple[Priority, tuple[float, int], float, asyncio.Future[None]] | None:
        """The first waiter still waiting (cancelled ones dropped)."""
        while self._waiters and self._waiters[0][3].done():
            heapq.heappop(self._waiters)
        return self._waiters[0] if self._waiters else None

    async def _dispatch(self) -> None:
        """Serve waiters in priority order (within one, by when their task first waited,
        then FIFO) as tokens come; ends when none
        waits. Whoever is first when the tokens are there goes: a near poll arriving during a
        wait overtakes every far one queued before it."""
        while (first := self._live()) is not None:
            now = self._clock()
            self._refill(now)
            wait = self._wait_s(now)
            if wait > 0:
                await self._sleep(wait)
                continue
            heapq.heappop(self._waiters)
            self._spend(first[2])
            first[3].set_result(None)


class Budgets:
    """The hub's budgets, keyed like its meters: one per venue whose limit is per IP (every
    instance shares it), else one per account key plus one for the venue's public reads.

    ``minute_s`` and ``limits`` (per-minute limits replacing ccxt's, by venue) let a test run a
    venue's minute in a second; ``share`` is the part of each limit spent (``SHARE``); with
    ``pace`` off requests are not paced, but a 429's pause still holds them.
    """

    def __init__(
        self,
        *,
        pace: bool = True,
        minute_s: float = 60.0,
        share: float = SHARE,
        limits: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._pace = pace
        self._minute_s = minute_s
        self._share = share
        self._limits = dict(limits or {})
        self._clock = clock
        self._sleep = sleep
        self._budgets: dict[tuple[str, str | None], Budget] = {}
        self._per_ip: dict[str, bool] = {}

    def get(self, venue: str, key: str | None, *, per_minute: float, per_ip: bool) -> Budget:
        """The budget of ``key``'s instance on ``venue`` (``None``: the venue's shared one);
        ``per_minute`` is ccxt's limit (60,000 / rateLimit), replaced by the venue's published
        one where ``weights.py`` has it (its costs are then the published weights), and by
        ``limits`` over both."""
        self._per_ip[venue] = per_ip
        budget = self._budgets.get((venue, key))
        if budget is None:
            limit = self._limits.get(venue, weights.limit_per_minute(venue) or per_minute)
            budget = self._budgets[(venue, key)] = Budget(
                limit,
                minute_s=self._minute_s,
                share=self._share,
                pace=self._pace,
                clock=self._clock,
                sleep=self._sleep,
            )
        return budget

    def forget(self, venue: str, key: str) -> None:
        """Drop a key's budget (its account is gone); requests still waiting on it are served."""
        self._budgets.pop((venue, key), None)

    def describe(self, venues: Iterable[str] | None = None) -> list[BudgetState]:
        """Each venue's budget (those with one, or ``venues``' that have one), by venue name."""
        wanted = sorted({v for v, _ in self._budgets} if venues is None else set(venues))
        states = []
        for venue in wanted:
            own = [b for (v, _), b in self._budgets.items() if v == venue]
            if not own:
                continue
            seen = [b.state() for b in own]
            queued = dict.fromkeys(Priority, 0)
            for _, _, waiting in seen:
                for level, count in waiting.items():
                    queued[level] += count
            states.append(
                BudgetState(
                    venue=venue,
                    per_ip=self._per_ip.get(venue, False),
                    limit_per_minute=own[0].limit_per_minute,
                    pace_per_minute=min(pace for pace, _, _ in seen),
                    paused_s=max(paused for _, paused, _ in seen),
                    queued=queued,
                    buckets=len(own),
                    throttled=sum(b.throttles for b in own),
                )
            )
        return states

    def close(self) -> None:
        for budget in self._budgets.values():
            budget.close()
