"""One supervisor for every long-running task: a crash is logged, restarted, and told.

A task that ends on its own is a crash too (a delivery loop that returns has stopped
delivering). Restarts back off exponentially, capped, and the count resets once a run has
lasted ``stable_s``. Scheduler jobs (polls, the ledger, digests) are run by APScheduler, which
runs each again at its next fire time; ``job_failed`` gives their failures the same logging and
operator message. Operator messages are rate-limited per task, so a crash loop is one message
every ``tell_every_s`` with a count, not one per restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from engine.alerts.events import NoticeKind, OpsNotice
from engine.alerts.rules import Severity
from storage.errors import StorageUnavailable

log = logging.getLogger(__name__)

#: Tells the operator (``bot.delivery.ops.OpsAlerts.tell``); None: the log is all there is.
Tell = Callable[[OpsNotice, str], Coroutine[Any, Any, bool]]


class TaskEnded(RuntimeError):
    """A supervised task returned although it should run until cancelled."""


class Supervisor:
    """``start(name, run)`` runs ``run()`` until ``stop``; ``job_failed`` for scheduler jobs."""

    def __init__(
        self,
        tell: Tell | None = None,
        *,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        stable_s: float = 60.0,
        tell_every_s: float = 900.0,
        accounts: Callable[[], int] = lambda: 0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._tell, self._accounts, self._clock, self._sleep = tell, accounts, clock, sleep
        self.backoff_s, self.max_backoff_s, self.stable_s = backoff_s, max_backoff_s, stable_s
        self.tell_every_s = tell_every_s
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._told_at: dict[str, float] = {}
        self._telling: set[asyncio.Task[bool]] = set()
        #: Crashes per task name since start (operators and tests read it).
        self.crashes: Counter[str] = Counter()

    def start(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()`` under supervision as task ``name`` (unique)."""
        if name in self._tasks:
            raise ValueError(f"a task named {name!r} is already supervised")
        self._tasks[name] = asyncio.create_task(self._supervise(name, run), name=name)

    def running(self, name: str) -> bool:
        task = self._tasks.get(name)
        return task is not None and not task.done()

    async def stop_task(self, name: str) -> None:
        """Cancel one supervised task and wait for it (no restart follows)."""
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        """Cancel every supervised task and wait for them (their ``finally`` blocks run)."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*self._telling, return_exceptions=True)

    async def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        failures = 0
        while True:
            started = self._clock()
            try:
                await run()
                raise TaskEnded(f"{name} stopped by itself")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._clock() - started >= self.stable_s:
                    failures = 0
                delay_s = min(self.backoff_s * 2**failures, self.max_backoff_s)
                failures += 1
                self._crashed(name, exc, f"restarting in {delay_s:g}s", log_traceback=True)
            await self._sleep(delay_s)

    def job_failed(self, job_id: str, exc: BaseException | None) -> None:
        """An APScheduler job raised (APScheduler logged the traceback): count it and tell
        the operator, once per job family ("poll", "ledger", "digest" …) per period."""
        family = job_id.split(":", 1)[0]
        error = exc if exc is not None else RuntimeError("unknown error")
        self._crashed(f"{family} job", error, f"{job_id} runs again on schedule")

    def _crashed(
        self, name: str, exc: BaseException, then: str, *, log_traceback: bool = False
    ) -> None:
        self.crashes[name] += 1
        count = self.crashes[name]
        if log_traceback and isinstance(exc, StorageUnavailable):
            # The database out of reach is one sentence (its own says which and why), not
            # a traceback every restart while it lasts.
            log.error("%s stopped: %s; %s", name, exc, then)
        elif log_traceback:
            log.error("%s crashed (%s); %s", name, type(exc).__name__, then, exc_info=exc)
        at = self._clock()
        last = self._told_at.get(name)
        if self._tell is None or (last is not None and at - last < self.tell_every_s):
            return
        self._told_at[name] = at
        # The type only: an exception's text can quote a URL with a token in it.
        detail = f"{type(exc).__name__} ({count} time{'s' if count > 1 else ''} so far); {then}"
        notice = OpsNotice(
            NoticeKind.TASK_FAILED, at, Severity.CRITICAL, self._accounts(),
            subject=name, detail=detail,
        )  # fmt: skip
        telling = asyncio.create_task(self._tell(notice, f"ops:crash:{name}:{count}"))
        self._telling.add(telling)
        telling.add_done_callback(self._telling.discard)


def job_listener(supervisor: Supervisor) -> Callable[[Any], None]:
    """An APScheduler listener (for ``EVENT_JOB_ERROR``) that reports to ``supervisor``."""

    def listen(event: Any) -> None:
        exc = getattr(event, "exception", None)
        if isinstance(exc, asyncio.CancelledError):
            return  # a poll cancelled at shutdown, on purpose
        supervisor.job_failed(str(event.job_id), exc)

    return listen
