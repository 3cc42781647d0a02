"""The poll jobs' timing, apart from the poll itself: moving a job to another interval or to
now, the wallets a public trade can name, and which polls store their snapshot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.monitor.summary import holdings
from engine.domain import LinkedAccount, SnapshotSummary


def job_id(account_id: int) -> str:
    return f"poll:{account_id}"


def reschedule(scheduler: AsyncIOScheduler, account_id: int, every_s: float, at: float) -> None:
    """Poll ``account_id`` every ``every_s`` from ``at`` on (if it has a job)."""
    if scheduler.get_job(job_id(account_id)) is None:
        return
    scheduler.modify_job(
        job_id(account_id),
        trigger=IntervalTrigger(seconds=every_s),
        next_run_time=datetime.fromtimestamp(at, UTC),
        misfire_grace_time=max(1, int(every_s)),
    )


def drop_jobs(scheduler: AsyncIOScheduler, keep: Collection[int]) -> int:
    """Remove every poll job of an account not in ``keep`` (no database needed: a worker cut
    off from it stops polling what it may no longer hold); how many."""
    dropped = 0
    for job in scheduler.get_jobs():
        if job.id.startswith("poll:") and int(job.id[5:]) not in keep:
            job.remove()
            dropped += 1
    return dropped


def run_now(scheduler: AsyncIOScheduler, account_ids: Iterable[int], at: float) -> None:
    """Poll these accounts at ``at`` (now), then on their interval as before."""
    when = datetime.fromtimestamp(at, UTC)
    for account_id in account_ids:
        job = scheduler.get_job(job_id(account_id))
        if job is not None:
            job.modify(next_run_time=when)


class Wallets:
    """(venue, address in lower case) → the account watching that wallet."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str], int] = {}

    def update(self, pollable: Iterable[LinkedAccount]) -> None:
        self._ids = {
            (a.venue, a.wallet_address.lower()): a.id for a in pollable if a.wallet_address
        }

    def among(self, venue: str, addresses: Collection[str]) -> list[int]:
        keys = ((venue, a.lower()) for a in addresses)
        return [self._ids[k] for k in keys if k in self._ids]


class SnapshotCadence:
    """A poll stores its snapshot when the holdings changed or ``every_s`` after the last
    stored one (0: every poll). Near accounts are polled every few seconds; a row each time
    would grow the database by millions of rows a day for no chart's sake (docs/polling.md)."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._stored: dict[int, tuple[float, tuple[object, ...]]] = {}

    def due(self, summary: SnapshotSummary) -> bool:
        last = self._stored.get(summary.account_id)
        return (
            last is None
            or summary.taken_at - last[0] >= self.every_s
            or holdings(summary) != last[1]
        )

    def stored(self, summary: SnapshotSummary) -> None:
        self._stored[summary.account_id] = (summary.taken_at, holdings(summary))

    def forget(self, account_id: int) -> None:
        self._stored.pop(account_id, None)


class _QuietCancellation(logging.Filter):
    """``stop`` cancels jobs still running after its grace period, on purpose (their
    transactions roll back); APScheduler would log each one as an ERROR with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, asyncio.CancelledError)


QUIET = _QuietCancellation()
