"""Copy a whole database into an empty one (``liqwatch migrate-db``): every table, every row,
ids kept (credentials stay sealed and bound to their account ids), then the counts compared.

Rows move as they are stored: a credential's ciphertext is bytes on both sides and is never
decrypted here. Tables go parents first so foreign keys hold at every insert; on PostgreSQL
each identity sequence is then moved past the copied ids, so the next row gets a fresh one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database
from storage.errors import StorageError

#: Every table, parents before children (the order inserts must follow).
TABLES = (
    "users",
    "chat_identities",
    "accounts",
    "credentials",
    "account_snapshots",
    "alert_rules",
    "alerts",
    "alert_decisions",
    "silences",
    "chats",
    "shares",
    "outbox",
    "outbox_charts",
    "digest_subscriptions",
    "account_flows",
    "account_flow_coverage",
    "connect_codes",
    "connect_failures",
    "venue_status",
    "workers",
    "account_leases",
)
#: Tables whose ``id`` is an identity column on PostgreSQL.
IDENTITIES = (
    "users",
    "accounts",
    "account_snapshots",
    "alert_rules",
    "alerts",
    "alert_decisions",
    "silences",
    "outbox",
    "digest_subscriptions",
)
#: Rows per read and per insert transaction (a year of snapshots is millions of rows).
BATCH = 5000


@dataclass(frozen=True)
class Copied:
    """One table's rows in the source and in the target after the copy."""

    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


async def counts(db: Database) -> dict[str, int]:
    out = {}
    for table in TABLES:
        row = await db.fetchone(f"SELECT COUNT(*) FROM {table}")
        out[table] = int(row[0]) if row is not None else 0
    return out


async def copy_all(
    source: Database, target: Database, *, progress: Callable[[str, int], None] | None = None
) -> list[Copied]:
    """Copy every table of ``source`` into ``target`` (which must hold no rows at all)."""
    held = {t: n for t, n in (await counts(target)).items() if n}
    if held:
        named = ", ".join(f"{n} {t}" for t, n in sorted(held.items()))
        raise StorageError(
            f"{target.path} already holds rows ({named}): migrate-db copies into an empty "
            "database only"
        )
    for table in TABLES:
        copied = await _copy_table(source, target, table)
        if progress is not None:
            progress(table, copied)
    if target.dialect == "postgres":
        async with target.transaction() as tx:
            for table in IDENTITIES:
                await tx.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    before, after = await counts(source), await counts(target)
    return [Copied(t, before[t], after[t]) for t in TABLES]


async def _copy_table(source: Database, target: Database, table: str) -> int:
    """The table in batches by SQLite's rowid (keyset paging: each read starts where the last
    ended, where OFFSET would re-read every earlier row)."""
    if source.dialect != "sqlite":
        raise StorageError("migrate-db copies from a SQLite database")
    copied, after = 0, -1
    while True:
        rows = await source.fetchall(
            f"SELECT rowid AS copy_rowid, * FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (after, BATCH),
        )
        if not rows:
            return copied
        columns = list(rows[0].keys())[1:]
        marks = ", ".join("?" for _ in columns)
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        async with target.transaction() as tx:
            await tx.executemany(insert, [tuple(row)[1:] for row in rows])
        copied += len(rows)
        after = int(rows[-1]["copy_rowid"])
