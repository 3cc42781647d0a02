"""Operator signals: a periodic "still watching N accounts", and watchdogs on polls and delivery.

The watchdogs catch the failures no alert rule can: the monitor itself stopped (a wedged event
loop, a scheduler that lost its jobs), or messages stopped leaving (the database refusing the
notifier, a chat platform down, a delivery loop that died). Each speaks once when its signal
stalls and once when it recovers. A delivery stall goes to the ops chat directly: the outbox
is what is stuck.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection

from bot.delivery.ops import OpsAlerts
from bot.monitor.poller import Monitor
from engine.alerts.events import NoticeKind, OpsNotice
from engine.alerts.rules import Severity
from engine.domain import Platform
from storage import Database, StorageError
from storage.outbox import Backlog, Outbox

log = logging.getLogger(__name__)


class Heartbeat:
    """``beat``, ``check`` and ``check_delivery`` are scheduler jobs (see ``install``)."""

    def __init__(
        self,
        db: Database,
        monitor: Monitor,
        ops: OpsAlerts,
        *,
        stall_s: float,
        delivery_stall_s: float = 120.0,
        platforms: Collection[Platform] = tuple(Platform),
        storage_failing: Callable[[], float | None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self.monitor, self.ops = db, monitor, ops
        self.stall_s, self.delivery_stall_s, self.clock = stall_s, delivery_stall_s, clock
        #: Only platforms with a channel can be behind (others wait for one, by design).
        self.platforms = tuple(platforms)
        #: Since when the database has been in the notifier's way (None: it is not).
        self.storage_failing = storage_failing
        self.started_at = clock()
        #: When the current stall was first noticed (None: the loop is healthy).
        self.stalled_since: float | None = None
        self.delivery_stalled_since: float | None = None

    def watched(self) -> int:
        return sum(job.id.startswith("poll:") for job in self.monitor.scheduler.get_jobs())

    async def beat(self) -> None:
        """The optional heartbeat: proof of life an operator can expect at a fixed rhythm."""
        at = self.clock()
        notice = OpsNotice(NoticeKind.HEARTBEAT, at, Severity.INFO, self.watched())
        await self.ops.tell(notice, f"ops:heartbeat:{at!r}")

    async def check(self) -> None:
        """Alert once when no poll finished for ``stall_s`` while accounts are watched."""
        at, watched = self.clock(), self.watched()
        last = self.monitor.stats.last_cycle_at or self.started_at
        idle = at - last
        if watched and idle > self.stall_s and self.stalled_since is None:
            self.stalled_since = at
            notice = OpsNotice(NoticeKind.STALLED, at, Severity.CRITICAL, watched, idle)
            await self.ops.tell(notice, f"ops:stalled:{at!r}")
        elif self.stalled_since is not None and idle <= self.stall_s:
            notice = OpsNotice(NoticeKind.RECOVERED, at, Severity.INFO, watched, idle)
            await self.ops.tell(notice, f"ops:recovered:{self.stalled_since!r}")
            self.stalled_since = None

    async def check_delivery(self) -> None:
        """Alert once when the oldest unsent message has waited longer than
        ``delivery_stall_s`` since it was queued (directly: the outbox cannot carry it), once
        more when delivery catches up."""
        at = self.clock()
        try:
            backlog = await Outbox(self.db).backlog(platforms=self.platforms)
        except StorageError as exc:
            log.error("delivery watchdog cannot read the outbox: %s", exc)
            return
        waited = None if backlog.oldest_queued_at is None else at - backlog.oldest_queued_at
        behind = waited is not None and waited > self.delivery_stall_s
        if behind and self.delivery_stalled_since is None:
            self.delivery_stalled_since = at
            notice = OpsNotice(
                NoticeKind.DELIVERY_STALLED, at, Severity.CRITICAL, self.watched(), waited,
                subject="delivery", detail=self._why(backlog),
            )  # fmt: skip
            await self.ops.tell(notice, f"ops:delivery-stalled:{at!r}", direct=True)
        elif not behind and self.delivery_stalled_since is not None:
            notice = OpsNotice(
                NoticeKind.DELIVERY_RECOVERED, at, Severity.INFO, self.watched(), waited
            )
            await self.ops.tell(notice, f"ops:delivery-recovered:{self.delivery_stalled_since!r}")
            self.delivery_stalled_since = None

    def _why(self, backlog: Backlog) -> str:
        waiting = f"{backlog.pending} message{'s' if backlog.pending != 1 else ''} waiting"
        if self.storage_failing() is not None:
            return f"{waiting}; the database is not taking the notifier's writes (locked or full?)"
        if backlog.last_error:
            return f"{waiting}; last error: {backlog.last_error[:200]}"
        return f"{waiting}; none has failed: is the delivery loop running?"

    def install(self, heartbeat_s: float) -> None:
        """Schedule the watchdogs (every 10 % of their limit) and, if wanted, the heartbeat."""
        scheduler = self.monitor.scheduler
        every = max(1.0, self.stall_s / 10.0)
        scheduler.add_job(
            self.check, "interval", seconds=every, id="ops:watchdog", replace_existing=True,
            max_instances=1, coalesce=True,
        )  # fmt: skip
        scheduler.add_job(
            self.check_delivery, "interval", seconds=max(1.0, self.delivery_stall_s / 10.0),
            id="ops:delivery-watchdog", replace_existing=True, max_instances=1, coalesce=True,
        )  # fmt: skip
        if heartbeat_s > 0:
            scheduler.add_job(
                self.beat, "interval", seconds=heartbeat_s, id="ops:heartbeat",
                replace_existing=True, max_instances=1, coalesce=True,
            )  # fmt: skip
