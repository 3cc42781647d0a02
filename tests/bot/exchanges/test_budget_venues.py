"""The shared budget against the fake venues with the real ccxt: many wallets within the IP's
weight in every window, near polls first and ledger reads last, a 429's pause for every account
of the venue, one clearinghouseState per Hyperliquid poll, and no retry of a timed-out call.

A venue's minute is run in one or two seconds here (``Budgets(minute_s=…, limits=…)``), with
limits small enough that the fake, unpaced, would blow through them."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import pytest

from bot.exchanges import (
    BudgetState,
    Credentials,
    ExchangeFailure,
    ExchangeHub,
    Priority,
    priority,
)
from bot.exchanges.budget import SHARE, Budgets
from tests.bot.exchanges.conftest import link
from tests.bot.exchanges.test_failures import RATE_LIMITED
from tests.fakes.exchange import FakeExchange, Request
from tests.fakes.exchange.base import NOW_MS

_INFO = ccxt.hyperliquid().describe()["api"]["public"]["post"]["info"]
STATE = "/info:clearinghouseState"


def weight(request: Request) -> float:
    """What a /info request costs in ccxt (and so in the budget): by type, else the default."""
    return float(_INFO["byType"].get(request.json().get("type"), _INFO["cost"]))


@asynccontextmanager
async def paced(
    fake: FakeExchange, venue: str, limit: float, minute_s: float, **hub: Any
) -> AsyncIterator[ExchangeHub]:
    """A hub whose ``venue`` allows ``limit`` cost units per ``minute_s`` seconds."""
    budgets = Budgets(minute_s=minute_s, limits={venue: limit})
    async with ExchangeHub(fake.url, backoff_s=0.01, budgets=budgets, **hub) as exchanges:
        yield exchanges


def state(hub: ExchangeHub, venue: str) -> BudgetState:
    [found] = hub.budgets([venue])
    return found


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.005)


async def warm(hub: ExchangeHub, venue: str, credentials: Credentials) -> None:
    """One poll: markets, tiers, σ and funding are cached, later polls read the account only."""
    await hub.fetch_snapshot("warm", venue, credentials)
    await hub.settle()


async def test_fifty_wallets_never_exceed_the_ips_weight_in_any_window(
    fake: FakeExchange,
) -> None:
    """50 wallets polling ten times each, all at once, against 600 weight per (2 s) minute: the
    fake never receives more than that in any sliding window, though the run needs more."""
    limit, minute_s = 600.0, 2.0
    wallets = [link(fake, "hyperliquid", n) for n in range(50)]

    async def poll_ten_times(hub: ExchangeHub, n: int, wallet: Credentials) -> None:
        for _ in range(10):
            await hub.fetch_snapshot(f"w{n}", "hyperliquid", wallet)

    async with paced(fake, "hyperliquid", limit, minute_s) as hub:
        started = time.monotonic()
        await asyncio.gather(*(poll_ten_times(hub, n, w) for n, w in enumerate(wallets)))
        elapsed = time.monotonic() - started
        assert state(hub, "hyperliquid").limit_per_minute == limit
    spent = sum(weight(r) for r in fake.requests)
    assert fake.count("hyperliquid", "clearinghouseState") == 500
    assert spent > 1.5 * limit  # more than one window's worth: the limit had to hold
    assert fake.peak_weight("hyperliquid", minute_s, weight) <= limit
    # And not much slower than the budget allows (the pace is SHARE of the limit).
    assert elapsed < 1.5 * spent / (SHARE * limit / minute_s) + 2.0


async def test_a_near_poll_overtakes_far_ones_and_a_ledger_read_waits_for_them(
    fake: FakeExchange,
) -> None:
    """Far polls queue for a slow budget; a ledger read and more far polls queue behind them;
    a near poll queued last is sent next, the ledger read only after every far poll."""
    wallets = [link(fake, "hyperliquid", n) for n in range(21)]
    near, fars = wallets[0], wallets[1:]
    async with paced(fake, "hyperliquid", 60.0, 1.0) as hub:  # 27 states a second
        await warm(hub, "hyperliquid", near)
        since = len(fake.requests)

        def far_polls(chosen: list[Credentials]) -> list[asyncio.Task[Any]]:
            with priority(Priority.FAR):  # the tasks inherit it
                return [
                    asyncio.create_task(hub.fetch_snapshot(str(w.wallet_address), "hyperliquid", w))
                    for w in chosen
                ]

        def queued(level: Priority) -> int:
            return state(hub, "hyperliquid").queued[level]

        first = far_polls(fars[:10])
        await until(lambda: queued(Priority.FAR) >= 8)
        ledger = asyncio.create_task(
            hub.fetch_flows(
                "near", "hyperliquid", near, "funding", since_ms=NOW_MS - 3_600_000, until_ms=NOW_MS
            )
        )
        await until(lambda: queued(Priority.BACKGROUND) == 1)
        second = far_polls(fars[10:])
        await until(lambda: queued(Priority.FAR) >= 15)
        with priority(Priority.NEAR):
            polled = asyncio.create_task(hub.fetch_snapshot("near", "hyperliquid", near))
        await asyncio.gather(polled, ledger, *first, *second)
    order = [_label(r, near) for r in fake.requests[since:]]
    states_after_near = order[order.index("near") :].count("clearinghouseState")
    assert states_after_near >= 10
    assert order.index("userFunding") > max(
        n for n, kind in enumerate(order) if kind == "clearinghouseState"
    )


def _label(request: Request, near: Credentials) -> str:
    """The /info type of ``request``; "near" for the near wallet's state."""
    kind = request.endpoint.partition(":")[2]
    return (
        "near"
        if kind == "clearinghouseState" and request.json().get("user") == near.wallet_address
        else kind
    )


