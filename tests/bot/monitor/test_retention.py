"""The retention job: settings become cutoffs, it is installed as a daily job, and a simulated
year of digests and alerts, pruned by it daily, stays bounded (and does not without it)."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.monitor.retention import JOB_ID, RetentionJob, RetentionPolicy
from bot.settings import Settings
from engine.alerts.evaluate import Decision, Evaluation
from engine.alerts.events import AlertStatus, Chart, DigestNotice, Reason
from engine.alerts.rules import Severity
from engine.alerts.state import Alert
from engine.domain import LinkedAccount, Platform
from storage import Database
from storage.accounts import Accounts
from storage.alerts import Alerts
from storage.errors import StorageUnavailable
from storage.outbox import NewMessage, Outbox
from storage.retention import Cutoffs, Pruned
from storage.rules import Rules
from storage.users import Users
from tests.fakes.clock import FakeClock
from tests.fakes.notices import alert_notice, item, message

DAY = 86400.0
T0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
DAYS = 365
#: The day whose database size the year's end is compared with: past every default window.
PLATEAU_DAY = 180


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "liqwatch.db") as database:
        yield database


def test_the_policy_defaults_are_the_settings_defaults() -> None:
    """Nothing set: 30 days of sent messages, 90 of resolved alerts, 30 of ended silences,
    a day of expired /connect codes."""
    policy = RetentionPolicy.from_settings(Settings.from_env({}))
    assert policy == RetentionPolicy(30.0, 90.0, 30.0, 1.0)
    assert policy.cutoffs(T0) == Cutoffs(T0 - 30 * DAY, T0 - 90 * DAY, T0 - 30 * DAY, T0 - DAY)


async def test_the_job_prunes_what_is_due_at_its_clocks_time(db: Database) -> None:
    """A message sent 31 days ago goes with the default policy; at 29 days it stays."""
    async with db.transaction() as tx:
        await Outbox(tx.db).enqueue([message(key="old"), message(key="newest")], now=T0, tx=tx)
        await tx.execute("UPDATE outbox SET status = 'sent', sent_at = ?", (T0,))
    assert (await RetentionJob(db, clock=FakeClock(T0 + 29 * DAY)).run()).total == 0
    assert await RetentionJob(db, clock=FakeClock(T0 + 31 * DAY)).run() == Pruned(outbox=1)


async def test_install_schedules_a_daily_run_that_starts_after_start_up(db: Database) -> None:
    """One job, every 24 h, the first five minutes after start (not in the start-up rush)."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start()
    try:
        RetentionJob(db).install(scheduler)
        RetentionJob(db).install(scheduler)  # installing again replaces, never doubles
        (job,) = scheduler.get_jobs()
        assert job.id == JOB_ID and job.trigger.interval == timedelta(days=1)
        wait = job.next_run_time - datetime.now(UTC)
        assert timedelta(minutes=4) < wait <= timedelta(minutes=5)
    finally:
        scheduler.shutdown(wait=False)


class _Locked:
    """A retention whose database is locked by a backup (what StorageUnavailable means)."""

    async def prune(self, cutoffs: Cutoffs) -> Pruned:
        raise StorageUnavailable("database x.db is locked by another writer")


