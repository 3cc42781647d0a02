"""Instances: one per account, one public per venue, every one closed; 200 accounts at once."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.exchanges import Credentials, ExchangeFailure, ExchangeHub
from bot.exchanges.factory import BUDGET
from tests.bot.exchanges.conftest import VENUES, link
from tests.bot.exchanges.test_snapshot import markets_loads
from tests.fakes.exchange import FakeExchange


async def test_close_closes_every_instance(fake: FakeExchange) -> None:
    """After close(): every public and private instance has released its HTTP session."""
    hub = ExchangeHub(fake.url, rate_limit=False)
    for venue in VENUES:
        await hub.fetch_snapshot(f"{venue}-1", venue, link(fake, venue, 1))
        await hub.fetch_snapshot(f"{venue}-2", venue, link(fake, venue, 2))
    instances = hub.instances()
    assert len(instances) == 6 + 5 * 2  # hyperliquid reads wallets on its public instance
    assert all(ex.session is not None for ex in instances)
    await hub.close()
    assert all(ex.session is None and ex.closed_by_user for ex in instances)
    assert hub.instances() == []
    with pytest.raises(RuntimeError, match="closed"):
        await hub.fetch_snapshot("x", "okx", link(fake, "okx", 3))


async def test_async_with_closes_and_drop_closes_one(fake: FakeExchange) -> None:
    """drop() closes one account's instance only; leaving ``async with`` closes the rest."""
    async with ExchangeHub(fake.url, rate_limit=False) as hub:
        await hub.fetch_snapshot("a", "okx", link(fake, "okx", 1))
        await hub.fetch_snapshot("b", "okx", link(fake, "okx", 2))
        public, first, second = hub.instances()
        await hub.drop("a")
        assert first.session is None and second.session is not None
        assert hub.instances() == [public, second]
    assert public.session is None and second.session is None


async def test_new_credentials_replace_the_instance(fake: FakeExchange, hub: ExchangeHub) -> None:
    """Re-linking an account with another key closes the old instance and uses the new key."""
    await hub.fetch_snapshot("a", "bybit", link(fake, "bybit", 1))
    old = hub.instances()[1]
    await hub.fetch_snapshot("a", "bybit", link(fake, "bybit", 2))
    assert old.session is None and len(hub.instances()) == 2
    assert fake.requests[-1].headers["X-BAPI-API-KEY"] == "KEY-bybit-2"


@pytest.mark.slow
async def test_binance_accounts_share_one_rate_limiter(fake: FakeExchange) -> None:
    """Binance limits weight per IP: with rate limiting on, all its accounts share one budget
    (Bybit's is per key); ccxt's own per-instance throttle is off everywhere."""
    async with ExchangeHub(fake.url) as hub:
        accounts = [link(fake, "binanceusdm", n) for n in range(4)]
        started = time.monotonic()
        await asyncio.gather(
            *(hub.fetch_snapshot(f"a{n}", "binanceusdm", c) for n, c in enumerate(accounts))
        )
        elapsed = time.monotonic() - started
        public, *private = hub.instances()
        bybit = link(fake, "bybit")
        await hub.fetch_snapshot("b", "bybit", bybit)
        assert all(getattr(ex, BUDGET) is getattr(public, BUDGET) for ex in private)
        assert getattr(hub.instances()[-1], BUDGET) is not getattr(hub.instances()[-2], BUDGET)
        assert not any(ex.enableRateLimit for ex in hub.instances())
    sent = fake.count("binanceusdm")
    # The budget paces like ccxt's binance bucket (a unit per 50 ms, no burst), a bit slower.
    assert elapsed >= (sent - 1) * 0.05 * 0.9
    assert fake.peak_rate("binanceusdm", 1.0) <= 21


@pytest.mark.slow
async def test_200_accounts_concurrently(fake: FakeExchange) -> None:
    """200 accounts over six venues, fetched at once: all complete, markets loaded once each."""
    async with ExchangeHub(fake.url, rate_limit=False, backoff_s=0.01) as hub:
        accounts = [(n, VENUES[n % 6], link(fake, VENUES[n % 6], n)) for n in range(200)]
        started = time.monotonic()
        snapshots = await asyncio.gather(
            *(hub.fetch_snapshot(f"acct-{n}", venue, c) for n, venue, c in accounts)
        )
        elapsed = time.monotonic() - started
        wallets = sum(1 for _, venue, _ in accounts if venue == "hyperliquid")
        assert len(hub.instances()) == 6 + 200 - wallets  # wallets share the public instance
    assert all(s["positions"] for s in snapshots)
    assert {venue: markets_loads(fake, venue) for venue in VENUES} == dict.fromkeys(VENUES, 1)
    print(f"200 accounts: {elapsed:.2f} s, {len(fake.requests)} requests")
    assert elapsed < 60


async def test_wallet_snapshots_need_an_address(hub: ExchangeHub) -> None:
    """A wallet-tracked venue without an address is an auth-state failure, not a crash."""
    with pytest.raises(ExchangeFailure) as raised:
        await hub.fetch_snapshot("w", "hyperliquid", Credentials())
    assert raised.value.kind == "auth"


async def test_an_unknown_venue_is_an_exchange_failure(hub: ExchangeHub) -> None:
    """A venue id ccxt does not know fails as a state, naming the venue."""
    with pytest.raises(ExchangeFailure, match="no-such-venue") as raised:
        await hub.fetch_snapshot("x", "no-such-venue", Credentials("k", "s"))
    assert raised.value.kind == "exchange"
