"""The heartbeat and the watchdog: ops messages through the outbox, once per stall."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.heartbeat import Heartbeat
from engine.domain import Platform
from tests.bot.monitor.conftest import World

OPS = (Platform.TELEGRAM, "-100777")


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _ops_rows(db_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT chat_id, severity, payload_json FROM outbox WHERE owner_id IS NULL ORDER BY id"
        ).fetchall()
    conn.close()
    return [(r[0], r[1], json.loads(r[2])["kind"]) for r in rows]


async def test_heartbeat_reports_the_watched_accounts(world: World) -> None:
    """beat() queues one info message for the ops chat saying how many accounts are watched."""
    await world.link("bybit")
    await world.monitor.sync()
    heartbeat = Heartbeat(world.db, world.monitor, ops_chat=OPS, stall_s=60.0)
    await heartbeat.beat()
    with sqlite3.connect(world.db_path) as conn:
        payload = json.loads(conn.execute("SELECT payload_json FROM outbox").fetchone()[0])
    conn.close()
    assert (payload["kind"], payload["accounts"]) == ("heartbeat", 1)


async def test_watchdog_alerts_once_per_stall_and_once_on_recovery(world: World) -> None:
    """No finished poll for longer than stall_s → one critical; more checks add nothing; a
    finished poll → one recovered message."""
    await world.link("bybit")
    await world.monitor.sync()
    clock = Clock(1000.0)
    heartbeat = Heartbeat(world.db, world.monitor, ops_chat=OPS, stall_s=60.0, clock=clock)
    world.monitor.stats.last_cycle_at = 1000.0
    clock.now = 1030.0
    await heartbeat.check()
    assert _ops_rows(world.db_path) == []
    for now in (1061.0, 1100.0, 1200.0):
        clock.now = now
        await heartbeat.check()
    assert _ops_rows(world.db_path) == [("-100777", "critical", "stalled")]
    world.monitor.stats.last_cycle_at = 1205.0
    clock.now = 1210.0
    await heartbeat.check()
    assert _ops_rows(world.db_path)[-1] == ("-100777", "info", "recovered")


async def test_watchdog_is_quiet_when_nothing_is_watched(world: World) -> None:
    """With no account there is no cycle to wait for: no stall alert."""
    clock = Clock(10_000.0)
    heartbeat = Heartbeat(world.db, world.monitor, ops_chat=OPS, stall_s=60.0, clock=clock)
    clock.now += 3600
    await heartbeat.check()
    assert _ops_rows(world.db_path) == []
