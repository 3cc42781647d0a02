"""The ``Channel`` port: what the notifier needs from Telegram, Discord or the console."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.alerts.events import Notice
from engine.alerts.rules import Severity
from engine.domain import Platform


@dataclass(frozen=True)
class Outgoing:
    """One outbox row on its way out: a rendered-on-demand notice for one chat."""

    id: int
    #: Stable across retries and restarts: a channel that can deduplicate uses it.
    dedup_key: str
    platform: Platform
    chat_id: str
    severity: Severity
    notice: Notice
    attempts: int
    #: Platform message ids of earlier messages about the same alerts (newest last), so a
    #: resolved notice can reply to or edit the alert it closes.
    related_refs: tuple[str, ...] = ()


class Channel(Protocol):
    """Sends to one platform. ``send`` raises ``bot.errors.DeliveryError`` (retryable or not)."""

    platform: Platform

    def min_interval_s(self, chat_id: str) -> float:
        """The least time between two messages to this chat (the platform's per-chat limit)."""
        ...

    async def send(self, message: Outgoing) -> str | None:
        """Deliver it; return the platform's message id (None if the platform has none)."""
        ...
