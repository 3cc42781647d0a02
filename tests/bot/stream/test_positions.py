"""Position pushes: a linked Binance key's user-data stream (the listen key opened over REST,
the socket behind it) hands each ``ACCOUNT_UPDATE`` to the monitor as ccxt's positions. The
real ccxt.pro client against the stream fake."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.exchanges import Credentials
from bot.stream.positions import PositionStreams, PushStatus
from tests.bot.exchanges.conftest import link
from tests.bot.stream.conftest import World
from tests.engine.normalise.payloads.binance import LEGS
from tests.fakes.exchange.server import VENUE_MODULES

BTC_ETH = LEGS[:2]
SOL = LEGS[2]


class _Pushed:
    def __init__(self) -> None:
        self.got: list[tuple[int, list[dict[str, Any]]]] = []

    async def __call__(self, account_id: int, positions: list[dict[str, Any]]) -> None:
        self.got.append((account_id, positions))


async def test_an_account_update_reaches_the_monitor_as_ccxt_positions(world: World) -> None:
    """The stream opens a listen key for the account's key and connects with it; a new SOL
    position and a closed ETH one arrive as ccxt's unified positions (the closed one at zero
    contracts), for that account only."""
    creds = link(world.fake, "binanceusdm", 0, positions=BTC_ETH)
    link(world.fake, "binanceusdm", 1, positions=BTC_ETH)
    pushed = _Pushed()

    async def keys(account_id: int) -> Credentials:
        assert account_id == 7
        return creds

    streams = PositionStreams(world.hub, pushed, keys, ws_prefix=world.stream.url)
    streams.follow({7: "binanceusdm", 8: "deribit"})  # deribit: no position stream
    world._tasks.append(asyncio.create_task(streams.run()))
    await world.stream.wait_connected("binanceusdm")
    assert world.fake.count("binanceusdm", "/fapi/v1/listenKey") == 1
    world.stream.account_update("KEY-binanceusdm-1", [*BTC_ETH, SOL])  # another account
    world.stream.account_update(creds.api_key, [BTC_ETH[0], SOL])
    await world.until(lambda: bool(pushed.got), "the push")
    assert len(pushed.got) == 1
    account_id, positions = pushed.got[0]
    by_symbol = {p["symbol"]: p for p in positions}
    assert account_id == 7
    assert set(by_symbol) == {"SOL/USDT:USDT", "ETH/USDT:USDT"}
    assert by_symbol["SOL/USDT:USDT"]["contracts"] == SOL.amount
    assert by_symbol["SOL/USDT:USDT"]["side"] == "long"
    assert by_symbol["SOL/USDT:USDT"]["entryPrice"] == SOL.entry
    assert by_symbol["ETH/USDT:USDT"]["contracts"] == 0
    assert streams.status().connected == 1 and streams.status().followed == 1
    streams.follow({})  # unlinked: its client goes, and it is no longer counted
    assert streams.status() == PushStatus(followed=0, connected=0, failing=0, pushes=1)


@pytest.mark.parametrize(
    ("venue", "opened"),
    [("okx", "BTC/USD:BTC"), ("bybit", "BTC/USD:BTC")],
)
async def test_okx_and_bybit_push_position_changes_after_logging_in(
    world: World, venue: str, opened: str
) -> None:
    """The client logs in with the account's key (a signature the fake checks) and
    subscribes to the positions channel; an inverse position the account opens and a linear
    one it closes arrive as ccxt's positions (the closed one at zero contracts)."""
    held = list(VENUE_MODULES[venue].default_positions(venue))
    creds = link(world.fake, venue, 0, positions=held[:2])
    pushed = _Pushed()

    async def keys(account_id: int) -> Credentials:
        return creds

    streams = PositionStreams(world.hub, pushed, keys, ws_prefix=world.stream.url)
    streams.follow({3: venue})
    world._tasks.append(asyncio.create_task(streams.run()))
    await world.stream.wait_until(
        lambda: world.stream.positions_update(creds.api_key, held[:2]) >= 1,
        timeout=5,
        what="the positions subscription",
    )
    world.stream.positions_update(creds.api_key, [held[1], held[2]])
    await world.until(lambda: bool(pushed.got), "the push")
    (account_id, positions), *_ = pushed.got
    by_symbol = {p["symbol"]: p for p in positions}
    assert account_id == 3
    assert by_symbol[opened]["contracts"] > 0
    # ccxt may hand a closed one-way position as a long and a short record, both empty.
    closed = [p for p in positions if p["symbol"] != opened]
    assert closed and {p["symbol"] for p in closed} == {closed[0]["symbol"]}
    assert not any(p["contracts"] for p in closed), positions


async def test_a_rejected_key_is_not_retried_in_a_loop(world: World) -> None:
    """A wrong secret: the venue refuses the login; the stream does not hammer it (one
    attempt, then the long retry) and reports the account failing."""
    creds = link(world.fake, "okx", 0)
    wrong = Credentials(creds.api_key, "not-the-secret", creds.passphrase)
    pushed = _Pushed()

    async def keys(account_id: int) -> Credentials:
        return wrong

    streams = PositionStreams(world.hub, pushed, keys, ws_prefix=world.stream.url, backoff_s=0.01)
    streams.follow({3: "okx"})
    world._tasks.append(asyncio.create_task(streams.run()))
    await world.until(lambda: streams.status().failing == 1, "the refusal")
    await asyncio.sleep(0.3)
    logins = [
        m for m in world.stream.received("okx") if isinstance(m, dict) and m.get("op") == "login"
    ]
    assert len(logins) == 1 and pushed.got == []
