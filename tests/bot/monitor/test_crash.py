"""`kill -9` of a real `liqwatch run` mid-poll: every stored snapshot is whole, never half."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.bot.monitor.conftest import World

ROOT = Path(__file__).resolve().parents[3]
VENUES = ("binanceusdm", "bybit", "okx", "hyperliquid")
pytestmark = pytest.mark.slow


async def _start(world: World, key: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "LIQWATCH_DB": str(world.db_path),
        "LIQWATCH_MASTER_KEY": key,
        "LIQWATCH_POLL_SECONDS": "1",
        # Every poll stores a snapshot, every second: the kills land among writes.
        "LIQWATCH_POLL_BANDS": "off",
        "LIQWATCH_SNAPSHOT_SECONDS": "0",
        "LIQWATCH_EXCHANGE_URL_PREFIX": world.fake.url,
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _until_running(proc: asyncio.subprocess.Process, timeout_s: float = 120.0) -> None:
    """Read stderr until the monitor says it runs (signal handlers are installed by then);
    fail if it exits first (end of its stderr) or has not said so within ``timeout_s``."""
    assert proc.stderr is not None
    async with asyncio.timeout(timeout_s):
        while b"liqwatch running" not in (line := await proc.stderr.readline()):
            assert line, "liqwatch run exited before it started"


def _check_whole(db_path: Path, expected: dict[int, int]) -> int:
    """Integrity OK and each snapshot carries its account's full position list."""
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute(
            "SELECT account_id, equity_usd, positions_json FROM account_snapshots"
        ).fetchall()
    for account_id, equity, positions in rows:
        assert equity is not None
        assert len(json.loads(positions)) == expected[account_id]
    return len(rows)


async def test_kill_9_at_random_points_never_leaves_a_partial_snapshot(world: World) -> None:
    """Five kills at random moments, a restart after each; then a restart that polls again
    and shuts down cleanly on SIGTERM (exit 0)."""
    key = world.vault_key
    expected = {}
    for venue in VENUES:
        account = await world.link(venue)
        event = await world.monitor.poll(account.id)
        assert event is not None and event.analysis is not None
        expected[account.id] = int(event.analysis.snapshot.positions.valid.sum())
    counts = [_check_whole(world.db_path, expected)]
    rng = random.Random(7)
    for _ in range(5):
        proc = await _start(world, key)
        await _until_running(proc)  # polls start now: kill among them
        await asyncio.sleep(rng.uniform(0.0, 3.0))
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        counts.append(_check_whole(world.db_path, expected))
    proc = await _start(world, key)
    await _until_running(proc)
    async with asyncio.timeout(60):
        while _check_whole(world.db_path, expected) <= counts[-1]:  # until it stored a new one
            assert proc.returncode is None
            await asyncio.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    counts.append(_check_whole(world.db_path, expected))
