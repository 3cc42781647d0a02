"""Retention: deletes what has aged out of the outbox, the alert log, silences and /connect codes.

Each kind is deleted in batches, one short transaction each, so a first prune of a year of
rows never holds the one write lock long enough to delay a poll or a delivery; and each first
asks the read connection whether anything is due, so a day with nothing to prune takes no
write lock at all.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from storage.db import Database

#: Rows deleted per transaction (an alert takes its decisions with it, so it counts for more).
BATCH = 2000
ALERT_BATCH = 500

# Sent or given up, queued before the cutoff, and not about an alert that is still live: the
# buttons under such a message (``Outbox.sent_notice``) and the reply threading of its alert's
# resolved notice (``related_refs``) still need it. CASE keeps json_each off a corrupt payload
# (a dead-lettered row must not make every prune fail). The newest row is never deleted: ids
# are max(id) + 1, and a reused id would make an old message's buttons act on a new one.
_OUTBOX_DUE = (
    "SELECT o.id FROM outbox o WHERE o.status != 'pending' AND o.created_at < :before"
    " AND o.id < (SELECT max(id) FROM outbox)"
    " AND CASE WHEN json_valid(o.payload_json) THEN NOT EXISTS (SELECT 1"
    " FROM json_each(o.payload_json, '$.items') it JOIN alerts al"
    " ON al.id = json_extract(it.value, '$.alert_id')"
    " WHERE al.status IN ('pending', 'firing')) ELSE 1 END"
)
#: The same on PostgreSQL (``payload_items`` has no items for a corrupt payload).
_OUTBOX_DUE_PG = (
    "SELECT o.id FROM outbox o WHERE o.status != 'pending' AND o.created_at < :before"
    " AND o.id < (SELECT max(id) FROM outbox)"
    " AND NOT EXISTS (SELECT 1 FROM payload_items(o.payload_json) it JOIN alerts al"
    " ON al.id = (it ->> 'alert_id')::bigint WHERE al.status IN ('pending', 'firing'))"
)
# Resolved before the cutoff; its decisions go with it (ON DELETE CASCADE). Live alerts and
# their decisions are never touched. The newest alert stays: ``Alerts.next_id`` is max(id) + 1,
# and a reused id would thread a new alert's messages onto an old one's.
_ALERTS_DUE = (
    "SELECT id FROM alerts WHERE status = 'resolved' AND resolved_at < :before"
    " AND id < (SELECT max(id) FROM alerts)"
)
#: Ended before the cutoff (a live silence ends in the future, so it never is).
_SILENCES_DUE = "SELECT id FROM silences WHERE ends_at < :before"
# By expires_at alone (the only column of connect_codes this relies on): a batch of the
# earliest expiry times, so it needs no row id.
_CODES_DUE = "SELECT expires_at FROM connect_codes WHERE expires_at < :before"


@dataclass(frozen=True)
class _Kind:
    """One kind of row: the table, the column ``due`` selects, and the indexed column that
    orders a batch oldest first (the index the due query ranges over, so no table scan)."""

    table: str
    key: str
    due: str
    order: str


_OUTBOX = _Kind("outbox", "id", _OUTBOX_DUE, "o.created_at")
_OUTBOX_PG = _Kind("outbox", "id", _OUTBOX_DUE_PG, "o.created_at")
_ALERTS = _Kind("alerts", "id", _ALERTS_DUE, "resolved_at")
_SILENCES = _Kind("silences", "id", _SILENCES_DUE, "ends_at")
_CODES = _Kind("connect_codes", "expires_at", _CODES_DUE, "expires_at")


@dataclass(frozen=True)
class Cutoffs:
    """For each kind, the time before which it is due (POSIX seconds)."""

    outbox: float
    alerts: float
    silences: float
    connect_codes: float


@dataclass(frozen=True)
class Pruned:
    """How many rows each kind lost in one run."""

    outbox: int = 0
    alerts: int = 0
    silences: int = 0
    connect_codes: int = 0

    @property
    def total(self) -> int:
        return self.outbox + self.alerts + self.silences + self.connect_codes


class Retention:
    """Repository of the deletes retention makes (system: no owner scope)."""

    def __init__(self, db: Database, *, batch: int = BATCH, alert_batch: int = ALERT_BATCH):
        self._db = db
        self._batch, self._alert_batch = batch, alert_batch

    async def prune(self, cutoffs: Cutoffs) -> Pruned:
        """Everything due by ``cutoffs``. Alerts go first: a message about an alert that
        resolved long ago is then free to go in the same run."""
        alerts = await self.prune_alerts(cutoffs.alerts)
        return Pruned(
            outbox=await self.prune_outbox(cutoffs.outbox),
            alerts=alerts,
            silences=await self.prune_silences(cutoffs.silences),
            connect_codes=await self.prune_connect_codes(cutoffs.connect_codes),
        )

    async def prune_outbox(self, before: float) -> int:
        """Sent and dead-lettered messages queued before ``before`` (never a pending one)."""
        kind = _OUTBOX_PG if self._db.dialect == "postgres" else _OUTBOX
        return await self._batched(kind, before, self._batch)

    async def prune_alerts(self, before: float) -> int:
        """Alerts resolved before ``before``, with their decision log."""
        return await self._batched(_ALERTS, before, self._alert_batch)

    async def prune_silences(self, before: float) -> int:
        """Silences that ended before ``before``."""
        return await self._batched(_SILENCES, before, self._batch)

    async def prune_connect_codes(self, before: float) -> int:
        """/connect codes that expired before ``before``."""
        return await self._batched(_CODES, before, self._batch)

    async def _batched(self, kind: _Kind, before: float, batch: int) -> int:
        """Delete the rows ``kind.due`` selects, ``batch`` at a time, oldest first; how many."""
        if await self._db.fetchone(f"{kind.due} LIMIT 1", {"before": before}) is None:
            return 0  # nothing due: no write lock taken
        deleted = 0
        while True:
            async with self._db.transaction() as tx:
                count = await tx.execute(
                    f"DELETE FROM {kind.table} WHERE {kind.key} IN"
                    f" ({kind.due} ORDER BY {kind.order} LIMIT :batch)",
                    {"before": before, "batch": batch},
                )
            deleted += count
            if count < batch:
                return deleted
            await asyncio.sleep(0)  # let a waiting poll or delivery have the lock between batches
