"""The ledger job: reads each account's realised PnL and funding flows every few minutes.

Separate from the poll because these lists change slowly and cost private requests: each
account reads, every 15 minutes, what happened since its last complete read (a day back at
the first), and stores it with the window it covers. The job itself ticks every minute so an
account linked a moment ago, or one whose last read failed, is read soon after. The digest
sums a day only where the day is covered; a failed read leaves a gap that the digest names
instead of showing a quiet day.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.exchanges import Credentials, ExchangeFailure
from bot.exchanges.flows import Flow, FlowKind, groups, reported
from engine.domain import LinkedAccount
from storage import Database
from storage.accounts import Accounts
from storage.flows import Coverage, Flows, StoredFlow

log = logging.getLogger(__name__)

JOB_ID = "maintenance:ledger"
#: How old an account's last complete read may get before it is read again.
EVERY_S = 900.0
#: How often the job looks for accounts due (new ones, failed ones, ones read EVERY_S ago).
TICK_S = 60.0
#: The first read of an account reaches this far back: the digest's day, and some margin.
LOOKBACK_S = 26 * 3600.0
#: Each read overlaps the last by this much: venues post some entries a little late.
OVERLAP_S = 300.0


class FlowReader(Protocol):
    async def fetch_flows(
        self,
        account_key: str,
        venue: str,
        credentials: Credentials,
        kind: FlowKind | tuple[FlowKind, ...],
        *,
        since_ms: int,
        until_ms: int,
    ) -> list[Flow]: ...


class Ledger:
    """Keeps ``account_flows`` filled for every pollable account of a venue that reports them."""

    def __init__(
        self,
        db: Database,
        hub: FlowReader,
        credentials: Callable[[LinkedAccount], Awaitable[Credentials]],
        *,
        clock: Callable[[], float] = time.time,
        every_s: float = EVERY_S,
    ) -> None:
        self.hub, self.credentials, self.clock, self.every_s = hub, credentials, clock, every_s
        self.accounts, self.flows = Accounts(db), Flows(db)
        self._reported: set[tuple[int, str]] = set()
        #: With workers sharing the database (``bot.monitor.leases``): the accounts this one
        #: holds, the same the monitor polls. Each worker reads only their ledgers: every
        #: worker reading every account's would read each key's ledger once per worker, through
        #: a ccxt client per account it does not even poll.
        self.holds: Callable[[], Collection[int]] | None = None
        #: Set at shutdown: a read the closing hub breaks is not worth a warning.
        self.stopping = False

    def install(self, scheduler: AsyncIOScheduler, *, tick_s: float = TICK_S) -> None:
        """Run ``sync_all`` every ``tick_s``, the first time shortly after start-up."""
        first = datetime.fromtimestamp(self.clock(), UTC) + timedelta(seconds=5)
        scheduler.add_job(
            self.sync_all,
            IntervalTrigger(seconds=tick_s),
            id=JOB_ID,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=first,
        )

    async def sync_all(self) -> int:
        """One read per pollable account and kind that is due; the number of new flows."""
        new = 0
        held = None if self.holds is None else self.holds()
        for account in await self.accounts.all_pollable():
            if held is None or account.id in held:
                new += await self.sync(account)
        return new

    async def refresh(
        self, accounts: Sequence[LinkedAccount], *, max_age_s: float = 60.0, timeout_s: float = 20.0
    ) -> None:
        """Bring these accounts' flows up to the minute before a digest is built; whatever is
        not read within ``timeout_s`` keeps its last read (the digest says how far it goes)."""
        reads = [self.sync(a, max_age_s=max_age_s) for a in accounts]
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(*reads)
        except TimeoutError:
            log.info("digest: flows of some accounts were not refreshed within %gs", timeout_s)

    async def sync(self, account: LinkedAccount, *, max_age_s: float | None = None) -> int:
        """Read and store the account's flows since its last complete read, if that is older
        than ``max_age_s`` (the job's 15 minutes by default); never raises for a venue problem
        (the window just stays uncovered and a later run tries again)."""
        kinds = reported(account.venue)
        if not kinds:
            return 0
        coverage = {c.kind: c for c in await self.flows.coverage([account.id])}
        until = self.clock()
        age = self.every_s if max_age_s is None else max_age_s
        due = [k for k in kinds if k not in coverage or coverage[k].covered_to <= until - age]
        if not due:
            return 0
        try:
            credentials = await self.credentials(account)
        except Exception as exc:  # the poll reports credential problems; stay quiet here
            self._report(account, "credentials", type(exc).__name__)
            return 0
        new = 0
        # Kinds one call lists together (Binance's income) are read together, from the
        # earliest point any of them needs; each is then recorded over its own window.
        for group in groups(account.venue, due):
            windows = {k: _since(coverage.get(k), until) for k in group}
            named = "+".join(group)
            try:
                found = await self.hub.fetch_flows(
                    str(account.id), account.venue, credentials, group,
                    since_ms=int(min(windows.values()) * 1000), until_ms=int(until * 1000),
                )  # fmt: skip
            except ExchangeFailure as failure:
                self._report(account, named, str(failure))
                continue
            except Exception as exc:  # never let one account's read stop the others
                if self.stopping:  # the hub closed under a read at shutdown: expected
                    return new
                log.warning("account %s: %s flows not read", account.id, named, exc_info=exc)
                continue
            self._reported.discard((account.id, named))
            for kind, since in windows.items():
                rows = [_stored(account.id, f) for f in found if f.kind == kind and f.at >= since]
                new += await self.flows.record(account.id, kind, rows, since=since, until=until)
        return new

    def _report(self, account: LinkedAccount, kind: str, reason: str) -> None:
        """WARNING once per account and kind, DEBUG after (a venue down for hours would log
        every 15 minutes otherwise)."""
        key = (account.id, kind)
        level = logging.DEBUG if key in self._reported else logging.WARNING
        self._reported.add(key)
        log.log(level, "account %s: %s flows not read (%s)", account.id, kind, reason)


def _since(known: Coverage | None, until: float) -> float:
    """Where a kind's read starts: the lookback, or a little before its covered end."""
    since = until - LOOKBACK_S
    if known is not None and known.covered_to - OVERLAP_S > since:
        since = known.covered_to - OVERLAP_S
    return since


def _stored(account_id: int, flow: Flow) -> StoredFlow:
    return StoredFlow(
        account_id,
        flow.kind,
        flow.ref,
        flow.at,
        flow.symbol,
        flow.currency,
        flow.amount,
        flow.total_of,
    )
