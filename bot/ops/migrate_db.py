"""``liqwatch migrate-db --from liqwatch.db --to postgresql://…``: a SQLite database moved to
PostgreSQL, every table's count printed and compared (docs/storage.md)."""

from __future__ import annotations

import os

from bot.errors import UserError
from bot.settings import is_postgres
from storage import Database
from storage.copy import Copied, copy_all
from storage.lock import ProcessLock
from storage.postgres import PgDatabase, redacted


async def migrate_db(source: str, target: str) -> str:
    """Copy ``source`` (a SQLite file) into ``target`` (an empty PostgreSQL database); the
    table of counts, or a ``UserError`` naming the tables whose counts differ."""
    if is_postgres(source) or not os.path.isfile(source):
        raise UserError(f"--from must be an existing SQLite database file, got {source!r}")
    if not is_postgres(target):
        raise UserError(f"--to must be a postgresql:// URL, got {redacted(target)!r}")
    # Nothing may write either side meanwhile: a running `liqwatch run` holds them.
    with ProcessLock(source, purpose="migrate-db"):
        async with Database.open(source) as src, Database.open(target) as dst:
            if isinstance(dst, PgDatabase):
                await dst.hold("migrate-db")
            copied = await copy_all(src, dst)
    report = _table(copied)
    wrong = [c.table for c in copied if not c.ok]
    if wrong:
        raise UserError(f"the copy is incomplete ({', '.join(wrong)} differ):\n{report}")
    total = sum(c.target for c in copied)
    return (
        f"{report}\ncopied {total} rows into {redacted(target)}; every table's count matches. "
        "Credentials are still sealed with the same master key: set LIQWATCH_DB to the URL."
    )


def _table(copied: list[Copied]) -> str:
    width = max(len(c.table) for c in copied)
    lines = [f"{'table':<{width}}  {'sqlite':>9}  {'postgres':>9}"]
    for c in copied:
        mark = "" if c.ok else "  ← differs"
        lines.append(f"{c.table:<{width}}  {c.source:>9}  {c.target:>9}{mark}")
    return "\n".join(lines)
