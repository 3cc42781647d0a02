"""The database: a serialised write connection, a read connection and their transactions."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Generator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from types import TracebackType
from typing import Any, Protocol, TypeAlias

import aiosqlite

from storage.errors import StorageCorrupt, StorageError, StorageUnavailable
from storage.migrate import Migration, apply_migrations, load_migrations

#: Statement parameters: positional (``?``) or named (``:name``).
Params: TypeAlias = Sequence[Any] | Mapping[str, Any]
#: A result row: ``row["name"]``, ``row[0]``, ``row.keys()`` (an asyncpg Record on PostgreSQL).
Row: TypeAlias = sqlite3.Row

#: How long a write waits for another process's lock before SQLite gives up ("locked").
BUSY_TIMEOUT_S = 5.0
#: Applied to both connections; journal_mode is a property of the file, the rest per connection.
PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
)


#: SQLite primary result codes (``sqlite3.Error.sqlite_errorcode & 0xFF``) that pass with time.
_BUSY, _LOCKED, _IOERR, _FULL, _CANTOPEN = 5, 6, 10, 13, 14
#: … and those that say the file itself is wrong.
_CORRUPT, _NOTADB = 11, 26


def translate(exc: sqlite3.Error, path: str) -> StorageError | None:
    """A sentence naming the file and what to do for SQLite's operational failures, as the
    storage error a caller can act on; None for the rest (a bug: let it surface as is)."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    if code in (_BUSY, _LOCKED):
        return StorageUnavailable(
            f"database {path} is locked by another writer (a backup, a `liqwatch` command, "
            "another process) for longer than the busy timeout: retry once it is released"
        )
    if code == _FULL:
        return StorageUnavailable(
            f"database {path}: the disk is full; free space on that filesystem"
        )
    if code == _IOERR:
        return StorageUnavailable(f"database {path}: disk I/O error ({exc}); check the disk")
    if code == _CANTOPEN:
        return StorageUnavailable(
            f"cannot open database {path}: check that its folder exists and is writable"
        )
    if code in (_CORRUPT, _NOTADB):
        return StorageCorrupt(
            f"{path} is not a liqwatch database or is damaged ({exc}): check LIQWATCH_DB, "
            "or restore a backup"
        )
    return None


@contextmanager
def _translated(path: str) -> Iterator[None]:
    """Re-raise SQLite's operational failures as ``StorageError`` (see ``translate``)."""
    try:
        yield
    except sqlite3.Error as exc:
        storage_error = translate(exc, path)
        if storage_error is None:
            raise
        raise storage_error from exc


