"""Position pushes: a linked Binance key's user-data stream (the listen key opened over REST,
the socket behind it) hands each ``ACCOUNT_UPDATE`` to the monitor as ccxt's positions. The
real ccxt.pro client against the stream fake."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.exchanges import Credentials
from bot.stream.positions import PositionStreams
from tests.bot.exchanges.conftest import link
from tests.bot.stream.conftest import World
from tests.engine.normalise.payloads.binance import LEGS

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
