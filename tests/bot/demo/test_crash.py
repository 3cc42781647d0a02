"""`kill -9` of a real `liqwatch demo` at several points: no message lost, duplicates counted.

The demo is the whole pipeline (monitor → alert stage → outbox → notifier → channel) in one
process; ``--transcript`` makes the channel append each delivered message to a file with
fsync, so the file is what a user would have seen.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


async def _start(db: Path, transcript: Path, duration_s: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bot.demo.slow_ack_demo", "--db", str(db),
        "--transcript", str(transcript), "--duration", str(duration_s), "--poll", "0.5",
        "--seed", "3",
        cwd=ROOT, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip


def _lines(transcript: Path) -> int:
    return len(transcript.read_text().splitlines()) if transcript.exists() else 0


async def _kill_after_delivery(proc: asyncio.subprocess.Process, transcript: Path) -> None:
    """Kill the moment a new message reached the channel: before it is marked sent (the
    platform of ``slow_ack_demo`` acknowledges a second after delivering)."""
    before = _lines(transcript)
    for _ in range(1200):
        if _lines(transcript) > before or proc.returncode is not None:
            break
        await asyncio.sleep(0.05)
    proc.kill()


async def _kill_at(proc: asyncio.subprocess.Process, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    proc.kill()


def _state(db: Path) -> tuple[list[tuple[str, str]], int]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT dedup_key, status FROM outbox").fetchall()
        live = conn.execute("SELECT count(*) FROM alerts WHERE status = 'firing'").fetchone()[0]
    conn.close()
    return [(r[0], r[1]) for r in rows], int(live)


@pytest.mark.slow
async def test_kill_9_at_several_points_loses_no_message(tmp_path: Path) -> None:
    """Three kills (right after a delivery, then at random moments of the crash), then a clean
    run through the calm phase: every queued message was delivered at least once, nothing is
    pending or dead, no alert is left firing, and duplicates are only redeliveries."""
    db, transcript = tmp_path / "demo.db", tmp_path / "transcript.jsonl"
    rng = random.Random(11)
    kills = [None, rng.uniform(12.0, 20.0), rng.uniform(20.0, 35.0)]
    for delay in kills:
        proc = await _start(db, transcript, 90.0)
        if delay is None:
            await _kill_after_delivery(proc, transcript)
        else:
            await _kill_at(proc, delay)
        assert await proc.wait() == -9
    # The scenario restarts at its calm phase (14 % from liquidation): what fired resolves.
    final = await _start(db, transcript, 7.0)
    try:
        _, err = await asyncio.wait_for(final.communicate(), 120)  # a 7 s demo, loaded
    finally:
        if final.returncode is None:
            final.kill()
            await final.wait()
    assert final.returncode == 0, err.decode()[-2000:]
    rows, firing = _state(db)
    delivered = Counter(
        json.loads(line)["dedup_key"] for line in transcript.read_text().splitlines()
    )
    assert rows and all(status == "sent" for _, status in rows)
    assert {key for key, _ in rows} <= set(delivered)
    assert set(delivered) <= {key for key, _ in rows}
    assert firing == 0
    duplicates = sum(n - 1 for n in delivered.values())
    assert duplicates >= 1  # the first kill landed between delivery and "sent": redelivered
    print(f"crash trials: {len(kills)}, messages: {len(rows)}, duplicates: {duplicates}")
