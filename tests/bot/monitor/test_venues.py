"""The venues' reports (``VenueReporter``): per venue, the mark stream's state and last tick,
the REST budget the polls spend and the polls a minute, stored for `/status` and the CLI."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.monitor.venues import VenueReporter
from bot.render import venues as text
from bot.stream.records import VenueStatus
from storage.venues import VenueReports
from tests.bot.monitor.conftest import World, make_world
from tests.fakes.exchange import FakeExchange


@dataclass
class _Marks:
    """A mark source that only reports a status (the streams are tested in tests/bot/stream)."""

    statuses: dict[str, VenueStatus] = field(default_factory=dict)

    def status(self) -> Mapping[str, VenueStatus]:
        return self.statuses

    def follow(self, held: object) -> None: ...
    async def run(self) -> None: ...
    async def close(self) -> None: ...


@pytest.fixture
async def world(tmp_path: Path, fake: FakeExchange) -> AsyncIterator[World]:
    async for w in make_world(tmp_path, fake):
        yield w


async def test_polls_only_the_reports_say_marks_off_and_count_polls_and_rest(
    world: World,
) -> None:
    """LIQWATCH_STREAM=off: each watched venue is "marks off (polls only)", with its polls
    a minute, its REST spending and its accounts; a venue with none left is dropped."""
    okx = [await world.link("okx", n) for n in range(2)]
    hl = await world.link("hyperliquid")
    for account in (*okx, hl, okx[0]):
        await world.monitor.poll(account.id)
    reporter = VenueReporter(world.db, world.monitor, world.hub, None)
    await reporter.report()
    stored = {r.venue: r for r in await VenueReports(world.db).all()}
    assert set(stored) == {"okx", "hyperliquid"}
    assert (stored["okx"].polls_per_min, stored["okx"].accounts) == (3, 2)
    assert stored["okx"].stream == "off" and stored["okx"].last_tick_at is None
    assert stored["okx"].rest_per_ip is False and stored["hyperliquid"].rest_per_ip is True
    spent = world.hub.rest_use("hyperliquid")
    assert spent is not None and stored["hyperliquid"].rest_per_min == spent.per_minute > 0
    line = text.lines([stored["hyperliquid"]], time.time(), accounts=True)[0]
    share = round(100 * spent.per_minute / 1200)
    assert line == (
        f"hyperliquid: marks off (polls only); REST {share}% of the per-IP limit "
        f"({spent.per_minute:.0f}/1200 a minute), 1 poll a minute, 1 account"
    )
    await world.service.unlink(world.owner_id, hl.label)
    await reporter.report()
    assert [r.venue for r in await VenueReports(world.db).all()] == ["okx"]


async def test_a_degraded_stream_says_how_many_symbols_rest_stands_in_for(world: World) -> None:
    await world.link("bybit")
    marks = _Marks({
        "bybit": VenueStatus("degraded", 3.04, ("BTC/USDT:USDT", "ETH/USDT:USDT"),
                             ("ETH/USDT:USDT",), 2),
    })  # fmt: skip
    reporter = VenueReporter(world.db, world.monitor, world.hub, marks)
    await reporter.report()
    (report,) = await VenueReports(world.db).all()
    now = report.reported_at
    assert text.marks(report, now) == (
        "marks degraded (1 of 2 symbols read over REST), last tick 3.0s ago, 2 reconnects"
    )
    # Linking read the venue (markets, a validation call); no poll has run yet.
    assert re.fullmatch(
        r"REST \d+% of the per-key limit \(\d+/3000 a minute\), 0 polls a minute",
        text.budget(report),
    )
    assert text.staleness([report], now + 30) is None
    assert "has not reported since" in (text.staleness([report], now + 300) or "")
