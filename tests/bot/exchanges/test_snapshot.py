"""Snapshots through real ccxt against the fake read cleanly into the engine, on every venue."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bot.exchanges import ExchangeHub
from engine.normalise import normalise
from tests.bot.exchanges.conftest import VENUES, link
from tests.fakes.clock import FakeClock
from tests.fakes.exchange import FakeExchange

EXPECTED = {
    "binanceusdm": {"BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT"},
    "binancecoinm": {"BTC/USD:BTC"},
    "bybit": {"BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC"},
    "okx": {"BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC"},
    "hyperliquid": {"BTC/USDC:USDC", "ETH/USDC:USDC", "SOL/USDC:USDC"},
    "deribit": {"BTC/USD:BTC", "BTC/USDC:USDC", "BTC/USD:BTC-250627-70000-C"},
}
#: The request that means "markets were loaded" on each venue (path or info type, and query).
MARKETS_LOAD = {
    "binanceusdm": ("/fapi/v1/exchangeInfo", {}),
    "binancecoinm": ("/dapi/v1/exchangeInfo", {}),
    "bybit": ("/v5/market/instruments-info", {"category": "linear"}),
    "okx": ("/api/v5/public/instruments", {"instType": "SWAP"}),
    "hyperliquid": ("spotMeta", {}),
    "deribit": ("/api/v2/public/get_instruments", {}),
}
#: Venues whose tiers liqwatch fetches, and the request that fetches them.
TIERS = {
    "binanceusdm": "leverageBracket",
    "binancecoinm": "leverageBracket",
    "bybit": "/v5/market/risk-limit",
    "okx": "/api/v5/public/position-tiers",
}


def markets_loads(fake: FakeExchange, venue: str) -> int:
    path, query = MARKETS_LOAD[venue]
    return sum(
        1
        for r in fake.requests
        if r.venue == venue
        and (path in r.path or path in r.body)
        and all(r.query.get(k) == v for k, v in query.items())
        and r.query.get("status") != "PreLaunch"
    )


@pytest.mark.parametrize("venue", VENUES)
async def test_snapshots_normalise_and_markets_load_once(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """The analyze schema, every position valid in the engine; two accounts × two polls load
    the venue's markets exactly once."""
    accounts = [link(fake, venue, n) for n in (1, 2)]
    snapshot = await hub.fetch_snapshot("acct-1", venue, accounts[0])
    assert set(snapshot) - {"volatility", "funding_rates", "markets", "greeks"} == {
        "exchange",
        "positions",
        "balance",
        "leverage_tiers",
        "timestamp",
    }
    assert snapshot["exchange"] == venue
    normalised = normalise(
        venue, snapshot["positions"], snapshot["balance"], snapshot["leverage_tiers"]
    )
    assert set(normalised.positions.symbol) == EXPECTED[venue]
    assert normalised.positions.valid.all(), normalised.positions.diagnostics
    assert normalised.account.margin_balance or normalised.account.wallet_balance
    for _ in range(2):
        for n, credentials in enumerate(accounts):
            await hub.fetch_snapshot(f"acct-{n + 1}", venue, credentials)
    assert markets_loads(fake, venue) == 1


