"""The running service, assembled once: monitor → alert stage → outbox → notifier → channels.

``liqwatch run`` and ``liqwatch demo`` differ only in where snapshots come from (ccxt or the
simulated venue) and which channels deliver; everything between is this one assembly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from apscheduler.events import EVENT_JOB_ERROR

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.alerting.service import AlertService
from bot.alerting.stage import AlertPipeline
from bot.chat.conversation import Conversation
from bot.delivery.channel import Channel
from bot.delivery.notifier import Notifier
from bot.delivery.ops import OpsAlerts
from bot.digest.jobs import DigestJobs
from bot.exchanges import AccountReader, Credentials
from bot.monitor.cadence import Cadences
from bot.monitor.leases import LeaseKeeper
from bot.monitor.ledger import FlowReader, Ledger
from bot.monitor.poller import Monitor
from bot.monitor.retention import RetentionJob, RetentionPolicy
from bot.monitor.schedule import drop_jobs
from bot.monitor.ticks import MarkSource, TickStage
from bot.monitor.venues import VenueReporter
from bot.monitor.watchdog import Heartbeat
from bot.runtime.supervisor import Supervisor, job_listener
from bot.security.vault import Vault, VaultError
from bot.settings import Settings
from bot.stream.positions import Keys, OnPositions, PositionStreams
from bot.stream.records import MarkTick
from engine.domain import Platform
from storage import Database, StorageError
from storage.outbox import OUTBOX_CHANNEL, Outbox
from storage.postgres import PgDatabase

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Every long-lived part, for adapters (services) and for tests (the rest)."""

    db: Database
    monitor: Monitor
    pipeline: AlertPipeline
    notifier: Notifier
    heartbeat: Heartbeat
    accounts: AccountService
    alerts: AlertService
    portfolio: PortfolioService
    conversation: Conversation
    ops: OpsAlerts
    supervisor: Supervisor
    ticks: TickStage
    venues: VenueReporter
    #: Where marks stream from (None: LIQWATCH_STREAM=off, polls only).
    marks: MarkSource | None = None
    #: Linked keys' position streams (None: LIQWATCH_PUSH=off or LIQWATCH_STREAM=off).
    pushes: PositionStreams | None = None
    #: This worker's accounts, on a PostgreSQL database several workers share (else None).
    leases: LeaseKeeper | None = None
    catching_up: asyncio.Task[int] | None = None

    async def settle(self) -> None:
        """Stop the delivery loop, then deliver everything still due (a clean ending).

        ``Notifier.run`` and ``drain`` must not run together: the loop is stopped first.
        """
        await self.stop_delivery()
        await self.notifier.drain()

    async def stop_delivery(self) -> None:
        await self.supervisor.stop_task(DELIVERY)


#: The supervised tasks: the delivery loop, the poll schedule's keeper, the mark streams and
#: the re-pricing of the book at their ticks.
DELIVERY, SCHEDULE, MARKS, TICKS = "notifier", "poll scheduler", "mark streams", "ticks"
PUSHES, LEASES = "position pushes", "account leases"
#: Builds the mark source around the callback that takes its ticks (and the operator's sink).
Marks = Callable[[Callable[[Sequence[MarkTick]], None], OpsAlerts], MarkSource]
#: Builds the position streams around the monitor's push handler and a reader of keys.
Pushes = Callable[[OnPositions, Keys], PositionStreams]


