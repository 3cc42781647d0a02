"""Nothing is lost: leases after a crash, dedup keys, corrupt rows, unconfigured platforms."""

from __future__ import annotations

import asyncio

from bot.delivery.notifier import Notifier
from engine.alerts.events import AlertStatus, Reason
from engine.domain import Platform
from storage.db import Database
from storage.outbox import Outbox, OutboxStatus
from tests.bot.delivery.conftest import MakeNotifier, enqueue
from tests.fakes.channel import FakeChannel
from tests.fakes.clock import NOW, FakeClock
from tests.fakes.notices import alert_notice, item, message


async def test_a_row_leased_by_a_crashed_notifier_is_sent_after_the_lease(
    db: Database, clock: FakeClock, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """Claimed and never marked (killed mid-send): a new notifier sends it once the lease ends."""
    await enqueue(db, message(key="k"))
    await Outbox(db).claim(NOW, 10, 60.0)  # the notifier that died
    restarted = make_notifier(lease_s=60.0)
    clock.advance(10.0)
    await restarted.drain()
    assert channel.calls == []
    clock.advance(50.0)
    await restarted.drain()
    assert [(d.dedup_key, d.at) for d in channel.sent] == [("k", NOW + 60.0)]


async def test_a_cancelled_run_hands_back_its_unsent_rows(
    db: Database, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """Stopping run() mid-backlog releases queued rows: the next notifier sends them at once."""
    channel.set_interval("100", 3600.0)
    await enqueue(db, *(message("100", key=f"k{n}") for n in range(3)))
    notifier = make_notifier()
    task = asyncio.create_task(notifier.run())
    async with asyncio.timeout(30):
        await channel.wait_sent(1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    channel.set_interval("100", 0.0)
    await make_notifier().drain()
    assert [d.dedup_key for d in channel.sent] == ["k0", "k1", "k2"]


async def test_the_same_dedup_key_is_delivered_once(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """A stage re-run after a crash queues the same key again: one row, one send."""
    await enqueue(db, message(key="alert-12:first:telegram:100"))
    await enqueue(db, message(key="alert-12:first:telegram:100"))
    await notifier.drain()
    assert [d.dedup_key for d in channel.sent] == ["alert-12:first:telegram:100"]


async def test_a_corrupt_row_is_dead_lettered_and_the_rest_delivered(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """A payload that no longer parses is dead-lettered; the notifier carries on."""
    await enqueue(db, message(key="bad"), message(key="good"))
    async with db.transaction() as tx:
        await tx.execute("UPDATE outbox SET payload_json = 'not json' WHERE dedup_key = 'bad'")
    await notifier.drain()
    assert [d.dedup_key for d in channel.sent] == ["good"]
    bad = await Outbox(db).by_key("bad")
    assert bad is not None and bad.status is OutboxStatus.DEAD
    assert bad.last_error is not None and bad.last_error.startswith("corrupt payload")


async def test_a_platform_without_a_channel_stays_pending(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """No Discord channel configured: its rows wait (not lost); Telegram's are sent."""
    await enqueue(db, message(key="d", platform=Platform.DISCORD), message(key="t"))
    await notifier.drain()
    assert [d.dedup_key for d in channel.sent] == ["t"]
    row = await Outbox(db).by_key("d")
    assert row is not None and (row.status, row.attempts) == (OutboxStatus.PENDING, 0)


async def test_wake_delivers_rows_committed_while_running(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """run() idles until wake(); the alert stage calls it after its commit."""
    task = asyncio.create_task(notifier.run())
    try:
        await enqueue(db, message(key="k"))
        notifier.wake()
        async with asyncio.timeout(30):
            await channel.wait_sent(1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    row = await Outbox(db).by_key("k")
    assert row is not None and row.status is OutboxStatus.SENT


async def test_a_resolved_notice_carries_the_alerts_earlier_message_ids(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """The channel gets the platform ids of the alert's earlier messages, to reply to them."""
    await enqueue(db, message(key="fired", notice=alert_notice(item(12))))
    await notifier.drain()
    resolved = item(12, status=AlertStatus.RESOLVED, reason=Reason.RESOLVED, duration_s=420.0)
    await enqueue(db, message(key="resolved", notice=alert_notice(resolved)))
    await notifier.drain()
    first, second = channel.sent
    assert second.message.related_refs == ("telegram-1",)
    assert first.message.related_refs == ()
