"""The tests' one fake clock: time moves only when a test sets it or the code under test sleeps."""

from __future__ import annotations

import asyncio
import heapq
import itertools

NOW = 1_700_000_000.0
#: Loop turns given to runnable tasks before time jumps: enough for a finished fake send to
#: settle and wake the sleeper's owner (which then cancels the sleep), none of it real I/O.
_YIELDS = 20


class FakeClock:
    """``clock()`` reads the time; ``sleep`` (inject it into the code under test) moves it.

    ``now`` is a plain attribute: a test may set it (``clock.now = 1061.0``, ``clock.now +=
    30``) when only reading the clock matters, or ``advance`` it to also fire the passive
    timers that come due. ``slept`` records every ``sleep``'s delay, in order.

    Sleepers register timers. A *driving* ``sleep`` lets runnable tasks run, then jumps to the
    earliest timer, its own or a ``passive_sleep``'s (a fake channel's latency), and fires
    it; so concurrent sleeps finish in virtual-time order and a cancelled sleep moves nothing.
    Only one task may drive (the notifier's loop), and it must not be doing real I/O when
    it sleeps — true of the notifier, whose database work happens between its waits.
    """

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        #: The delay of every ``sleep`` call, in call order (not ``passive_sleep``'s).
        self.slept: list[float] = []
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time on (between two drains), firing the passive timers that come due."""
        self.now += seconds
        while self._timers and self._timers[0][0] <= self.now:
            _, _, future = heapq.heappop(self._timers)
            if not future.done():
                future.set_result(None)

    def _timer(self, delay_s: float) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(0.0, delay_s), next(self._seq), future))
        return future

    async def passive_sleep(self, delay_s: float) -> None:
        """Wait until time reaches now + delay_s, without moving it."""
        await self._timer(delay_s)

    async def sleep(self, delay_s: float) -> None:
        """Wait delay_s of virtual time, moving it on timer by timer."""
        self.slept.append(delay_s)
        own = self._timer(delay_s)
        try:
            while not own.done():
                for _ in range(_YIELDS):
                    await asyncio.sleep(0)
                self._fire_next()
        finally:
            own.cancel()

    def _fire_next(self) -> None:
        while self._timers:
            at, _, future = heapq.heappop(self._timers)
            if future.done():
                continue  # cancelled
            self.now = max(self.now, at)
            future.set_result(None)
            return
