"""A digest's charts beside its outbox row: stored at enqueue, attached at claim, gone once sent.

Charts are needed only to send a digest, so they are not part of the row's payload (the log
of what was said, kept for weeks): the ``outbox_charts_done`` trigger (migration 0009) drops
them when the row is sent or dead-lettered, and deleting the row cascades to them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.alerts.events import Chart, DigestNotice

if TYPE_CHECKING:
    from storage.db import Database, Transaction
    from storage.outbox import Claimed


async def store(tx: Transaction, row_id: int, charts: Sequence[Chart]) -> None:
    """Keep a queued digest's charts as PNG bytes (a quarter smaller than their base64)."""
    await tx.executemany(
        "INSERT INTO outbox_charts (outbox_id, position, name, title, png) VALUES (?, ?, ?, ?, ?)",
        [
            (row_id, position, chart.name, chart.title, base64.b64decode(chart.png_base64))
            for position, chart in enumerate(charts)
        ],
    )


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
