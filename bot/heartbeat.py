"""Operator signals: a periodic "still watching N accounts", and a watchdog on the poll loop.

The watchdog is what catches the failure no alert rule can: the monitor itself stopped (a
wedged event loop, a scheduler that lost its jobs). It speaks once when the loop stalls and
once when it recovers, through the same outbox as every alert.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.monitor import Monitor
from engine.alerts.events import NoticeKind, OpsNotice
from engine.alerts.rules import Severity
from engine.domain import Platform
from storage import Database
from storage.outbox import NewMessage, Outbox

log = logging.getLogger(__name__)


class Heartbeat:
    """``beat`` and ``check`` are scheduler jobs (see ``install``); both are cheap."""

    def __init__(
        self,
        db: Database,
        monitor: Monitor,
        *,
        ops_chat: tuple[Platform, str] | None,
        stall_s: float,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self.monitor, self.ops_chat = db, monitor, ops_chat
        self.stall_s, self.wake, self.clock = stall_s, wake, clock
        self.started_at = clock()
        #: When the current stall was first noticed (None: the loop is healthy).
        self.stalled_since: float | None = None

    def watched(self) -> int:
        return sum(job.id.startswith("poll:") for job in self.monitor.scheduler.get_jobs())

    async def beat(self) -> None:
        """The optional heartbeat: proof of life an operator can expect at a fixed rhythm."""
        at = self.clock()
        notice = OpsNotice(NoticeKind.HEARTBEAT, at, Severity.INFO, self.watched())
        await self._send(notice, f"ops:heartbeat:{at!r}")

    async def check(self) -> None:
        """Alert once when no poll finished for ``stall_s`` while accounts are watched."""
        at, watched = self.clock(), self.watched()
        last = self.monitor.stats.last_cycle_at or self.started_at
        idle = at - last
        if watched and idle > self.stall_s and self.stalled_since is None:
            self.stalled_since = at
            log.error("monitor stalled: no poll finished for %.0fs", idle)
            notice = OpsNotice(NoticeKind.STALLED, at, Severity.CRITICAL, watched, idle)
            await self._send(notice, f"ops:stalled:{at!r}")
        elif self.stalled_since is not None and idle <= self.stall_s:
            log.warning("monitor recovered after a stall")
            notice = OpsNotice(NoticeKind.RECOVERED, at, Severity.INFO, watched, idle)
            await self._send(notice, f"ops:recovered:{self.stalled_since!r}")
            self.stalled_since = None

    async def _send(self, notice: OpsNotice, key: str) -> None:
        if self.ops_chat is None:
            return  # no ops chat configured: the log line above is all there is
        platform, chat_id = self.ops_chat
        message = NewMessage(key, None, platform, chat_id, notice.severity, notice)
        async with self.db.transaction() as tx:
            queued = await Outbox.enqueue(tx, [message], now=notice.at)
        if queued:
            self.wake()

    def install(self, heartbeat_s: float) -> None:
        """Schedule the watchdog (every 10 % of stall_s) and, if wanted, the heartbeat."""
        scheduler = self.monitor.scheduler
        every = max(1.0, self.stall_s / 10.0)
        scheduler.add_job(
            self.check, "interval", seconds=every, id="ops:watchdog", replace_existing=True,
            max_instances=1, coalesce=True,
        )  # fmt: skip
        if heartbeat_s > 0:
            scheduler.add_job(
                self.beat, "interval", seconds=heartbeat_s, id="ops:heartbeat",
                replace_existing=True, max_instances=1, coalesce=True,
            )  # fmt: skip
