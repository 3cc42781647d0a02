"""The outbox: the durable delivery queue and the log of every notification sent or given up."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import replace

from engine.alerts.events import AlertNotice
from engine.alerts.fanout import Message
from engine.alerts.rules import Severity
from engine.domain import Platform
from storage import outbox_queue
from storage.db import Transaction
from storage.outbox_reads import (
    Backlog,
    Claimed,
    OutboxReads,
    OutboxRow,
    OutboxStatus,
    _claimed,
    _platforms_json,
)

__all__ = ["Backlog", "Claimed", "NewMessage", "Outbox", "OutboxRow", "OutboxStatus"]

log = logging.getLogger(__name__)

#: Longest stored delivery error: enough to diagnose, bounded so an HTML error page is not kept.
MAX_ERROR_CHARS = 500

#: Most urgent first: a backlog drains critical before warning before info.
_URGENCY = "CASE severity {} ELSE -1 END".format(
    " ".join(f"WHEN '{s.value}' THEN {s.rank}" for s in Severity)
)


#: What the alert stage and the heartbeat enqueue: the engine's message, stored as it is.
NewMessage = Message


def _error(text: str) -> str:
    return text[:MAX_ERROR_CHARS]


#: The PostgreSQL notification channel of "rows were queued" (docs/storage.md#workers).
OUTBOX_CHANNEL = "liqwatch_outbox"


class Outbox(OutboxReads):
    """Repository of outbox rows.

    A row is ``pending`` until it is ``sent`` or ``dead`` (given up, with ``last_error``).
    ``claim`` leases due rows to one notifier: a lease that expires (the process died mid-send)
    makes the row due again, so delivery is at-least-once and the channel sees the same
    ``dedup_key`` again.
    """

    async def enqueue(
        self, messages: Sequence[NewMessage], *, now: float, tx: Transaction | None = None
    ) -> int:
        """Queue messages (inside the caller's transaction when given); the number of new rows.

        A message whose ``dedup_key`` is already queued (or was sent) is skipped. A digest's
        charts are stored beside its row (``storage.outbox_queue``), not in its payload.
        """
        async with self._db.joining(tx) as write:
            added = await outbox_queue.insert(write, messages, now=now)
            if added and self._db.dialect == "postgres":
                # Sent at commit: every worker's idle notifier wakes (``PgDatabase.listen``).
                await write.execute(f"SELECT pg_notify('{OUTBOX_CHANNEL}', '')")
            return added

    async def claim(
        self,
        now: float,
        limit: int,
        lease_s: float,
        *,
        platforms: Collection[Platform] | None = None,
    ) -> list[Claimed]:
        """Lease up to ``limit`` due rows until ``now + lease_s``: most severe, then oldest, first.

        Oldest means first queued (lowest id): a retried row keeps its place.

        Due: pending, ``next_attempt_at <= now`` and no live lease. ``platforms`` limits the
        claim to the channels the caller has (others stay pending). A row whose payload cannot
        be parsed is dead-lettered here, so it never reaches (or crashes) a notifier.
        """
        names = list(Platform) if platforms is None else platforms
        # SKIP LOCKED: two workers claiming at once take different rows instead of one
        # waiting for the other's rows and then leasing them a second time.
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        async with self._db.transaction() as tx:
            due = await tx.fetchall(
                "SELECT id, lease_until FROM outbox WHERE status = 'pending'"
                " AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
                " AND platform IN (SELECT value FROM json_each(?))"
                f" ORDER BY {_URGENCY} DESC, id LIMIT ?{lock}",
                (now, now, _platforms_json(names), limit),
            )
            # A lease still set on a due row lapsed unrecorded: its holder died (or lost the
            # database) with the row in hand, perhaps after sending it (migration 0016).
            lapsed = {int(r["id"]) for r in due if r["lease_until"] is not None}
            if not due:
                return []
            rows = await tx.fetchall(
                "UPDATE outbox SET lease_until = ?, redeliveries = redeliveries"
                " + CASE WHEN lease_until IS NULL THEN 0 ELSE 1 END"
                " WHERE id IN (SELECT value FROM json_each(?))"
                " RETURNING id, dedup_key, owner_id, platform, chat_id, severity, attempts,"
                " payload_json",
                (now + lease_s, json.dumps([int(r["id"]) for r in due])),
            )
            parsed: list[Claimed] = []
            for row in rows:
                try:
                    parsed.append(replace(_claimed(row), redelivered=int(row["id"]) in lapsed))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    log.error("outbox row %s has a corrupt payload: dead-lettered", row["id"])
                    await self.dead(int(row["id"]), f"corrupt payload: {exc!r}", tx=tx)
        parsed.sort(key=lambda c: (-c.severity.rank, c.id))
        parsed = await outbox_queue.attach(self._db, parsed)
        refs = await self._refs_for([c.id for c in parsed if isinstance(c.notice, AlertNotice)])
        return [replace(c, related_refs=refs[c.id]) if c.id in refs else c for c in parsed]

    async def _refs_for(self, row_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        """``related_refs`` of many claimed rows in one query (a claim can hold hundreds)."""
        if not row_ids:
            return {}
        rows = await self._db.fetchall(
            _REFS_FOR_PG if self._db.dialect == "postgres" else _REFS_FOR,
            (json.dumps(list(row_ids)),),
        )
        found: dict[int, list[str]] = {}
        for row in rows:
            found.setdefault(int(row["row_id"]), []).append(str(row["message_ref"]))
        return {row_id: tuple(refs) for row_id, refs in found.items()}

    async def related_refs(
        self,
        platform: Platform,
        chat_id: str,
        alert_ids: Collection[int],
        *,
        owner_id: int | None = None,
    ) -> tuple[str, ...]:
        """Message ids of earlier sent alert messages in this chat about any of these alerts.

        Oldest first. ``owner_id`` (the alerts' owner) narrows the search to that owner's rows
        through their index; without it every row of the outbox is scanned.
        """
        if not alert_ids:
            return ()
        owner_sql = "" if owner_id is None else " AND o.owner_id = :owner"
        items = (
            "payload_items(o.payload_json) it WHERE (it ->> 'alert_id')::bigint"
            if self._db.dialect == "postgres"
            else "json_each(o.payload_json, '$.items') it"
            " WHERE json_extract(it.value, '$.alert_id')"
        )
        rows = await self._db.fetchall(
            "SELECT o.message_ref FROM outbox o WHERE o.status = 'sent'"
            " AND o.message_ref IS NOT NULL AND o.platform = :platform AND o.chat_id = :chat"
            f"{owner_sql} AND EXISTS (SELECT 1 FROM {items}"
            " IN (SELECT value FROM json_each(:ids)))"
            " ORDER BY o.sent_at, o.id",
            {
                "platform": str(platform),
                "chat": chat_id,
                "owner": owner_id,
                "ids": json.dumps(sorted(alert_ids)),
            },
        )
        return tuple(str(row["message_ref"]) for row in rows)

    async def mark_sent(
        self, row_id: int, at: float, message_ref: str | None, *, tx: Transaction | None = None
    ) -> None:
        """The channel accepted it: record when and the platform's message id."""
        await self.mark_sent_many([(row_id, at, message_ref)], tx=tx)

    async def mark_sent_many(
        self, sent: Sequence[tuple[int, float, str | None]], *, tx: Transaction | None = None
    ) -> None:
        """``mark_sent`` for many (row id, sent at, message ref) in one statement."""
        if not sent:
            return
        async with self._db.joining(tx) as w:
            await w.executemany(
                "UPDATE outbox SET status = 'sent', sent_at = ?, message_ref = ?,"
                " attempts = attempts + 1, lease_until = NULL, last_error = NULL WHERE id = ?",
                [(at, ref, row_id) for row_id, at, ref in sent],
            )

    async def retry(
        self, row_id: int, next_at: float, error: str, *, tx: Transaction | None = None
    ) -> None:
        """One attempt failed: due again at ``next_at``."""
        async with self._db.joining(tx) as w:
            await w.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,"
                " lease_until = NULL, last_error = ? WHERE id = ? AND status = 'pending'",
                (next_at, _error(error), row_id),
            )

    async def dead(self, row_id: int, error: str, *, tx: Transaction | None = None) -> None:
        """An attempt failed for good: stop trying (the row stays, as the log of it)."""
        async with self._db.joining(tx) as w:
            await w.execute(
                "UPDATE outbox SET status = 'dead', attempts = attempts + 1,"
                " lease_until = NULL, last_error = ? WHERE id = ? AND status = 'pending'",
                (_error(error), row_id),
            )

    async def dead_chat(
        self, platform: Platform, chat_id: str, error: str, *, tx: Transaction | None = None
    ) -> int:
        """Dead-letter every pending row to one chat without sending it; how many."""
        async with self._db.joining(tx) as w:
            return await w.execute(
                "UPDATE outbox SET status = 'dead', lease_until = NULL, last_error = ?"
                " WHERE status = 'pending' AND platform = ? AND chat_id = ?",
                (_error(error), str(platform), chat_id),
            )

    async def renew(self, row_ids: Collection[int], until: float) -> None:
        """Extend the lease of rows still held in memory (waiting for their chat's turn)."""
        if not row_ids:
            return
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET lease_until = ? WHERE status = 'pending'"
                " AND id IN (SELECT value FROM json_each(?))",
                (until, json.dumps(sorted(row_ids))),
            )

    async def release(self, row_ids: Collection[int]) -> None:
        """Give leased rows back unsent, due at once (a clean shutdown)."""
        if not row_ids:
            return
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET lease_until = NULL WHERE status = 'pending'"
                " AND id IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(row_ids)),),
            )

    async def release_all(self) -> int:
        """End every lease now (start-up of the one notifier per database: any lease still
        held belongs to a process that died mid-send, and its rows must go out again now).
        Ended, not cleared: the next claim counts them as redeliveries, as a lease that
        expired by itself would be."""
        async with self._db.transaction() as tx:
            return await tx.execute(
                "UPDATE outbox SET lease_until = 0"
                " WHERE status = 'pending' AND lease_until IS NOT NULL"
            )


