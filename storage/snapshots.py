"""Account snapshots over time: written by the monitor, read per owner, pruned by age."""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from engine.domain import AccountSnapshot, PositionSummary, SnapshotSummary
from storage.db import Database, Transaction

_COLUMNS = (
    "account_id",
    "taken_at",
    "equity_usd",
    "gross_exposure_usd",
    "net_exposure_usd",
    "effective_leverage",
    "margin_ratio",
    "positions_json",
)
#: Rows deleted per prune transaction: keeps each write-lock hold short for the monitor.
PRUNE_BATCH = 5000


@dataclass(frozen=True)
class HourlyFigures:
    """An account's last snapshot in one clock hour (what equity history is drawn from)."""

    account_id: int
    #: Hours since the epoch (``taken_at // 3600``).
    hour: int
    taken_at: float
    equity_usd: float | None
    gross_exposure_usd: float | None


def _finite(value: float | None) -> float | None:
    """NaN/inf mean "not reported" in the engine; stored (and JSON-encoded) as NULL."""
    return value if value is not None and math.isfinite(value) else None


def _positions_json(positions: tuple[PositionSummary, ...]) -> str:
    rows = [
        {k: _finite(v) if isinstance(v, float) else v for k, v in asdict(p).items()}
        for p in positions
    ]
    return json.dumps(rows, allow_nan=False, separators=(",", ":"))


def _position(data: dict[str, Any]) -> PositionSummary:
    return PositionSummary(**data)


def _snapshot(row: sqlite3.Row) -> AccountSnapshot:
    return AccountSnapshot(
        id=int(row["id"]),
        account_id=int(row["account_id"]),
        taken_at=float(row["taken_at"]),
        equity_usd=row["equity_usd"],
        gross_exposure_usd=row["gross_exposure_usd"],
        net_exposure_usd=row["net_exposure_usd"],
        effective_leverage=row["effective_leverage"],
        margin_ratio=row["margin_ratio"],
        positions=tuple(_position(p) for p in json.loads(row["positions_json"])),
    )


class Snapshots:
    """Repository of account snapshots."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(
        self, summary: SnapshotSummary, *, tx: Transaction | None = None
    ) -> AccountSnapshot:
        """Store one poll's result (system: no owner check)."""
        async with self._db.joining(tx) as write:
            return await _insert(write, summary)

    async def latest(self, owner_id: int, account_id: int) -> AccountSnapshot | None:
        """The newest snapshot of the owner's account; None if none or not theirs."""
        row = await self._db.fetchone(
            "SELECT s.* FROM account_snapshots s JOIN accounts a ON a.id = s.account_id"
            " WHERE a.owner_id = ? AND s.account_id = ?"
            " ORDER BY s.taken_at DESC, s.id DESC LIMIT 1",
            (owner_id, account_id),
        )
        return None if row is None else _snapshot(row)

    async def between(
        self, owner_id: int, account_id: int, since: float, until: float
    ) -> list[AccountSnapshot]:
        """Snapshots of the owner's account with ``since <= taken_at < until``, oldest first."""
        rows = await self._db.fetchall(
            "SELECT s.* FROM account_snapshots s JOIN accounts a ON a.id = s.account_id"
            " WHERE a.owner_id = ? AND s.account_id = ? AND s.taken_at >= ? AND s.taken_at < ?"
            " ORDER BY s.taken_at, s.id",
            (owner_id, account_id, since, until),
        )
        return [_snapshot(row) for row in rows]

    async def hourly(
        self, account_ids: Sequence[int], *, since: float, until: float
    ) -> list[HourlyFigures]:
        """Each account's last snapshot of every hour with ``since <= taken_at < until``,
        oldest hour first (system: the caller decided which accounts the reader may see)."""
        if not account_ids:
            return []
        # The hour's last row by a window, not SQLite's bare columns beside MAX() (which
        # PostgreSQL refuses); the hour truncated as each dialect floors (times are positive).
        hour = (
            "FLOOR(taken_at / 3600)::bigint"
            if self._db.dialect == "postgres"
            else "CAST(taken_at / 3600 AS INTEGER)"
        )
        rows = await self._db.fetchall(
            "SELECT account_id, hour, equity_usd, gross_exposure_usd, taken_at AS at FROM"
            f" (SELECT account_id, {hour} AS hour, equity_usd, gross_exposure_usd, taken_at,"
            f" ROW_NUMBER() OVER (PARTITION BY account_id, {hour}"
            " ORDER BY taken_at DESC, id DESC) AS nth FROM account_snapshots"
            " WHERE account_id IN (SELECT value FROM json_each(?))"
            " AND taken_at >= ? AND taken_at < ?) last WHERE nth = 1 ORDER BY hour, account_id",
            (json.dumps(list(account_ids)), since, until),
        )
        return [
            HourlyFigures(
                int(r["account_id"]),
                int(r["hour"]),
                float(r["at"]),
                None if r["equity_usd"] is None else float(r["equity_usd"]),
                None if r["gross_exposure_usd"] is None else float(r["gross_exposure_usd"]),
            )
            for r in rows
        ]

    async def prune(self, older_than: float) -> int:
        """Delete snapshots taken before ``older_than`` (system); the number deleted.

        Each account's newest snapshot is kept whatever its age, so a long-blind account
        still shows when it was last seen. Deletes in batches, one short transaction each.
        """
        deleted = 0
        while True:
            async with self._db.transaction() as tx:
                batch = await tx.execute(
                    "DELETE FROM account_snapshots WHERE id IN ("
                    " SELECT s.id FROM account_snapshots s WHERE s.taken_at < ?"
                    " AND s.taken_at < (SELECT max(m.taken_at) FROM account_snapshots m"
                    " WHERE m.account_id = s.account_id) LIMIT ?)",
                    (older_than, PRUNE_BATCH),
                )
            deleted += batch
            if batch < PRUNE_BATCH:
                return deleted


async def _insert(tx: Transaction, summary: SnapshotSummary) -> AccountSnapshot:
    values = (
        summary.account_id,
        summary.taken_at,
        _finite(summary.equity_usd),
        _finite(summary.gross_exposure_usd),
        _finite(summary.net_exposure_usd),
        _finite(summary.effective_leverage),
        _finite(summary.margin_ratio),
        _positions_json(summary.positions),
    )
    snapshot_id = await tx.insert(
        f"INSERT INTO account_snapshots ({', '.join(_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(_COLUMNS))})",
        values,
    )
    row = await tx.fetchone("SELECT * FROM account_snapshots WHERE id = ?", (snapshot_id,))
    assert row is not None  # inserted in this very transaction
    return _snapshot(row)
