"""The send queue on its own: pure scheduling, time passed in."""

from __future__ import annotations

from bot.delivery.channel import Outgoing
from bot.delivery.pacing import SendQueue
from engine.alerts.rules import Severity
from engine.domain import Platform
from tests.fakes.notices import ops_notice

T0 = 1000.0


def out(row_id: int, chat: str = "a", severity: Severity = Severity.INFO) -> Outgoing:
    return Outgoing(row_id, f"k{row_id}", Platform.TELEGRAM, chat, severity, ops_notice(), 0)


def test_a_more_urgent_message_added_while_waiting_goes_next() -> None:
    """A critical added while a paced chat waits overtakes the infos queued before it."""
    queue = SendQueue(global_per_s=float("inf"))
    for n in (1, 2, 3):
        queue.add(out(n), T0)
    first = queue.pop(T0, lambda m: 10.0)
    assert first is not None and first.id == 1
    queue.done((Platform.TELEGRAM, "a"), T0)
    queue.add(out(9, severity=Severity.CRITICAL), T0 + 1)
    assert queue.pop(T0 + 1, lambda m: 10.0) is None
    assert queue.next_at() == T0 + 10.0
    following = []
    for n in (1, 2, 3):
        popped = queue.pop(T0 + 10.0 * n, lambda m: 10.0)
        assert popped is not None
        following.append(popped.id)
        queue.done((Platform.TELEGRAM, "a"), T0 + 10.0 * n)
    assert following == [9, 2, 3]


def test_a_busy_chat_sends_nothing_until_done() -> None:
    """One send per chat at a time, even with no interval."""
    queue = SendQueue(global_per_s=float("inf"))
    queue.add(out(1), T0)
    queue.add(out(2), T0)
    assert queue.pop(T0, lambda m: 0.0) is not None
    assert queue.pop(T0, lambda m: 0.0) is None
    queue.done((Platform.TELEGRAM, "a"), T0)
    second = queue.pop(T0, lambda m: 0.0)
    assert second is not None and second.id == 2


def test_a_pause_holds_the_chat_until_it_ends() -> None:
    """done(pause_until=…) keeps the chat's next message back until then."""
    queue = SendQueue(global_per_s=float("inf"))
    queue.add(out(1), T0)
    queue.add(out(2), T0)
    queue.pop(T0, lambda m: 0.0)
    queue.done((Platform.TELEGRAM, "a"), T0, pause_until=T0 + 30.0)
    assert queue.pop(T0 + 29.0, lambda m: 0.0) is None
    assert queue.next_at() == T0 + 30.0
    assert queue.pop(T0 + 30.0, lambda m: 0.0) is not None


def test_drop_forgets_a_chats_queue() -> None:
    """A blocked chat's queued messages are handed back and never popped."""
    queue = SendQueue(global_per_s=float("inf"))
    queue.add(out(1), T0)
    queue.add(out(2, chat="b"), T0)
    assert [m.id for m in queue.drop((Platform.TELEGRAM, "a"))] == [1]
    popped = queue.pop(T0, lambda m: 0.0)
    assert popped is not None and popped.id == 2
    assert queue.pop(T0, lambda m: 0.0) is None
    assert len(queue) == 0


def test_a_long_send_holds_its_chat_an_interval_after_it_finished() -> None:
    """A digest sends its text, then its album 3 s later: its send ends at T0 + 3, and the
    chat's next message waits a full interval after that, not after the send began."""
    queue = SendQueue(global_per_s=float("inf"))
    queue.add(out(1), T0)
    queue.add(out(2), T0)
    assert queue.pop(T0, lambda m: 3.0) is not None
    queue.done((Platform.TELEGRAM, "a"), T0 + 3.0)
    assert queue.pop(T0 + 3.0, lambda m: 3.0) is None
    assert queue.next_at() == T0 + 6.0
    second = queue.pop(T0 + 6.0, lambda m: 3.0)
    assert second is not None and second.id == 2
