"""Operator messages: queued in the outbox, or sent directly when the database refuses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.delivery.ops import OpsAlerts
from engine.alerts.events import NoticeKind, OpsNotice
from engine.alerts.rules import Severity
from engine.domain import Platform
from storage import Database
from storage.outbox import Outbox
from tests.fakes.channel import FakeChannel
from tests.fakes.clock import NOW, FakeClock

OPS = (Platform.DISCORD, "555")
NOTICE = OpsNotice(
    NoticeKind.OPERATOR, NOW, Severity.CRITICAL, 3, subject="database", detail="disk full"
)


async def test_an_ops_message_is_queued_and_wakes_the_notifier(tmp_path: Path) -> None:
    """The normal way out: one outbox row for the ops chat, the notifier woken."""
    woken: list[bool] = []
    async with Database.open(tmp_path / "liqwatch.db") as db:
        ops = OpsAlerts(db, OPS, wake=lambda: woken.append(True))
        assert await ops.tell(NOTICE, "ops:test")
        assert await ops.tell(NOTICE, "ops:test")  # the same key again: still one row
        row = await Outbox(db).by_key("ops:test")
        counts = await Outbox(db).counts()
    assert row is not None and (row.platform, row.chat_id) == ("discord", "555")
    assert sum(counts.values()) == 1 and woken == [True]


async def test_a_locked_database_sends_the_message_directly(tmp_path: Path) -> None:
    """The outbox cannot carry it: the ops chat's channel gets it at once, nothing is queued."""
    clock = FakeClock()
    channel = FakeChannel(Platform.DISCORD, clock=clock)
    path = tmp_path / "liqwatch.db"
    async with Database.open(path, busy_timeout_s=0.1) as db:
        ops = OpsAlerts(db, OPS, channels={Platform.DISCORD: channel})
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            assert await ops.tell(NOTICE, "ops:locked")
        finally:
            other.rollback()
            other.close()
        assert await Outbox(db).by_key("ops:locked") is None
    assert [d.message.notice for d in channel.sent] == [NOTICE] and ops.direct_sent == 1


async def test_without_an_ops_chat_the_log_is_all(tmp_path: Path) -> None:
    """No LIQWATCH_OPS_CHAT: nothing is queued (there is nowhere to send it)."""
    async with Database.open(tmp_path / "liqwatch.db") as db:
        assert not await OpsAlerts(db, None).tell(NOTICE, "ops:none")
        assert sum((await Outbox(db).counts()).values()) == 0
