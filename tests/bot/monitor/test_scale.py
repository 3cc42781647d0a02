"""Many accounts at once: concurrency, wall time per cycle, and the venue's rate limit."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.exchanges import Credentials
from bot.exchanges.factory import BUDGET
from engine.domain import AccountStatus
from tests.bot.exchanges.conftest import SECRET
from tests.bot.monitor.conftest import World, make_world
from tests.fakes.exchange import FakeExchange


async def _add_direct(world: World, venue: str, n: int) -> list[int]:
    """Register n accounts on the fake and store them (validation is tested elsewhere)."""
    ids = []
    for i in range(n):
        key = f"KEY-{venue}-{i}"
        world.fake.add_account(venue, api_key=key, secret=SECRET)
        account = await world.monitor.accounts.add(
            world.owner_id,
            venue,
            f"{venue}-{i}",
            now=time.time(),
            ciphertext=lambda account_id, key=key: world.vault.encrypt(  # type: ignore[misc]
                Credentials(key, SECRET), account_id=account_id
            ),
            key_id=world.vault.key_id,
        )
        ids.append(account.id)
    return ids


@pytest.mark.slow
async def test_two_hundred_accounts_poll_concurrently(tmp_path: Path, fake: FakeExchange) -> None:
    """200 Bybit accounts polled at once with ccxt's rate limiter on: all succeed, the venue's
    markets load once, and each cycle's wall time is printed for the closing note."""
    async for world in make_world(tmp_path, fake, rate_limit=True):
        ids = await _add_direct(world, "bybit", 200)
        for cycle in ("first (instances created)", "second (steady state)"):
            started = time.perf_counter()
            events = await asyncio.gather(*(world.monitor.poll(i) for i in ids))
            wall_s = time.perf_counter() - started
            print(f"\n200 bybit accounts, {cycle} poll cycle: {wall_s:.2f} s")
            assert all(e is not None and e.failure is None for e in events)
        # Once: linear and inverse (and their pre-launch pages), and options per base coin.
        assert fake.count("bybit", "instruments-info") <= 10
        accounts = await world.monitor.accounts.all_accounts()
        assert {a.status for a in accounts} == {AccountStatus.ACTIVE}


async def test_binance_accounts_share_one_per_ip_rate_limit(
    tmp_path: Path, fake: FakeExchange
) -> None:
    """Binance limits request weight per IP: every account's private instance draws on the
    venue's one budget (2,400 weight a minute, paced at 2,160: bot/exchanges/weights.py), which
    counts all their calls."""
    async for world in make_world(tmp_path, fake, rate_limit=True):
        ids = await _add_direct(world, "binanceusdm", 6)
        events = await asyncio.gather(*(world.monitor.poll(i) for i in ids))
        assert all(e is not None and e.failure is None for e in events)
        public = await world.hub.public("binanceusdm")
        privates = [e for e in world.hub.instances() if e is not public and e.id == "binanceusdm"]
        assert len(privates) == 6
        assert all(getattr(e, BUDGET) is getattr(public, BUDGET) for e in privates)
        # A leaky bucket of capacity 1 refilling 36 weight a second: over the whole run, the
        # requests (each weighing ≥ 1) never outpace that plus the burst and the dearest one.
        times = sorted(r.at for r in fake.requests if r.venue == "binanceusdm")
        span_s = times[-1] - times[0]
        assert fake.weights.totals["binanceusdm"] <= span_s * 2160 / 60 + 1 + 5
