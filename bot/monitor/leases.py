"""Workers sharing one PostgreSQL database's accounts by lease (docs/storage.md#workers).

Every ``lease_s / 3`` a worker says it is alive, renews the leases it holds, and evens out:
with N live workers and A pollable accounts each should hold about ceil(A / N); one holding
fewer claims free accounts (new ones, or those whose holder stopped renewing: killed, or cut
off from the database), one holding more releases its excess so a worker that just joined gets
its share. The monitor polls exactly the accounts held (``Monitor.holds``).

A worker that cannot reach the database stops polling once its leases would have expired (it
cannot tell whether another worker has claimed them by then) and claims again when it can.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import socket
import time
from collections.abc import Awaitable, Callable

from storage import Database, StorageError
from storage.leases import Leases

log = logging.getLogger(__name__)

#: A lease lasts this long unless renewed (LIQWATCH_LEASE_SECONDS): a killed worker's
#: accounts are polled by others within it.
LEASE_S = 15.0
#: A worker not seen for this many lease times is dropped from ``workers``.
FORGET_AFTER_LEASES = 20


def worker_id() -> str:
    """This process as the other workers see it: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


class LeaseKeeper:
    """Holds this worker's share of the accounts; ``run`` until cancelled."""

    def __init__(
        self,
        db: Database,
        *,
        worker: str | None = None,
        lease_s: float = LEASE_S,
        on_change: Callable[[], Awaitable[object]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.leases, self.worker = Leases(db), worker or worker_id()
        self.lease_s, self.on_change, self.clock = lease_s, on_change, clock
        #: The accounts this worker holds now (what the monitor polls).
        self.held: frozenset[int] = frozenset()
        self._renewed_at: float | None = None
        #: The last round failed (the database is out of reach): logged once, and its end.
        self._cut_off_now = False
        #: Connections opened for the leases alone, closed with the keeper.
        self.lane: Database | None = None

    @property
    def every_s(self) -> float:
        return self.lease_s / 3

    def current(self) -> tuple[bool, str]:
        """Whether this worker's leases are renewed (readiness: a worker whose leases lapsed
        polls nothing, and others may hold its accounts), with a sentence saying so."""
        if self._renewed_at is None:
            return False, f"worker {self.worker} has not claimed its share of the accounts yet"
        age = self.clock() - self._renewed_at
        if age >= self.lease_s:
            return False, f"worker {self.worker} last renewed its leases {age:.0f} s ago"
        return True, f"worker {self.worker} holds {len(self.held)} accounts by lease"

    async def run(self) -> None:
        while True:
            try:
                await self.turn()
            except StorageError as exc:
                await self._cut_off(exc)
            else:
                if self._cut_off_now:
                    log.warning(
                        "the database answers again: worker %s claims its share", self.worker
                    )
                self._cut_off_now = False
            await asyncio.sleep(self.every_s)

    async def turn(self) -> frozenset[int]:
        """One round: beat, renew, even out; the accounts held after it."""
        now = self.clock()
        until = now + self.lease_s
        await self.leases.beat(self.worker, now)
        # Each restart is a new host:pid: rows of workers gone for long would pile up.
        await self.leases.forget_workers(now - FORGET_AFTER_LEASES * self.lease_s)
        held = await self.leases.renew(self.worker, until, now)
        self._renewed_at = now
        live = max(len(await self.leases.live(now, self.lease_s)), 1)
        share = math.ceil(await self.leases.pollable() / live)
        if len(held) > share:
            excess = set(sorted(held)[share:])
            await self.leases.release(self.worker, excess)
            held -= excess
        elif len(held) < share:
            held |= await self.leases.claim(self.worker, share - len(held), now=now, until=until)
        await self._set(frozenset(held))
        return self.held

    async def release_all(self) -> None:
        """Give every lease up now (a clean stop: the others need not wait for expiry)."""
        held, self.held = self.held, frozenset()
        try:
            await self.leases.release(self.worker, set(held))
        except StorageError as exc:
            log.warning("leases not released (%s): they expire in %g s", exc, self.lease_s)

    async def close(self) -> None:
        lane, self.lane = self.lane, None
        if lane is not None:
            await lane.close()

    async def _cut_off(self, exc: StorageError) -> None:
        """The database refused a round: keep polling what is held until one round before
        the leases expire, then nothing. A round early, because the next round comes
        ``every_s`` later and another worker may claim (and poll) the accounts the moment the
        leases expire: two workers must never poll one account at once."""
        now = self.clock()
        if self._renewed_at is not None and now - self._renewed_at < self.lease_s - self.every_s:
            if not self._cut_off_now:
                log.warning("leases not renewed (%s): still held for now", exc)
            self._cut_off_now = True
            return
        if self.held:
            log.warning(
                "database unreachable (%s): this worker stops polling its %d accounts before"
                " their leases expire (renewed %.0f s ago) and claims again when it answers",
                exc, len(self.held), now - (self._renewed_at or now),
            )  # fmt: skip
        self._cut_off_now = True
        await self._set(frozenset())

    async def _set(self, held: frozenset[int]) -> None:
        if held == self.held:
            return
        gained, lost = len(held - self.held), len(self.held - held)
        self.held = held
        log.info("worker %s holds %d accounts (+%d, -%d)", self.worker, len(held), gained, lost)
        if self.on_change is not None:
            await self.on_change()
