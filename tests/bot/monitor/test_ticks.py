"""Streamed marks through the book and the alert stage: re-priced between polls, one
transaction a batch, nothing written when nothing changes what anyone is told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.alerting.stage import AlertPipeline
from bot.monitor.ticks import TickStage
from engine.domain import AccountStatus, LinkedAccount
from tests.bot.exchanges.conftest import link
from tests.bot.monitor.conftest import World, make_world
from tests.engine.normalise.payloads import binance as pb
from tests.fakes.clock import NOW, FakeClock
from tests.fakes.exchange import FakeExchange

SOL = "SOL/USDT:USDT"
SOL_LEG = pb.LEGS[2]
SOL_LIQ = pb.liquidation_price((SOL_LEG,), "SOLUSDT")


@dataclass(frozen=True)
class _Tick:
    venue: str
    symbol: str
    mark: float


def _at(distance_pct: float) -> float:
    """The SOL long's mark ``distance_pct`` above its liquidation price."""
    return SOL_LIQ / (1 - distance_pct / 100)


@pytest.fixture
async def alerting(tmp_path: Path, fake: FakeExchange) -> AsyncIterator[World]:
    async for w in make_world(tmp_path, fake, alerts=AlertPipeline()):
        yield w


async def _sol_account(world: World, n: int = 0, distance_pct: float = 25.0) -> LinkedAccount:
    """A polled Binance account holding the isolated SOL long, parked ``distance_pct`` away."""
    creds = link(world.fake, "binanceusdm", n, positions=(SOL_LEG,))
    world.fake.set_mark("binanceusdm", SOL, _at(distance_pct))
    linked = await world.service.link(world.owner_id, "binanceusdm", creds, label=f"sol-{n}")
    await world.monitor.poll(linked.account.id)
    return linked.account


async def _counts(world: World) -> tuple[int, int, int]:
    rows = []
    for table in ("outbox", "alerts", "alert_decisions"):
        row = await world.db.fetchone(f"SELECT COUNT(*) FROM {table}")
        rows.append(int(row[0]) if row else 0)
    return rows[0], rows[1], rows[2]


def _stage(world: World) -> TickStage:
    pipeline = world.monitor.alerts
    assert isinstance(pipeline, AlertPipeline)
    return TickStage(world.db, world.monitor.latest, pipeline, clock=FakeClock(NOW))


async def test_a_streamed_mark_reprices_the_book_between_polls(alerting: World) -> None:
    """A tick moves the account's distance to liquidation without a poll; /positions reads
    the book, so it shows the streamed mark."""
    account = await _sol_account(alerting)
    before = alerting.monitor.latest[account.id]
    stage = _stage(alerting)
    stage.on_ticks([_Tick("binanceusdm", SOL, _at(12.0))])
    await stage.apply()
    after = alerting.monitor.latest[account.id]
    assert before.distance_pct[0] == pytest.approx(25.0, abs=0.05)
    assert after.distance_pct[0] == pytest.approx(12.0, abs=0.05)
    assert stage.stats.repriced == 1


async def test_a_tick_across_the_critical_level_queues_the_alert_at_once(alerting: World) -> None:
    """3 % away on a streamed mark: the critical alert is in the outbox without any poll."""
    await _sol_account(alerting)
    stage = _stage(alerting)
    stage.on_ticks([_Tick("binanceusdm", SOL, _at(3.0))])
    assert await stage.apply() == 1
    rows = await alerting.db.fetchall("SELECT severity FROM outbox")
    assert [r["severity"] for r in rows] == ["critical"]


async def test_ticks_far_from_every_threshold_write_nothing(alerting: World) -> None:
    """Marks wandering between 20 % and 30 % away: no account worth a full look, no write."""
    account = await _sol_account(alerting)
    stage = _stage(alerting)
    before = await _counts(alerting)
    for distance in (20.0, 30.0, 22.0):
        stage.on_ticks([_Tick("binanceusdm", SOL, _at(distance))])
        assert await stage.apply() == 0
    assert await _counts(alerting) == before
    assert stage.stats.repriced == 3 and stage.stats.looked_at == 0
    assert alerting.monitor.latest[account.id].distance_pct[0] == pytest.approx(22.0, abs=0.05)


async def test_a_firing_alert_whose_value_only_moves_writes_nothing(alerting: World) -> None:
    """Critical at 3 %, then ticks at 2.9 % and 2.8 % (no repeat due, no escalation, which
    would take 1.5 %): the screen sees no threshold, clear level or escalation point crossed,
    so the account is not even evaluated, and nothing is written."""
    await _sol_account(alerting)
    stage = _stage(alerting)
    stage.on_ticks([_Tick("binanceusdm", SOL, _at(3.0))])
    await stage.apply()
    before = await _counts(alerting)
    for distance in (2.9, 2.8):
        stage.on_ticks([_Tick("binanceusdm", SOL, _at(distance))])
        assert await stage.apply() == 0
    assert await _counts(alerting) == before and stage.stats.looked_at == 1
    assert stage.stats.repriced == 3


async def test_many_accounts_are_one_transaction_and_a_blind_one_is_left_alone(
    alerting: World,
) -> None:
    """Three accounts hold SOL; one of them went blind: one tick re-prices the two others and
    queues their criticals together; the blind one keeps its last figures."""
    accounts = [await _sol_account(alerting, n) for n in range(3)]
    alerting.monitor.latest.set_status(accounts[2].id, AccountStatus.BLIND)
    stage = _stage(alerting)
    stage.on_ticks([_Tick("binanceusdm", SOL, _at(3.0))])
    assert await stage.apply() == 2
    assert stage.stats.batches == 1 and stage.stats.repriced == 2
    blind = alerting.monitor.latest[accounts[2].id]
    assert blind.distance_pct[0] == pytest.approx(25.0, abs=0.05)
    assert alerting.monitor.latest.held() == {"binanceusdm": {SOL}}


async def test_ticks_of_another_venue_or_symbol_touch_nothing(alerting: World) -> None:
    """A BTC mark, or SOL on Bybit, moves no Binance SOL account."""
    account = await _sol_account(alerting)
    stage = _stage(alerting)
    stage.on_ticks([_Tick("binanceusdm", "BTC/USDT:USDT", 1.0), _Tick("bybit", SOL, 1.0)])
    await stage.apply()
    assert stage.stats.repriced == 0
    assert alerting.monitor.latest[account.id].distance_pct[0] == pytest.approx(25.0, abs=0.05)
