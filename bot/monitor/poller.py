"""The monitor loop: one APScheduler job per account polls it, prices it, and stores the result.

Each poll is fetch → engine → ONE transaction (snapshot + account state + the alert stage), so
a crash or a cancellation mid-poll leaves the snapshot whole or absent, never half written.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.analysis.snapshot import parse
from bot.delivery.ops import OpsAlerts
from bot.exchanges import AccountReader, Credentials, ExchangeFailure, priority
from bot.exchanges.meter import Meter
from bot.monitor.alarms import ProxyAlarm, budget_alarm, state_changed
from bot.monitor.book import Book, Moved
from bot.monitor.cadence import Cadences
from bot.monitor.events import AlertStage, MonitorStats, OverrunLog, PollEvent, no_alerts
from bot.monitor.failures import read_credentials, record_failure
from bot.monitor.push import Pushes
from bot.monitor.retention import prune_history
from bot.monitor.schedule import QUIET, SnapshotCadence, Wallets, reschedule, run_now
from bot.monitor.summary import summarise
from bot.security.vault import Vault, VaultError
from engine.analysis import Analysis, analyze
from engine.domain import AccountStatus, LinkedAccount
from engine.probability import DEFAULT_TOUCH_MODEL, TouchModel
from storage import Database
from storage.accounts import Accounts
from storage.snapshots import Snapshots

log = logging.getLogger(__name__)

POLLABLE = (AccountStatus.ACTIVE, AccountStatus.BLIND)
#: How often the job list is re-read, to pick up accounts linked by another process.
RESYNC_S = 30.0
#: How long the venue must reject an account's key on every poll before it is auth_failed.
AUTH_GRACE_S = 60.0
#: The operator hears that a proxy refuses a venue once per venue and severity this often.
OPS_REPEAT_S = 3600.0


class Monitor:
    """Owns the scheduler and the poll job; ``sync()`` after any account change."""

    def __init__(
        self,
        *,
        db: Database,
        hub: AccountReader,
        vault: Vault,
        poll_s: float,
        blind_after: int = 5,
        retention_days: float = 90.0,
        alerts: AlertStage = no_alerts,
        ops: OpsAlerts | None = None,
        auth_grace_s: float = AUTH_GRACE_S,
        clock: Callable[[], float] = time.time,
        cadences: Cadences | None = None,
        snapshot_s: float = 0.0,
        budget_costs: Callable[[str], tuple[float, float] | None] | None = None,
        touch_model: TouchModel = DEFAULT_TOUCH_MODEL,
    ) -> None:
        self.db, self.hub, self.vault = db, hub, vault
        self.accounts, self.snapshots = Accounts(db), Snapshots(db)
        self.poll_s, self.blind_after, self.retention_days = poll_s, blind_after, retention_days
        self.alerts, self.ops, self.auth_grace_s, self.clock = alerts, ops, auth_grace_s, clock
        self._proxy = ProxyAlarm(self.accounts)
        self.stats = MonitorStats()
        self._overruns = OverrunLog()
        #: Each account's poll band and interval (None bands: every account at its fixed one).
        self.cadences = cadences or Cadences(None)
        self.snapshot_cadence = SnapshotCadence(snapshot_s)
        #: Per venue, one poll's cost and the REST budget a minute (the bands are fitted to it).
        self.budget_costs = budget_costs
        #: How the probability is modelled (LIQWATCH_TOUCH_MODEL; docs/calibration.md).
        self.touch_model = touch_model
        #: The watched wallets, for re-polls when a public trade names one.
        self._wallets = Wallets()
        #: ``follow_pushes`` (``bot.stream.PositionStreams.follow``) is told the keyed accounts
        #: and returns those whose venue pushes positions; the pushes come through ``pushed``.
        self.pushes = Pushes()
        self.follow_pushes: Callable[[Mapping[int, str]], Mapping[int, str]] | None = None
        #: With workers sharing the database (``bot.monitor.leases``): the accounts this one holds.
        self.holds: Callable[[], Collection[int]] | None = None
        #: Polls (either way) in the last minute, per venue: what operators see of the load.
        self.polls: collections.defaultdict[str, Meter] = collections.defaultdict(
            lambda: Meter(self.clock)
        )
        #: The latest analysis per account, re-priced at streamed marks: what /positions reads.
        self.latest = Book()
        #: Polls running now: ``stop`` lets them finish instead of cancelling mid-transaction.
        self._inflight = 0
        #: Told whenever a poll ends either way (``stop`` and ``first_round`` wait on it).
        self._polled = asyncio.Condition()
        #: Accounts polled (either way) since start: ``first_round`` waits for all of them.
        self._seen: set[int] = set()
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        logging.getLogger("apscheduler.executors.default").addFilter(QUIET)
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)

    async def start(self) -> None:
        """Start the scheduler inside the running loop and build the jobs from the database;
        ``watch`` (supervised by the runtime) keeps them in step from then on."""
        self.scheduler.start()
        await self.sync()
        self.scheduler.add_job(
            self.prune,
            IntervalTrigger(hours=24),
            id="maintenance:prune",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            next_run_time=self._now(),
        )

    async def watch(
        self,
        *,
        every_s: float = RESYNC_S,
        reinstall: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Keep the poll schedule true to the database until cancelled (accounts linked or
        removed by another process, a status changed): the supervised task behind polling.
        A scheduler found stopped, or a database that refuses the read, ends it with the
        reason; the supervisor runs it again, and a stopped scheduler (which drops its jobs)
        is then started with its jobs rebuilt — the monitor's own, then ``reinstall`` for the
        rest (watchdogs, ledger, digests, retention)."""
        if not self.scheduler.running:
            await self.start()
            if reinstall is not None:
                await reinstall()
        while True:
            await asyncio.sleep(every_s)
            if not self.scheduler.running:
                raise RuntimeError("the poll scheduler stopped")
            await self.sync()
            if self.budget_costs is not None:
                await self.rebalance(self.budget_costs)

    async def stop(self, *, grace_s: float = 5.0) -> None:
        """Stop scheduling, let running polls finish for up to ``grace_s``, then cancel the rest
        (a cancelled poll's transaction rolls back)."""
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        await self._until(lambda: self._inflight == 0, grace_s)
        self.scheduler.shutdown(wait=False)

    async def _until(self, done: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until ``done()`` holds after some poll ended (True), or ``timeout_s`` (False)."""
        try:
            async with asyncio.timeout(timeout_s), self._polled:
                await self._polled.wait_for(done)
        except TimeoutError:
            return False
        return True

    def _now(self) -> datetime:
        """The injected clock as the scheduler's datetime (a first run "now")."""
        return datetime.fromtimestamp(self.clock(), UTC)

    async def sync(self) -> None:
        """One ``poll:<id>`` job per pollable account, with its interval; others removed, with
        their latest analysis and exchange client."""
        pollable = await self.accounts.all_pollable()
        if self.holds is not None:
            held = self.holds()
            pollable = [a for a in pollable if a.id in held]
        wanted = {f"poll:{a.id}": a for a in pollable}
        self._wallets.update(pollable)
        if self.follow_pushes is not None:
            keyed = {a.id: a.venue for a in pollable if not a.wallet_address}
            self.pushes.follow(self.follow_pushes(keyed))
        for job in self.scheduler.get_jobs():
            if job.id.startswith("poll:") and job.id not in wanted:
                job.remove()
        await self._release({a.id for a in wanted.values()})
        for job_id, account in wanted.items():
            interval = timedelta(seconds=self.cadences.interval(account, self.poll_s))
            job = self.scheduler.get_job(job_id)
            if job is not None and getattr(job.trigger, "interval", None) == interval:
                continue
            self.scheduler.add_job(
                self.poll,
                IntervalTrigger(seconds=interval.total_seconds()),
                id=job_id,
                args=[account.id],
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(1, int(interval.total_seconds())),
                next_run_time=self._now(),
            )

    async def _release(self, pollable: set[int]) -> None:
        """Forget every account no longer polled (paused, auth_failed, removed by another
        process): its latest analysis, and its ccxt instance with the decrypted keys in it."""
        for account_id in [a for a in self.latest if a not in pollable]:
            self.latest.drop(account_id)
            self.cadences.forget(account_id)
            self.snapshot_cadence.forget(account_id)
            self.pushes.forget(account_id)
        # Together: ccxt's close() sleeps 250 ms (timeout_on_exit) per instance, so one at a
        # time a worker handing 600 accounts to a joiner spent 150 s here, while its lease
        # round waited on this sync and its own leases lapsed (the others took them over).
        gone = [k for k in self.hub.account_keys() if k.isdigit() and int(k) not in pollable]
        await asyncio.gather(*(self.hub.drop(key) for key in gone))

    async def first_round(self, timeout_s: float) -> bool:
        """Wait until every pollable account was polled once since start (True), or for
        ``timeout_s`` (False): a start-up digest then shows fresh figures."""
        wanted = {a.id for a in await self.accounts.all_pollable()}
        if self.holds is not None:  # a worker waits for its own accounts
            wanted &= set(self.holds())
        return await self._until(lambda: wanted <= self._seen, timeout_s)

    async def prune(self) -> int:
        """Delete snapshots (and the ledger's cash flows) older than the retention period."""
        return await prune_history(self.db, self.retention_days, self.clock())

    async def poll(self, account_id: int) -> PollEvent | None:
        """Fetch, price and store one account; failures become states, never exceptions."""
        self._inflight += 1
        try:
            return await self._poll(account_id)
        finally:
            self._inflight -= 1
            async with self._polled:
                self._polled.notify_all()

    async def _poll(self, account_id: int) -> PollEvent | None:
        account = await self.accounts.system_get(account_id)
        if account is None or account.status not in POLLABLE:
            return None
        started = self.clock()
        try:
            # Near accounts' requests go before far ones' when the venue's budget is queued.
            with priority(self.cadences.priority(account)):
                raw = await self.hub.fetch_snapshot(
                    str(account.id), account.venue, await self.credentials(account)
                )
            loaded = parse(raw, source=f"{account.venue} account {account.id}")
            analysis = analyze(
                loaded.snapshot,
                volatility=loaded.volatility,
                horizon_hours=loaded.horizon_hours,
                touch_model=self.touch_model,
            )
            disagree = self.pushes.polled(account.id, raw, started)
            if disagree:
                log.warning(
                    "account %s: the poll disagrees with what was pushed before it (the poll "
                    "wins): %s", account.id, "; ".join(disagree),
                )  # fmt: skip
        except ExchangeFailure as failure:
            return await self._failed(account, failure)
        except VaultError as exc:
            return await self._failed(account, ExchangeFailure("exchange", str(exc)))
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("poll of account %s failed (ref %s)", account.id, ref)
            return await self._failed(
                account, ExchangeFailure("exchange", f"internal error (ref {ref})")
            )
        return await self._succeeded(account, analysis, started, funding=loaded.funding)

    async def credentials(self, account: LinkedAccount) -> Credentials:
        """What the hub needs to read the account: its wallet address or decrypted keys."""
        return await read_credentials(self.accounts, self.vault, account)

    async def pushed(self, account_id: int, positions: list[dict[str, Any]]) -> PollEvent | None:
        """The venue pushed these changed positions (ccxt's records): merged into the last
        poll's snapshot, priced, stored and staged as a poll would be. A push that opens a
        symbol (whose tiers only a poll reads), or one before any poll, also polls it now."""
        if account_id not in self.latest or account_id not in self.pushes.followed:
            return None
        account = self.latest.account(account_id)
        merged = self.pushes.apply(account_id, account.venue, positions, self.clock())
        if merged is None or merged.opened:
            run_now(self.scheduler, [account_id], self.clock())
        if merged is None:
            return None
        try:
            loaded = parse(merged.raw, source=f"{account.venue} account {account.id} (pushed)")
            analysis = analyze(
                loaded.snapshot,
                volatility=loaded.volatility,
                horizon_hours=loaded.horizon_hours,
                touch_model=self.touch_model,
            )
        except Exception:  # a push the engine cannot read waits for the poll, which can
            log.exception("account %s: a pushed position update could not be priced", account_id)
            return None
        return await self._succeeded(
            account, analysis, self.clock(), funding=loaded.funding, polled=False
        )

    async def _succeeded(
        self,
        account: LinkedAccount,
        analysis: Analysis,
        started: float,
        *,
        funding: Mapping[str, float],
        polled: bool = True,
    ) -> PollEvent:
        at = self.clock()
        summary = summarise(analysis, account_id=account.id, taken_at=at)
        # Into the book first: the stage's watch is of this generation of positions.
        generation = self.latest.put(account, analysis)
        event = PollEvent(
            account, at, AccountStatus.ACTIVE, analysis=analysis, funding=funding,
            generation=generation,
        )  # fmt: skip
        store = self.snapshot_cadence.due(summary)
        async with self.db.transaction() as tx:
            if store:
                await Snapshots(tx.db).insert(summary, tx=tx)
            if polled:
                await self.accounts.record_poll_success(account.id, at, tx=tx)
            await self.alerts(tx, event)
            # After the stage: its evaluation (a live alert, the warning level) picks the band.
            changed = self.cadences.after_poll(account, analysis)
            if changed is not None:
                await self.accounts.set_cadence(
                    account.id, changed.band, changed.every_s, changed.reason, tx=tx
                )
        if store:
            self.snapshot_cadence.stored(summary)
        if changed is not None:
            reschedule(self.scheduler, account.id, changed.every_s, at + changed.every_s)
        if not polled:
            self.stats.pushes += 1
            return event
        self.stats.counted(account.venue)
        self.polls[account.venue].add()
        self._seen.add(account.id)
        self.stats.last_poll_at = self.stats.last_cycle_at = at
        state_changed(account, AccountStatus.ACTIVE)
        elapsed = self.clock() - started
        if elapsed > self.cadences.interval(account, self.poll_s):
            self.stats.overruns += 1
            self._overruns.note(account.id, elapsed, at)
        return event

    async def _failed(self, account: LinkedAccount, failure: ExchangeFailure) -> PollEvent:
        at = self.clock()
        self.stats.counted(account.venue, failure.kind)
        self.polls[account.venue].add()
        self._seen.add(account.id)
        self.stats.last_cycle_at = at
        async with self.db.transaction() as tx:
            status = await record_failure(
                self.accounts, tx, account, failure, at,
                auth_grace_s=self.auth_grace_s, blind_after=self.blind_after,
            )  # fmt: skip
            event = PollEvent(account, at, status or account.status, failure=failure)
            await self.alerts(tx, event)
        log.warning("poll of account %s failed (%s): %s", account.id, failure.kind, failure)
        state_changed(account, event.status)
        self.latest.set_status(account.id, event.status)  # not re-priced until polled again
        if failure.kind == "proxy":
            await self._proxy.tell(self.ops, account, failure, at, event.status)
        if status == AccountStatus.AUTH_FAILED:
            await self.sync()  # its job goes: it is not polled again until re-linked
        return event

    def quicken(self, moved: Moved) -> int:
        """Streamed marks re-priced ``moved``: accounts they brought near their warning level
        are polled now, then at the near band's interval (the poll stores the band)."""
        book = self.latest
        quickened = self.cadences.quicken(moved, lambda a: book.account(a) if a in book else None)
        for q in quickened:
            reschedule(self.scheduler, q.account_id, q.cadence.every_s, self.clock())
        return len(quickened)

    async def rebalance(self, costs: Callable[[str], tuple[float, float] | None]) -> int:
        """Fit each venue's bands to its REST budget (``costs(venue)``: one poll's cost and
        the budget a minute): where every account cannot be polled at its band's interval,
        far accounts stretch first, then middle ones, never near ones; their jobs follow, and
        the operator hears once per venue and hour; how many accounts were re-timed."""
        moved = 0
        for venue, found in self.cadences.refit(costs):
            retimed = self.cadences.retime(venue)
            for account_id, every_s in retimed:
                reschedule(self.scheduler, account_id, every_s, self.clock() + every_s)
            moved += len(retimed)
            await budget_alarm(self.ops, venue, found, self.clock())
        return moved

    def traded(self, venue: str, addresses: Collection[str]) -> int:
        """A venue's public trades named these addresses: the watched wallets among them are
        polled now (their positions just changed); how many."""
        due = self._wallets.among(venue, addresses)
        run_now(self.scheduler, due, self.clock())
        return len(due)

    def _on_skipped(self, event: JobExecutionEvent | Any) -> None:
        self.stats.skipped += 1
