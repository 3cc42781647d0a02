"""Single-flight reads: one task per key at a time, shared by its callers, without locks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Flights(Generic[K]):
    """Background reads keyed by what they fetch (e.g. ``(venue, symbol)``).

    ``start`` runs one task for some keys; while it runs, those keys are "in flight" and a
    caller that needs them waits for that task instead of starting another. Nothing is locked:
    a caller that needs other keys never waits behind it, and a caller that gives up (timeout,
    cancelled poll) leaves the task running for the others, its result still cached.
    """

    def __init__(self) -> None:
        self._tasks: dict[K, asyncio.Task[None]] = {}

    def flying(self, key: K) -> bool:
        """A read of ``key`` is running now."""
        return key in self._tasks

    def start(self, keys: Iterable[K], work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work()`` in a task that stands for every key of ``keys`` until it ends."""
        claimed = list(keys)

        async def run() -> None:
            await work()

        task = asyncio.get_running_loop().create_task(run())
        for key in claimed:
            self._tasks[key] = task
        task.add_done_callback(lambda done: self._landed(claimed, done))

    def _landed(self, keys: list[K], task: asyncio.Task[None]) -> None:
        for key in keys:
            if self._tasks.get(key) is task:
                del self._tasks[key]
        if not task.cancelled():
            task.exception()  # retrieved here: a caller that gave up must not make asyncio log it

    async def wait(self, keys: Iterable[K], timeout_s: float | None = None) -> None:
        """Until the reads of ``keys`` in flight have ended (or ``timeout_s``); never raises
        their errors, and cancelling the caller does not cancel them."""
        tasks = {self._tasks[key] for key in keys if key in self._tasks}
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)

    async def join(self, key: K) -> None:
        """Until the read of ``key`` in flight has ended, raising its error (shielded: the
        read goes on for the others if this caller is cancelled)."""
        task = self._tasks.get(key)
        if task is not None:
            await asyncio.shield(task)

    async def settle(self) -> None:
        """Until every read started so far has ended (tests; a graceful stop)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks.values()))

    async def close(self) -> None:
        """Cancel every read in flight and wait for them to end."""
        tasks = set(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
