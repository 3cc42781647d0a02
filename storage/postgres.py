"""The database on PostgreSQL (``LIQWATCH_DB=postgresql://…``), behind ``Database``'s interface.

The repositories do not know which one they talk to: statements are translated where the
dialects differ (``storage/pgsql.py``) and rows answer ``row["name"]``, ``row[0]`` and
``row.keys()`` on both. As on SQLite, writes of one process go through one connection behind
an ``asyncio.Lock`` (a transaction sees its own writes, nothing else interleaves), and reads go
to a small pool of other connections that see committed data only.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]

from storage.db import Database, Params, Row, Transaction
from storage.errors import MigrationError, SchemaTooNewError, StorageUnavailable
from storage.lock import DatabaseInUse
from storage.migrate import Migration
from storage.pgsql import translate
from storage.pgtx import PgTransaction, _translated, is_postgres, redacted

__all__ = ["PgDatabase", "is_postgres", "pg_migrations", "redacted"]

log = logging.getLogger(__name__)

#: The SQLite migration PostgreSQL's baseline stands for (storage/migrations_pg/).
BASELINE = 14
#: The advisory lock key of "a liqwatch run holds this database" (and of migrating it).
HOLD_KEY = 7741000
#: Every advisory lock is taken in the two-key form (this, key): the first key is the schema's
#: hash, so deployments (or test runs) in different schemas of one database never share a lock.
SPACE = "hashtext(coalesce(current_schema(), ''))"
#: Seconds a connection may take to open: a cut-off server must not hold a worker's round up
#: for asyncpg's default minute.
CONNECT_TIMEOUT_S = 5.0
#: Seconds between attempts to listen again after the listening connection was lost.
RELISTEN_S = 1.0
_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS liqwatch_schema (version BIGINT NOT NULL)"
_PG_FILE = re.compile(r"(\d{4})_[a-z0-9_]+\.sql")


def _quoted(text: str) -> str:
    return text.replace("'", "''")


class PgDatabase(Database):
    """One PostgreSQL database: a write connection behind a lock and a pool for reads."""

    dialect = "postgres"

    def __init__(self, url: str, writer: asyncpg.Connection, readers: asyncpg.Pool) -> None:
        self.path, self._url = redacted(url), url
        self._pg_writer, self._readers = writer, readers
        self._listener: asyncpg.Connection | None = None
        self._listening: dict[str, list[Callable[[], object]]] = {}
        self._relisten: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None
        self._closed = False
        #: What the write connection's session holds, to take again on a new connection:
        #: the shared or exclusive run lock (and its purpose), the leads (advisory keys).
        self._hold: tuple[str, bool] | None = None
        self._leads: set[int] = set()
        #: Told the key of a lead this process lost with its connection (another took it).
        self.on_lead_lost: Callable[[int], object] | None = None

    @classmethod
    async def connect(
        cls, url: str, *, migrations: Sequence[Migration] | None = None
    ) -> PgDatabase:
        where = redacted(url)
        with _translated(where):
            try:
                writer = await asyncpg.connect(url)
            except asyncpg.exceptions.PostgresError as exc:
                raise StorageUnavailable(f"cannot open database {where}: {exc}") from exc
        try:
            with _translated(where):
                readers = await asyncpg.create_pool(url, min_size=1, max_size=4)
        except BaseException:
            await writer.close()
            raise
        db = cls(url, writer, readers)
        try:
            await db.migrate(pg_migrations() if migrations is None else migrations)
        except BaseException:
            await db.close()
            raise
        return db

    async def lane(self) -> PgDatabase:
        """Another handle on this database with connections of its own (a write connection
        and a one-connection reader pool), for a task that must not queue behind this
        process's other statements: the lease round. Behind hundreds of poll transactions on
        the one write connection its renewal came after the leases had lapsed, and another
        worker polled the same accounts (benchmarks/workers.py, three workers, 2,000
        accounts). The caller closes it."""
        with _translated(self.path):
            writer = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_S)
            try:
                readers = await asyncpg.create_pool(self._url, min_size=1, max_size=1)
            except BaseException:
                await writer.close()
                raise
        return PgDatabase(self._url, writer, readers)

    async def hold(self, purpose: str, *, shared: bool = False) -> None:
        """A session advisory lock on the write connection, freed when the process dies (as
        the SQLite flock is): ``shared`` for each worker (``liqwatch run``: several may share
        the database), exclusive for what no worker may run beside (``rotate-key``,
        ``migrate-db``). ``DatabaseInUse`` names a holder's connection."""
        async with self._lock:
            writer = await self._write_conn()
            if await _take_hold(writer, purpose, shared=shared):
                self._hold = (purpose, shared)
                return
            holder = await writer.fetchrow(_HOLDER, HOLD_KEY)
        who = "another process"
        if holder is not None:
            name = holder["application_name"] or "a client"
            who = f"{name} (server pid {holder['pid']}, from {holder['addr'] or 'a local socket'})"
        raise DatabaseInUse(f"{self.path} is in use by {who}: stop it first")

    async def try_lead(self, key: int) -> bool:
        """Take the session advisory lock ``key`` if no other connection holds it: the role it
        stands for (one chat inbound per platform) is this process's until it dies, when the
        server frees the lock and another worker's next try takes it."""
        async with self._lock:
            writer = await self._write_conn()
            with _translated(self.path):
                led = bool(await writer.fetchval(f"SELECT pg_try_advisory_lock({SPACE}, $1)", key))
        if led:
            self._leads.add(key)
        return led

    async def holder(self, key: int) -> str | None:
        """The application name of the session holding advisory lock ``key`` in this schema
        (``liqwatch run <pid>@<host>``), None if none does."""
        row = await self._readers.fetchrow(_HOLDER, key)
        return None if row is None else str(row["application_name"])

    async def _write_conn(self) -> asyncpg.Connection:
        """The write connection (under ``_lock``), opened again if it was lost — the server
        restarted, the network was cut — with its session's locks taken again."""
        if not self._pg_writer.is_closed():
            return self._pg_writer
        with _translated(self.path):
            try:
                writer = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_S)
            except asyncpg.exceptions.PostgresError as exc:
                raise StorageUnavailable(f"cannot open database {self.path}: {exc}") from exc
            self._pg_writer = writer
            log.warning("database %s: the write connection was lost; it is open again", self.path)
            if self._hold is not None and not await _take_hold(
                writer, self._hold[0], shared=self._hold[1]
            ):
                log.error("database %s: the run lock could not be taken again", self.path)
            for key in sorted(self._leads):
                if not await writer.fetchval(f"SELECT pg_try_advisory_lock({SPACE}, $1)", key):
                    self._leads.discard(key)
                    log.warning("advisory lock %d went to another worker while cut off", key)
                    if self.on_lead_lost is not None:
                        self.on_lead_lost(key)
        return writer

    async def listen(self, channel: str, callback: Callable[[], object]) -> None:
        """Call ``callback`` on every NOTIFY of ``channel`` (by any worker), on a connection of
        its own (a connection listening must not run statements). A lost connection is opened
        again, and each callback called once then: notifications meanwhile were missed."""
        self._listening.setdefault(channel, []).append(callback)
        if self._listener is None:
            with _translated(self.path):
                self._listener = await self._listen_on()
        else:
            await self._listener.add_listener(channel, functools.partial(_notified, callback))

    async def _listen_on(self) -> asyncpg.Connection:
        """A new listening connection for every channel listened to."""
        conn = await asyncpg.connect(self._url, timeout=CONNECT_TIMEOUT_S)
        for channel, callbacks in self._listening.items():
            for callback in callbacks:
                await conn.add_listener(channel, functools.partial(_notified, callback))
        conn.add_termination_listener(self._listener_lost)
        return conn

    def _listener_lost(self, *_: object) -> None:
        if not self._closed and self._relisten is None:
            log.warning("database %s: the LISTEN connection was lost; reopening it", self.path)
            self._relisten = asyncio.get_running_loop().create_task(self._listen_again())

    async def _listen_again(self) -> None:
        """Open the listening connection again, every ``RELISTEN_S`` until it opens."""
        try:
            while not self._closed:
                try:
                    self._listener = await self._listen_on()
                except (OSError, TimeoutError, asyncpg.exceptions.PostgresError):
                    await asyncio.sleep(RELISTEN_S)
                    continue
                log.warning("database %s: listening again", self.path)
                for callbacks in self._listening.values():
                    for callback in callbacks:
                        callback()
                return
        finally:
            self._relisten = None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._relisten is not None:
            self._relisten.cancel()
        if self._listener is not None:
            await self._listener.close()
        async with self._lock:
            await self._readers.close()
            await self._pg_writer.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        task = asyncio.current_task()
        if task is not None and task is self._holder:
            raise RuntimeError("nested transaction: pass the open Transaction instead")
        async with self._lock:
            self._holder = task
            try:
                writer = await self._write_conn()
            except BaseException:
                self._holder = None
                raise
            tx = PgTransaction(writer, self)
            pg_tx = writer.transaction()
            committed = False
            try:
                with _translated(self.path):
                    await pg_tx.start()
                yield tx
                with _translated(self.path):
                    await pg_tx.commit()
                committed = True
            except StorageUnavailable:
                # A connection that failed mid-statement can be left mid-protocol (asyncpg
                # then refuses every later statement): dropped, the next use opens a new one.
                writer.terminate()
                raise
            finally:
                tx._end()
                self._holder = None
                if not committed:
                    with contextlib.suppress(Exception):
                        await pg_tx.rollback()

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        statement = translate(sql)
        with _translated(self.path):
            found = await self._readers.fetchrow(statement.sql, *statement.args(params))
        return cast(Row | None, found)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        statement = translate(sql)
        with _translated(self.path):
            found = await self._readers.fetch(statement.sql, *statement.args(params))
        return cast(list[Row], found)

    async def schema_version(self) -> int:
        await self._pg_writer.execute(_VERSION_TABLE)
        found = await self._pg_writer.fetchval("SELECT max(version) FROM liqwatch_schema")
        return int(found or 0)

    async def migrate(self, migrations: Sequence[Migration]) -> int:
        """Bring the schema up to the last of ``migrations`` (the baseline first), each with its
        version row in one transaction; an advisory lock keeps two workers from racing."""
        async with self._lock, self._pg_writer.transaction():
            await self._pg_writer.execute(f"SELECT pg_advisory_xact_lock({SPACE}, 7741001)")
            await self._pg_writer.execute(_VERSION_TABLE)
            current = int(
                await self._pg_writer.fetchval("SELECT max(version) FROM liqwatch_schema") or 0
            )
            last = migrations[-1].version if migrations else 0
            if current > last:
                raise SchemaTooNewError(
                    f"{self.path} has schema version {current} but this liqwatch knows only up "
                    f"to {last}: upgrade liqwatch"
                )
            for migration in migrations:
                if migration.version <= current:
                    continue
                try:
                    await self._pg_writer.execute(migration.sql)
                except asyncpg.exceptions.PostgresError as exc:
                    raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
                await self._pg_writer.execute(
                    "INSERT INTO liqwatch_schema (version) VALUES ($1)", migration.version
                )
        return await self.schema_version()


