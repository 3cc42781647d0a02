"""Digest scheduling over a real database and a real APScheduler: DST-correct triggers, one
catch-up after downtime, the job run directly and through the scheduler, charts in the outbox."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from PIL import Image

from bot.analysis.snapshot import load
from bot.delivery.notifier import Notifier
from bot.digest import build as digest
from bot.digest.jobs import DigestJobs, last_fire, trigger
from engine.alerts.events import DigestNotice, to_payload
from engine.analysis import analyze
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.digests import Digests, Subscription
from storage.outbox import Outbox
from storage.shares import Shares
from storage.users import Users
from tests.fakes.channel import FakeChannel
from tests.fakes.clock import FakeClock

EXAMPLE = Path(__file__).parents[3] / "examples" / "binanceusdm.json"
#: A claim time after anything the tests queue.
FAR_FUTURE = 4e9


def _sub(local_time: str, tz: str) -> Subscription:
    return Subscription(1, 1, Platform.TELEGRAM, "1", (), local_time, tz, 0.0, None)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_trigger_keeps_local_time_across_dst() -> None:
    """08:00 Europe/Paris is 07:00 UTC before 29 March 2026 and 06:00 UTC after; New York
    moves on 8 March. Checked without running the scheduler."""
    paris = trigger(_sub("08:00", "Europe/Paris"))
    first = paris.get_next_fire_time(None, _utc("2026-03-28T00:00:00"))
    second = paris.get_next_fire_time(first, _utc("2026-03-28T07:00:01"))
    assert first == _utc("2026-03-28T07:00:00")
    assert second == _utc("2026-03-29T06:00:00")
    autumn = paris.get_next_fire_time(None, _utc("2026-10-25T00:00:00"))
    assert autumn == _utc("2026-10-25T07:00:00")  # back to winter time
    york = trigger(_sub("07:30", "America/New_York"))
    assert york.get_next_fire_time(None, _utc("2026-03-08T00:00:00")) == _utc("2026-03-08T11:30:00")
    assert last_fire(paris, _utc("2026-03-29T05:59:00").timestamp()) == (
        _utc("2026-03-28T07:00:00").timestamp()
    )


World = tuple[Database, DigestJobs, AsyncIOScheduler, int]


@pytest.fixture
async def world(
    tmp_path: Path,
) -> AsyncIterator[tuple[Database, DigestJobs, AsyncIOScheduler, int]]:
    async with Database.open(str(tmp_path / "db.sqlite")) as db:
        user = await Users(db).ensure(Platform.TELEGRAM, "1", "Ann", "1", now=1.0)
        account = await Accounts(db).add(
            user.id, "binanceusdm", "desk", wallet_address="x", now=1.0
        )
        loaded = load(EXAMPLE)
        latest = {account.id: analyze(loaded.snapshot, volatility=loaded.volatility)}
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start()
        clock = FakeClock(_utc("2026-11-26T12:00:00").timestamp())
        jobs = DigestJobs(db, scheduler, latest, clock=clock)
        try:
            yield db, jobs, scheduler, user.id
        finally:
            scheduler.shutdown(wait=False)


async def _digests(db: Database) -> list[DigestNotice]:
    """The queued digests as the notifier gets them (charts attached at claim), left pending."""
    outbox = Outbox(db)
    claimed = await outbox.claim(FAR_FUTURE, 100, 60.0)
    await outbox.release([c.id for c in claimed])
    return [
        c.notice for c in sorted(claimed, key=lambda c: c.id) if isinstance(c.notice, DigestNotice)
    ]


async def test_a_missed_digest_is_sent_once_at_start_up(world: World) -> None:
    db, jobs, _, owner = world
    now = jobs.clock()
    three_days_ago = now - 3 * 86400
    sub = await Digests(db).subscribe(
        owner, Platform.TELEGRAM, "1", (), "08:00", "Europe/Paris", now=three_days_ago
    )
    assert await jobs.catch_up() == 1
    assert await jobs.catch_up() == 0  # not once per missed day, and not twice
    (notice,) = await _digests(db)
    assert notice.subscription_id == sub.id and "desk" not in notice.title
    assert "Equity" in notice.text and [c.name for c in notice.charts] == [
        "exposure.png", "ladder.png", "equity.png",
    ]  # fmt: skip
    for chart in notice.charts:
        image = Image.open(io.BytesIO(base64.b64decode(chart.png_base64)))
        assert image.format == "PNG" and 800 <= image.size[0] <= 1000


async def test_the_charts_are_kept_beside_the_outbox_row_not_in_it(world: World) -> None:
    """The row's payload keeps the text only (a few KB, not ~190 KB of base64); the PNGs wait
    in outbox_charts until the row is sent, then go."""
    db, jobs, _, owner = world
    await Digests(db).subscribe(owner, Platform.TELEGRAM, "1", (), "08:00", "UTC", now=0.0)
    await jobs.deliver((await Digests(db).all())[0].id)
    (row,) = await db.fetchall("SELECT id, payload_json FROM outbox")
    payload = json.loads(row["payload_json"])
    assert payload["charts"] == [] and len(row["payload_json"]) < 10_000
    (stored,) = await db.fetchall("SELECT count(*) AS n FROM outbox_charts")
    assert stored["n"] == 3
    await Outbox(db).mark_sent(int(row["id"]), jobs.clock(), "m-1")
    assert await db.fetchall("SELECT outbox_id FROM outbox_charts") == []


async def test_the_job_runs_through_the_scheduler(world: World) -> None:
    db, jobs, scheduler, owner = world
    sub = await Digests(db).subscribe(
        owner, Platform.TELEGRAM, "1", (), "08:00", "UTC", now=jobs.clock()
    )
    await jobs.sync()
    job = scheduler.get_job(f"digest:{sub.id}")
    assert job is not None and str(job.trigger.timezone) == "UTC"
    job.modify(next_run_time=datetime.now(UTC))  # fire now, through APScheduler
    for _ in range(100):
        if await _digests(db):
            break
        await asyncio.sleep(0.1)
    assert len(await _digests(db)) == 1
    assert (await Digests(db).get(sub.id)).last_sent_at == jobs.clock()  # type: ignore[union-attr]
    await Digests(db).unsubscribe(Platform.TELEGRAM, "1")
    await jobs.sync()
    assert scheduler.get_job(f"digest:{sub.id}") is None


async def test_a_chat_with_no_accounts_gets_nothing_to_report(world: World) -> None:
    db, jobs, _, owner = world
    await Digests(db).subscribe(owner, Platform.TELEGRAM, "-100555", (), "08:00", "UTC", now=0.0)
    sub = (await Digests(db).all())[0]
    await jobs.deliver(sub.id)
    (notice,) = await _digests(db)
    assert notice.text.startswith("Nothing to report") and notice.charts == ()


async def test_named_accounts_in_a_group_come_once_and_only_if_still_shared(world: World) -> None:
    """A group digest naming the owner's own shared account, another member's and one the
    owner unshared since: each still-shared account once, in the subscription's order; the
    unshared one stays out of the group."""
    db, jobs, _, owner = world
    desk = (await Accounts(db).list_for(owner))[0]
    hedge = await Accounts(db).add(owner, "okx", "hedge", wallet_address="h", now=1.0)
    bob = await Users(db).ensure(Platform.TELEGRAM, "2", "Bob", "2", now=1.0)
    bobs = await Accounts(db).add(bob.id, "bybit", "bobs", wallet_address="b", now=1.0)
    shares = Shares(db)
    for at, (account, by) in enumerate(((bobs, bob.id), (desk, owner), (hedge, owner))):
        await shares.add(Platform.TELEGRAM, "-100555", account.id, by, thread_id="42", now=at)
    ids = (desk.id, hedge.id, bobs.id)
    sub = await Digests(db).subscribe(
        owner, Platform.TELEGRAM, "-100555#42", ids, "08:00", "UTC", now=0.0
    )
    await shares.remove(Platform.TELEGRAM, "-100555", hedge.id)

    found = await jobs.accounts_for(sub)

    assert [a.label for a in found] == ["desk", "bobs"]


async def test_named_accounts_in_a_private_chat_come_in_the_subscription_order(
    world: World,
) -> None:
    """In the owner's private chat the named accounts are theirs, in the order they named."""
    db, jobs, _, owner = world
    hedge = await Accounts(db).add(owner, "okx", "hedge", wallet_address="h", now=1.0)
    desk = next(a for a in await Accounts(db).list_for(owner) if a.label == "desk")
    sub = await Digests(db).subscribe(
        owner, Platform.TELEGRAM, "1", (hedge.id, desk.id), "08:00", "UTC", now=0.0
    )

    assert [a.label for a in await jobs.accounts_for(sub)] == ["hedge", "desk"]


