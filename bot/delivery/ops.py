"""Operator messages: through the outbox when it can carry them, straight to the ops chat when not.

The outbox is how every message normally leaves (paced, retried, logged). An operator alert is
often *about* the outbox — the database is locked, the disk is full, delivery has stalled — so
when the write is refused, or the caller says the outbox is what is stuck, the message goes to
the ops chat's channel directly, once, best effort. Every message is also logged, so an
installation without an ops chat still has it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from bot.delivery.channel import Channel, Outgoing
from bot.errors import DeliveryError
from bot.render import notices as notice_text
from engine.alerts.events import OpsNotice
from engine.alerts.rules import Severity
from engine.domain import Platform
from storage import Database, StorageError
from storage.outbox import NewMessage, Outbox

log = logging.getLogger(__name__)

#: Longest a direct send may take: the caller is a watchdog, which must not wedge on it.
DIRECT_TIMEOUT_S = 15.0

_LEVELS = {Severity.CRITICAL: logging.ERROR, Severity.WARNING: logging.WARNING}


class OpsAlerts:
    """``tell`` is the one way operator messages leave; it never raises."""

    def __init__(
        self,
        db: Database,
        ops_chat: tuple[Platform, str] | None,
        *,
        channels: Mapping[Platform, Channel] | None = None,
        wake: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db, self.ops_chat, self.wake, self.clock = db, ops_chat, wake, clock
        self.channels: dict[Platform, Channel] = dict(channels or {})
        #: Messages that went around the outbox (tests and operators read it).
        self.direct_sent = 0

    async def tell(self, notice: OpsNotice, key: str, *, direct: bool = False) -> bool:
        """Log ``notice`` and queue it for the ops chat under dedup ``key``; True if it was
        queued or sent. A database that refuses the write sends it on the ops chat's channel
        now instead; ``direct`` (the outbox is what is stuck) sends it now first, and queues
        it only if that fails, so it still arrives once delivery recovers."""
        log.log(_LEVELS.get(notice.severity, logging.INFO), "ops: %s", notice_text.render(notice))
        if self.ops_chat is None:
            return False
        if direct and await self._direct(notice, key):
            return True
        try:
            return await self._queue(notice, key)
        except StorageError as exc:
            log.warning("ops message could not be queued (%s)", exc)
        return not direct and await self._direct(notice, key)

    async def _queue(self, notice: OpsNotice, key: str) -> bool:
        assert self.ops_chat is not None
        platform, chat_id = self.ops_chat
        message = NewMessage(key, None, platform, chat_id, notice.severity, notice)
        async with self.db.transaction() as tx:
            queued = await Outbox(tx.db).enqueue([message], now=notice.at, tx=tx)
        if queued:
            self.wake()
        return True

    async def _direct(self, notice: OpsNotice, key: str) -> bool:
        assert self.ops_chat is not None
        platform, chat_id = self.ops_chat
        channel = self.channels.get(platform)
        if channel is None:
            log.error("ops chat is on %s, which has no channel: the message above is all", platform)
            return False
        outgoing = Outgoing(0, key, platform, chat_id, notice.severity, notice, attempts=0)
        try:
            async with asyncio.timeout(DIRECT_TIMEOUT_S):
                await channel.send(outgoing)
        except (DeliveryError, TimeoutError) as exc:
            log.error("ops message could not be sent directly either: %s", exc)
            return False
        except Exception:
            log.exception("ops message: the %s channel failed", platform)
            return False
        self.direct_sent += 1
        return True
