"""When each account's figures were last read whole (migration 0014), for stale marks."""

from __future__ import annotations

import json
from collections.abc import Sequence

from storage.db import Database


async def last_good(db: Database, account_ids: Sequence[int]) -> dict[int, float]:
    """Account id → time of its last successful poll; accounts never read are left out."""
    if not account_ids:
        return {}
    rows = await db.fetchall(
        "SELECT id, last_good_at FROM accounts"
        " WHERE id IN (SELECT value FROM json_each(?)) AND last_good_at IS NOT NULL",
        (json.dumps(list(account_ids)),),
    )
    return {int(row["id"]): float(row["last_good_at"]) for row in rows}