@pytest.mark.parametrize("venue", ["binanceusdm", "okx"])
async def test_leverage_tiers_returned_and_cached_across_accounts(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """Tiers of the held symbols come back with the snapshot and are fetched once per venue."""
    first = await hub.fetch_snapshot("a", venue, link(fake, venue, 1))
    calls = fake.count(venue, TIERS[venue])
    second = await hub.fetch_snapshot("b", venue, link(fake, venue, 2))
    assert set(first["leverage_tiers"]) == EXPECTED[venue]
    assert second["leverage_tiers"] == first["leverage_tiers"]
    # Binance: ccxt loads brackets once per private instance before positionRisk (not tiers).
    per_instance = 1 if venue.startswith("binance") else 0
    assert fake.count(venue, TIERS[venue]) == calls + per_instance


async def test_markets_reload_after_the_ttl(fake: FakeExchange) -> None:
    """Markets older than markets_ttl_s are reloaded once and reach the private instances."""
    clock = FakeClock(0.0)
    credentials = link(fake, "binanceusdm")
    async with ExchangeHub(fake.url, rate_limit=False, markets_ttl_s=60, clock=clock) as hub:
        await hub.fetch_snapshot("a", "binanceusdm", credentials)
        clock.now = 59.0
        await hub.fetch_snapshot("a", "binanceusdm", credentials)
        assert markets_loads(fake, "binanceusdm") == 1
        clock.now = 61.0
        await hub.fetch_snapshot("a", "binanceusdm", credentials)
        await hub.settle()  # the reload runs behind the poll
        assert markets_loads(fake, "binanceusdm") == 2


async def test_a_slow_markets_reload_holds_up_no_poll(fake: FakeExchange) -> None:
    """Once markets are due, a poll starts one reload and goes on with the loaded markets: a
    reload stalled for seconds delays no poll, and concurrent polls do not start another."""
    clock = FakeClock(0.0)
    accounts = [link(fake, "binanceusdm", n) for n in (1, 2)]
    async with ExchangeHub(fake.url, rate_limit=False, markets_ttl_s=60, clock=clock) as hub:
        await hub.fetch_snapshot("a1", "binanceusdm", accounts[0])
        clock.now = 61.0
        fake.stall("binanceusdm", 5.0, path="/fapi/v1/exchangeInfo")
        async with asyncio.timeout(2.5):
            for _ in range(2):
                await asyncio.gather(
                    *(hub.fetch_snapshot(f"a{n}", "binanceusdm", c) for n, c in enumerate(accounts))
                )
        assert markets_loads(fake, "binanceusdm") == 2
        fake.release()  # closing the hub need not wait for the stalled reload


async def test_a_failed_markets_reload_is_tried_again_later_not_every_poll(
    fake: FakeExchange,
) -> None:
    """A reload that fails keeps the old markets and is not tried again before
    retry_failed_s, however many polls come meanwhile."""
    clock = FakeClock(0.0)
    credentials = link(fake, "binanceusdm")
    async with ExchangeHub(
        fake.url, rate_limit=False, backoff_s=0.01, markets_ttl_s=60, retry_failed_s=30,
        clock=clock,
    ) as hub:  # fmt: skip
        await hub.fetch_snapshot("a", "binanceusdm", credentials)
        fake.fail("binanceusdm", status=400, body="Bad Request", path="exchangeInfo", times=99)
        clock.now = 61.0
        await hub.fetch_snapshot("a", "binanceusdm", credentials)
        await hub.settle()
        failed = markets_loads(fake, "binanceusdm")
        for _ in range(3):
            clock.now += 5.0
            snapshot = await hub.fetch_snapshot("a", "binanceusdm", credentials)
            await hub.settle()
            assert snapshot["positions"]
        assert markets_loads(fake, "binanceusdm") == failed
        clock.now += 30.0
        await hub.fetch_snapshot("a", "binanceusdm", credentials)
        await hub.settle()
        assert markets_loads(fake, "binanceusdm") > failed


async def test_tier_failure_is_not_fatal(fake: FakeExchange, hub: ExchangeHub) -> None:
    """A venue failing the tiers endpoint still yields positions and balance, without tiers."""
    fake.fail("bybit", status=500, path="/v5/market/risk-limit", times=100)
    snapshot = await hub.fetch_snapshot("a", "bybit", link(fake, "bybit"))
    assert snapshot["leverage_tiers"] == {}
    assert len(snapshot["positions"]) == 3


@pytest.mark.parametrize(
    ("venue", "symbol", "price"),
    [
        ("binanceusdm", "BTC/USDT:USDT", 55000.0),
        ("okx", "BTC/USDT:USDT", 55000.0),
        ("hyperliquid", "BTC/USDC:USDC", 55000.0),
    ],
)
async def test_a_moved_mark_reaches_the_snapshot(
    fake: FakeExchange, hub: ExchangeHub, venue: str, symbol: str, price: float
) -> None:
    """fake.set_mark moves the mark and the unrealised PnL of the next poll."""
    credentials = link(fake, venue)
    before = await hub.fetch_snapshot("a", venue, credentials)
    fake.set_mark(venue, symbol, price)
    after = await hub.fetch_snapshot("a", venue, credentials)

    def leg(snapshot: dict[str, object]) -> dict[str, float]:
        rows = [p for p in snapshot["positions"] if p["symbol"] == symbol]  # type: ignore[attr-defined]
        return rows[0]

    assert leg(after)["markPrice"] == pytest.approx(price)
    assert leg(after)["unrealizedPnl"] < leg(before)["unrealizedPnl"]
    assert np.isfinite(leg(after)["unrealizedPnl"])
