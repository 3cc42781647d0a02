"""The backtest's replay tells exactly what the live pipeline tells for the same marks.

One scripted price path (hourly candles around an isolated SOL long's liquidation price,
read by the backtest's adverse-last path at 5-minute polls) is run twice: through the
backtest (``engine.backtest.replay``), and through production's path — the real monitor
polling the fake Binance with real ccxt at the same virtual instants, the fake's mark moved
to the same price before each poll, the engine's analysis, ``AlertPipeline`` writing alert
rows and the real outbox in SQLite. The notices the outbox queued and the notices the
backtest reports must be the same: time, severity, and per item rule, state and reason.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.alerting.stage import AlertPipeline
from engine.alerts.events import AlertNotice, AlertStatus, Reason
from engine.backtest import (
    Priced,
    Replay,
    adverse_path,
    default_rules,
    poll_points,
    replay,
    replay_account,
)
from engine.candles import Candles
from tests.bot.exchanges.conftest import link
from tests.bot.monitor.conftest import World, make_world
from tests.bot.monitor.test_alerts import _outbox
from tests.engine.normalise.payloads import binance as pb
from tests.fakes.clock import FakeClock
from tests.fakes.exchange import FakeExchange

HOUR_MS = 3_600_000
T0_MS = 1_700_000_000_000 // HOUR_MS * HOUR_MS
SOL = "SOL/USDT:USDT"
#: SOL long 200 @ 150, isolated: the venue's liquidation price is 133.5, fixed (isolated).
#: Warning under 10 % (mark 148.3), clear at 12 % (151.7); critical under 5 % (140.5),
#: clear at 7 % (143.5). The bars cross each of them, hold a critical past its 5-minute
#: repeat and a warning past its hourly one, and resolve both.
OPENS = [160.0, 156.0, 150.0, 141.0, 147.0, 160.0, 152.0, 148.0, 148.0]
HIGHS = [162.0, 158.0, 153.0, 146.0, 158.0, 161.0, 153.0, 149.0, 149.0]
LOWS = [155.0, 146.0, 139.0, 140.0, 146.0, 150.0, 147.0, 147.5, 147.0]


def _path() -> tuple[np.ndarray, np.ndarray]:
    n = len(OPENS)
    o = np.array(OPENS)
    candles = Candles(
        T0_MS + HOUR_MS * np.arange(n, dtype=np.int64),
        o, np.array(HIGHS), np.array(LOWS), o, np.zeros(n), HOUR_MS,
    )  # fmt: skip
    start = T0_MS / 1000
    return poll_points(adverse_path(candles, 1.0), start, start + n * 3600, 300.0)


def _story(notices: Sequence[AlertNotice]) -> list[tuple[Any, ...]]:
    return [
        (
            n.at,
            n.severity,
            tuple(
                (i.kind, i.op, i.threshold, i.severity, i.status, i.reason, i.symbol, i.side)
                for i in n.items
            ),
        )
        for n in notices
    ]


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[World, FakeClock]]:
    clock = FakeClock(T0_MS / 1000)
    async with FakeExchange() as fake:
        async for world in make_world(tmp_path, fake, alerts=AlertPipeline(), clock=clock):
            yield world, clock


async def test_the_replay_tells_what_the_live_pipeline_tells(
    live: tuple[World, FakeClock],
) -> None:
    world, clock = live
    times, marks = _path()
    creds = link(world.fake, "binanceusdm", 0, positions=(pb.LEGS[2],))
    world.fake.set_mark("binanceusdm", SOL, float(marks[0]))
    account = (await world.service.link(world.owner_id, "binanceusdm", creds, label="sol")).account
    first = None
    for at, mark in zip(times.tolist(), marks.tolist(), strict=True):
        clock.now = at
        world.fake.set_mark("binanceusdm", SOL, mark)
        event = await world.monitor.poll(account.id)
        assert event is not None and event.analysis is not None, at
        first = first or event
    told_live = _outbox(world.db_path)

    assert first is not None and first.analysis is not None
    priced = Priced(first.analysis.snapshot, SOL)
    assert float(priced.at(float(marks[0])).liquidation_price[0]) == pytest.approx(133.5)
    outcome = replay(
        priced, Replay(replay_account("binanceusdm"), default_rules()), times, marks,
        liquidated_at=None,
    )  # fmt: skip
    # The last bar ends at its low (no next open): its polls after 40 min are not covered.
    assert outcome.steps == len(times) == 9 * 12 - 3

    assert _story(outcome.notices) == _story(told_live)
    # The path exercises what it claims to: both severities fire, repeat and resolve.
    items = [i for n in told_live for i in n.items]
    reasons = {(str(i.severity), i.reason) for i in items if i.status is AlertStatus.FIRING}
    assert {("warning", Reason.FIRST), ("critical", Reason.FIRST)} <= reasons
    assert ("critical", Reason.REPEAT) in reasons and ("warning", Reason.REPEAT) in reasons
    assert {str(i.severity) for i in items if i.status is AlertStatus.RESOLVED} == {
        "warning",
        "critical",
    }
