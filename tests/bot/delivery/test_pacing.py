"""Pacing: per chat and globally, and most severe first when a backlog forms."""

from __future__ import annotations

from engine.alerts.rules import Severity
from storage.db import Database
from tests.bot.delivery.conftest import MakeNotifier, enqueue
from tests.fakes.channel import FakeChannel
from tests.fakes.clock import NOW
from tests.fakes.notices import message


async def test_a_chat_gets_at_most_one_message_per_interval(
    db: Database, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """Three messages to a 20-per-minute group chat go 3 s apart."""
    channel.set_interval("group", 3.0)
    await enqueue(db, *(message("group") for _ in range(3)))
    await make_notifier().drain()
    assert [d.at - NOW for d in channel.sent_to("group")] == [0.0, 3.0, 6.0]


async def test_pacing_one_chat_does_not_pace_another(
    db: Database, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """Each chat has its own interval: a private chat is not held to a group's pace."""
    channel.set_interval("group", 3.0)
    channel.set_interval("private", 1.0)
    await enqueue(
        db, *(message("group") for _ in range(2)), *(message("private") for _ in range(3))
    )
    await make_notifier().drain()
    assert [d.at - NOW for d in channel.sent_to("group")] == [0.0, 3.0]
    assert [d.at - NOW for d in channel.sent_to("private")] == [0.0, 1.0, 2.0]


async def test_the_global_limit_spaces_sends_across_chats(
    db: Database, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """At 4 messages per second overall, ten chats' messages go a quarter second apart."""
    await enqueue(db, *(message(f"chat-{n}") for n in range(10)))
    await make_notifier(global_per_s=4.0).drain()
    times = [d.at - NOW for d in channel.sent]
    assert times == [n * 0.25 for n in range(10)]


async def test_a_backlog_in_one_chat_goes_critical_warning_info(
    db: Database, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """Queued oldest-first as info, warning, critical, a paced chat sends them the other way."""
    channel.set_interval("100", 1.0)
    await enqueue(db, message(key="i", severity=Severity.INFO), now=NOW - 3)
    await enqueue(db, message(key="w", severity=Severity.WARNING), now=NOW - 2)
    await enqueue(db, message(key="c", severity=Severity.CRITICAL), now=NOW - 1)
    await make_notifier().drain()
    assert [d.dedup_key for d in channel.sent] == ["c", "w", "i"]


async def test_a_global_backlog_goes_most_severe_first_across_chats(
    db: Database, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """Under the global limit the most severe message of any chat takes the next slot."""
    await enqueue(db, message("a", key="a-info", severity=Severity.INFO))
    await enqueue(db, message("b", key="b-warn", severity=Severity.WARNING))
    await enqueue(db, message("c", key="c-crit", severity=Severity.CRITICAL))
    await enqueue(db, message("a", key="a-crit", severity=Severity.CRITICAL))
    await make_notifier(global_per_s=1.0).drain()
    assert [d.dedup_key for d in channel.sent] == ["c-crit", "a-crit", "b-warn", "a-info"]
