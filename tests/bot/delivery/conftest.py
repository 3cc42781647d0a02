"""Fixtures: a real database, a virtual clock, a fake Telegram channel and a notifier."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.channel import Channel
from bot.delivery.notifier import Notifier
from engine.domain import Platform
from storage.db import Database
from storage.outbox import NewMessage, Outbox
from tests.fakes.channel import FakeChannel
from tests.fakes.clock import NOW, FakeClock

MakeNotifier = Callable[..., Notifier]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(tmp_path / "liqwatch.db") as database:
        yield database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def channel(clock: FakeClock) -> FakeChannel:
    return FakeChannel(Platform.TELEGRAM, clock=clock, sleep=clock.passive_sleep)


@pytest.fixture
def make_notifier(db: Database, clock: FakeClock, channel: FakeChannel) -> MakeNotifier:
    """A notifier on the fake clock; by default the Telegram fake only, no global limit."""

    def make(channels: dict[Platform, Channel] | None = None, **kwargs: Any) -> Notifier:
        options: dict[str, Any] = {"global_per_s": float("inf"), **kwargs}
        chosen: dict[Platform, Channel] = channels or {Platform.TELEGRAM: channel}
        return Notifier(db, chosen, clock=clock, sleep=clock.sleep, **options)

    return make


@pytest.fixture
def notifier(make_notifier: MakeNotifier) -> Notifier:
    return make_notifier()


async def enqueue(db: Database, *messages: NewMessage, now: float = NOW) -> int:
    """Queue messages the way the alert stage does: in one transaction of its own."""
    async with db.transaction() as tx:
        return await Outbox(tx.db).enqueue(messages, now=now, tx=tx)


async def deliver_all(notifier: Notifier, clock: FakeClock, db: Database, rounds: int = 50) -> None:
    """Drain, jump to the next retry, drain again… until nothing is left pending."""
    outbox = Outbox(db)
    for _ in range(rounds):
        await notifier.drain()
        due = await outbox.next_due()
        if due is None:
            return
        clock.advance(max(0.0, due - clock.now))
    raise AssertionError("the outbox never emptied")
