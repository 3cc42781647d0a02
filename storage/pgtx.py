"""PostgreSQL statements for ``storage.postgres``: a transaction on its one write connection,
statements translated where the dialects differ (``storage.pgsql``), and the driver's connection
failures as one sentence naming the server (``StorageUnavailable``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import cast
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]

from storage.db import Database, Params, Row, Transaction
from storage.errors import StorageError, StorageUnavailable
from storage.pgsql import rowcount, translate


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password (it goes into error messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()


@contextmanager
def _translated(where: str) -> Iterator[None]:
    """PostgreSQL's connection failures as one sentence naming the server."""
    try:
        yield
    except (OSError, TimeoutError, asyncpg.exceptions.CannotConnectNowError) as exc:
        raise StorageUnavailable(f"database {where} is unreachable ({exc}): check it runs") from exc
    except (
        asyncpg.exceptions.InterfaceError,
        asyncpg.exceptions.InternalClientError,  # a connection left mid-protocol by a drop
        asyncpg.exceptions.PostgresConnectionError,  # the connection dropped mid-statement
        asyncpg.exceptions.OperatorInterventionError,  # the server shut the session down
    ) as exc:
        raise StorageUnavailable(f"database {where}: the connection failed ({exc})") from exc


class PgTransaction(Transaction):
    """Statements inside one ``BEGIN`` … ``COMMIT`` on the write connection."""

    def __init__(self, conn: asyncpg.Connection, db: Database) -> None:
        self._pg: asyncpg.Connection | None = conn
        self.db = db
        self._path = db.path

    def _live_pg(self) -> asyncpg.Connection:
        if self._pg is None:
            raise StorageError("transaction used after it ended")
        return self._pg

    def _end(self) -> None:
        self._pg = None

    async def execute(self, sql: str, params: Params = ()) -> int:
        statement = translate(sql)
        with _translated(self._path):
            return rowcount(await self._live_pg().execute(statement.sql, *statement.args(params)))

    async def insert(self, sql: str, params: Params = ()) -> int:
        statement = translate(sql.rstrip().rstrip(";") + " RETURNING id")
        with _translated(self._path):
            found = await self._live_pg().fetchval(statement.sql, *statement.args(params))
        if found is None:
            raise StorageError("INSERT produced no row id")
        return int(found)

    async def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        """One prepared statement run per row, the rows changed summed (asyncpg's own
        ``executemany`` reports no count, and ``ON CONFLICT DO NOTHING`` callers need it)."""
        if not rows:
            return 0
        statement = translate(sql)
        changed = 0
        with _translated(self._path):
            prepared = await self._live_pg().prepare(statement.sql)
            for row in rows:
                await prepared.fetch(*statement.args(row))
                changed += rowcount(prepared.get_statusmsg())
        return changed

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        statement = translate(sql)
        with _translated(self._path):
            found = await self._live_pg().fetchrow(statement.sql, *statement.args(params))
        return cast(Row | None, found)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        statement = translate(sql)
        with _translated(self._path):
            found = await self._live_pg().fetch(statement.sql, *statement.args(params))
        return cast(list[Row], found)
