"""The outbox's records and its read-only views (counts, backlog, one row): what operators,
metrics and the watchdog inspect, apart from the queue's writes and claims (``storage.outbox``)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from engine.alerts.events import Notice, from_payload
from engine.alerts.rules import Severity
from engine.domain import Platform
from storage.db import Database

log = logging.getLogger("storage.outbox")


@dataclass(frozen=True)
class Claimed:
    """A leased row, parsed: what a notifier turns into a ``bot.delivery.channel.Outgoing``.

    bot imports storage, never the reverse (imports point inward, to the engine), so storage
    returns its own record.
    """

    id: int
    dedup_key: str
    owner_id: int | None
    platform: Platform
    chat_id: str
    severity: Severity
    notice: Notice
    #: Attempts already made (0 on the first try).
    attempts: int
    #: Platform message ids of earlier sent messages about the same alerts, oldest first.
    related_refs: tuple[str, ...] = ()
    #: An earlier claim of this row lapsed unrecorded: sending it may duplicate a message.
    redelivered: bool = False


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


def _platforms_json(platforms: Collection[Platform]) -> str:
    return json.dumps(sorted(str(p) for p in platforms))


class OutboxReads:
    """What the outbox holds, read without changing it."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def redeliveries(self) -> dict[str, int]:
        """Claims, per platform, that took over a lapsed lease (each may have duplicated a
        message), over the rows the outbox still keeps."""
        rows = await self._db.fetchall(
            "SELECT platform, SUM(redeliveries) FROM outbox WHERE redeliveries > 0"
            " GROUP BY platform ORDER BY platform"
        )
        return {str(row[0]): int(row[1]) for row in rows}

    async def next_due(self, *, platforms: Collection[Platform] | None = None) -> float | None:
        """When the earliest pending row becomes claimable (its retry time or lease end)."""
        names = list(Platform) if platforms is None else platforms
        row = await self._db.fetchone(
            "SELECT MIN(GREATEST(next_attempt_at, COALESCE(lease_until, next_attempt_at)))"
            " FROM outbox WHERE status = 'pending'"
            " AND platform IN (SELECT value FROM json_each(?))",
            (_platforms_json(names),),
        )
        return None if row is None or row[0] is None else float(row[0])

    async def backlog(self, *, platforms: Collection[Platform] | None = None) -> Backlog:
        """How far behind delivery is: the pending rows, when the longest-waiting of them was
        queued, and its last error. A row retrying with backoff is behind too: a platform
        failing for minutes is exactly what this measures."""
        names = _platforms_json(list(Platform) if platforms is None else platforms)
        row = await self._db.fetchone(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE status = 'pending'"
            " AND platform IN (SELECT value FROM json_each(?))",
            (names,),
        )
        if row is None or not row[0]:
            return Backlog(0, None, None)
        oldest = await self._db.fetchone(
            "SELECT last_error FROM outbox WHERE status = 'pending' AND created_at = ?"
            " AND platform IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT 1",
            (row[1], names),
        )
        error = None if oldest is None else oldest["last_error"]
        return Backlog(int(row[0]), float(row[1]), error)

    async def pending_platforms(self) -> set[str]:
        """Platforms that have pending rows (a notifier warns about those it has no channel for)."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT platform FROM outbox WHERE status = 'pending'"
        )
        return {str(row[0]) for row in rows}

    async def counts(self) -> dict[OutboxStatus, int]:
        """Rows per status (every status present, zero when none)."""
        rows = await self._db.fetchall("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        found = {str(row[0]): int(row[1]) for row in rows}
        return {status: found.get(status, 0) for status in OutboxStatus}

    async def get(self, row_id: int) -> OutboxRow | None:
        """One row's delivery state (for tests, /why and operators)."""
        row = await self._db.fetchone(f"SELECT {_ROW_COLUMNS} FROM outbox WHERE id = ?", (row_id,))
        return None if row is None else _outbox_row(row)

    async def sent_notice(self, row_id: int) -> Claimed | None:
        """A row with its notice, for a button pressed under the message it became."""
        row = await self._db.fetchone("SELECT * FROM outbox WHERE id = ?", (row_id,))
        if row is None:
            return None
        try:
            return _claimed(row)
        except (ValueError, KeyError, TypeError):
            log.error("outbox row %s has a corrupt payload", row_id)
            return None

    async def by_key(self, dedup_key: str) -> OutboxRow | None:
        """The row queued under this dedup key."""
        row = await self._db.fetchone(
            f"SELECT {_ROW_COLUMNS} FROM outbox WHERE dedup_key = ?", (dedup_key,)
        )
        return None if row is None else _outbox_row(row)


@dataclass(frozen=True)
class Backlog:
    """Rows not yet sent (``Outbox.backlog``)."""

    pending: int
    #: When the longest-waiting of them was queued (None: nothing is pending).
    oldest_queued_at: float | None
    #: That row's last delivery error, if an attempt failed.
    last_error: str | None


@dataclass(frozen=True)
class OutboxRow:
    """A row's delivery state, without its payload."""

    id: int
    dedup_key: str
    platform: str
    chat_id: str
    severity: str
    status: OutboxStatus
    attempts: int
    next_attempt_at: float
    lease_until: float | None
    sent_at: float | None
    last_error: str | None
    message_ref: str | None
    #: Claims that took this row over from a lapsed lease (migration 0016).
    redeliveries: int = 0


_ROW_COLUMNS = (
    "id, dedup_key, platform, chat_id, severity, status, attempts, next_attempt_at,"
    " lease_until, sent_at, last_error, message_ref, redeliveries"
)


def _outbox_row(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        id=int(row["id"]),
        dedup_key=str(row["dedup_key"]),
        platform=str(row["platform"]),
        chat_id=str(row["chat_id"]),
        severity=str(row["severity"]),
        status=OutboxStatus(row["status"]),
        attempts=int(row["attempts"]),
        next_attempt_at=float(row["next_attempt_at"]),
        lease_until=None if row["lease_until"] is None else float(row["lease_until"]),
        sent_at=None if row["sent_at"] is None else float(row["sent_at"]),
        last_error=row["last_error"],
        message_ref=row["message_ref"],
        redeliveries=int(row["redeliveries"]),
    )


def _claimed(row: sqlite3.Row) -> Claimed:
    """Parse one claimed row; ValueError, KeyError, TypeError… on anything malformed."""
    raw = json.loads(row["payload_json"])
    if not isinstance(raw, dict):
        raise ValueError("payload is not a JSON object")
    return Claimed(
        id=int(row["id"]),
        dedup_key=str(row["dedup_key"]),
        owner_id=None if row["owner_id"] is None else int(row["owner_id"]),
        platform=Platform(row["platform"]),
        chat_id=str(row["chat_id"]),
        severity=Severity(row["severity"]),
        notice=from_payload(raw),
        attempts=int(row["attempts"]),
    )
