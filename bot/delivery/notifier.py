"""The notifier: claims outbox rows and sends them through the channels, paced and retried.

One scheduling loop claims rows and owns the in-memory ``SendQueue``; each send runs as its
own task, so a slow or failing chat (or platform) only ever holds up itself. A send's outcome
is written by that task in its own transaction as soon as the send returns, so a crash can
re-send (at-least-once, same dedup key) only what was in flight, never lose a message.

The database can refuse for a while (locked by another writer past busy_timeout, disk full):
that is retried in place with capped backoff — claims by the loop, each outcome by its task —
and never ends the loop; what was already claimed keeps going out meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping

from bot.delivery.channel import Channel, Outgoing
from bot.delivery.outcomes import Outcomes, SendResult
from bot.delivery.pacing import ChatKey, SendQueue
from bot.delivery.stats import NotifierStats
from bot.errors import DeliveryError
from engine.domain import Platform
from storage.chats import Chats
from storage.db import Database
from storage.errors import StorageError
from storage.outbox import Claimed, Outbox

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Rows per claim statement; a backlog is claimed in several.
CLAIM_BATCH = 500
#: How often to look for rows addressed to a platform with no channel (to warn once).
PLATFORM_CHECK_S = 300.0
#: Waits between attempts when the database refuses (each attempt already waited out
#: SQLite's busy_timeout when it was a lock).
STORAGE_BACKOFF_S = 0.5
MAX_STORAGE_BACKOFF_S = 15.0
#: At shutdown, how long a send that went out may take to record itself before it is
#: abandoned (abandoned: sent again after the restart).
RECORD_GRACE_S = 5.0


def _outgoing(claimed: Claimed) -> Outgoing:
    return Outgoing(
        id=claimed.id,
        dedup_key=claimed.dedup_key,
        platform=claimed.platform,
        chat_id=claimed.chat_id,
        severity=claimed.severity,
        notice=claimed.notice,
        attempts=claimed.attempts,
        related_refs=claimed.related_refs,
    )


class Notifier:
    """Delivers the outbox through one ``Channel`` per platform.

    Paces each chat (``channel.min_interval_s``) and all sends together (``global_per_s``),
    most severe first when a backlog forms; honours ``retry_after_s``; retries retryable
    errors with capped exponential backoff up to ``max_attempts``; dead-letters permanent
    ones and blocks the chat. Rows for a platform without a channel stay pending.
    Use either ``run()`` or ``drain()`` at a time, not both.
    """

    def __init__(
        self,
        db: Database,
        channels: Mapping[Platform, Channel],
        *,
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        global_per_s: float = 30.0,
        lease_s: float = 60.0,
        backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
        max_attempts: int = 10,
    ) -> None:
        self._db = db
        self._outbox = Outbox(db)
        self._chats = Chats(db)
        self._channels = dict(channels)
        self._clock = clock
        self._sleep = sleep
        self._lease_s = lease_s
        self._outcomes = Outcomes(
            db, backoff_s=backoff_s, max_backoff_s=max_backoff_s, max_attempts=max_attempts
        )
        self._queue = SendQueue(global_per_s=global_per_s)
        #: Rows leased by us, queued or being sent.
        self._held: dict[int, Outgoing] = {}
        self._sending: set[asyncio.Task[None]] = set()
        #: Rows whose send returned and whose outcome is being written …
        self._recording: dict[int, asyncio.Task[None]] = {}
        #: … of which these were refused by the database at least once.
        self._stuck: set[int] = set()
        #: A send task died of a bug: the loop re-raises it (the supervisor restarts us).
        self._crashed: BaseException | None = None
        #: Since when the database has been refusing the loop's claims (None: it is fine).
        self.storage_failing_since: float | None = None
        #: Since when the loop has been inside its current database call (None: it is not).
        self._db_call_since: float | None = None
        self._storage_retry_at = -math.inf
        self._storage_delay_s = STORAGE_BACKOFF_S
        self._changed = asyncio.Event()
        self._refill_wanted = True
        self._refill_at = -math.inf
        self._renew_at = math.inf
        self._platforms_checked_at = -math.inf
        self._warned: set[str] = set()
        self.stats = NotifierStats()

    def wake(self) -> None:
        """New rows were committed: claim them now rather than at the next due time."""
        self._refill_wanted = True
        self._changed.set()

    async def run(self) -> None:
        """Deliver until cancelled, waking on ``wake()``, a finished send or the next due time."""
        try:
            while True:
                until, _ = await self._cycle()
                await self._wait(until)
        finally:
            await self._stop()

    async def drain(self) -> None:
        """Deliver every row due now, and what falls due while pacing waits; then return."""
        self._refill_wanted = True
        try:
            while True:
                until, refilled = await self._cycle()
                if refilled and not self._held:
                    return  # everything due was claimed, and all of it is settled
                await self._wait(until)
        finally:
            await self._stop()

    # --- the loop ---------------------------------------------------------------------------

    async def _cycle(self) -> tuple[float | None, bool]:
        """Claim and dispatch; when to look again and whether it claimed everything due."""
        self._changed.clear()
        if self._crashed is not None:
            raise self._crashed
        now = self._clock()
        refill = False
        if now >= self._storage_retry_at:
            try:
                self._db_call_since = now
                refill = await self._claim_and_renew(now)
            except StorageError as exc:
                self._storage_refused(exc, now)
            else:
                self._storage_back(now)
            finally:
                self._db_call_since = None
        self._dispatch(self._clock())
        times = [self._queue.next_at() or math.inf]
        if self.storage_failing_since is not None:
            times.append(self._storage_retry_at)  # the database work waits for its retry
        else:
            times.append(self._refill_at)
            if self._held:
                times.append(self._renew_at)
        until = min(times)
        return (None if math.isinf(until) else until), refill

    async def _claim_and_renew(self, now: float) -> bool:
        refill = self._refill_wanted or now >= self._refill_at or not self._held
        if refill:
            await self._refill(now)
        if self._held and now >= self._renew_at:
            await self._outbox.renew(list(self._held), now + self._lease_s)
            self._renew_at = now + self._lease_s / 3
        return refill

    def storage_trouble_since(self, *, slow_s: float = 2.0) -> float | None:
        """Since when the database has been in the way of delivery: refusing the loop, or
        holding its current call (or an outcome's write) for more than ``slow_s``; None if
        it is not (for the delivery watchdog's explanation)."""
        since = [t for t in (self.storage_failing_since, self._db_call_since) if t is not None]
        if self._stuck:
            since.append(self._clock() - slow_s)
        if not since or self._clock() - min(since) < slow_s:
            return None
        return min(since)

    def _storage_refused(self, exc: StorageError, now: float) -> None:
        """Retry the loop's database work later; log the first refusal of an outage."""
        self.stats.storage_errors += 1
        if self.storage_failing_since is None:
            self.storage_failing_since = now
            log.error("notifier: the database refused (%s); retrying, sends go on", exc)
        self._storage_retry_at = now + self._storage_delay_s
        self._storage_delay_s = min(self._storage_delay_s * 2, MAX_STORAGE_BACKOFF_S)
        self._refill_wanted = True

    def _storage_back(self, now: float) -> None:
        if self.storage_failing_since is not None:
            log.warning(
                "notifier: the database works again after %.0fs", now - self.storage_failing_since
            )
        self.storage_failing_since = None
        self._storage_delay_s = STORAGE_BACKOFF_S

    async def _wait(self, until: float | None) -> None:
        """Until something changes or ``until`` (with the injected sleep, so tests control it)."""
        if self._changed.is_set():
            return
        waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(self._changed.wait())]
        # An outcome being written can move the next due time (a retry): wait for it rather
        # than a timer, unless the database is refusing it (then the timers go on).
        settling = len(self._recording) > len(self._stuck)
        if until is not None and not settling:
            delay_s = max(0.0, until - self._clock())
            waiters.append(asyncio.ensure_future(self._sleep(delay_s)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def _refill(self, now: float) -> None:
        """Claim every due row into the queue, each batch held as soon as it is leased (a
        refusal part-way keeps what was claimed)."""
        self._refill_wanted = True  # until this completes
        platforms = tuple(self._channels)
        while True:
            batch = await self._outbox.claim(now, CLAIM_BATCH, self._lease_s, platforms=platforms)
            # As the row counts them: also a row of ours whose lease lapsed while it waited.
            self.stats.redeliveries.update(str(c.platform) for c in batch if c.redelivered)
            await self._admit([c for c in batch if c.id not in self._held], now)
            if len(batch) < CLAIM_BATCH:
                break
        self._refill_wanted = False
        self._refill_at = await self._outbox.next_due(platforms=platforms) or math.inf
        await self._check_platforms(now)
        self._queue.prune(now)

    async def _admit(self, fresh: list[Claimed], now: float) -> None:
        """Hold and queue fresh rows; dead-letter those to blocked chats without sending."""
        keys = {(c.platform, c.chat_id) for c in fresh}
        blocked = await self._chats.blocked(keys) if keys else {}
        if fresh and not self._held:
            self._renew_at = now + self._lease_s / 3
        for claimed in fresh:
            if (claimed.platform, claimed.chat_id) not in blocked:
                message = _outgoing(claimed)
                self._held[message.id] = message
                self._queue.add(message, now)
        if blocked:  # if this write is refused, the leases lapse and they come back later
            async with self._db.transaction() as tx:
                for (platform, chat_id), reason in blocked.items():
                    n = await self._outbox.dead_chat(
                        platform, chat_id, f"chat blocked: {reason}", tx=tx
                    )
                    self.stats.add(str(platform), dead=n)

    async def _check_platforms(self, now: float) -> None:
        if now < self._platforms_checked_at + PLATFORM_CHECK_S:
            return
        self._platforms_checked_at = now
        missing = await self._outbox.pending_platforms() - {str(p) for p in self._channels}
        for name in sorted(missing - self._warned):
            self._warned.add(name)
            log.warning("outbox has messages for %s but no such channel is configured", name)

    def _dispatch(self, now: float) -> None:
        """Start a send task for every message that may go now."""
        while (message := self._queue.pop(now, self._interval_s)) is not None:
            task = asyncio.create_task(self._send(message), name=f"send-outbox-{message.id}")
            self._sending.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and task.exception() is not None and self._crashed is None:
            self._crashed = task.exception()
            self._changed.set()

    def _interval_s(self, message: Outgoing) -> float:
        return self._channels[message.platform].min_interval_s(message.chat_id)

    # --- one send ---------------------------------------------------------------------------

    async def _send(self, message: Outgoing) -> None:
        result = await self._attempt(message)
        self._settle(result)
        task = asyncio.current_task()
        assert task is not None
        self._recording[message.id] = task
        try:
            await self._record(result)
        finally:
            self._recording.pop(message.id, None)
            self._stuck.discard(message.id)

    async def _attempt(self, message: Outgoing) -> SendResult:
        channel = self._channels[message.platform]
        try:
            ref = await channel.send(message)
        except DeliveryError as exc:
            return SendResult(message, self._clock(), error=exc)
        except Exception as exc:
            # A bug in an adapter must not stop delivery. Only the type is stored: an
            # HTTP library's message can carry a URL with the bot token in it.
            log.error("%s channel failed unexpectedly", message.platform, exc_info=True)
            error = DeliveryError(f"unexpected {type(exc).__name__}", retryable=True)
            return SendResult(message, self._clock(), error=error)
        return SendResult(message, self._clock(), ref=ref)

    def _settle(self, result: SendResult) -> None:
        """Free (or pause, or drop) the chat at once; the database hears right after."""
        message, error = result.message, result.error
        key: ChatKey = (message.platform, message.chat_id)
        pause = None
        if error is not None and error.retry_after_s is not None:
            pause = result.at + error.retry_after_s
        if error is not None and error.chat_gone:
            self._queue.drop(key)
        self._queue.done(key, result.at, pause_until=pause)
        self._changed.set()

    # --- outcomes ---------------------------------------------------------------------------

    async def _record(self, result: SendResult) -> None:
        """Write one send's outcome in its own transaction, retrying in place until the
        database takes it: the row stays held (never claimed twice) until then."""
        delay_s = STORAGE_BACKOFF_S
        while True:
            try:
                async with self._db.transaction() as tx:
                    counted = await self._outcomes.write(result, tx=tx)
                break
            except StorageError as exc:
                self.stats.storage_errors += 1
                log.warning("outbox row %s: outcome not recorded yet (%s)", result.message.id, exc)
                self._stuck.add(result.message.id)
                self._changed.set()
                await self._sleep(delay_s)
                delay_s = min(delay_s * 2, MAX_STORAGE_BACKOFF_S)
        self.stats.add(str(result.message.platform), counted.sent, counted.retried, counted.dead)
        if counted.retry_at is not None:
            self._refill_at = min(self._refill_at, counted.retry_at)
        self._forget(result)
        self._changed.set()

    def _forget(self, result: SendResult) -> None:
        message = result.message
        self._held.pop(message.id, None)
        if result.error is not None and result.error.chat_gone:
            key = (message.platform, message.chat_id)
            for row_id in [i for i, m in self._held.items() if (m.platform, m.chat_id) == key]:
                del self._held[row_id]

    async def _stop(self) -> None:
        """Cancel sends still waiting on their platform, give sends that went out a moment to
        record themselves, and hand the unsent rows back."""
        recording = set(self._recording.values())
        for task in self._sending - recording:
            task.cancel()
        if recording:
            await asyncio.wait(recording, timeout=RECORD_GRACE_S)
        unrecorded = set(self._recording)
        for task in self._sending:
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        try:
            # A send that went out but is not recorded keeps its lease: when it lapses the
            # row is sent again and counted as a redelivery (it may be a duplicate).
            await self._outbox.release([i for i in self._held if i not in unrecorded])
        except Exception:
            log.warning("notifier stopped without releasing its leases", exc_info=True)
        self._held.clear()
        self._recording.clear()
        self._stuck.clear()
        self._queue.clear()
        self._crashed = None
        self._refill_wanted = True
