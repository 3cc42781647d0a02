"""What the fake Bot API knows: chats, members, messages, pending updates and recorded calls."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tests.fakes.telegram.model import ApiError, Call, ChatRef, Msg, bad_request


@dataclass
class Fault:
    """An injected error: the next ``times`` calls of ``method`` (to ``chat_id``) get it."""

    method: str
    error: ApiError
    times: int
    chat_id: int | None = None

    def take(self, method: str, chat_id: Any) -> ApiError | None:
        """Spends one use and returns the error if this fault applies to the call."""
        if self.times <= 0 or method != self.method:
            return None
        if self.chat_id is not None and chat_id != self.chat_id:
            return None
        self.times -= 1
        return self.error


@dataclass
class Limiter:
    """Telegram's flood control as the fake models it: per-chat spacing and a global rate."""

    per_chat_interval_s: float | None
    global_per_s: float | None
    retry_after: int


class TelegramState:
    """The server's data; the method handlers and the test-facing API both work on it."""

    def __init__(self, token: str, bot_username: str) -> None:
        self.token = token
        # A real token starts with the bot's user id, so the fake derives it the same way.
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1
        self.bot_username = bot_username
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Liqwatch",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.chats: dict[int, ChatRef] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.members: dict[tuple[int, int], str] = {}
        self.messages: dict[int, list[Msg]] = {}
        self.calls: list[Call] = []
        self.rejections: list[Call] = []
        self.answered_callbacks: list[Call] = []
        self.commands: list[dict[str, Any]] = []
        self.commands_by_scope: dict[str, list[dict[str, Any]]] = {}
        self.blocked: set[int] = set()
        self.faults: list[Fault] = []
        self.limiter: Limiter | None = None
        self.files: dict[str, bytes] = {}
        self.updates: list[dict[str, Any]] = []
        self.callbacks: dict[str, bool] = {}  # callback query id -> answered yet
        self._next_update_id = 1
        self._next_message_id = 1
        self._wakeup: asyncio.Event | None = None
        self._closing = False

    # ----------------------------------------------------------------- lookups
    def chat(self, chat_id: Any) -> ChatRef:
        """The chat, or Telegram's 400 for an id the bot has never seen."""
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def find(self, chat_id: int, message_id: int) -> Msg | None:
        """The live (not deleted) message ``message_id`` in ``chat_id``."""
        for msg in self.messages.get(chat_id, []):
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None

    def user_json(self, user_id: int, first_name: str | None = None) -> dict[str, Any]:
        known = self.users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "Ann"})
        user = dict(known)
        if first_name is not None:
            user["first_name"] = first_name
        return user

    # ----------------------------------------------------------------- building
    def add_message(self, msg: Msg) -> Msg:
        self.messages.setdefault(msg.chat_id, []).append(msg)
        return msg

    def new_message_id(self) -> int:
        # One counter for all chats: ids still grow within each chat, and a test that mixes up
        # chats gets "not found" instead of silently hitting another chat's message.
        self._next_message_id += 1
        return self._next_message_id - 1

    def message_json(self, msg: Msg, sender: dict[str, Any] | None = None) -> dict[str, Any]:
        """A Message object in Bot API shape, complete enough for PTB's ``de_json``."""
        body: dict[str, Any] = {
            "message_id": msg.message_id,
            "date": msg.date,
            "chat": self.chats[msg.chat_id],
            "from": sender or (self.bot_user if msg.from_bot else self.user_json(msg.user_id)),
        }
        text = msg.plain  # Telegram returns the text with markup turned into entities
        if msg.file_id is not None:
            size = len(msg.photo or b"")
            body["photo"] = [_photo_size(msg.file_id, size)]
            if msg.text is not None:
                body["caption"] = text
        elif msg.text is not None:
            body["text"] = text
        if msg.media_group_id is not None:
            body["media_group_id"] = msg.media_group_id
        if msg.reply_markup is not None:
            body["reply_markup"] = msg.reply_markup
        if msg.thread_id is not None:
            body["message_thread_id"] = msg.thread_id
            body["is_topic_message"] = True
        if msg.reply_to_message_id is not None:
            body["reply_to_message"] = {
                "message_id": msg.reply_to_message_id,
                "date": msg.date,
                "chat": self.chats[msg.chat_id],
            }
        return body

    def queue_update(self, kind: str, payload: dict[str, Any]) -> int:
        """Adds an update for ``getUpdates`` and wakes any long poll waiting for one."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self.updates.append({"update_id": update_id, kind: payload})
        self._wake()
        return update_id

    def _wake(self) -> None:
        # Swap in a fresh event before setting the old one, so every waiter that grabbed the
        # old event wakes once, and later waiters block until the next update.
        event, self._wakeup = self._wakeup, asyncio.Event()
        if event is not None:
            event.set()

    def wakeup_event(self) -> asyncio.Event:
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        return self._wakeup

    # ----------------------------------------------------------------- flood control
    def check_flood(self, chat_id: int, now: float) -> None:
        """Raises 429 if a send to ``chat_id`` now breaks the configured limits."""
        limiter = self.limiter
        if limiter is None:
            return
        sends = self.accepted_sends(chat_id)
        too_soon = limiter.per_chat_interval_s is not None and bool(sends)
        if too_soon and now - sends[-1] < (limiter.per_chat_interval_s or 0.0):
            raise _flood(limiter.retry_after)
        if limiter.global_per_s is not None:
            recent = [at for chat in self.messages for at in self.accepted_sends(chat)]
            if sum(1 for at in recent if now - at < 1.0) >= limiter.global_per_s:
                raise _flood(limiter.retry_after)

    def accepted_sends(self, chat_id: int) -> list[float]:
        """Monotonic times of the bot's accepted messages to ``chat_id`` (an album's items
        share one time: they arrive together)."""
        return [m.sent_at for m in self.messages.get(chat_id, []) if m.from_bot]


def _photo_size(file_id: str, size: int) -> dict[str, Any]:
    return {
        "file_id": file_id,
        "file_unique_id": f"u{file_id}",
        "width": 800,
        "height": 600,
        "file_size": size,
    }


def _flood(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
