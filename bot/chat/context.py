"""What adapters and the conversation exchange: who asks where, what to answer, and the
buttons under alert messages (the same on every platform)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum

from bot.accounts.visibility import Audience
from engine.alerts.events import AlertNotice, AlertStatus, Chart, Notice
from engine.domain import Platform, target


async def _no_admin() -> bool:
    return False


@dataclass(frozen=True)
class ChatContext:
    """Who sent a command (or pressed a button), and in which chat and forum topic."""

    platform: Platform
    #: The sender's id on the platform (a Telegram user id, a Discord user id).
    user_id: str
    user_name: str
    chat_id: str
    private: bool
    thread_id: str | None = None
    #: Asks the platform whether the sender administers this group (called only when needed).
    is_admin: Callable[[], Awaitable[bool]] = field(default=_no_admin, repr=False, compare=False)
    #: The answer is shown to the sender alone (Discord's ephemeral replies), so a group read
    #: may include the sender's own accounts next to what was shared with the group.
    sees_own: bool = False
    #: What became of a message that carried a secret (/link): True the adapter deleted it,
    #: False the deletion failed, None nothing was posted that others can read (a Discord
    #: slash command, the console) or the message carried no secret.
    deleted: bool | None = None
    #: Set when the message was sent on behalf of a chat (a Telegram anonymous admin posts as
    #: the group itself, a channel as the channel): the sender is then that chat, not a person,
    #: and ``user_id`` is the chat's own identity (``chat_identity``).
    sender_chat: str | None = None

    @property
    def target(self) -> str:
        """The chat (and topic) as an outbox recipient: where this chat's alerts go."""
        return target(self.chat_id, self.thread_id)

    def audience(self, user: int) -> Audience:
        """Who reads the answer here, as the visibility rule takes it (``user``: the
        sender's liqwatch user, or the chat's own identity when it posts as itself)."""
        return Audience(self.platform, self.chat_id, user, self.private, self.sees_own)


def chat_identity(chat_id: str) -> str:
    """The identity of a chat that sends messages itself: ``chat:-100123`` can never be a
    person's id (Telegram user ids are positive numbers, Discord's snowflakes)."""
    return f"chat:{chat_id}"


@dataclass(frozen=True)
class Reply:
    """What to answer: plain text; ``table`` says it is columns to show in monospace;
    ``images`` are charts to show with it."""

    text: str
    table: bool = False
    images: tuple[Chart, ...] = ()


class Action(StrEnum):
    """The buttons under an alert message (short: Telegram callback data is 64 bytes)."""

    ACK = "ack"
    SNOOZE = "snz"
    POSITIONS = "pos"


#: Button captions, the same on every platform.
CAPTIONS = {
    Action.ACK: "✅ Acknowledge",
    Action.SNOOZE: "💤 Snooze 1h",
    Action.POSITIONS: "📊 Show positions",
}


def actions_for(notice: Notice) -> tuple[Action, ...]:
    """The buttons a fresh notice carries: only live alerts can be acknowledged or snoozed."""
    if not isinstance(notice, AlertNotice):
        return ()
    if any(item.status is not AlertStatus.RESOLVED for item in notice.items):
        return (Action.ACK, Action.SNOOZE, Action.POSITIONS)
    return (Action.POSITIONS,)


@dataclass(frozen=True)
class Pressed:
    """A button's outcome: a short toast, and the message's new state or a new reply."""

    toast: str
    #: The alert message to show again with ``state`` under it (edit in place), if any.
    notice: AlertNotice | None = None
    state: str | None = None
    #: Whether the alert message keeps its buttons (a resolved or acked alert needs fewer).
    actions: tuple[Action, ...] = ()
    reply: Reply | None = None
