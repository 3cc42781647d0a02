"""Leverage tiers: a slow or failing symbol delays only its holders and is not re-read per poll."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.exchanges import ExchangeHub
from tests.bot.exchanges.conftest import link
from tests.engine.normalise.payloads import bybit as pb
from tests.fakes.clock import FakeClock
from tests.fakes.exchange import FakeExchange

RISK_LIMIT = "/v5/market/risk-limit"
#: The inverse BTC perp: held by the fake's default Bybit account, not by ``linear_only``.
SLOW = {"symbol": "BTCUSD"}
#: Long enough that waiting for it is unmistakable next to a local poll (well under a second).
STALL_S = 5.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
async def timed_hub(fake: FakeExchange, clock: FakeClock) -> AsyncIterator[ExchangeHub]:
    async with ExchangeHub(
        fake.url, rate_limit=False, backoff_s=0.01, retry_failed_s=60.0, clock=clock
    ) as exchanges:
        yield exchanges


def tier_reads(fake: FakeExchange, **query: str) -> int:
    return fake.count("bybit", RISK_LIMIT, **query)


async def until_seen(fake: FakeExchange, reads: int = 1, **query: str) -> None:
    """Until the fake has received ``reads`` tier requests with ``query`` (the last may be
    stalled there)."""
    async with asyncio.timeout(STALL_S / 2):
        while tier_reads(fake, **query) < reads:
            await asyncio.sleep(0.01)


async def test_a_slow_symbol_does_not_delay_an_account_without_it(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """While one account's read of a stalled symbol hangs, an account that does not hold the
    symbol polls at once (with tiers of what it holds); the other finishes later."""
    holder = link(fake, "bybit", 1)
    linear_only = link(fake, "bybit", 2, positions=[pb.bybit_raw()])
    fake.stall("bybit", STALL_S, path=RISK_LIMIT, query=SLOW)
    slow = asyncio.create_task(hub.fetch_snapshot("holder", "bybit", holder))
    await until_seen(fake, **SLOW)
    async with asyncio.timeout(STALL_S / 2):
        quick = await hub.fetch_snapshot("linear", "bybit", linear_only)
    assert not slow.done()
    assert set(quick["leverage_tiers"]) == {"BTC/USDT:USDT"}
    fake.release()  # the holder waited: no need to sit out the rest of the stall
    assert "BTC/USD:BTC" in (await slow)["leverage_tiers"]


async def test_concurrent_holders_share_one_read_of_a_symbol(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Two accounts holding a symbol whose read is slow wait for the same single request."""
    fake.stall("bybit", 0.3, path=RISK_LIMIT, query=SLOW)
    snapshots = await asyncio.gather(
        hub.fetch_snapshot("a", "bybit", link(fake, "bybit", 1)),
        hub.fetch_snapshot("b", "bybit", link(fake, "bybit", 2)),
    )
    assert tier_reads(fake, **SLOW) == 1
    assert all("BTC/USD:BTC" in s["leverage_tiers"] for s in snapshots)


async def test_a_failing_symbol_is_not_read_again_on_every_poll(
    fake: FakeExchange, timed_hub: ExchangeHub, clock: FakeClock
) -> None:
    """A symbol whose tiers fail is read once, then left alone for retry_failed_s whatever the
    number of polls; its siblings keep their tiers; after the window it is tried again."""
    fake.fail("bybit", status=400, body="Bad Request", times=1000, path=RISK_LIMIT, query=SLOW)
    credentials = link(fake, "bybit")
    first = await timed_hub.fetch_snapshot("a", "bybit", credentials)
    assert set(first["leverage_tiers"]) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}
    reads = tier_reads(fake, **SLOW)
    assert reads >= 1
    for _ in range(3):
        clock.now += 15.0
        again = await timed_hub.fetch_snapshot("a", "bybit", credentials)
        assert again["leverage_tiers"] == first["leverage_tiers"]
    assert tier_reads(fake, **SLOW) == reads
    clock.now += 30.0
    fake.failures.clear()
    healed = await timed_hub.fetch_snapshot("a", "bybit", credentials)
    assert tier_reads(fake, **SLOW) == reads + 1
    assert "BTC/USD:BTC" in healed["leverage_tiers"]


async def test_expired_tiers_are_served_while_one_refresh_runs(
    fake: FakeExchange, fake_ttl_hub: ExchangeHub, clock: FakeClock
) -> None:
    """After the TTL a poll gets the older tiers at once; the refresh runs behind it."""
    credentials = link(fake, "bybit")
    first = await fake_ttl_hub.fetch_snapshot("a", "bybit", credentials)
    clock.now += 120.0
    fake.stall("bybit", STALL_S, path=RISK_LIMIT, query=SLOW)
    async with asyncio.timeout(STALL_S / 2):
        second = await fake_ttl_hub.fetch_snapshot("a", "bybit", credentials)
    assert second["leverage_tiers"] == first["leverage_tiers"]
    await until_seen(fake, 2, **SLOW)
    fake.release()  # the refresh is under way: closing the hub need not wait for its stall


@pytest.fixture
async def fake_ttl_hub(fake: FakeExchange, clock: FakeClock) -> AsyncIterator[ExchangeHub]:
    """Markets and tiers expire after 100 s."""
    async with ExchangeHub(
        fake.url, rate_limit=False, backoff_s=0.01, markets_ttl_s=100.0, clock=clock
    ) as exchanges:
        yield exchanges