async def _deliver_all(db: Database) -> FakeChannel:
    """Everything due, through the real notifier, to a fake Telegram channel."""
    clock = FakeClock(FAR_FUTURE)
    channel = FakeChannel(Platform.TELEGRAM, clock=clock, sleep=clock.passive_sleep)
    notifier = Notifier(
        db, {Platform.TELEGRAM: channel}, clock=clock, sleep=clock.sleep, global_per_s=1e9
    )
    await notifier.drain()
    return channel


async def test_the_notifier_sends_the_charts_then_they_are_gone(world: World) -> None:
    """The channel gets the three charts the digest was built with; once sent, only the
    row's text is kept."""
    db, jobs, _, owner = world
    await Digests(db).subscribe(owner, Platform.TELEGRAM, "1", (), "08:00", "UTC", now=0.0)
    await jobs.deliver((await Digests(db).all())[0].id)
    (delivery,) = (await _deliver_all(db)).sent
    notice = delivery.message.notice
    assert isinstance(notice, DigestNotice) and len(notice.charts) == 3
    assert Image.open(io.BytesIO(base64.b64decode(notice.charts[0].png_base64))).format == "PNG"
    assert await db.fetchall("SELECT outbox_id FROM outbox_charts") == []


async def test_a_digest_queued_before_the_upgrade_still_sends_its_charts(world: World) -> None:
    """A pending digest an older liqwatch queued with its charts inside the payload goes out
    whole through the notifier."""
    db, jobs, _, _ = world
    built = await jobs.charts(await digest.build(db, [], jobs.latest, now=jobs.clock()))
    old = DigestNotice(0, jobs.clock(), "Daily digest", "Nothing to report", built)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO outbox (dedup_key, platform, chat_id, severity, payload_json,"
            " next_attempt_at, created_at) VALUES ('old', 'telegram', '1', 'info', ?, 0, 0)",
            (json.dumps(to_payload(old)),),
        )
    (delivery,) = (await _deliver_all(db)).sent
    assert delivery.message.notice == old and len(old.charts) == 3


async def test_workers_firing_the_same_digest_queue_it_once(world: World) -> None:
    """Two workers on one database both fire 08:00 (their schedulers each hold the job), a
    few seconds apart (one with the next minute on its clock): the first to claim queues it,
    the other queues nothing; the next day's fire is a new occurrence."""
    db, jobs, scheduler, owner = world
    jobs.clock.now = _utc("2026-11-27T07:00:00").timestamp()  # 08:00 Paris
    sub = await Digests(db).subscribe(
        owner, Platform.TELEGRAM, "1", (), "08:00", "Europe/Paris", now=jobs.clock.now - 86400
    )
    other = DigestJobs(db, scheduler, jobs.latest, clock=FakeClock(jobs.clock.now + 61))
    assert await jobs.deliver(sub.id) is True
    assert await other.deliver(sub.id) is False
    assert len(await _digests(db)) == 1
    jobs.clock.now += 86400
    assert await jobs.deliver(sub.id) is True
    assert len(await _digests(db)) == 2