@pytest.mark.parametrize("venue", ["binanceusdm", "hyperliquid"])
async def test_a_429_with_retry_after_pauses_every_account_and_halves_the_pace(
    fake: FakeExchange, venue: str
) -> None:
    """Six accounts poll without pause; one request gets 429 with Retry-After 1.5 s: no account
    of the venue sends anything for that long, and the budget's pace is halved."""
    pause_s, limit = 1.5, 200.0
    accounts = [link(fake, venue, n) for n in range(6)]
    stop = asyncio.Event()

    async def keep_polling(hub: ExchangeHub, n: int, credentials: Credentials) -> None:
        while not stop.is_set():
            with suppress(ExchangeFailure):  # the refused poll's retries may run out
                await hub.fetch_snapshot(f"a{n}", venue, credentials)

    async with paced(fake, venue, limit, 1.0) as hub:
        for n, credentials in enumerate(accounts):
            await hub.fetch_snapshot(f"a{n}", venue, credentials)
        await hub.settle()
        loops = [asyncio.create_task(keep_polling(hub, n, c)) for n, c in enumerate(accounts)]
        await asyncio.sleep(0.3)
        before = len(fake.requests)
        status, body = RATE_LIMITED[venue]
        fake.fail(venue, status=status, body=body, retry_after=pause_s, times=1)
        await until(lambda: state(hub, venue).paused_s > 0)
        during = state(hub, venue)
        await asyncio.sleep(pause_s + 0.5)
        stop.set()
        await asyncio.gather(*loops)
    assert during.pace_per_minute == pytest.approx(SHARE * limit / 2)
    assert during.paused_s == pytest.approx(pause_s, abs=0.2)
    refused = fake.requests[before]  # the first request after fail() got the 429
    later = [r.at - refused.at for r in fake.requests[before + 1 :]]
    # Requests already sent when the 429 came back land at once; then nothing for the pause.
    assert not [t for t in later if 0.25 < t < pause_s - 0.05]
    assert [t for t in later if t >= pause_s - 0.05]  # and then polling resumes


async def test_a_hyperliquid_poll_reads_the_clearinghouse_state_once(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """First poll and every later one: one clearinghouseState each, and the positions and
    balance it gives are exactly ccxt's fetch_positions and fetch_balance of that state."""
    wallet = link(fake, "hyperliquid")
    first = await hub.fetch_snapshot("w", "hyperliquid", wallet)
    assert fake.per_endpoint("hyperliquid")[STATE] == 1
    await hub.settle()
    since = len(fake.requests)
    snapshot = await hub.fetch_snapshot("w", "hyperliquid", wallet)
    assert fake.per_endpoint("hyperliquid", since) == Counter({STATE: 1})
    assert snapshot["positions"] == first["positions"] and snapshot["positions"]
    public = await hub.public("hyperliquid")
    user = {"user": wallet.wallet_address}
    assert snapshot["positions"] == await public.fetch_positions(None, user)
    assert snapshot["balance"] == await public.fetch_balance({**user, "enableUnifiedMargin": False})


async def test_a_timed_out_call_is_not_retried(fake: FakeExchange) -> None:
    """The state request hangs past the hub's timeout: the poll fails as "network" after that
    one request, where the other network errors are retried."""
    wallet = link(fake, "hyperliquid")
    async with ExchangeHub(fake.url, rate_limit=False, backoff_s=0.01, timeout_s=0.3) as hub:
        await warm(hub, "hyperliquid", wallet)
        since = len(fake.requests)
        fake.stall("hyperliquid", 2.0, times=10)
        with pytest.raises(ExchangeFailure) as raised:
            await hub.fetch_snapshot("w", "hyperliquid", wallet)
        fake.release()
    assert raised.value.kind == "network"
    assert fake.per_endpoint("hyperliquid", since)[STATE] == 1
