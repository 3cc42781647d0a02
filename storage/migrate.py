"""Numbered, append-only schema migrations tracked with ``PRAGMA user_version``."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from storage.errors import MigrationError, SchemaTooNewError

if TYPE_CHECKING:
    from storage.db import Database

_FILE_NAME = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")
_LEADING_COMMENTS = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_FORBIDDEN = re.compile(
    r"(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE|VACUUM)\b|PRAGMA\s+user_version\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Migration:
    """One schema step: ``version`` N takes the database from N-1 to N."""

    version: int
    name: str
    sql: str


def load_migrations() -> tuple[Migration, ...]:
    """The migrations packaged in ``storage/migrations``, in order (read via importlib)."""
    folder = resources.files("storage").joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None:
            raise MigrationError(f"migration file {entry.name} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    if not found:
        raise MigrationError("no storage/migrations/*.sql found: package data was not installed")
    return check_sequence(sorted(found, key=lambda m: m.version))


def check_sequence(migrations: Sequence[Migration]) -> tuple[Migration, ...]:
    """``migrations`` if they are numbered 1, 2, … N without a gap or duplicate."""
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migration {migration.name} has number {migration.version}, expected {expected}"
            )
    return tuple(migrations)


def split_statements(sql: str, *, name: str = "<sql>") -> list[str]:
    """The statements of a script, each ending with its semicolon, comments-only parts dropped.

    ``executescript()`` would commit on its own, so scripts are split here. A ';' only ends
    a statement when ``sqlite3.complete_statement`` agrees, which understands string
    literals, comments and ``CREATE TRIGGER … BEGIN … END;`` bodies.
    """
    statements: list[str] = []
    pending = ""
    *pieces, tail = sql.split(";")
    for piece in pieces:
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if _body(pending) != ";":
                statements.append(pending.strip())
            pending = ""
    if _body(pending + tail):
        raise MigrationError(f"migration {name}: the last statement has no closing semicolon")
    for statement in statements:
        if _FORBIDDEN.match(_body(statement)):
            raise MigrationError(f"migration {name}: transaction control is not allowed here")
    return statements


def _body(statement: str) -> str:
    """The statement without leading whitespace and comments."""
    return _LEADING_COMMENTS.sub("", statement, count=1)


async def apply_migrations(db: Database, migrations: Sequence[Migration]) -> int:
    """Bring ``db`` up to the last of ``migrations``; the resulting schema version.

    Each ``storage/migrations/NNNN_name.sql`` runs in one transaction together with
    ``PRAGMA user_version = NNNN``, so a failure rolls both back. Files must not manage
    transactions themselves nor set ``user_version``. For a later table rebuild note that
    ``PRAGMA foreign_keys`` cannot change inside a transaction: use
    ``PRAGMA defer_foreign_keys = ON`` (checked at COMMIT) instead.
    """
    known = check_sequence(migrations)
    current = await db.schema_version()
    if current > len(known):
        raise SchemaTooNewError(
            f"{db.path} has schema version {current} but this liqwatch knows only up to "
            f"{len(known)}: upgrade liqwatch, or restore a backup made by this version"
        )
    for migration in known[current:]:
        await _apply_one(db, migration)
    return await db.schema_version()


async def _apply_one(db: Database, migration: Migration) -> None:
    """Run one migration and bump user_version in one transaction (both or neither)."""
    statements = split_statements(migration.sql, name=migration.name)
    try:
        async with db.transaction() as tx:
            row = await tx.fetchone("PRAGMA user_version")
            # Another process may have migrated since we looked: re-check under the lock.
            if row is not None and int(row[0]) >= migration.version:
                return
            for statement in statements:
                await tx.execute(statement)
            await tx.execute(f"PRAGMA user_version = {int(migration.version)}")
    except sqlite3.Error as exc:
        raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
