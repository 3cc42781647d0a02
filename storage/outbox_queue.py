"""Queueing outbox rows: messages in one statement, a digest's charts beside its row.

Charts are needed only to send a digest, so they are not part of the row's payload (the log
of what was said, kept for weeks): they wait in ``outbox_charts`` as PNG bytes, are put back
into the notice at claim, and the ``outbox_charts_done`` trigger (migration 0009) drops them
when the row is sent or dead-lettered; deleting the row cascades to them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.alerts.events import Chart, DigestNotice, to_payload
from engine.alerts.fanout import Message

if TYPE_CHECKING:
    from storage.db import Database, Transaction
    from storage.outbox import Claimed

_INSERT = (
    "INSERT INTO outbox (dedup_key, owner_id, platform, chat_id, severity, payload_json,"
    " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (dedup_key) DO NOTHING"
)


async def insert(tx: Transaction, messages: Sequence[Message], *, now: float) -> int:
    """``Outbox.enqueue``: the number of new rows, ids in the order given (the claim's
    tie-break), a digest's charts stored beside its row."""
    added, plain = 0, list[Message]()
    for message in messages:
        if isinstance(message.notice, DigestNotice) and message.notice.charts:
            added += await _insert_plain(tx, plain, now) + await _insert_digest(tx, message, now)
            plain = []
        else:
            plain.append(message)
    return added + await _insert_plain(tx, plain, now)


def _values(m: Message, now: float) -> tuple[object, ...]:
    payload = json.dumps(to_payload(m.notice), separators=(",", ":"), allow_nan=False)
    return (m.dedup_key, m.owner_id, str(m.platform), m.chat_id, str(m.severity), payload, now, now)


async def _insert_plain(tx: Transaction, messages: Sequence[Message], now: float) -> int:
    """Rows with nothing beside them, in one statement; how many were new."""
    if not messages:
        return 0
    return await tx.executemany(_INSERT, [_values(m, now) for m in messages])


async def _insert_digest(tx: Transaction, message: Message, now: float) -> int:
    """One digest row, its charts stored beside it; 1 if new, 0 if its key was queued."""
    assert isinstance(message.notice, DigestNotice)
    bare = replace(message, notice=replace(message.notice, charts=()))
    row = await tx.fetchone(f"{_INSERT} RETURNING id", _values(bare, now))
    if row is None:
        return 0
    await tx.executemany(
        "INSERT INTO outbox_charts (outbox_id, position, name, title, png) VALUES (?, ?, ?, ?, ?)",
        [
            (int(row["id"]), i, chart.name, chart.title, base64.b64decode(chart.png_base64))
            for i, chart in enumerate(message.notice.charts)
        ],  # bytes, not base64: a quarter smaller
    )
    return 1


async def attach(db: Database, claimed: list[Claimed]) -> list[Claimed]:
    """Claimed digests with their stored charts put back, in their order.

    A digest queued by an older liqwatch has its charts in the payload and none stored: it
    keeps those, so it still sends whole.
    """
    wanted = [c.id for c in claimed if isinstance(c.notice, DigestNotice) and not c.notice.charts]
    if not wanted:
        return claimed
    rows = await db.fetchall(
        "SELECT outbox_id, name, title, png FROM outbox_charts"
        " WHERE outbox_id IN (SELECT value FROM json_each(?)) ORDER BY outbox_id, position",
        (json.dumps(wanted),),
    )
    found: dict[int, list[Chart]] = {}
    for row in rows:
        png = base64.b64encode(bytes(row["png"])).decode("ascii")
        found.setdefault(int(row["outbox_id"]), []).append(
            Chart(str(row["name"]), str(row["title"]), png)
        )
    return [_with(c, found[c.id]) if c.id in found else c for c in claimed]


def _with(claimed: Claimed, charts: list[Chart]) -> Claimed:
    assert isinstance(claimed.notice, DigestNotice)  # only digests were looked up
    return replace(claimed, notice=replace(claimed.notice, charts=tuple(charts)))
