"""Refresh on change: Hyperliquid's public trades name both parties, so a watched wallet that
trades is re-polled at once — one trades subscription per coin held, not one per wallet. The
real ccxt.pro client against the stream fake, and the real monitor against the REST fake."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from pathlib import Path

from bot.alerting.stage import AlertPipeline
from tests.bot.exchanges.conftest import link
from tests.bot.monitor.conftest import make_world
from tests.bot.stream.conftest import World

SOL = "SOL/USDC:USDC"
BTC = "BTC/USDC:USDC"
WALLET = "0x" + "ab" * 20
SOMEONE = "0x" + "cd" * 20


class _Heard:
    def __init__(self) -> None:
        self.named: list[tuple[str, set[str]]] = []

    def __call__(self, venue: str, addresses: Collection[str]) -> None:
        self.named.append((venue, set(addresses)))

    def addresses(self) -> set[str]:
        return {a for _v, named in self.named for a in named}


async def test_a_trade_on_a_followed_coin_names_both_parties(world: World) -> None:
    """A SOL trade between two wallets reaches the handler with both addresses (lower case);
    trades the venue replays to a new subscription (made before it) do not; a coin no one
    holds is not subscribed at all; one trades subscription per coin."""
    world.stream.trade(SOL, [SOMEONE, WALLET.upper()], 150.0, 1.0)  # before: replayed
    heard = _Heard()
    streams = world.start({"hyperliquid": {SOL}})
    streams.tell_traders(heard)
    await world.until(lambda: world.stream.subscribed("hyperliquid") >= 2, "subscriptions")
    await asyncio.sleep(0.2)
    assert heard.named == []
    world.stream.trade(BTC, [WALLET, SOMEONE], 60000.0, 0.1)
    world.stream.trade(SOL, [WALLET.upper(), SOMEONE], 151.0, 2.0)
    await world.until(lambda: bool(heard.named), "the SOL trade's parties")
    assert heard.named == [("hyperliquid", {WALLET, SOMEONE})]
    assert "trades" in " ".join(world.stream.topics("hyperliquid"))


async def test_a_watched_wallet_that_trades_is_polled_within_a_second(
    world: World, tmp_path: Path
) -> None:
    """The wallet is polled every 300 s; its trade on the public feed has it polled again at
    once (well within a second), and a trade of an unwatched wallet polls nothing."""
    async for monitored in make_world(tmp_path, world.fake, alerts=AlertPipeline(), poll_s=300):
        creds = link(world.fake, "hyperliquid", 0)
        assert creds.wallet_address is not None
        linked = await monitored.service.link(monitored.owner_id, "hyperliquid", creds, label="hl")
        await monitored.monitor.start()
        monitor = monitored.monitor
        await world.until(lambda stats=monitor.stats: stats.polls >= 1, "the first poll")
        streams = world.start({"hyperliquid": {SOL}})
        streams.tell_traders(monitor.traded)
        await world.until(lambda: world.stream.subscribed("hyperliquid") >= 2, "subscriptions")
        world.stream.trade(SOL, [SOMEONE, "0x" + "ef" * 20], 150.0, 1.0)
        await asyncio.sleep(0.3)
        assert monitor.stats.polls == 1
        pushed = time.monotonic()
        world.stream.trade(SOL, [creds.wallet_address, SOMEONE], 150.0, 1.0)
        await world.until(lambda stats=monitor.stats: stats.polls >= 2, "the re-poll")
        assert time.monotonic() - pushed < 1.0
        assert linked.account.id in monitor.latest