@asynccontextmanager
async def assemble(
    settings: Settings,
    *,
    db: Database,
    hub: AccountReader,
    vault: Vault,
    channels: Mapping[Platform, Channel],
    flows: FlowReader | None = None,
    marks: Marks | None = None,
    pushes: Pushes | None = None,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[Runtime]:
    """Build, start (scheduler + notifier task), yield, then stop in reverse order.

    ``hub`` reads the accounts (ccxt, or the demo's simulated venue); ``flows``, when given,
    gets a ledger job reading realised PnL and funding for the digests; ``marks``, when given,
    builds the source of streamed marks that re-price the book between polls; ``pushes``,
    when given, the private streams that push linked keys' position changes to the monitor.
    """
    # Workers share the outbox: a dead worker's claimed rows go out again within the lease
    # time, as its accounts do. One process per SQLite file releases them at start instead.
    outbox_lease_s = settings.lease_s if db.dialect == "postgres" else 60.0
    notifier = Notifier(db, channels, clock=clock, lease_s=outbox_lease_s)
    ops = OpsAlerts(db, settings.ops_chat, channels=channels, wake=notifier.wake, clock=clock)
    pipeline = AlertPipeline(wake=notifier.wake)
    monitor = Monitor(
        db=db,
        hub=hub,
        vault=vault,
        poll_s=settings.poll_s,
        blind_after=settings.blind_after,
        retention_days=settings.retention_days,
        alerts=pipeline,
        ops=ops,
        clock=clock,
        cadences=Cadences(settings.bands(), pipeline),
        snapshot_s=settings.snapshot_s,
        touch_model=settings.touch_model,
    )
    monitor.budget_costs = functools.partial(poll_costs, hub, monitor)
    heartbeat = Heartbeat(
        db, monitor, ops, stall_s=settings.stall_s, delivery_stall_s=settings.delivery_stall_s,
        platforms=tuple(channels), storage_failing=notifier.storage_trouble_since,
        clock=clock,
    )  # fmt: skip
    supervisor = Supervisor(ops.tell, accounts=heartbeat.watched, clock=clock)
    monitor.scheduler.add_listener(job_listener(supervisor), EVENT_JOB_ERROR)
    accounts = AccountService(db, hub, vault, on_change=monitor.sync, clock=clock)
    alerts, portfolio = AlertService(db, clock=clock), PortfolioService(accounts, monitor.latest)
    ledger = None if flows is None else Ledger(db, flows, monitor.credentials, clock=clock)
    digests = DigestJobs(
        db, monitor.scheduler, monitor.latest, wake=notifier.wake, clock=clock,
        refresh=ledger.refresh if ledger else None,
    )  # fmt: skip
    conversation = Conversation(
        db, accounts, alerts, portfolio, clock=clock, digest_jobs=digests, wake=notifier.wake
    )
    ticks = TickStage(db, monitor.latest, pipeline, clock=clock, on_moved=monitor.quicken)
    source = None if marks is None else marks(ticks.on_ticks, ops)
    if source is not None:
        source.tell_traders(monitor.traded)
    venues = VenueReporter(db, monitor, hub, source, clock=clock)
    runtime = Runtime(
        db, monitor, pipeline, notifier, heartbeat, accounts, alerts, portfolio, conversation,
        ops, supervisor, ticks, venues, source,
    )  # fmt: skip
    # On SQLite `run` and `demo` hold the database's process lock (storage/lock.py), so no
    # other notifier is alive on this file: every lease still set belongs to a process that
    # died. On PostgreSQL other workers' notifiers are: their leases expire by themselves.
    if db.dialect == "sqlite":
        await Outbox(db).release_all()
    else:
        await _hold_leases(runtime, settings, clock)
        if ledger is not None:
            ledger.holds = monitor.holds
        await _listen(db, notifier)
    retention = RetentionJob(db, RetentionPolicy.from_settings(settings), clock=clock)

    async def install_jobs() -> None:
        """Every scheduler job beside the monitor's own (again, if the scheduler restarts)."""
        heartbeat.install(settings.heartbeat_s)
        retention.install(monitor.scheduler)
        venues.install(monitor.scheduler)
        if ledger is not None:
            ledger.install(monitor.scheduler)
        await digests.sync()

    if pushes is not None:  # before the first sync, which tells it the accounts to follow
        runtime.pushes = pushes(monitor.pushed, functools.partial(_keys, monitor))
        monitor.follow_pushes = runtime.pushes.follow
    await monitor.start()
    await install_jobs()
    supervisor.start(DELIVERY, notifier.run)
    supervisor.start(SCHEDULE, functools.partial(monitor.watch, reinstall=install_jobs))
    _background(runtime, source)
    runtime.catching_up = asyncio.create_task(_catch_up(monitor, digests), name="digest catch-up")
    try:
        yield runtime
    finally:
        if runtime.catching_up is not None:
            runtime.catching_up.cancel()
        if ledger is not None:
            ledger.stopping = True
        await supervisor.stop_task(SCHEDULE)  # or it would restart the stopping scheduler
        await supervisor.stop_task(LEASES)
        await monitor.stop()
        await _release_leases(runtime)
        await supervisor.stop()
        if source is not None:
            await source.close()


async def _hold_leases(runtime: Runtime, settings: Settings, clock: Callable[[], float]) -> None:
    """A worker on a shared database polls only the accounts it holds by lease; it claims a
    share before the first sync (a database refusing now is tried again by ``run``). The
    leases are kept on connections of their own (``PgDatabase.lane``): a renewal queued behind
    the polls' writes came after the leases lapsed."""
    monitor = runtime.monitor
    db = runtime.db
    own = await db.lane() if isinstance(db, PgDatabase) else db
    keeper = runtime.leases = LeaseKeeper(
        own, worker=settings.worker_id, lease_s=settings.lease_s, clock=clock
    )
    keeper.lane = own if own is not db else None
    keeper.on_change = functools.partial(_follow_leases, monitor, keeper)
    monitor.holds = lambda: keeper.held
    try:
        await keeper.turn()
    except StorageError as exc:
        log.warning("account leases not claimed yet (%s)", exc)


async def _listen(db: Database, notifier: Notifier) -> None:
    """Rows another worker queued wake this worker's notifier at once (NOTIFY at commit)."""
    if isinstance(db, PgDatabase):
        await db.listen(OUTBOX_CHANNEL, notifier.wake)


async def _release_leases(runtime: Runtime) -> None:
    """A clean stop gives the leases up: the other workers need not wait for them to expire."""
    if runtime.leases is not None:
        await runtime.leases.release_all()
        await runtime.leases.close()


async def _follow_leases(monitor: Monitor, keeper: LeaseKeeper) -> None:
    """Poll exactly the accounts held: jobs of lost ones go at once (no database needed: a
    worker cut off from it must stop polling what another may hold now), gained ones are
    scheduled by a sync when the database answers."""
    drop_jobs(monitor.scheduler, keeper.held)
    if monitor.scheduler.running:
        with contextlib.suppress(StorageError):
            await monitor.sync()


async def _keys(monitor: Monitor, account_id: int) -> Credentials:
    """An account's decrypted keys for its position stream (as its poll reads them)."""
    account = await monitor.accounts.system_get(account_id)
    if account is None:
        raise VaultError(f"account {account_id} is gone")
    return await monitor.credentials(account)


def poll_costs(hub: AccountReader, monitor: Monitor, venue: str) -> tuple[float, float] | None:
    """What one poll of ``venue`` costs on average over the last minute (every request its
    accounts made: positions, balance, tiers, funding, candles; in the units of the venue's
    limit, its published weights where bot/exchanges/weights.py has them) and the
    venue's budget a minute — for venues whose limit is the IP's, shared by all accounts.
    None where the limit is per key (each account has its own) or nothing was polled yet."""
    use, polls = hub.rest_use(venue), monitor.polls[venue].per_minute()
    if use is None or not use.per_ip or polls <= 0:
        return None
    return use.per_minute / polls, use.limit


def _background(runtime: Runtime, source: MarkSource | None) -> None:
    """The supervised tasks beside delivery and the schedule: leases, streams, pushes."""
    if runtime.leases is not None:
        runtime.supervisor.start(LEASES, runtime.leases.run)
    if source is not None:
        _stream(runtime.monitor, source, runtime.ticks, runtime.supervisor)
    if runtime.pushes is not None:
        runtime.supervisor.start(PUSHES, runtime.pushes.run)


def _stream(monitor: Monitor, source: MarkSource, ticks: TickStage, supervisor: Supervisor) -> None:
    """Follow what the book holds (now, and whenever a poll changes it) and run the streams
    and the re-pricing under the supervisor."""
    book = monitor.latest
    book.on_held_change = lambda: source.follow(book.held())
    source.follow(book.held())
    supervisor.start(MARKS, source.run)
    supervisor.start(TICKS, ticks.run)


async def _catch_up(monitor: Monitor, digests: DigestJobs) -> int:
    """A digest missed while we were down goes out once, after the first round of polls (or
    a minute at most): a digest of "not polled yet" accounts would tell a desk nothing."""
    await monitor.first_round(timeout_s=60.0)
    return await digests.catch_up()
