"""Realised PnL and funding flows per account, and the time window each is known whole for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class StoredFlow:
    """One flow as stored: ``amount`` from the trader's side, in ``currency``."""

    account_id: int
    kind: str
    ref: str
    at: float
    symbol: str
    currency: str
    amount: float


@dataclass(frozen=True)
class Coverage:
    """Flows of ``kind`` are stored whole for ``covered_from <= at <= covered_to``."""

    account_id: int
    kind: str
    covered_from: float
    covered_to: float


@dataclass(frozen=True)
class Total:
    """The sum of one kind of flow in one currency over a window."""

    kind: str
    currency: str
    amount: float
    count: int


class Flows:
    """Repository of flows and their coverage (system: the caller has checked ownership)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        account_id: int,
        kind: str,
        flows: Sequence[StoredFlow],
        *,
        since: float,
        until: float,
    ) -> int:
        """Store one complete read of ``[since, until]`` in one transaction; the number of new
        flows. A read that starts inside (or touches) the known window extends it; one after a
        gap starts a new window, because the gap's flows are unknown."""
        async with self._db.transaction() as tx:
            new = 0
            for flow in flows:
                new += await tx.execute(
                    "INSERT OR IGNORE INTO account_flows"
                    " (account_id, kind, ref, at, symbol, currency, amount)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (account_id, kind, flow.ref, flow.at, flow.symbol, flow.currency,
                     flow.amount),
                )  # fmt: skip
            row = await tx.fetchone(
                "SELECT covered_from, covered_to FROM account_flow_coverage"
                " WHERE account_id = ? AND kind = ?",
                (account_id, kind),
            )
            start, end = since, until
            if row is not None and since <= float(row["covered_to"]):
                start = min(since, float(row["covered_from"]))
                end = max(until, float(row["covered_to"]))
            await tx.execute(
                "INSERT INTO account_flow_coverage (account_id, kind, covered_from, covered_to)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (account_id, kind) DO UPDATE SET"
                " covered_from = excluded.covered_from, covered_to = excluded.covered_to",
                (account_id, kind, start, end),
            )
        return new

    async def coverage(self, account_ids: Sequence[int]) -> list[Coverage]:
        if not account_ids:
            return []
        rows = await self._db.fetchall(
            "SELECT * FROM account_flow_coverage"
            f" WHERE account_id IN ({','.join('?' * len(account_ids))})",
            tuple(account_ids),
        )
        return [
            Coverage(
                int(r["account_id"]), str(r["kind"]), float(r["covered_from"]),
                float(r["covered_to"]),
            )
            for r in rows
        ]  # fmt: skip

    async def totals(
        self, account_ids: Sequence[int], *, since: float, until: float
    ) -> list[Total]:
        """Sums per kind and currency of the accounts' flows with ``since <= at <= until``."""
        if not account_ids:
            return []
        rows = await self._db.fetchall(
            "SELECT kind, currency, SUM(amount) AS amount, COUNT(*) AS n FROM account_flows"
            f" WHERE account_id IN ({','.join('?' * len(account_ids))}) AND at >= ? AND at <= ?"
            " GROUP BY kind, currency ORDER BY kind, currency",
            (*account_ids, since, until),
        )
        return [
            Total(str(r["kind"]), str(r["currency"]), float(r["amount"]), int(r["n"])) for r in rows
        ]

    async def prune(self, older_than: float) -> int:
        """Forget flows before ``older_than`` (the monitor prunes them with the snapshots)."""
        async with self._db.transaction() as tx:
            removed = await tx.execute("DELETE FROM account_flows WHERE at < ?", (older_than,))
            await tx.execute(
                "UPDATE account_flow_coverage SET covered_from = ? WHERE covered_from < ?",
                (older_than, older_than),
            )
        return removed