async def _connect(path: str, *, read_only: bool, busy_timeout_s: float) -> aiosqlite.Connection:
    """One configured connection in autocommit mode (we issue BEGIN ourselves)."""
    try:
        conn = await aiosqlite.connect(path, isolation_level=None)
    except sqlite3.Error as exc:
        raise translate(exc, path) or StorageError(f"cannot open database {path}: {exc}") from exc
    try:
        conn.row_factory = aiosqlite.Row
        # The repositories write PostgreSQL's two-argument GREATEST/LEAST, which SQLite spells
        # MAX/MIN (and PostgreSQL's MAX/MIN are aggregates only). NULL-aware as PostgreSQL.
        await conn.create_function("GREATEST", 2, _greatest, deterministic=True)
        await conn.create_function("LEAST", 2, _least, deterministic=True)
        for pragma in (*PRAGMAS, f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}"):
            with _translated(path):
                async with conn.execute(pragma) as cursor:
                    row = await cursor.fetchone()
            if pragma.startswith("PRAGMA journal_mode") and (row is None or row[0] != "wal"):
                raise StorageError(f"{path}: SQLite refused WAL journal mode (network drive?)")
        if read_only:
            await conn.execute("PRAGMA query_only = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


def _greatest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _least(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


class Transaction:
    """Statements inside one ``BEGIN IMMEDIATE`` … ``COMMIT``; unusable once it has ended."""

    def __init__(self, conn: aiosqlite.Connection, db: Database) -> None:
        self._conn: aiosqlite.Connection | None = conn
        #: The database this transaction writes to (repositories are built on it).
        self.db = db
        self._path = db.path

    def _live(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise StorageError("transaction used after it ended")
        return self._conn

    def _end(self) -> None:
        self._conn = None

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed."""
        with _translated(self._path):
            async with self._live().execute(sql, params) as cursor:
                return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT; the new row's id."""
        with _translated(self._path):
            async with self._live().execute(sql, params) as cursor:
                if cursor.lastrowid is None:
                    raise StorageError("INSERT produced no row id")
                return cursor.lastrowid

    async def executemany(self, sql: str, rows: Sequence[Params]) -> int:
        """Run one statement per parameter row; the total rows changed."""
        with _translated(self._path):
            async with self._live().executemany(sql, rows) as cursor:
                return cursor.rowcount

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a query (or of ``… RETURNING``), seeing this transaction's writes."""
        with _translated(self._path):
            async with self._live().execute(sql, params) as cursor:
                return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Every row of a query (or of ``… RETURNING``), seeing this transaction's writes."""
        with _translated(self._path):
            async with self._live().execute(sql, params) as cursor:
                return list(await cursor.fetchall())


class Reads(Protocol):
    """What a read needs: a transaction (seeing its own writes) or the database (committed)."""

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None: ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]: ...


class Database:
    """One SQLite file: a write connection behind an ``asyncio.Lock`` and a read connection.

    Writes go through ``transaction()`` only. Reads (``fetchone``/``fetchall``) use a separate
    query-only connection: in WAL mode they see the last committed state and never wait for the
    write lock, nor see another task's uncommitted rows (which sharing the write connection
    would show them). The file must be on disk: ``:memory:`` would give each connection its own
    database.
    """

    #: Which SQL the repositories must write where the dialects truly differ.
    dialect = "sqlite"

    def __init__(self, path: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None
        self._closed = False

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        migrations: Sequence[Migration] | None = None,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> _Opening:
        """Open (and migrate) the database: ``await Database.open(p)`` or ``async with …``.

        ``migrations`` replaces the packaged list (tests inject broken or extra ones).
        """
        return _Opening(os.fspath(path), migrations, busy_timeout_s)

    @classmethod
    async def _open(
        cls, path: str, migrations: Sequence[Migration] | None, busy_timeout_s: float
    ) -> Database:
        if path == ":memory:" or path.startswith("file::memory:"):
            raise StorageError("liqwatch needs a database file, not :memory:")
        writer = await _connect(path, read_only=False, busy_timeout_s=busy_timeout_s)
        try:
            reader = await _connect(path, read_only=True, busy_timeout_s=busy_timeout_s)
        except BaseException:
            await writer.close()
            raise
        db = cls(path, writer, reader)
        try:
            await apply_migrations(db, load_migrations() if migrations is None else migrations)
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        """Close both connections, after any running transaction has finished."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self._reader.close()
            await self._writer.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, or ``ROLLBACK`` on any exception or cancellation.

        IMMEDIATE takes SQLite's write lock up front: a deferred BEGIN that later upgrades can
        fail with "database is locked" without honouring busy_timeout. The asyncio lock keeps
        other tasks' statements out of this transaction. Not re-entrant: inside a transaction,
        pass the ``Transaction`` on instead of opening another one.
        """
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            raise RuntimeError("nested transaction: pass the open Transaction instead")
        async with self._lock:
            self._holder = task
            tx = Transaction(self._writer, self)
            committed = False
            try:
                with _translated(self.path):
                    if self._writer.in_transaction:  # an earlier ROLLBACK failed (disk gone)
                        await self._writer.rollback()
                    await self._writer.execute("BEGIN IMMEDIATE")
                yield tx
                with _translated(self.path):
                    await self._writer.commit()
                committed = True
            finally:
                tx._end()
                self._holder = None
                if not committed:
                    # aiosqlite queues this ROLLBACK on the connection's thread before our
                    # first suspension, so even if we are cancelled while it waits, it runs
                    # ahead of the next holder's BEGIN. It is a no-op when nothing is open
                    # (a cancelled BEGIN that never ran, or a COMMIT that did). A failing
                    # rollback (disk gone) must not hide the error that brought us here.
                    with contextlib.suppress(sqlite3.Error):
                        await self._writer.rollback()

    def reads(self, tx: Transaction | None) -> Reads:
        """Where a repository's read goes: the caller's transaction if it passed one (so the
        read sees what that transaction wrote), else committed data."""
        return self if tx is None else tx

    @asynccontextmanager
    async def joining(self, tx: Transaction | None) -> AsyncIterator[Transaction]:
        """The caller's transaction if given (join it), else a new one of our own."""
        if tx is not None:
            yield tx
            return
        async with self.transaction() as own:
            yield own

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a read-only query on committed data."""
        with _translated(self.path):
            async with self._reader.execute(sql, params) as cursor:
                return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Every row of a read-only query on committed data."""
        with _translated(self.path):
            async with self._reader.execute(sql, params) as cursor:
                return list(await cursor.fetchall())

    async def ping(self) -> None:
        """One trivial read: raises ``StorageError`` if the database does not answer."""
        await self.fetchone("SELECT 1")

    async def schema_version(self) -> int:
        """The applied migration number (``PRAGMA user_version``)."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row is not None else 0


class _Opening:
    """What ``Database.open`` returns: awaitable, or an async context manager that closes."""

    def __init__(
        self, path: str, migrations: Sequence[Migration] | None, busy_timeout_s: float
    ) -> None:
        self._args = (path, migrations, busy_timeout_s)
        self._db: Database | None = None

    def __await__(self) -> Generator[Any, None, Database]:
        return self._open().__await__()

    async def _open(self) -> Database:
        path, migrations, busy_timeout_s = self._args
        from storage.postgres import PgDatabase, is_postgres

        if is_postgres(path):
            return await PgDatabase.connect(path, migrations=migrations)
        return await Database._open(path, migrations, busy_timeout_s)

    async def __aenter__(self) -> Database:
        self._db = await self._open()
        return self._db

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._db is not None:
            await self._db.close()
