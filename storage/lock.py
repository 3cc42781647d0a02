"""One process per database: an exclusive OS lock on a file beside the SQLite file.

``liqwatch run`` owns the outbox leases and the poll schedule of its database; two of them on
one file would each release the other's leases at start-up and deliver every alert twice.
The lock is ``flock`` on ``<database>.lock``: the kernel releases it when the process ends,
``kill -9`` included, so a crashed holder never blocks the next start. The file also names its
holder (pid, host, since when) so the refusal can say who to stop.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from storage.errors import StorageError


class DatabaseInUse(StorageError):
    """Another process holds the database's lock; the message names it."""


def lock_path(db_path: str | os.PathLike[str]) -> Path:
    """Where the lock of a database file lives (beside it, so it moves with it)."""
    return Path(f"{os.fspath(db_path)}.lock")


class ProcessLock:
    """``with ProcessLock(db_path, purpose="run"):`` — exclusive for the life of the block."""

    def __init__(self, db_path: str | os.PathLike[str], *, purpose: str) -> None:
        self.db_path = os.fspath(db_path)
        self.path = lock_path(db_path)
        self.purpose = purpose
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock now or raise ``DatabaseInUse`` naming the holder (never waits)."""
        if self._file is not None:
            return
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release
        except OSError as exc:
            raise StorageError(
                f"cannot create the lock file {self.path} ({exc.strerror}): check that the "
                "database's folder exists and is writable"
            ) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe(handle)
            handle.close()
            raise DatabaseInUse(
                f"{self.db_path} is in use by {holder}: stop it first (one liqwatch process "
                "per database)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(_me(self.purpose)))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        """Give the lock up (closing the file releases it; the file itself stays)."""
        handle, self._file = self._file, None
        if handle is not None:
            handle.close()

    @property
    def held(self) -> bool:
        return self._file is not None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _me(purpose: str) -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": time.time(),
        "purpose": purpose,
    }


def _describe(handle: IO[str]) -> str:
    """'liqwatch run (pid 4242 on host a, since 2026-12-07 09:00 UTC)', from the lock file."""
    handle.seek(0)
    try:
        holder = json.loads(handle.read() or "{}")
        since = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(float(holder["since"])))
        return (
            f"liqwatch {holder['purpose']} (pid {int(holder['pid'])} on host {holder['host']}, "
            f"since {since})"
        )
    except (ValueError, KeyError, TypeError):
        return "another liqwatch process"
