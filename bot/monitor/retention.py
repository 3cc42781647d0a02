"""The retention job: once a day, prunes the outbox, the alert log, silences and /connect codes.

What is kept is decided in ``storage.retention`` (never a pending message, a live alert or its
decisions, a live silence); this module turns the settings into cutoffs and schedules the run.
Snapshots and cash flows are the monitor's own daily prune (``Monitor.prune``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.settings import Settings
from storage import Database
from storage.errors import StorageUnavailable
from storage.flows import Flows
from storage.retention import Cutoffs, Pruned, Retention
from storage.snapshots import Snapshots

log = logging.getLogger(__name__)

JOB_ID = "maintenance:retention"
DAY_S = 86400.0
#: The first run waits for start-up to settle (first polls, a catch-up digest) rather than
#: competing with it for the write lock; later runs follow every ``DAY_S``.
FIRST_RUN_AFTER_S = 300.0


@dataclass(frozen=True)
class RetentionPolicy:
    """How many days each kind is kept once it is done (see the settings table)."""

    outbox_days: float = 30.0
    alert_days: float = 90.0
    silence_days: float = 30.0
    connect_code_days: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            outbox_days=settings.outbox_retention_days,
            alert_days=settings.alert_retention_days,
            silence_days=settings.silence_retention_days,
            connect_code_days=settings.connect_code_retention_days,
        )

    def cutoffs(self, now: float) -> Cutoffs:
        """The time before which each kind is due, at ``now``."""
        return Cutoffs(
            outbox=now - self.outbox_days * DAY_S,
            alerts=now - self.alert_days * DAY_S,
            silences=now - self.silence_days * DAY_S,
            connect_codes=now - self.connect_code_days * DAY_S,
        )


class RetentionJob:
    """Prunes everything due; cheap when nothing is (a few indexed reads, no write lock)."""

    def __init__(
        self,
        db: Database,
        policy: RetentionPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        retention: Retention | None = None,
    ) -> None:
        self.policy = RetentionPolicy() if policy is None else policy
        self.clock = clock
        self.retention = Retention(db) if retention is None else retention

    async def run(self) -> Pruned:
        """Prune what is due now; what was deleted (nothing if the database was unavailable:
        the next run catches up, a day's rows are not worth failing over)."""
        try:
            pruned = await self.retention.prune(self.policy.cutoffs(self.clock()))
        except StorageUnavailable as exc:
            log.warning("retention skipped until its next run: %s", exc)
            return Pruned()
        if pruned.total:
            log.info(
                "retention pruned %d outbox messages, %d resolved alerts, %d silences,"
                " %d /connect codes",
                pruned.outbox, pruned.alerts, pruned.silences, pruned.connect_codes,
            )  # fmt: skip
        return pruned

    def install(
        self,
        scheduler: AsyncIOScheduler,
        *,
        every_s: float = DAY_S,
        first_after_s: float = FIRST_RUN_AFTER_S,
    ) -> None:
        """Run ``run`` every ``every_s``, the first time ``first_after_s`` after start-up."""
        scheduler.add_job(
            self.run,
            IntervalTrigger(seconds=every_s),
            id=JOB_ID,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.fromtimestamp(self.clock(), UTC)
            + timedelta(seconds=first_after_s),
        )


async def prune_history(db: Database, retention_days: float, now: float) -> int:
    """Snapshots and the ledger's cash flows older than ``retention_days``: the snapshots
    removed (each account's newest is kept, ``Snapshots.prune``)."""
    cutoff = now - retention_days * 86400.0
    removed = await Snapshots(db).prune(cutoff)
    await Flows(db).prune(cutoff)
    if removed:
        log.info("pruned %d snapshots older than %g days", removed, retention_days)
    return removed
