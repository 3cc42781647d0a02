"""Logging set up by `liqwatch run`: library chatter stays out, its warnings and errors stay in."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.runtime.app import configure_logging


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def scheduler_records() -> Iterator[_Records]:
    """Records reaching APScheduler's loggers after configure_logging (levels restored after)."""
    root, library = logging.getLogger(), logging.getLogger("apscheduler")
    saved = (root.level, list(root.handlers), library.level)
    configure_logging("INFO")
    handler = _Records()
    library.addHandler(handler)
    yield handler
    library.removeHandler(handler)
    root.handlers[:] = saved[1]
    root.setLevel(saved[0])
    library.setLevel(saved[2])


async def _run_once(scheduler: AsyncIOScheduler, job: object) -> None:
    done = asyncio.Event()

    async def wrapped() -> None:
        try:
            await job()  # type: ignore[operator]
        finally:
            done.set()

    scheduler.add_job(wrapped, next_run_time=datetime.now(UTC))
    await asyncio.wait_for(done.wait(), 5)
    await asyncio.sleep(0.05)  # the executor logs the outcome after the job returns


async def test_apscheduler_logs_no_line_per_job_run_but_still_reports_failures(
    scheduler_records: _Records,
) -> None:
    """At INFO, a poll used to cost two APScheduler lines; now only a failing job is logged."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start()

    async def quiet() -> None:
        return None

    async def broken() -> None:
        raise RuntimeError("job broke")

    try:
        await _run_once(scheduler, quiet)
        assert [r for r in scheduler_records.records if r.levelno < logging.WARNING] == []
        await _run_once(scheduler, broken)
    finally:
        scheduler.shutdown(wait=False)
    assert any(r.levelno >= logging.ERROR for r in scheduler_records.records)
