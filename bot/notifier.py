"""The notifier: claims outbox rows and sends them through the channels, paced and retried.

One scheduling loop owns the database writes and the in-memory ``SendQueue``; each send runs
as its own task, so a slow or failing chat (or platform) only ever holds up itself. A send's
outcome is written in the loop's next transaction, batched with the others that finished:
a crash in between re-sends (at-least-once, same dedup key), never loses a message.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.channel import Channel, Outgoing
from bot.errors import DeliveryError
from bot.send_queue import ChatKey, SendQueue
from engine.domain import Platform
from storage.chats import Chats
from storage.db import Database, Transaction
from storage.outbox import Claimed, Outbox

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Rows per claim statement; a backlog is claimed in several.
CLAIM_BATCH = 500
#: How often to look for rows addressed to a platform with no channel (to warn once).
PLATFORM_CHECK_S = 300.0


@dataclass
class NotifierStats:
    """Outcomes since start (for the demo, the benchmark and operators)."""

    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass(frozen=True)
class _Result:
    message: Outgoing
    at: float
    ref: str | None = None
    error: DeliveryError | None = None


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
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._max_attempts = max_attempts
        self._queue = SendQueue(global_per_s=global_per_s)
        #: Rows leased by us, queued or being sent.
        self._held: dict[int, Outgoing] = {}
        self._results: list[_Result] = []
        self._sending: set[asyncio.Task[None]] = set()
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
        """Record outcomes, claim and dispatch; when to look again and whether it claimed."""
        self._changed.clear()
        await self._flush()
        now = self._clock()
        refill = self._refill_wanted or now >= self._refill_at or not self._held
        if refill:
            await self._refill(now)
        if self._held and now >= self._renew_at:
            await self._outbox.renew(list(self._held), now + self._lease_s)
            self._renew_at = now + self._lease_s / 3
        self._dispatch(self._clock())
        times = [self._refill_at, self._queue.next_at() or math.inf]
        if self._held:
            times.append(self._renew_at)
        until = min(times)
        return (None if math.isinf(until) else until), refill

    async def _wait(self, until: float | None) -> None:
        """Until something changes or ``until`` (with the injected sleep, so tests control it)."""
        if self._changed.is_set():
            return
        waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(self._changed.wait())]
        if until is not None:
            delay_s = max(0.0, until - self._clock())
            waiters.append(asyncio.ensure_future(self._sleep(delay_s)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def _refill(self, now: float) -> None:
        """Claim every due row into the queue."""
        self._refill_wanted = False
        platforms = tuple(self._channels)
        fresh: list[Claimed] = []
        while True:
            batch = await self._outbox.claim(now, CLAIM_BATCH, self._lease_s, platforms=platforms)
            fresh += [c for c in batch if c.id not in self._held]
            if len(batch) < CLAIM_BATCH:
                break
        if fresh and not self._held:
            self._renew_at = now + self._lease_s / 3
        for claimed in await self._skip_blocked(fresh):
            message = _outgoing(claimed)
            self._held[message.id] = message
            self._queue.add(message, now)
        self._refill_at = await self._outbox.next_due(platforms=platforms) or math.inf
        await self._check_platforms(now)
        self._queue.prune(now)

    async def _skip_blocked(self, fresh: list[Claimed]) -> list[Claimed]:
        """Dead-letter rows to blocked chats without sending them; the rest."""
        keys = {(c.platform, c.chat_id) for c in fresh}
        blocked = await self._chats.blocked(keys) if keys else {}
        if not blocked:
            return fresh
        async with self._db.transaction() as tx:
            for (platform, chat_id), reason in blocked.items():
                n = await self._outbox.dead_chat(
                    platform, chat_id, f"chat blocked: {reason}", tx=tx
                )
                self.stats.dead += n
        return [c for c in fresh if (c.platform, c.chat_id) not in blocked]

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
            task.add_done_callback(self._sending.discard)

    def _interval_s(self, message: Outgoing) -> float:
        return self._channels[message.platform].min_interval_s(message.chat_id)

    # --- one send ---------------------------------------------------------------------------

    async def _send(self, message: Outgoing) -> None:
        channel = self._channels[message.platform]
        try:
            ref = await channel.send(message)
        except DeliveryError as exc:
            result = _Result(message, self._clock(), error=exc)
        except Exception as exc:
            # A bug in an adapter must not stop delivery. Only the type is stored: an
            # HTTP library's message can carry a URL with the bot token in it.
            log.error("%s channel failed unexpectedly", message.platform, exc_info=True)
            error = DeliveryError(f"unexpected {type(exc).__name__}", retryable=True)
            result = _Result(message, self._clock(), error=error)
        else:
            result = _Result(message, self._clock(), ref=ref)
        self._settle(result)

    def _settle(self, result: _Result) -> None:
        """Free (or pause, or drop) the chat at once; the database hears in the next cycle."""
        message, error = result.message, result.error
        key: ChatKey = (message.platform, message.chat_id)
        pause = None
        if error is not None and error.retry_after_s is not None:
            pause = result.at + error.retry_after_s
        if error is not None and error.chat_gone:
            self._queue.drop(key)
        self._queue.done(key, result.at, pause_until=pause)
        self._results.append(result)
        self._changed.set()

    # --- outcomes ---------------------------------------------------------------------------

    async def _flush(self) -> None:
        """Write every finished send's outcome in one transaction."""
        if not self._results:
            return
        results, self._results = self._results, []
        sent = [(r.message.id, r.at, r.ref) for r in results if r.error is None]
        async with self._db.transaction() as tx:
            await self._outbox.mark_sent_many(sent, tx=tx)
            for result in results:
                if result.error is not None:
                    await self._record_failure(tx, result.message, result.error, result.at)
        self.stats.sent += len(sent)
        for result in results:
            self._forget(result)

    async def _record_failure(
        self, tx: Transaction, message: Outgoing, error: DeliveryError, at: float
    ) -> None:
        attempt = message.attempts + 1
        if error.chat_gone:
            await self._block(tx, message, str(error), at)
        elif not error.retryable:
            log.warning("outbox row %s refused for good: %s", message.id, error)
            await self._outbox.dead(message.id, str(error), tx=tx)
            self.stats.dead += 1
        elif attempt >= self._max_attempts:
            log.warning("outbox row %s: giving up after %d attempts", message.id, attempt)
            await self._outbox.dead(message.id, f"gave up after {attempt} attempts: {error}", tx=tx)
            self.stats.dead += 1
        else:
            next_at = at + self._delay_s(attempt, error)
            await self._outbox.retry(message.id, next_at, str(error), tx=tx)
            self._refill_at = min(self._refill_at, next_at)
            self.stats.retried += 1

    async def _block(self, tx: Transaction, message: Outgoing, error: str, at: float) -> None:
        """A permanent failure: dead-letter it and everything else queued for that chat."""
        log.warning(
            "outbox row %s: %s chat %s refused for good, blocking it: %s",
            message.id,
            message.platform,
            message.chat_id,
            error,
        )
        await self._outbox.dead(message.id, error, tx=tx)
        await self._chats.block(message.platform, message.chat_id, error, at, tx=tx)
        others = await self._outbox.dead_chat(
            message.platform, message.chat_id, f"chat blocked: {error}", tx=tx
        )
        self.stats.dead += 1 + others

    def _delay_s(self, attempt: int, error: DeliveryError) -> float:
        """The platform's retry_after when it gave one, else capped exponential backoff."""
        if error.retry_after_s is not None:
            return max(0.0, error.retry_after_s)
        return float(min(self._backoff_s * 2 ** (attempt - 1), self._max_backoff_s))

    def _forget(self, result: _Result) -> None:
        message = result.message
        self._held.pop(message.id, None)
        if result.error is not None and result.error.chat_gone:
            key = (message.platform, message.chat_id)
            for row_id in [i for i, m in self._held.items() if (m.platform, m.chat_id) == key]:
                del self._held[row_id]

    async def _stop(self) -> None:
        """Cancel sends in flight, record what finished, and hand unsent rows back."""
        for task in self._sending:
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        try:
            await self._flush()
            await self._outbox.release(list(self._held))
        except Exception:
            log.warning("notifier stopped without releasing its leases", exc_info=True)
        self._held.clear()
        self._results.clear()
        self._queue.clear()
        self._refill_wanted = True
