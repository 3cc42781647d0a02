"""Delivery faults: the delivery loop crashing (a bug), and a chat platform answering 5xx for
a minute. Nothing lost; duplicates only where at-least-once allows them, and counted; the loop
alive; the operator told."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.delivery.channel import Outgoing
from bot.delivery.notifier import Notifier
from bot.delivery.ops import OpsAlerts
from bot.errors import DeliveryError
from bot.exchanges import ExchangeHub
from bot.monitor.poller import Monitor
from bot.monitor.watchdog import Heartbeat
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
from engine.alerts.events import NoticeKind, OpsNotice
from engine.domain import Platform
from storage import Database
from storage.outbox import Outbox
from tests.fakes.channel import FakeChannel
from tests.fakes.clock import NOW, FakeClock
from tests.fakes.exchange import FakeExchange
from tests.fakes.notices import message
from tests.faults.conftest import OPS_CHAT, USER_CHAT, Stack, open_stack, until

pytestmark = pytest.mark.slow


class _PacingBug:
    """A channel whose pacing call raises once: a bug that escapes into the delivery loop
    itself (not a send, which the notifier already contains)."""

    def __init__(self, inner: FakeChannel) -> None:
        self.inner, self.platform, self.raised = inner, inner.platform, 0

    def min_interval_s(self, chat_id: str) -> float:
        if not self.raised:
            self.raised += 1
            raise RuntimeError("pacing table corrupted")
        return self.inner.min_interval_s(chat_id)

    async def send(self, message: Outgoing) -> str | None:
        return await self.inner.send(message)


@pytest.fixture
async def buggy(tmp_path: Path, fake: FakeExchange) -> AsyncIterator[Stack]:
    async for built in open_stack(tmp_path / "liqwatch.db", fake, wrap=_PacingBug):
        yield built


async def test_a_crashed_delivery_loop_is_restarted_and_told(buggy: Stack) -> None:
    """The loop dies on its first dispatch; the supervisor restarts it a second later, the
    warning it held goes out once, and the ops chat hears of the crash."""
    await buggy.link_sol(0)
    await buggy.polled(1)  # SOL sits ~6 % from liquidation: the first poll warns
    statuses = await buggy.settled(30)
    assert set(statuses) == {"sent"}
    assert list(buggy.delivered().values()) == [1]
    assert buggy.runtime.supervisor.crashes["notifier"] == 1 and buggy.delivering
    await until(lambda: bool(buggy.told(NoticeKind.TASK_FAILED)), 30)
    crash = buggy.told(NoticeKind.TASK_FAILED)[0]
    assert crash.subject == "notifier" and "RuntimeError" in (crash.detail or "")


class _Outage:
    """A chat platform answering 502 until ``until``; every third 502 came after the
    platform had in fact delivered the message (a gateway timing out on its way back)."""

    def __init__(self, inner: FakeChannel, clock: Callable[[], float], until: float) -> None:
        self.inner, self.platform, self.clock, self.until = inner, inner.platform, clock, until
        self.failures = self.ghosts = 0

    def min_interval_s(self, chat_id: str) -> float:
        return self.inner.min_interval_s(chat_id)

    async def send(self, message: Outgoing) -> str | None:
        if self.clock() < self.until:
            self.failures += 1
            if self.failures % 3 == 0:
                await self.inner.send(message)
                self.ghosts += 1
            raise DeliveryError("Bad Gateway (HTTP 502)", retryable=True)
        return await self.inner.send(message)


async def test_a_chat_platform_down_for_a_minute(tmp_path: Path) -> None:
    """Five alerts queued as Telegram starts answering 502 for 60 s (virtual time: the real
    notifier, outbox, watchdog and ops sink on a fake clock). The operator is told directly
    once the oldest message waited 30 s, and again when it recovers; every alert arrives;
    the only duplicates are the platform's own ghost deliveries, one each."""
    clock = FakeClock(NOW)
    chat = FakeChannel(Platform.TELEGRAM, clock=clock)
    outage = _Outage(chat, clock, until=NOW + 60.0)
    ops_channel = FakeChannel(Platform.DISCORD, clock=clock)
    channels = {Platform.TELEGRAM: outage, Platform.DISCORD: ops_channel}
    async with (
        Database.open(tmp_path / "liqwatch.db") as db,
        ExchangeHub(rate_limit=False) as hub,
    ):
        notifier = Notifier(db, channels, clock=clock, sleep=clock.sleep, global_per_s=math.inf)
        ops = OpsAlerts(db, (Platform.DISCORD, OPS_CHAT), channels=channels, clock=clock)
        monitor = Monitor(db=db, hub=hub, vault=Vault(Secret(generate_key())), poll_s=30.0)
        watchdog = Heartbeat(
            db, monitor, ops, stall_s=60.0, delivery_stall_s=30.0, platforms=tuple(channels),
            storage_failing=notifier.storage_trouble_since, clock=clock,
        )  # fmt: skip
        async with db.transaction() as tx:
            await Outbox(tx.db).enqueue([message(USER_CHAT) for _ in range(5)], now=clock(), tx=tx)
        while clock.now < NOW + 300.0:
            await notifier.drain()
            await watchdog.check_delivery()
            clock.advance(5.0)
        counts = await Outbox(db).counts()
    told = [d.message.notice for d in ops_channel.sent]
    assert [n.kind for n in told if isinstance(n, OpsNotice)] == [
        NoticeKind.DELIVERY_STALLED,
        NoticeKind.DELIVERY_RECOVERED,
    ]
    assert "Bad Gateway" in (told[0].detail or "")  # type: ignore[union-attr]
    # the five alerts and "recovered" (the stall alert went around the outbox)
    assert counts["sent"] == 6 and counts["pending"] == counts["dead"] == 0
    arrived = Counter(d.dedup_key for d in chat.sent)
    assert len(arrived) == 5 and outage.ghosts > 0
    assert sum(arrived.values()) - 5 == outage.ghosts, "duplicates are the ghosts, counted"
