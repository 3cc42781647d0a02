"""The assembled runtime schedules every maintenance job and supervises delivery."""

from __future__ import annotations

from tests.faults.conftest import Stack


async def test_the_runtime_installs_retention_watchdogs_and_a_supervised_notifier(
    stack: Stack,
) -> None:
    """Retention prunes daily, both watchdogs run, and the delivery loop is supervised."""
    jobs = {job.id for job in stack.runtime.monitor.scheduler.get_jobs()}
    assert {"maintenance:retention", "ops:watchdog", "ops:delivery-watchdog"} <= jobs
    assert stack.delivering
