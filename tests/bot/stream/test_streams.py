"""The mark streams against the real ccxt.pro and the fake venues: marks arrive, the followed
set is followed, drops reconnect, refusals back off, close leaves nothing open."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.stream import MarkTick
from bot.stream.venues import stream_spec
from tests.bot.stream.conftest import Case, World, each_venue


@each_venue
async def test_a_set_mark_arrives_as_a_stream_tick(world: World, case: Case) -> None:
    """The venue's mark (never its index or last price) reaches the consumer from the stream."""
    world.start({case.venue: [case.symbol]})
    await world.until(lambda: world.marks(case.symbol), "the first tick")
    quote = world.stream.set_mark(case.venue, case.symbol, 1234.5)
    await world.until(lambda: 1234.5 in world.marks(case.symbol, "stream"), "the set mark")
    seen = set(world.marks(case.symbol))
    assert quote.index not in seen and quote.last not in seen
    tick = next(t for t in world.ticks if t.mark == 1234.5)
    assert (tick.venue, tick.symbol, tick.source) == (case.venue, case.symbol, "stream")


@each_venue
async def test_follow_subscribes_an_added_symbol(world: World, case: Case) -> None:
    """A symbol followed while running is subscribed, and its marks arrive."""
    first, added = (case.symbol, case.other) if case.other else (None, case.symbol)
    streams = world.start({case.venue: [first] if first else []})
    if first:
        await world.until(lambda: world.marks(first), "the first symbol's tick")
    streams.follow({case.venue: [s for s in (first, added) if s]})
    await world.stream.wait_subscribed(case.venue, added)
    world.stream.set_mark(case.venue, added, 4321.0)
    await world.until(lambda: 4321.0 in world.marks(added, "stream"), "the added symbol's mark")
    assert streams.status()[case.venue].symbols == tuple(sorted(s for s in (first, added) if s))


@each_venue
async def test_follow_unsubscribes_a_dropped_symbol(world: World, case: Case) -> None:
    """A symbol no longer held is unsubscribed (un-watched on the same socket, or the client
    restarted without it where the venue cannot un-watch) and its updates stop arriving; the
    others keep flowing."""
    kept, dropped = (case.symbol, case.other) if case.other else (None, case.symbol)
    streams = world.start({case.venue: [s for s in (kept, dropped) if s]})
    await world.until(lambda: world.marks(dropped), "the dropped symbol's first tick")
    connected = world.stream.connected(case.venue)
    streams.follow({case.venue: [kept] if kept else []})
    await world.stream.wait_until(
        lambda: world.stream.watchers(case.venue, dropped) == 0, what="the symbol dropped"
    )
    world.stream.set_mark(case.venue, dropped, 777.0)
    if kept:
        world.stream.set_mark(case.venue, kept, 888.0)
        await world.until(lambda: 888.0 in world.marks(kept), "the kept symbol's mark")
        restarted = world.stream.connected(case.venue) - connected
        # Hyperliquid also drops the coin's trades (they name the wallets to re-poll).
        channels = 2 if stream_spec(case.venue).trades else 1
        assert (restarted, world.stream.unsubscribed(case.venue, dropped)) == (
            (1, 0) if case.restarts else (0, channels)
        )
    assert 777.0 not in world.marks(dropped)


@each_venue
async def test_killed_connections_reconnect_and_resubscribe(world: World, case: Case) -> None:
    """Sockets cut: the venue's client is rebuilt, subscribes again, and marks flow again."""
    streams = world.start({case.venue: [case.symbol]})
    await world.until(lambda: world.marks(case.symbol), "the first tick")
    assert world.stream.kill_connections(case.venue) == 1
    await world.stream.wait_subscribed(case.venue, case.symbol, count=2)
    world.stream.set_mark(case.venue, case.symbol, 555.5)
    await world.until(lambda: 555.5 in world.marks(case.symbol, "stream"), "a mark after it")
    assert world.stream.connected(case.venue) == 2
    assert streams.status()[case.venue].reconnects == 1


