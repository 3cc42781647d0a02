"""The demo streams its marks: with polls 30 s apart, the warning comes within a second of the
mark crossing the warning level, through the real book, alert stage, outbox and notifier."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from bot.analysis.snapshot import parse
from bot.delivery.channel import Channel, Outgoing
from bot.demo.accounts import DEMO_ACCOUNTS
from bot.demo.market import Market
from bot.demo.run import DemoOptions, demo
from bot.demo.venue import SimulatedVenue
from engine.alerts.events import AlertNotice
from engine.analysis import analyze

pytestmark = pytest.mark.slow

SEED = 7
DESK = next(a for a in DEMO_ACCOUNTS if a.label == "desk-binance")
BTC = "BTC/USDT:USDT"


def _distance(venue: SimulatedVenue, elapsed_s: float) -> float:
    """The desk's BTC long's distance to liquidation at ``elapsed_s`` of the scenario."""
    loaded = parse(venue.snapshot_at(DESK, elapsed_s), source="demo")
    result = analyze(loaded.snapshot, volatility=loaded.volatility)
    symbols = list(loaded.snapshot.positions.symbol)
    return float(result.distance_pct[symbols.index(BTC)])


def _crossing(level_pct: float) -> float:
    """The first moment (50 ms steps) the desk's BTC long is closer than ``level_pct``."""
    venue = SimulatedVenue(Market(SEED), time.time, DEMO_ACCOUNTS, start_s=0.0)
    for elapsed in np.arange(0.0, 40.0, 0.05):
        if _distance(venue, float(elapsed)) < level_pct:
            return float(elapsed)
    raise AssertionError(f"the scenario never comes within {level_pct} %")


@dataclass
class _Recorder:
    """Between the notifier and the console: when each notice was handed over."""

    inner: Channel
    sent: list[tuple[float, Outgoing]] = field(default_factory=list)

    @property
    def platform(self):  # type: ignore[no-untyped-def]
        return self.inner.platform

    def min_interval_s(self, chat_id: str) -> float:
        return self.inner.min_interval_s(chat_id)

    async def send(self, message: Outgoing) -> str | None:
        self.sent.append((time.time(), message))
        return await self.inner.send(message)


async def test_the_warning_follows_the_mark_not_the_next_poll() -> None:
    """Polls 30 s apart (only the first one lands before the crash): the desk's BTC warning is
    delivered within 1 s of the simulated mark crossing 10 %."""
    crossing_s = _crossing(10.0)
    recorders: list[_Recorder] = []

    def wrap(channel: Channel) -> Channel:
        recorders.append(_Recorder(channel))
        return recorders[-1]

    started = time.time()
    options = DemoOptions(duration_s=crossing_s + 3.0, seed=SEED, poll_s=30.0)
    await demo(options, out=io.StringIO(), wrap=wrap)
    warnings = [
        at - started
        for at, message in recorders[0].sent
        if isinstance(message.notice, AlertNotice)
        and message.notice.account_label == DESK.label
        and any(i.symbol == BTC and i.severity.value == "warning" for i in message.notice.items)
    ]
    assert warnings, "no warning reached the console"
    latency_s = warnings[0] - crossing_s
    print(f"mark crossed 10 % at {crossing_s:.2f} s; warning delivered {latency_s:.2f} s later")
    assert -0.3 <= latency_s <= 1.0
