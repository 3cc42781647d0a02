"""Two `liqwatch run` on one database: the second refuses at once and names the first.

Start-up frees every outbox lease (a lease left behind belongs to a process that died); that
is only true while one process owns the database, so the second must never get that far.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.security.vault import generate_key

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _env(db: Path, key: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIQWATCH_", "TELEGRAM_"))}
    env.pop("DISCORD_BOT_TOKEN", None)
    return {**env, "LIQWATCH_DB": str(db), "LIQWATCH_MASTER_KEY": key, **extra}


async def _liqwatch(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def _until_running(proc: asyncio.subprocess.Process, timeout_s: float = 120.0) -> None:
    """Read stderr until the run says it runs; fail if it exits first (end of its stderr) or
    has not said so within ``timeout_s``."""
    assert proc.stderr is not None
    async with asyncio.timeout(timeout_s):
        while b"liqwatch running" not in (line := await proc.stderr.readline()):
            assert line, "liqwatch run exited before it started"


async def _refusal(proc: asyncio.subprocess.Process) -> tuple[int, list[str]]:
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, err.decode().strip().splitlines()


async def test_a_second_run_and_rotate_key_are_refused_while_a_run_holds_the_database(
    tmp_path: Path,
) -> None:
    """Both exit 2 with one line naming the holder's pid; after `kill -9` of the holder a new
    run starts (the kernel freed the lock) and stops cleanly on SIGTERM."""
    db, key = tmp_path / "liqwatch.db", generate_key()
    first = await _liqwatch(_env(db, key), "run")
    try:
        await _until_running(first)
        status, lines = await _refusal(await _liqwatch(_env(db, key), "run"))
        assert status == 2 and len(lines) == 1, lines
        assert lines[0].startswith("liqwatch: error:") and f"pid {first.pid}" in lines[0]
        rotate_env = _env(db, key, LIQWATCH_NEW_MASTER_KEY=generate_key())
        status, lines = await _refusal(await _liqwatch(rotate_env, "rotate-key"))
        assert status == 2 and len(lines) == 1 and "liqwatch run" in lines[0], lines
    finally:
        first.send_signal(signal.SIGKILL)
        await first.wait()
    second = await _liqwatch(_env(db, key), "run")
    try:
        await _until_running(second)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 60) == 0
    finally:
        if second.returncode is None:
            second.kill()
            await second.wait()
