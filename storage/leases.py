"""Workers and the accounts they hold by lease (migration 0015; docs/storage.md#workers).

Every statement is one transaction of its own: a claim picks free accounts with ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL (two workers claiming at once take different accounts instead of
waiting on each other), and writes a lease only where none is live — so an account is held by
one worker at a time even when claims race.
"""

from __future__ import annotations

from storage.db import Database

_POLLABLE = "('active', 'blind')"


class Leases:
    """The ``workers`` and ``account_leases`` tables (system: no owner scope)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def beat(self, worker: str, now: float) -> None:
        """``worker`` is alive at ``now``."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO workers (id, started_at, seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
                (worker, now, now),
            )

    async def live(self, now: float, ttl_s: float) -> list[str]:
        """Workers seen within ``ttl_s``, by id."""
        rows = await self._db.fetchall(
            "SELECT id FROM workers WHERE seen_at >= ? ORDER BY id", (now - ttl_s,)
        )
        return [str(r["id"]) for r in rows]

    async def forget_workers(self, before: float) -> int:
        """Drop workers not seen since ``before`` (their leases expired long ago)."""
        async with self._db.transaction() as tx:
            return await tx.execute("DELETE FROM workers WHERE seen_at < ?", (before,))

    async def pollable(self) -> int:
        row = await self._db.fetchone(f"SELECT COUNT(*) FROM accounts WHERE status IN {_POLLABLE}")
        return int(row[0]) if row is not None else 0

    async def renew(self, worker: str, until: float, now: float) -> set[int]:
        """Extend ``worker``'s live leases to ``until``; the accounts it still holds (a lease
        that expired meanwhile may have been claimed by another: it is not renewed)."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "UPDATE account_leases SET expires_at = ? WHERE owner = ? AND expires_at >= ?"
                " RETURNING account_id",
                (until, worker, now),
            )
        return {int(r["account_id"]) for r in rows}

    async def claim(self, worker: str, want: int, *, now: float, until: float) -> set[int]:
        """Up to ``want`` pollable accounts no live lease holds, leased to ``worker``."""
        if want <= 0:
            return set()
        lock = " FOR UPDATE OF a SKIP LOCKED" if self._db.dialect == "postgres" else ""
        async with self._db.transaction() as tx:
            free = await tx.fetchall(
                "SELECT a.id FROM accounts a LEFT JOIN account_leases l ON l.account_id = a.id"
                f" WHERE a.status IN {_POLLABLE} AND (l.account_id IS NULL OR l.expires_at < ?)"
                f" ORDER BY a.id LIMIT ?{lock}",
                (now, want),
            )
            taken: set[int] = set()
            for row in free:
                changed = await tx.execute(
                    "INSERT INTO account_leases (account_id, owner, expires_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (account_id) DO UPDATE SET owner = excluded.owner,"
                    " expires_at = excluded.expires_at WHERE account_leases.expires_at < ?",
                    (int(row["id"]), worker, until, now),
                )
                if changed:
                    taken.add(int(row["id"]))
        return taken

    async def release(self, worker: str, account_ids: set[int]) -> None:
        """Give up these leases now (another worker may claim them at once)."""
        if not account_ids:
            return
        async with self._db.transaction() as tx:
            await tx.executemany(
                "DELETE FROM account_leases WHERE owner = ? AND account_id = ?",
                [(worker, a) for a in sorted(account_ids)],
            )

    async def held(self) -> dict[str, int]:
        """Accounts per lease owner (live or not), for operators and tests."""
        rows = await self._db.fetchall(
            "SELECT owner, COUNT(*) AS n FROM account_leases GROUP BY owner ORDER BY owner"
        )
        return {str(r["owner"]): int(r["n"]) for r in rows}
