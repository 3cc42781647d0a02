"""The heartbeat and the watchdogs: ops messages once per stall, a delivery stall sent directly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from bot.delivery.ops import OpsAlerts
from bot.monitor.watchdog import Heartbeat
from engine.alerts.events import OpsNotice
from engine.domain import Platform
from storage.outbox import Outbox
from tests.bot.monitor.conftest import World
from tests.fakes.channel import FakeChannel, transient
from tests.fakes.clock import FakeClock
from tests.fakes.notices import message

OPS = (Platform.TELEGRAM, "-100777")


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
    heartbeat = Heartbeat(world.db, world.monitor, OpsAlerts(world.db, OPS), stall_s=60.0)
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
    clock = FakeClock(1000.0)
    heartbeat = Heartbeat(
        world.db, world.monitor, OpsAlerts(world.db, OPS), stall_s=60.0, clock=clock
    )
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
    clock = FakeClock(10_000.0)
    heartbeat = Heartbeat(
        world.db, world.monitor, OpsAlerts(world.db, OPS), stall_s=60.0, clock=clock
    )
    clock.now += 3600
    await heartbeat.check()
    assert _ops_rows(world.db_path) == []


async def _queue_alert(world: World, chat: str, at: float) -> None:
    async with world.db.transaction() as tx:
        queued = message(chat, key=f"k-{chat}-{at}", owner_id=world.owner_id)
        await Outbox(tx.db).enqueue([queued], now=at, tx=tx)


def _direct_kinds(channel: FakeChannel) -> list[str]:
    return [str(d.message.notice.kind) for d in channel.sent]


async def test_delivery_watchdog_tells_the_ops_chat_directly_once_and_on_recovery(
    world: World,
) -> None:
    """A due message older than the delivery limit → one critical sent straight to the ops
    chat (the outbox is what is stuck), naming its last error; further checks are quiet; once
    nothing due is late, one 'recovered' goes through the outbox."""
    clock = FakeClock(1000.0)
    channel = FakeChannel(Platform.TELEGRAM, clock=clock)
    ops = OpsAlerts(world.db, OPS, channels={Platform.TELEGRAM: channel}, clock=clock)
    heartbeat = Heartbeat(
        world.db, world.monitor, ops, stall_s=60.0, delivery_stall_s=120.0, clock=clock
    )
    await _queue_alert(world, "42", at=1000.0)
    await Outbox(world.db).retry(1, 1000.0, "telegram HTTP 502 Bad Gateway")
    clock.now = 1100.0
    await heartbeat.check_delivery()
    assert channel.sent == []
    for now in (1121.0, 1150.0, 1300.0):
        clock.now = now
        await heartbeat.check_delivery()
    assert _direct_kinds(channel) == ["delivery_stalled"]
    stalled = channel.sent[0].message.notice
    assert isinstance(stalled, OpsNotice) and "502 Bad Gateway" in (stalled.detail or "")
    assert _ops_rows(world.db_path) == []  # nothing queued behind the stuck row
    await Outbox(world.db).mark_sent(1, 1301.0, "m-1")
    clock.now = 1310.0
    await heartbeat.check_delivery()
    assert _ops_rows(world.db_path) == [("-100777", "info", "delivery_recovered")]


async def test_delivery_watchdog_ignores_platforms_without_a_channel(world: World) -> None:
    """Rows for a platform liqwatch has no channel for wait by design: not a stall."""
    clock = FakeClock(1000.0)
    heartbeat = Heartbeat(
        world.db, world.monitor, OpsAlerts(world.db, OPS), stall_s=60.0,
        delivery_stall_s=120.0, platforms=(Platform.DISCORD,), clock=clock,
    )  # fmt: skip
    await _queue_alert(world, "42", at=1000.0)
    clock.now = 5000.0
    await heartbeat.check_delivery()
    assert heartbeat.delivery_stalled_since is None and _ops_rows(world.db_path) == []


async def test_a_stall_the_ops_chat_cannot_get_directly_is_queued_for_later(world: World) -> None:
    """When the direct send fails too (the platform is down), the alert waits in the outbox
    rather than vanishing."""
    clock = FakeClock(1000.0)
    channel = FakeChannel(Platform.TELEGRAM, clock=clock)
    channel.fail_always(OPS[1], transient("HTTP 503"))
    ops = OpsAlerts(world.db, OPS, channels={Platform.TELEGRAM: channel}, clock=clock)
    heartbeat = Heartbeat(
        world.db, world.monitor, ops, stall_s=60.0, delivery_stall_s=120.0, clock=clock
    )
    await _queue_alert(world, "42", at=1000.0)
    clock.now = 1200.0
    await heartbeat.check_delivery()
    assert channel.sent == [] and len(channel.calls) == 1
    assert ("-100777", "critical", "delivery_stalled") in _ops_rows(world.db_path)
