"""The one-process-per-database lock: exclusive, names its holder, freed by the kernel."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storage.lock import DatabaseInUse, ProcessLock, lock_path

HOLD = (
    "import sys, time\n"
    "from storage.lock import ProcessLock\n"
    "lock = ProcessLock(sys.argv[1], purpose='run')\n"
    "lock.acquire()\n"
    "print('held', flush=True)\n"
    "time.sleep(60)\n"
)


def test_a_second_holder_is_refused_with_the_first_ones_pid_and_host(tmp_path: Path) -> None:
    """The refusal names the process to stop; the first holder keeps the lock."""
    db = tmp_path / "liqwatch.db"
    with ProcessLock(db, purpose="run") as first:
        with pytest.raises(DatabaseInUse) as refused:
            ProcessLock(db, purpose="rotate-key").acquire()
        assert first.held
    message = str(refused.value)
    assert str(db) in message and "liqwatch run" in message
    assert f"pid {os.getpid()}" in message and socket.gethostname() in message


def test_the_lock_is_free_again_once_released(tmp_path: Path) -> None:
    """A clean stop leaves the file behind, but not the lock."""
    db = tmp_path / "liqwatch.db"
    with ProcessLock(db, purpose="run"):
        pass
    with ProcessLock(db, purpose="run") as again:
        assert again.held and lock_path(db).exists()


def test_kill_9_of_the_holder_frees_the_lock(tmp_path: Path) -> None:
    """The kernel releases flock when the process dies: a crash never blocks the next start."""
    db = tmp_path / "liqwatch.db"
    root = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db)], cwd=root, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DatabaseInUse, match=f"pid {holder.pid}"):
            ProcessLock(db, purpose="run").acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
        deadline = time.monotonic() + 5
        while True:
            try:
                ProcessLock(db, purpose="run").acquire()
                break
            except DatabaseInUse:
                assert time.monotonic() < deadline, "the lock outlived its holder"
                time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait()


def test_an_unwritable_folder_is_one_sentence(tmp_path: Path) -> None:
    """A database path in a missing folder says which file and what to check."""
    with pytest.raises(Exception, match=r"cannot create the lock file .*writable"):
        ProcessLock(tmp_path / "missing" / "liqwatch.db", purpose="run").acquire()
