"""Fan-out: one grouped message per account per chat, after each chat's quiet hours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.alerts.events import AlertItem, AlertNotice, Notice
from engine.alerts.quiet import ChatSettings
from engine.alerts.rules import Severity
from engine.domain import LinkedAccount, Platform


@dataclass(frozen=True)
class Message:
    """One outbox row to be: a notice for one chat, with its idempotency key.

    Storage enqueues these as they are (``storage.outbox.NewMessage`` is this class).
    """

    #: Unique per (decision, chat): enqueueing the same key again is a no-op, so a stage that
    #: is re-run after a crash cannot queue a second copy.
    dedup_key: str
    #: None for operator messages (heartbeat, watchdog).
    owner_id: int | None
    platform: Platform
    chat_id: str
    severity: Severity
    notice: Notice


@dataclass(frozen=True)
class FanOut:
    messages: tuple[Message, ...]
    #: Alert ids that reached at least one chat.
    delivered: frozenset[int]


def fan_out(
    items: Sequence[AlertItem],
    *,
    account: LinkedAccount,
    at: float,
    chats: Sequence[ChatSettings],
) -> FanOut:
    """Each reachable chat gets the items its quiet hours let through, grouped in one notice."""
    messages: list[Message] = []
    delivered: set[int] = set()
    items = sorted(items, key=lambda i: (-i.severity.rank, i.alert_id))  # worst news first
    for chat in chats:
        if chat.blocked_at is not None:
            continue
        allowed = tuple(
            i for i in items if chat.quiet is None or not chat.quiet.holds(i.severity, at)
        )
        if not allowed:
            continue
        severity = max((i.severity for i in allowed), key=lambda s: s.rank)
        notice = AlertNotice(account.id, account.label, account.venue, at, severity, allowed)
        key = f"alert:{account.id}:{at!r}:{chat.platform}:{chat.chat_id}"
        messages.append(
            Message(key, account.owner_id, chat.platform, chat.chat_id, severity, notice)
        )
        delivered.update(i.alert_id for i in allowed)
    return FanOut(tuple(messages), frozenset(delivered))
