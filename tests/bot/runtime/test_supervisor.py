"""The supervisor: a crashed or finished task is restarted with capped backoff and told once
per period; scheduler-job failures are told the same way."""

from __future__ import annotations

import asyncio

from bot.runtime.supervisor import Supervisor, job_listener
from engine.alerts.events import NoticeKind, OpsNotice
from tests.fakes.clock import FakeClock


class _Told:
    def __init__(self) -> None:
        self.notices: list[tuple[OpsNotice, str]] = []

    async def __call__(self, notice: OpsNotice, key: str) -> bool:
        self.notices.append((notice, key))
        return True


async def test_a_crashing_task_is_restarted_with_capped_backoff_and_told_once() -> None:
    """Five crashes in a row: restarts after 1, 2, 4, 8, 8 s (cap 8); the operator hears of
    the first crash only (the rest fall inside the tell period); the sixth run keeps going."""
    told, clock = _Told(), FakeClock(1000.0)
    runs = 0
    healthy = asyncio.Event()

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs <= 5:
            raise RuntimeError("storage broke")
        healthy.set()
        await asyncio.Event().wait()

    supervisor = Supervisor(told, max_backoff_s=8.0, clock=clock, sleep=clock.sleep)
    supervisor.start("notifier", flaky)
    await asyncio.wait_for(healthy.wait(), 5)
    assert clock.slept == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert supervisor.crashes["notifier"] == 5 and supervisor.running("notifier")
    await supervisor.stop()
    assert [(n.kind, n.subject) for n, _ in told.notices] == [(NoticeKind.TASK_FAILED, "notifier")]
    assert "RuntimeError" in (told.notices[0][0].detail or "")


async def test_a_task_that_returns_is_a_crash_too() -> None:
    """A delivery loop that returns has stopped delivering: it is restarted."""
    clock = FakeClock(1000.0)
    runs = 0
    again = asyncio.Event()

    async def returns_once() -> None:
        nonlocal runs
        runs += 1
        if runs == 2:
            again.set()
            await asyncio.Event().wait()

    supervisor = Supervisor(None, clock=clock, sleep=clock.sleep)
    supervisor.start("adapter", returns_once)
    await asyncio.wait_for(again.wait(), 5)
    assert supervisor.crashes["adapter"] == 1
    await supervisor.stop()
    assert not supervisor.running("adapter")


async def test_backoff_resets_after_a_long_healthy_run() -> None:
    """A crash after a stable hour starts again from the shortest wait."""
    clock = FakeClock(1000.0)
    runs = 0
    third = asyncio.Event()

    async def crashes_after(seconds: float) -> None:
        nonlocal runs
        runs += 1
        if runs == 3:
            third.set()
            await asyncio.Event().wait()
        clock.now += seconds
        raise RuntimeError("boom")

    async def task() -> None:
        await crashes_after(0.0 if runs == 0 else 3600.0)

    supervisor = Supervisor(None, stable_s=60.0, clock=clock, sleep=clock.sleep)
    supervisor.start("ledger", task)
    await asyncio.wait_for(third.wait(), 5)
    await supervisor.stop()
    assert clock.slept == [1.0, 1.0]


async def test_scheduler_job_failures_are_told_per_family_and_period() -> None:
    """Hundreds of failing polls are one operator message per period, with the count; a
    cancelled job (shutdown) is not a failure."""
    told, clock = _Told(), FakeClock(1000.0)
    supervisor = Supervisor(told, tell_every_s=900.0, clock=clock, sleep=clock.sleep)
    listen = job_listener(supervisor)

    class _Event:
        def __init__(self, job_id: str, exc: BaseException) -> None:
            self.job_id, self.exception = job_id, exc

    for n in range(300):
        listen(_Event(f"poll:{n}", RuntimeError("database is locked")))
    listen(_Event("poll:1", asyncio.CancelledError()))
    clock.now += 901.0
    listen(_Event("poll:7", RuntimeError("database is locked")))
    await asyncio.sleep(0)
    await supervisor.stop()
    subjects = [(n.subject, n.detail) for n, _ in told.notices]
    assert [s for s, _ in subjects] == ["poll job", "poll job"]
    assert "301 times" in (subjects[1][1] or "")
    assert supervisor.crashes["poll job"] == 301