#: Who holds advisory lock $1 of this schema (two-key locks show the keys as classid, objid).
_HOLDER = (
    "SELECT a.pid, a.application_name, a.client_addr::text AS addr"
    " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.objid = $1"
    f" AND l.classid::bigint = ({SPACE})::bigint & 4294967295 AND l.granted LIMIT 1"
)


async def _take_hold(writer: asyncpg.Connection, purpose: str, *, shared: bool) -> bool:
    """Take the run lock on ``writer``'s session and name the session after the holder."""
    take = "pg_try_advisory_lock_shared" if shared else "pg_try_advisory_lock"
    if not await writer.fetchval(f"SELECT {take}({SPACE}, $1)", HOLD_KEY):
        return False
    name = f"liqwatch {purpose} {os.getpid()}@{socket.gethostname()}"[:63]
    await writer.execute(f"SET application_name = '{_quoted(name)}'")
    return True


def _notified(callback: Callable[[], object], *_: object) -> None:
    """asyncpg's listener signature (connection, pid, channel, payload) to ``callback()``."""
    callback()


def pg_migrations() -> tuple[Migration, ...]:
    """The baseline (standing for SQLite's 0001-0014), then each later migration in its
    PostgreSQL form where there is one (storage/migrations_pg/), else as SQLite has it."""
    from storage.migrate import load_migrations

    folder = resources.files("storage").joinpath("migrations_pg")
    own = {}
    for entry in folder.iterdir():
        match = _PG_FILE.fullmatch(entry.name)
        if match is not None:
            own[int(match[1])] = Migration(int(match[1]), entry.name, entry.read_text("utf-8"))
    if BASELINE not in own:
        raise MigrationError("storage/migrations_pg/0014_baseline.sql is missing")
    later = [own.get(m.version, m) for m in load_migrations() if m.version > BASELINE]
    return (own[BASELINE], *later)
