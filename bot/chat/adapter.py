"""The ``ChatAdapter`` port: a chat platform's bot, as the composition root starts and stops it."""

from __future__ import annotations

from typing import Protocol, Self

from bot.chat.conversation import Conversation
from bot.delivery.channel import Channel


class ChatAdapter(Protocol):
    """A chat platform's bot: entered (checks its token), started with the services, stopped."""

    @property
    def channel(self) -> Channel:
        """Where the notifier sends this platform's messages."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def start(self, conversation: Conversation) -> None:
        """Answer commands and buttons from now on."""
        ...

    async def serve(self) -> None:
        """Hold the platform connection until it ends for good, then raise why. The
        supervisor calls it again after a backoff, and it connects afresh."""
        ...

    async def stop(self) -> None: ...