@each_venue
async def test_a_refused_handshake_backs_off(world: World, case: Case) -> None:
    """A venue refusing every handshake is retried at 0.1, 0.2, 0.4 s…: a few attempts in a
    second, not a tight loop."""
    world.stream.refuse(case.venue, times=1000)
    streams = world.start({case.venue: [case.symbol]}, backoff_s=0.1, backoff_cap_s=30.0)
    await world.until(lambda: world.stream.refused(case.venue) >= 1, "the first attempt")
    await asyncio.sleep(1.0)
    attempts = world.stream.refused(case.venue)
    assert 2 <= attempts <= 5
    assert streams.status()[case.venue].reconnects >= attempts - 1


@each_venue
async def test_close_leaves_no_open_client(world: World, case: Case) -> None:
    """After ``close`` (while ``run`` runs: it returns) the venue has no socket open and is
    off."""
    symbols = [s for s in (case.symbol, case.other) if s]
    streams = world.start({case.venue: symbols})
    await world.until(lambda: all(world.marks(s) for s in symbols), "every symbol's tick")
    await streams.close()
    await world.stream.wait_until(
        lambda: world.stream.open_connections(case.venue) == 0, what="every socket closed"
    )
    assert streams.status()[case.venue].state == "off"
    assert world.runner is not None and world.runner.done()


async def test_a_venue_no_longer_held_closes_its_client(world: World) -> None:
    """Following no symbol of a venue closes its sockets; the venue is then off."""
    streams = world.start({"okx": ["BTC/USDT:USDT"], "bybit": ["ETH/USDT:USDT"]})
    await world.until(lambda: world.marks("BTC/USDT:USDT"), "okx's first tick")
    await world.until(lambda: world.marks("ETH/USDT:USDT"), "bybit's first tick")
    streams.follow({"bybit": ["ETH/USDT:USDT"]})
    await world.stream.wait_until(lambda: world.stream.open_connections("okx") == 0)
    assert streams.status()["okx"].state == "off"
    assert world.stream.open_connections("bybit") == 1


async def test_a_venue_that_cannot_stream_does_not_stop_the_others(world: World) -> None:
    """A venue ccxt cannot stream fails on its own (retried, degraded); the others stream."""
    streams = world.start({"nosuchvenue": ["X/USD:USD"], "hyperliquid": ["SOL/USDC:USDC"]})
    await world.until(lambda: streams.status()["nosuchvenue"].reconnects >= 2, "retries")
    world.stream.set_mark("hyperliquid", "SOL/USDC:USDC", 150.25)
    await world.until(lambda: 150.25 in world.marks("SOL/USDC:USDC"), "the other venue's mark")
    assert streams.status()["hyperliquid"].state == "live"


async def test_a_consumer_that_raises_does_not_stop_the_stream(world: World) -> None:
    """``on_ticks`` raising is logged; the next marks still reach it."""
    calls: list[float] = []

    def fragile(ticks: Sequence[MarkTick]) -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("consumer bug")
        world.ticks.extend(ticks)

    world.start({"deribit": ["BTC/USD:BTC"]}, on_ticks=fragile)
    await world.until(lambda: len(calls) >= 1, "the first call")
    world.stream.set_mark("deribit", "BTC/USD:BTC", 61000.5)
    await world.until(lambda: 61000.5 in world.marks("BTC/USD:BTC"), "a later mark")


@pytest.mark.parametrize("venue", ["binanceusdm", "okx"])
async def test_a_venue_limiting_client_frames_gets_one_subscribe_for_all(
    world: World, venue: str
) -> None:
    """Binance drops a client over 10 frames a second, OKX limits subscribe requests: a new
    client subscribes every symbol in one request, on one socket (ccxt would open a Binance
    socket per symbol set)."""
    symbols = ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    world.start({venue: symbols})
    await world.until(lambda: all(world.marks(s) for s in symbols), "every symbol's tick")
    (request,) = world.stream.received(venue)
    assert len(request.get("params") or request.get("args")) == len(symbols)
    assert world.stream.connected(venue) == 1
