"""Position pushes through the monitor: a Binance ``ACCOUNT_UPDATE`` on the user-data stream
(the real ccxt.pro client against the stream fake) changes the book at once, without a poll;
the next poll stays the truth and a push it contradicts is logged with both values."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.alerting.stage import AlertPipeline
from bot.exchanges import Credentials
from bot.monitor.poller import Monitor
from bot.stream.positions import PositionStreams
from engine.model import MarginMode
from tests.bot.monitor.conftest import World, make_world
from tests.engine.normalise.payloads import binance as pb
from tests.engine.normalise.payloads.binance import LEGS
from tests.fakes.exchange import FakeExchange
from tests.fakes.stream import FakeStream

VENUE, KEY = "binanceusdm", "KEY-binanceusdm-0"
BTC_ETH, SOL = LEGS[:2], LEGS[2]
DEADLINE_S = 5.0


class Pushing:
    def __init__(self, world: World, stream: FakeStream, streams: PositionStreams) -> None:
        self.world, self.stream, self.streams = world, stream, streams

    def symbols(self, account_id: int) -> set[str]:
        return {str(s) for s in self.world.monitor.latest[account_id].snapshot.positions.symbol}

    async def until(self, predicate: object, what: str) -> None:
        deadline = asyncio.get_running_loop().time() + DEADLINE_S
        while not predicate():  # type: ignore[operator]
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"not within {DEADLINE_S} s: {what}")
            await asyncio.sleep(0.01)


async def _keys(monitor: Monitor, account_id: int) -> Credentials:
    account = await monitor.accounts.system_get(account_id)
    assert account is not None
    return await monitor.credentials(account)


@pytest.fixture
async def pushing(tmp_path: Path) -> AsyncIterator[Pushing]:
    async with FakeExchange() as fake, FakeStream(exchange=fake) as stream:
        async for world in make_world(tmp_path, fake, alerts=AlertPipeline(), poll_s=300):
            monitor = world.monitor
            keys = functools.partial(_keys, monitor)
            streams = PositionStreams(world.hub, monitor.pushed, keys, ws_prefix=stream.url)
            monitor.follow_pushes = streams.follow
            task = asyncio.create_task(streams.run())
            try:
                yield Pushing(world, stream, streams)
            finally:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)


async def _linked(pushing: Pushing) -> int:
    world = pushing.world
    account = await world.link(VENUE)
    world.fake.accounts[KEY].positions = BTC_ETH
    await world.monitor.start()
    await pushing.until(lambda: world.monitor.stats.polls >= 1, "the first poll")
    await pushing.stream.wait_connected(VENUE, timeout=DEADLINE_S)
    return account.id


async def test_a_pushed_new_position_is_in_the_book_without_a_poll(pushing: Pushing) -> None:
    """Polls are 300 s apart and the venue's positions endpoint hangs after the first poll:
    the SOL position an ACCOUNT_UPDATE opens is in the book (its mark implied by the pushed
    PnL) at once, and stored as the account's latest snapshot; the poll the new symbol asks
    for (its tiers, the venue's liquidation price) follows once the venue answers."""
    world = pushing.world
    account_id = await _linked(pushing)
    assert pushing.symbols(account_id) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
    world.fake.stall(VENUE, 60.0, path="/fapi/v3/positionRisk")  # no poll can help
    pushing.stream.account_update(KEY, [*BTC_ETH, SOL])
    await pushing.until(lambda: "SOL/USDT:USDT" in pushing.symbols(account_id), "the push")
    # The book takes the push before its transaction commits; the count comes after it.
    await pushing.until(lambda: world.monitor.stats.pushes >= 1, "the push stored")
    assert world.monitor.stats.polls == 1 and world.monitor.stats.pushes == 1
    try:
        analysis = world.monitor.latest[account_id]
        held = analysis.snapshot.positions
        i = list(held.symbol).index("SOL/USDT:USDT")
        assert held.qty[i] == SOL.amount and held.entry[i] == SOL.entry
        assert held.mark[i] == pytest.approx(SOL.mark)  # ep + up / pa
        assert held.margin_mode[i] == MarginMode.ISOLATED
        latest = await world.monitor.snapshots.latest(world.owner_id, account_id)
        assert latest is not None and "SOL/USDT:USDT" in {p.symbol for p in latest.positions}
    finally:
        world.fake.release()
    # A new symbol's tiers and the venue's liquidation price come from a poll, asked at once.
    await pushing.until(lambda: world.monitor.stats.polls >= 2, "the poll the push asked for")
    analysis = world.monitor.latest[account_id]
    i = list(analysis.snapshot.positions.symbol).index("SOL/USDT:USDT")
    sol_liq = pb.liquidation_price((SOL,), "SOLUSDT")
    assert analysis.liquidation_price[i] == pytest.approx(sol_liq, rel=1e-6)


async def test_a_closed_position_leaves_the_book_and_a_contradicting_poll_is_logged(
    pushing: Pushing, caplog: pytest.LogCaptureFixture
) -> None:
    """A push closes ETH; the venue's REST still shows it (the push was wrong, or the poll
    raced it): the next poll puts ETH back (the poll is the truth) and logs both values."""
    world = pushing.world
    account_id = await _linked(pushing)
    pushing.stream.account_update(KEY, [BTC_ETH[0]])
    await pushing.until(lambda: "ETH/USDT:USDT" not in pushing.symbols(account_id), "the close")
    world.fake.accounts[KEY].positions = BTC_ETH  # REST disagrees
    with caplog.at_level(logging.WARNING, logger="bot.monitor.poller"):
        await world.monitor.poll(account_id)
    assert "ETH/USDT:USDT" in pushing.symbols(account_id)
    said = [r.getMessage() for r in caplog.records if "disagrees" in r.getMessage()]
    assert len(said) == 1
    assert "ETH/USDT:USDT: pushed 0 contracts" in said[0] and "polled 5 @ 3000" in said[0]
    assert world.monitor.pushes.disagreements == 1
    # A poll that agrees logs nothing more.
    await world.monitor.poll(account_id)
    assert world.monitor.pushes.disagreements == 1
