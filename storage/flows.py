"""Realised PnL, funding, fee and transfer flows per account, and the window each kind is known
whole for.

Most venues list events (a payment, a fill's fee): each is a row under the venue's id. One
lists running totals instead (OKX's positions history: what a position has realised so far,
updated at each partial close). A flow of such a total carries ``total_of``, its ref is
``<total_of>@<version>``, and the row stores the total's *increase* over the versions stored
before, so the day holds each close once, at its time. Those rows are kept a year longer than
the others (``KEEP_TOTALS_S``): a total's next increase is measured against all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Database, Reads


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
    #: The running total this flow is a version of (its ref is ``<total_of>@<version>`` and
    #: ``amount`` the total's value then); None for an event.
    total_of: str | None = None


#: Between a running total's key and its version in a ref (``bot/exchanges/flows_base.STEP``).
STEP = "@"
#: Versions of running totals outlive the other flows by this much (a position partly closed
#: months ago and again today counts today only its new part, as long as its first part is kept).
KEEP_TOTALS_S = 365 * 86_400.0


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
                amount = flow.amount
                if flow.total_of is not None:
                    step = await _increase(tx, account_id, kind, flow)
                    if step is None:
                        continue
                    amount = step
                new += await tx.execute(
                    "INSERT OR IGNORE INTO account_flows"
                    " (account_id, kind, ref, at, symbol, currency, amount)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (account_id, kind, flow.ref, flow.at, flow.symbol, flow.currency, amount),
                )
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
        """Forget flows before ``older_than`` (the monitor prunes them with the snapshots), and
        versions of running totals ``KEEP_TOTALS_S`` older still."""
        async with self._db.transaction() as tx:
            removed = await tx.execute(
                "DELETE FROM account_flows WHERE at < ? AND (ref NOT LIKE ? OR at < ?)",
                (older_than, f"%{STEP}%", older_than - KEEP_TOTALS_S),
            )
            await tx.execute(
                "UPDATE account_flow_coverage SET covered_from = ? WHERE covered_from < ?",
                (older_than, older_than),
            )
        return removed


async def _increase(tx: Reads, account_id: int, kind: str, flow: StoredFlow) -> float | None:
    """What a running total's version adds to the versions stored before (None: this version
    is stored already, or adds nothing)."""
    key = f"{flow.total_of}{STEP}"
    if not flow.ref.startswith(key):
        raise ValueError(f"a version of {flow.total_of!r} must have a ref starting {key!r}")
    row = await tx.fetchone(
        "SELECT COALESCE(SUM(amount), 0) AS amount,"
        " COALESCE(SUM(CASE WHEN ref = ? THEN 1 ELSE 0 END), 0) AS stored FROM account_flows"
        " WHERE account_id = ? AND kind = ? AND substr(ref, 1, ?) = ?",
        (flow.ref, account_id, kind, len(key), key),
    )
    if row is not None and int(row["stored"]) > 0:
        return None
    step = flow.amount - (float(row["amount"]) if row is not None else 0.0)
    return step if abs(step) > 1e-12 * max(1.0, abs(flow.amount)) else None
