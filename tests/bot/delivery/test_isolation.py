"""One slow or failing chat, or channel, never holds up another."""

from __future__ import annotations

import asyncio

from bot.delivery.notifier import Notifier
from engine.domain import Platform
from storage.db import Database
from tests.bot.delivery.conftest import MakeNotifier, enqueue
from tests.fakes.channel import FakeChannel, transient
from tests.fakes.clock import NOW, FakeClock
from tests.fakes.notices import message


async def test_a_slow_chat_does_not_delay_another(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """A send that takes 100 s to one chat; another chat's paced messages go on time."""
    channel.latency("slow", 100.0)
    channel.set_interval("fast", 1.0)
    await enqueue(db, message("slow", key="slow"))
    await enqueue(db, *(message("fast", key=f"fast-{n}") for n in range(3)))
    await notifier.drain()
    assert [d.at - NOW for d in channel.sent_to("fast")] == [0.0, 1.0, 2.0]
    assert [d.at - NOW for d in channel.sent_to("slow")] == [100.0]


async def test_a_stalled_send_does_not_block_run(
    db: Database, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """While one chat's send hangs, run() keeps delivering to the others."""
    release = channel.hold("stuck")
    await enqueue(db, message("stuck", key="stuck"))
    await enqueue(db, *(message(f"ok-{n}", key=f"ok-{n}") for n in range(3)))
    notifier = make_notifier()
    task = asyncio.create_task(notifier.run())
    try:
        async with asyncio.timeout(30):
            await channel.wait_sent(3)
            assert channel.sent_to("stuck") == []
            release.set()
            await channel.wait_sent(4)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_failing_chat_does_not_delay_another(
    db: Database, clock: FakeClock, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """A chat failing every attempt and backing off does not hold another chat's queue."""
    channel.fail_always("broken", transient())
    channel.set_interval("fine", 1.0)
    await enqueue(db, message("broken", key="broken"))
    await enqueue(db, *(message("fine", key=f"fine-{n}") for n in range(3)))
    await make_notifier().drain()
    assert [d.at - NOW for d in channel.sent_to("fine")] == [0.0, 1.0, 2.0]
    assert channel.calls_to("broken") != []


async def test_a_failing_platform_does_not_delay_another(
    db: Database, clock: FakeClock, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """Discord timing out on every chat does not slow Telegram down."""
    discord = FakeChannel(Platform.DISCORD, clock=clock, sleep=clock.passive_sleep)
    for n in range(3):
        discord.fail_always(f"d-{n}", transient("Discord 503"))
        discord.latency(f"d-{n}", 30.0)
    await enqueue(db, *(message(f"d-{n}", platform=Platform.DISCORD) for n in range(3)))
    await enqueue(db, *(message(f"t-{n}") for n in range(3)))
    notifier = make_notifier({Platform.TELEGRAM: channel, Platform.DISCORD: discord})
    await notifier.drain()
    assert [d.at - NOW for d in channel.sent] == [0.0, 0.0, 0.0]
    assert len(discord.calls) == 3 and discord.sent == []
