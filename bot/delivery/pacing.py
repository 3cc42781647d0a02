"""Who may send next: per-chat queues under per-chat and global pacing, most urgent first."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

from bot.delivery.channel import Outgoing
from engine.domain import Platform

ChatKey: TypeAlias = tuple[Platform, str]
#: Heap order: most severe first, then the oldest row (lowest id).
_Priority: TypeAlias = tuple[int, int]


def _priority(message: Outgoing) -> _Priority:
    return (-message.severity.rank, message.id)


@dataclass
class _Chat:
    queue: list[tuple[_Priority, Outgoing]] = field(default_factory=list)
    #: Not before: per-chat pacing after the last send, or the platform's retry_after.
    ready_at: float = -math.inf
    busy: bool = False
    #: The pace of the send in flight, counted again from when it finishes.
    interval_s: float = 0.0


class SendQueue:
    """Messages held in memory, one queue per chat; pure (time is an argument).

    A chat sends one message at a time, at most every ``interval`` seconds, and the whole
    queue at most ``global_per_s`` messages per second. When several chats may send, the one
    whose next message is most urgent (then oldest) goes first. Stale heap entries are
    skipped when popped rather than searched for and removed.
    """

    def __init__(self, *, global_per_s: float) -> None:
        self._gap_s = 0.0 if math.isinf(global_per_s) else 1.0 / global_per_s
        self._chats: dict[ChatKey, _Chat] = {}
        #: Idle chats that may send now: (their head's priority, chat).
        self._ready: list[tuple[_Priority, ChatKey]] = []
        #: Idle chats with messages that must wait: (ready_at, chat).
        self._waiting: list[tuple[float, ChatKey]] = []
        self._slot_at = -math.inf
        self._size = 0

    def __len__(self) -> int:
        """Messages queued (not counting those being sent)."""
        return self._size

    def add(self, message: Outgoing, now: float) -> None:
        """Queue a message behind (or, if more urgent, ahead of) its chat's others."""
        key = (message.platform, message.chat_id)
        chat = self._chats.setdefault(key, _Chat())
        heapq.heappush(chat.queue, (_priority(message), message))
        self._size += 1
        self._schedule(key, chat, now)

    def pop(self, now: float, interval_s: Callable[[Outgoing], float]) -> Outgoing | None:
        """The next message to send now, its chat marked busy; None if none may go yet."""
        while self._waiting and self._waiting[0][0] <= now:
            _, key = heapq.heappop(self._waiting)
            chat = self._chats.get(key)
            if chat is not None:
                self._schedule(key, chat, now)
        if now < self._slot_at:
            return None
        while self._ready:
            priority, key = heapq.heappop(self._ready)
            chat = self._chats.get(key)
            if chat is None or not _may_send(chat, priority, now):
                continue  # stale: the chat sent since, was dropped, or got a more urgent head
            _, message = heapq.heappop(chat.queue)
            self._size -= 1
            chat.busy = True
            chat.interval_s = interval_s(message)
            chat.ready_at = now + chat.interval_s
            self._slot_at = max(now, self._slot_at) + self._gap_s
            return message
        return None

    def done(self, key: ChatKey, now: float, *, pause_until: float | None = None) -> None:
        """The chat's send finished; ``pause_until`` holds the chat back (retry_after).

        The chat's interval also runs from ``now``: a send that took long, or that was
        several platform messages paced by its channel (a digest's text, then its album),
        ended with a message just now, and the next one must not follow it closer than the
        chat's pace (the platform counts messages as they arrive)."""
        chat = self._chats.get(key)
        if chat is None:
            return
        chat.busy = False
        chat.ready_at = max(chat.ready_at, now + chat.interval_s)
        if pause_until is not None:
            chat.ready_at = max(chat.ready_at, pause_until)
        self._schedule(key, chat, now)

    def drop(self, key: ChatKey) -> list[Outgoing]:
        """Forget a chat's queued messages (it is blocked); the ones dropped."""
        chat = self._chats.get(key)
        if chat is None:
            return []
        dropped = [message for _, message in chat.queue]
        chat.queue.clear()
        self._size -= len(dropped)
        return dropped

    def clear(self) -> None:
        """Forget every queued message and send in flight, but not the chats' pacing."""
        for chat in self._chats.values():
            chat.queue.clear()
            chat.busy = False
        self._ready.clear()
        self._waiting.clear()
        self._size = 0

    def next_at(self) -> float | None:
        """When ``pop`` may next return something (None: not until a send finishes or adds)."""
        times = [self._waiting[0][0]] if self._waiting else []
        if self._ready:
            times.append(self._slot_at)
        return min(times) if times else None

    def prune(self, now: float) -> None:
        """Forget idle, empty chats whose pacing has run out (keeps memory to active chats)."""
        for key in [k for k, c in self._chats.items() if _idle(c, now)]:
            del self._chats[key]

    def _schedule(self, key: ChatKey, chat: _Chat, now: float) -> None:
        if chat.busy or not chat.queue:
            return
        if chat.ready_at <= now:
            heapq.heappush(self._ready, (chat.queue[0][0], key))
        else:
            heapq.heappush(self._waiting, (chat.ready_at, key))


def _may_send(chat: _Chat, priority: _Priority, now: float) -> bool:
    if chat.busy or not chat.queue:
        return False
    return chat.queue[0][0] == priority and chat.ready_at <= now


def _idle(chat: _Chat, now: float) -> bool:
    return not chat.busy and not chat.queue and chat.ready_at <= now
