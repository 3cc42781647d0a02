"""The alert stage inside real polls: fake exchange → engine → alert rows and outbox rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.alerting.stage import AlertPipeline
from bot.monitor.events import PollEvent
from engine.alerts.events import AlertNotice, from_payload
from engine.domain import LinkedAccount
from storage import Transaction
from tests.bot.exchanges.conftest import link
from tests.bot.monitor.conftest import World, make_world
from tests.engine.normalise.payloads import binance as pb
from tests.fakes.exchange import FakeExchange


@pytest.fixture
async def alerting(tmp_path: Path, fake: FakeExchange) -> AsyncIterator[World]:
    async for w in make_world(tmp_path, fake, alerts=AlertPipeline()):
        yield w


async def _isolated(world: World) -> LinkedAccount:
    """A Binance USDⓈ-M account holding one isolated SOL long."""
    creds = link(world.fake, "binanceusdm", 0, positions=(pb.LEGS[2],))
    linked = await world.service.link(world.owner_id, "binanceusdm", creds, label="sol")
    return linked.account


def _mark_at(event: PollEvent, distance_pct: float) -> tuple[str, float]:
    """The first position's symbol and the mark that puts it ``distance_pct`` from its LP."""
    assert event.analysis is not None
    pos = event.analysis.snapshot.positions
    liq = float(event.analysis.liquidation_price[0])
    long = pos.side[0] > 0
    mark = liq / (1 - distance_pct / 100) if long else liq / (1 + distance_pct / 100)
    return pos.symbol[0], mark


def _outbox(db_path: Path) -> list[AlertNotice]:
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT payload_json FROM outbox ORDER BY id").fetchall()
    conn.close()
    notices = [from_payload(json.loads(r[0])) for r in rows]
    return [n for n in notices if isinstance(n, AlertNotice)]


async def test_warning_then_critical_then_resolved_reach_the_outbox(alerting: World) -> None:
    """Default rules on a fresh account: 8 % → warning, 3 % → critical, 20 % → resolved.

    One isolated SOL long (its liquidation price does not move with its mark) that starts
    6 % from liquidation: warned at once, resolved at 20 %, then the scripted path.
    """
    account = await _isolated(alerting)
    first = await alerting.monitor.poll(account.id)
    assert first is not None and first.analysis is not None
    symbol, _ = _mark_at(first, 20.0)
    for distance in (20.0, 8.0, 8.0, 3.0, 20.0):
        _, mark = _mark_at(first, distance)
        alerting.fake.set_mark("binanceusdm", symbol, mark)
        await alerting.monitor.poll(account.id)
    story = [
        [(i.severity.value, i.status.value) for i in n.items] for n in _outbox(alerting.db_path)
    ]
    assert story == [
        [("warning", "firing")],
        [("warning", "resolved")],
        [("warning", "firing")],
        [("critical", "firing")],
        [("critical", "resolved"), ("warning", "resolved")],
    ]


async def test_each_message_goes_to_the_owners_chat_with_a_unique_key(alerting: World) -> None:
    """The outbox row targets the owner's Telegram chat; a repeated poll adds no duplicate."""
    account = await _isolated(alerting)
    first = await alerting.monitor.poll(account.id)
    assert first is not None
    symbol, mark = _mark_at(first, 3.0)
    alerting.fake.set_mark("binanceusdm", symbol, mark)
    await alerting.monitor.poll(account.id)
    await alerting.monitor.poll(account.id)
    with sqlite3.connect(alerting.db_path) as conn:
        rows = conn.execute("SELECT platform, chat_id, severity, dedup_key FROM outbox").fetchall()
    conn.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("telegram", "1001", "warning"),  # it starts 6 % away
        ("telegram", "1001", "critical"),
    ]


async def test_blind_account_raises_the_blind_alert(alerting: World) -> None:
    """Three failing polls make the account blind and queue the blind warning."""
    account = await alerting.link("bybit")
    await alerting.monitor.poll(account.id)
    before = len(_outbox(alerting.db_path))  # the fake's default positions may warn already
    alerting.fake.fail("bybit", status=503, body="Service Unavailable", times=1000)
    for _ in range(3):
        await alerting.monitor.poll(account.id)
    kinds = [i.kind.value for n in _outbox(alerting.db_path)[before:] for i in n.items]
    assert kinds == ["blind"]


async def test_alert_state_and_outbox_rows_commit_or_roll_back_together(
    tmp_path: Path, fake: FakeExchange
) -> None:
    """A failure after the alert stage wrote its rows (here: right after, in the same poll)
    rolls back alert state, outbox rows and the snapshot alike."""
    real = AlertPipeline()

    async def failing(tx: Transaction, event: PollEvent) -> None:
        await real(tx, event)
        raise RuntimeError("disk full")

    async for world in make_world(tmp_path, fake, alerts=failing):
        account = await _isolated(world)  # starts 6 % from liquidation: the warning fires
        with pytest.raises(RuntimeError, match="disk full"):
            await world.monitor.poll(account.id)
        assert real.queued == 1  # the stage did queue its message before the failure
        with sqlite3.connect(world.db_path) as conn:
            counts = [
                conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("alerts", "alert_decisions", "outbox", "account_snapshots")
            ]
        conn.close()
        assert counts == [0, 0, 0, 0]
