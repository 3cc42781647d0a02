"""Failures: retry_after, backoff, giving up, and blocking a chat that refuses for good."""

from __future__ import annotations

from bot.delivery.notifier import Notifier
from engine.domain import Platform
from storage.chats import Chats
from storage.db import Database
from storage.outbox import Outbox, OutboxStatus
from tests.bot.delivery.conftest import MakeNotifier, deliver_all, enqueue
from tests.fakes.channel import FakeChannel, permanent, rate_limited, transient
from tests.fakes.clock import NOW, FakeClock
from tests.fakes.notices import message


async def test_retry_after_delays_the_next_attempt(
    db: Database, clock: FakeClock, channel: FakeChannel, notifier: Notifier
) -> None:
    """A 429 with retry_after 30 s: the row is retried at +30 s, not before."""
    channel.fail("100", rate_limited(30.0))
    await enqueue(db, message(key="k"))
    await notifier.drain()
    row = await Outbox(db).by_key("k")
    assert row is not None and (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert row.next_attempt_at == NOW + 30.0
    clock.advance(29.0)
    await notifier.drain()
    assert channel.sent == []
    clock.advance(1.0)
    await notifier.drain()
    assert [d.at for d in channel.sent] == [NOW + 30.0]


async def test_retry_after_pauses_that_chat_only(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """Other messages to the rate-limited chat wait out retry_after; other chats do not."""
    channel.fail("100", rate_limited(30.0))
    await enqueue(db, message("100", key="first"), message("100", key="second"))
    await enqueue(db, message("200", key="other"))
    await notifier.drain()
    assert [(d.dedup_key, d.at - NOW) for d in channel.sent_to("200")] == [("other", 0.0)]
    assert [d.at - NOW for d in channel.sent_to("100")] == [30.0, 30.0]


async def test_transient_errors_back_off_exponentially_up_to_the_cap(
    db: Database, clock: FakeClock, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """Retries wait 1, 2, 4 s… capped at max_backoff_s (here 3 s)."""
    channel.fail("100", transient(), transient(), transient(), transient())
    await enqueue(db, message(key="k"))
    notifier = make_notifier(backoff_s=1.0, max_backoff_s=3.0)
    await deliver_all(notifier, clock, db)
    assert [d.at - NOW for d in channel.calls] == [0.0, 1.0, 3.0, 6.0, 9.0]
    row = await Outbox(db).by_key("k")
    assert row is not None and (row.status, row.attempts) == (OutboxStatus.SENT, 5)


async def test_a_row_is_dead_lettered_after_max_attempts(
    db: Database, clock: FakeClock, channel: FakeChannel, make_notifier: MakeNotifier
) -> None:
    """A chat that keeps failing transiently is given up after max_attempts, with the error."""
    channel.fail_always("100", transient("Bad Gateway"))
    await enqueue(db, message(key="k"))
    await deliver_all(make_notifier(max_attempts=3), clock, db)
    assert len(channel.calls) == 3
    row = await Outbox(db).by_key("k")
    assert row is not None and row.status is OutboxStatus.DEAD
    assert row.last_error == "gave up after 3 attempts: Bad Gateway"


async def test_a_permanent_error_dead_letters_and_blocks_the_chat(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """Bot blocked: the row is dead, the chat is marked blocked with the platform's reason."""
    channel.fail("100", permanent("Forbidden: bot was blocked by the user"))
    await enqueue(db, message(key="k"))
    await notifier.drain()
    row = await Outbox(db).by_key("k")
    assert row is not None and row.status is OutboxStatus.DEAD
    assert row.last_error == "Forbidden: bot was blocked by the user"
    chat = await Chats(db).get(Platform.TELEGRAM, "100")
    assert chat.blocked_at == NOW
    assert chat.blocked_reason == "Forbidden: bot was blocked by the user"


async def test_a_message_refused_for_good_does_not_block_its_chat(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """A permanent error about the message (not the chat) dead-letters that row only; the
    chat's next message is delivered."""
    channel.fail("100", permanent("Bad Request: message is too long", chat_gone=False))
    await enqueue(db, message("100", key="a"), message("100", key="b"))
    await notifier.drain()
    assert [d.dedup_key for d in channel.sent] == ["b"]
    row = await Outbox(db).by_key("a")
    assert row is not None and row.status is OutboxStatus.DEAD
    assert (await Chats(db).get(Platform.TELEGRAM, "100")).blocked_at is None


async def test_messages_queued_for_a_blocked_chat_are_not_sent(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """The chat's other queued rows and rows queued later are dead-lettered without a send."""
    channel.fail("100", permanent("Forbidden: bot was blocked by the user"))
    await enqueue(db, message("100", key="a"), message("100", key="b"), message("200", key="c"))
    await notifier.drain()
    await enqueue(db, message("100", key="later"))
    await notifier.drain()
    assert [d.dedup_key for d in channel.calls_to("100")] == ["a"]
    assert [d.dedup_key for d in channel.sent] == ["c"]
    for key in ("b", "later"):
        row = await Outbox(db).by_key(key)
        assert row is not None and (row.status, row.attempts) == (OutboxStatus.DEAD, 0)
        assert row.last_error == "chat blocked: Forbidden: bot was blocked by the user"


async def test_an_unblocked_chat_is_targeted_again(
    db: Database, channel: FakeChannel, notifier: Notifier
) -> None:
    """Once the user comes back (unblock), new rows to the chat are sent."""
    await Chats(db).block(Platform.TELEGRAM, "100", "gone", NOW)
    await Chats(db).unblock(Platform.TELEGRAM, "100")
    await enqueue(db, message("100", key="k"))
    await notifier.drain()
    assert [d.dedup_key for d in channel.sent] == ["k"]


async def test_an_adapter_bug_is_retried_and_does_not_stop_the_notifier(
    db: Database, clock: FakeClock, channel: FakeChannel, notifier: Notifier
) -> None:
    """An unexpected exception counts as a transient failure; only its type is stored."""
    channel.fail("100", KeyError("https://api.telegram.org/bot123:SECRET/sendMessage"))
    await enqueue(db, message(key="k"))
    await notifier.drain()
    row = await Outbox(db).by_key("k")
    assert row is not None and row.last_error == "unexpected KeyError"
    await deliver_all(notifier, clock, db)
    assert [d.dedup_key for d in channel.sent] == ["k"]