#: ``Outbox._refs_for``: per claimed row, earlier sent rows in its chat about one of its alerts.
_REFS_FOR = (
    "SELECT w.id AS row_id, o.message_ref FROM outbox w"
    " JOIN json_each(w.payload_json, '$.items') wi"
    " JOIN outbox o ON o.platform = w.platform AND o.chat_id = w.chat_id"
    " AND o.status = 'sent' AND o.message_ref IS NOT NULL AND o.id != w.id"
    " AND (w.owner_id IS NULL OR o.owner_id = w.owner_id)"
    " WHERE w.id IN (SELECT value FROM json_each(?)) AND EXISTS (SELECT 1"
    " FROM json_each(o.payload_json, '$.items') oi"
    " WHERE json_extract(oi.value, '$.alert_id') = json_extract(wi.value, '$.alert_id'))"
    " GROUP BY w.id, o.id ORDER BY w.id, o.sent_at, o.id"
)
#: The same on PostgreSQL (``payload_items``: the baseline's never-failing json_each).
_REFS_FOR_PG = (
    "SELECT w.id AS row_id, o.message_ref FROM outbox w"
    " CROSS JOIN LATERAL payload_items(w.payload_json) wi"
    " JOIN outbox o ON o.platform = w.platform AND o.chat_id = w.chat_id"
    " AND o.status = 'sent' AND o.message_ref IS NOT NULL AND o.id != w.id"
    " AND (w.owner_id IS NULL OR o.owner_id = w.owner_id)"
    " WHERE w.id IN (SELECT value FROM json_each(?)) AND EXISTS (SELECT 1"
    " FROM payload_items(o.payload_json) oi WHERE oi -> 'alert_id' = wi -> 'alert_id')"
    " GROUP BY w.id, o.id ORDER BY w.id, o.sent_at, o.id"
)