async def test_an_unavailable_database_skips_the_run_with_a_warning(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A locked database is not a crash: nothing pruned today, the next run catches up."""
    job = RetentionJob(db, retention=_Locked())  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="bot.monitor.retention"):
        assert await job.run() == Pruned()
    assert "retention skipped" in caplog.text and "locked" in caplog.text


# --- a year --------------------------------------------------------------------------------


@dataclass
class _World:
    db: Database
    account: LinkedAccount
    #: One user per day of the year, each asking for a /connect code they never use.
    strangers: list[int]
    live_alert: int = 0
    undelivered: int = 0
    live_silence: int = 0


@dataclass(frozen=True)
class _Count:
    outbox: int
    charts: int
    alerts: int
    decisions: int
    silences: int
    codes: int
    pages: int


async def _count(db: Database) -> _Count:
    tables = ("outbox", "outbox_charts", "alerts", "alert_decisions", "silences", "connect_codes")
    numbers = []
    for table in tables:
        row = await db.fetchone(f"SELECT count(*) FROM {table}")
        numbers.append(int(row[0]) if row else 0)
    pages = await db.fetchone("PRAGMA page_count")
    numbers.append(int(pages[0]) if pages else 0)
    return _Count(*numbers)


def _bounds_broken(plateau: _Count, end: _Count) -> set[str]:
    """Which of the year-end figures outgrew what the default windows allow (each day adds
    3 messages, 1 resolved alert with 2 decisions, 1 silence and 1 code; +1 day of slack)."""
    allowed = {
        "outbox": (30 + 2) * 3 + 2,  # + the live alert's message and the undelivered one
        "charts": 3,  # the undelivered digest's: every other one was sent
        "alerts": 90 + 2 + 1,  # + the live alert
        "decisions": 2 * (90 + 2) + 1,
        "silences": 30 + 2 + 1,  # + the live silence
        "codes": 1 + 2,
    }
    broken = {name for name, most in allowed.items() if getattr(end, name) > most}
    if end.pages > plateau.pages * 1.05:  # the file stopped growing: freed pages are reused
        broken.add("size")
    return broken


def _charts() -> tuple[Chart, ...]:
    """A digest's three charts at their real size (~140 KB of PNG, ~190 KB as base64)."""
    return tuple(Chart(f"{n}.png", n, base64.b64encode(os.urandom(47_000)).decode()) for n in "abc")


async def _world(db: Database) -> _World:
    """An account with a live alert (fired on day 0, acknowledged so it never repeats, its
    message sent), a message that is never delivered and a silence that outlives the year."""
    users = Users(db)
    owner = await users.ensure(Platform.TELEGRAM, "1", "desk", "1", now=T0)
    account = await Accounts(db).add(owner.id, "hyperliquid", "hl", wallet_address="0x1", now=T0)
    strangers = [
        (await users.ensure(Platform.DISCORD, f"s{d}", "s", f"dm{d}", now=T0)).id
        for d in range(DAYS)
    ]
    world = _World(db, account, strangers)
    world.live_alert = await _fire(world, T0, "BTC/USDT:USDT:long", acked=True)
    async with db.transaction() as tx:
        queued = NewMessage("never", owner.id, Platform.DISCORD, "9", Severity.INFO, _digest(T0))
        await Outbox(tx.db).enqueue([queued], now=T0, tx=tx)
    world.undelivered = (await Outbox(db).by_key("never")).id  # type: ignore[union-attr]
    silence = await Alerts(db).add_silence(owner.id, {}, starts_at=T0, ends_at=T0 + 400 * DAY)
    world.live_silence = silence.id
    return world


def _digest(at: float) -> DigestNotice:
    return DigestNotice(1, at, "Daily digest · 08:00 UTC", "Equity 12,542 USD\n" * 20, _charts())


async def _apply(world: _World, alert: Alert, reason: Reason, at: float) -> None:
    """One evaluation as the pipeline writes it: the alert, its decision, its message."""
    notice = alert_notice(item(alert.id, status=alert.status, reason=reason), at=at)
    queued = NewMessage(
        f"alert:{alert.id}:{at}", world.account.owner_id, Platform.TELEGRAM, "1",
        Severity.CRITICAL, notice,
    )  # fmt: skip
    async with world.db.transaction() as tx:
        await Alerts(tx.db).apply(
            Evaluation((alert,), decisions=(Decision(alert.id, at, reason),)), tx=tx
        )
        await Outbox(tx.db).enqueue([queued], now=at, tx=tx)


async def _fire(world: _World, at: float, key: str, *, acked: bool = False) -> int:
    rule = (await Rules(world.db).list_for(world.account.owner_id))[0]
    async with world.db.transaction() as tx:
        alert_id = await Alerts(tx.db).next_id(tx=tx)
    alert = Alert(
        alert_id, rule.id, world.account.id, key, AlertStatus.FIRING, at, 1, 3.0, 3.0,
        fired_at=at, acked_at=at + 60 if acked else None,
    )  # fmt: skip
    await _apply(world, alert, Reason.FIRST, at)
    return alert_id


async def _day(world: _World, day: int) -> float:
    """08:00 a digest, 10:00 an alert fires, 11:00 it resolves, a silence, a code; everything
    deliverable is sent. Returns the evening, when the retention job runs."""
    db, t = world.db, T0 + day * DAY
    async with db.transaction() as tx:
        queued = NewMessage(f"digest:1:{day}", None, Platform.TELEGRAM, "1", Severity.INFO,
                            _digest(t + 8 * 3600))  # fmt: skip
        await Outbox(tx.db).enqueue([queued], now=t + 8 * 3600, tx=tx)
    alert_id = await _fire(world, t + 10 * 3600, "ETH/USDT:USDT:long")
    (fired,) = [a for a in await Alerts(db).live_for(world.account.owner_id) if a.id == alert_id]
    resolved_at = t + 11 * 3600
    resolved = Alert(**{**fired.__dict__, "status": AlertStatus.RESOLVED,
                        "resolved_at": resolved_at})  # fmt: skip
    await _apply(world, resolved, Reason.RESOLVED, resolved_at)
    await Alerts(db).add_silence(
        world.account.owner_id, {}, starts_at=t + 12 * 3600, ends_at=t + 14 * 3600
    )
    await Users(db).issue_code(world.strangers[day], f"CODE{day}", expires_at=t + 15 * 3600)
    outbox = Outbox(db)
    claimed = await outbox.claim(t + 16 * 3600, 100, 60.0, platforms=[Platform.TELEGRAM])
    await outbox.mark_sent_many([(c.id, t + 16 * 3600, f"m{c.id}") for c in claimed])
    return t + 23 * 3600


async def _year(db: Database, *, pruned: bool) -> tuple[_World, _Count, _Count]:
    """A year of days, the real retention job run each evening (or never): the counts at
    ``PLATEAU_DAY`` and at the year's end."""
    world = await _world(db)
    evening = FakeClock(0.0)
    job = RetentionJob(db, RetentionPolicy(), clock=evening)
    plateau = None
    for day in range(DAYS):
        evening.now = await _day(world, day)
        if pruned:
            await job.run()
        if day == PLATEAU_DAY:
            plateau = await _count(db)
    assert plateau is not None
    return world, plateau, await _count(db)


@pytest.mark.slow
async def test_a_year_of_digests_and_alerts_stays_bounded(db: Database) -> None:
    """Pruned daily, a year ends with a month of messages, three months of resolved alerts,
    no chart left behind, and a file no bigger than at month six; the live alert, its
    decisions, the undelivered message and the live silence are all still there."""
    world, plateau, end = await _year(db, pruned=True)
    assert _bounds_broken(plateau, end) == set()
    assert [a.id for a in await Alerts(db).live_for(world.account.owner_id)] == [world.live_alert]
    assert len(await Alerts(db).decisions(world.live_alert)) == 1
    assert (await Outbox(db).get(world.undelivered)) is not None
    silences = await Alerts(db).silences(world.account.owner_id, T0 + DAYS * DAY)
    assert [s.id for s in silences] == [world.live_silence]
    refs = await Outbox(db).related_refs(Platform.TELEGRAM, "1", [world.live_alert])
    assert len(refs) == 1  # its resolved notice will still reply to it


@pytest.mark.slow
async def test_without_pruning_the_same_year_breaks_every_bound(db: Database) -> None:
    """The control: the same year with the job never run outgrows every bound but the
    charts' (those go when sent, pruning or not), so the test above can fail."""
    _, plateau, end = await _year(db, pruned=False)
    assert _bounds_broken(plateau, end) == {
        "outbox", "alerts", "decisions", "silences", "codes", "size",
    }  # fmt: skip
