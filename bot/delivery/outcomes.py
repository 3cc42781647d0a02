"""What one send's outcome does to the outbox: sent, retried with backoff, or given up."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.delivery.channel import Outgoing
from bot.errors import DeliveryError
from storage.chats import Chats
from storage.db import Database, Transaction
from storage.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    """How one send ended: a platform message id, or the error."""

    message: Outgoing
    at: float
    ref: str | None = None
    error: DeliveryError | None = None


@dataclass(frozen=True)
class Counted:
    """Rows an outcome ended, by how; counted by the caller once its write commits."""

    sent: int = 0
    retried: int = 0
    dead: int = 0
    #: When a retried row is due again.
    retry_at: float | None = None


class Outcomes:
    """Writes outcomes: retryable errors back off exponentially up to ``max_backoff_s`` (or the
    platform's retry_after) for ``max_attempts``; a chat gone for good is blocked with every
    row queued for it."""

    def __init__(
        self, db: Database, *, backoff_s: float, max_backoff_s: float, max_attempts: int
    ) -> None:
        self._outbox, self._chats = Outbox(db), Chats(db)
        self._backoff_s, self._max_backoff_s = backoff_s, max_backoff_s
        self._max_attempts = max_attempts

    async def write(self, result: SendResult, *, tx: Transaction) -> Counted:
        message, error, at = result.message, result.error, result.at
        if error is None:
            await self._outbox.mark_sent(message.id, at, result.ref, tx=tx)
            return Counted(sent=1)
        attempt = message.attempts + 1
        if error.chat_gone:
            return Counted(dead=await self._block(tx, message, str(error), at))
        if not error.retryable:
            log.warning("outbox row %s refused for good: %s", message.id, error)
            await self._outbox.dead(message.id, str(error), tx=tx)
            return Counted(dead=1)
        if attempt >= self._max_attempts:
            log.warning("outbox row %s: giving up after %d attempts", message.id, attempt)
            await self._outbox.dead(message.id, f"gave up after {attempt} attempts: {error}", tx=tx)
            return Counted(dead=1)
        next_at = at + self.delay_s(attempt, error)
        await self._outbox.retry(message.id, next_at, str(error), tx=tx)
        return Counted(retried=1, retry_at=next_at)

    async def _block(self, tx: Transaction, message: Outgoing, error: str, at: float) -> int:
        """A permanent failure: dead-letter it and everything else queued for that chat; how
        many rows that ended."""
        log.warning(
            "outbox row %s: %s chat %s refused for good, blocking it: %s",
            message.id, message.platform, message.chat_id, error,
        )  # fmt: skip
        await self._outbox.dead(message.id, error, tx=tx)
        await self._chats.block(message.platform, message.chat_id, error, at, tx=tx)
        others = await self._outbox.dead_chat(
            message.platform, message.chat_id, f"chat blocked: {error}", tx=tx
        )
        return 1 + others

    def delay_s(self, attempt: int, error: DeliveryError) -> float:
        """The platform's retry_after when it gave one, else capped exponential backoff."""
        if error.retry_after_s is not None:
            return max(0.0, error.retry_after_s)
        return float(min(self._backoff_s * 2 ** (attempt - 1), self._max_backoff_s))
