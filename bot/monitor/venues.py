"""The venues as operators see them: each one's mark stream (live, degraded or off), the age of
its last tick, its REST budget use and its polls a minute, written to ``venue_status`` every few
seconds for `/status` and `liqwatch accounts list` (which runs in another process)."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.exchanges import AccountReader
from bot.monitor.poller import Monitor
from bot.monitor.ticks import MarkSource
from bot.stream.records import VenueStatus
from storage import Database
from storage.accounts import Accounts
from storage.venues import VenueReport, VenueReports

#: How often the running service writes its venues' reports.
REPORT_S = 5.0


class VenueReporter:
    """``report`` is a scheduler job (``install``); ``reports`` builds them without writing."""

    def __init__(
        self,
        db: Database,
        monitor: Monitor,
        hub: AccountReader,
        marks: MarkSource | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self.monitor, self.hub, self.marks, self.clock = db, monitor, hub, marks, clock

    async def reports(self) -> list[VenueReport]:
        """Every venue an account is watched on or a stream follows, as of now."""
        now = self.clock()
        watched = collections.Counter(a.venue for a in await Accounts(self.db).all_pollable())
        streams: Mapping[str, VenueStatus] = {} if self.marks is None else self.marks.status()
        venues = sorted(set(watched) | set(streams))
        return [self._report(v, watched[v], streams.get(v), now) for v in venues]

    def _report(
        self, venue: str, accounts: int, stream: VenueStatus | None, now: float
    ) -> VenueReport:
        rest = self.hub.rest_use(venue)
        polls = self.monitor.polls.get(venue)
        return VenueReport(
            venue=venue,
            stream="off" if stream is None else stream.state,
            last_tick_at=None if stream is None or stream.age_s is None else now - stream.age_s,
            symbols=0 if stream is None else len(stream.symbols),
            stale=0 if stream is None else len(stream.stale),
            reconnects=0 if stream is None else stream.reconnects,
            rest_per_min=None if rest is None else rest.per_minute,
            rest_limit_per_min=None if rest is None else rest.limit,
            rest_per_ip=None if rest is None else rest.per_ip,
            polls_per_min=0.0 if polls is None else polls.per_minute(),
            accounts=accounts,
            reported_at=now,
        )

    async def report(self) -> None:
        """Replace the stored reports with today's picture (one short transaction)."""
        reports = await self.reports()
        async with self.db.transaction() as tx:
            await VenueReports(tx.db).replace(reports, tx=tx)

    def install(self, scheduler: AsyncIOScheduler, *, every_s: float = REPORT_S) -> None:
        scheduler.add_job(
            self.report, "interval", seconds=every_s, id="ops:venues", replace_existing=True,
            max_instances=1, coalesce=True,
        )  # fmt: skip
