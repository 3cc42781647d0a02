"""The shared token bucket alone, on the fake clock: pacing, priority order, a 429's halving,
pause and recovery, and a pause too long to wait for (``bot/exchanges/budget.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from bot.exchanges.budget import MIN_PACE, RECOVERY, Budget, Budgets, Priority, priority
from bot.exchanges.errors import VenuePaused, as_failure, retryable
from tests.fakes.clock import FakeClock

T = TypeVar("T")

#: 60 cost units a minute at full share: one a second.
LIMIT = 60.0
#: How far ``drive`` moves the fake clock at a time (the precision of the times it sees).
STEP = 0.05

Bucket = Callable[..., Budget]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def bucket(clock: FakeClock) -> Iterator[Bucket]:
    """Budgets of LIMIT a minute, all of it spent; their waits are passive timers on the fake
    clock, so time moves only when a test sets it or ``drive``s it."""
    made: list[Budget] = []

    def make(**options: Any) -> Budget:
        made.append(Budget(LIMIT, share=1.0, clock=clock, sleep=clock.passive_sleep, **options))
        return made[-1]

    yield make
    for budget in made:
        budget.close()


async def drive(clock: FakeClock, *waits: Awaitable[T], step: float = STEP) -> list[T]:
    """Await ``waits`` together, moving the clock on by ``step`` whenever all are stuck."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    while True:
        for _ in range(5):
            await asyncio.sleep(0)
        if all(t.done() for t in tasks):
            return [t.result() for t in tasks]
        clock.advance(step)


async def spend(budget: Budget, level: Priority, done: list[str], name: str) -> None:
    with priority(level):
        await budget.acquire(1.0)
    done.append(name)


async def queue(
    budget: Budget, level: Priority, names: list[str], done: list[str]
) -> list[asyncio.Task[None]]:
    """Start a request per name at ``level``; returns once all of them wait in the bucket."""
    tasks = [asyncio.create_task(spend(budget, level, done, n)) for n in names]
    await asyncio.sleep(0)
    return tasks


async def spend_the_burst(budget: Budget) -> None:
    """The burst and one more: the bucket is in debt, the next request waits."""
    await budget.acquire(1.0)
    await budget.acquire(1.0)


async def test_the_bucket_paces_at_its_share_of_the_limit(clock: FakeClock, bucket: Bucket) -> None:
    """Ten requests of 1 unit at one a second: the burst of one, then a second apart."""
    budget = bucket()
    started = clock.now
    times = [(await drive(clock, budget.acquire(1.0)))[0] - started for _ in range(10)]
    assert times == pytest.approx([0, 0, 1, 2, 3, 4, 5, 6, 7, 8], abs=STEP)


async def test_a_near_request_overtakes_far_ones_queued_before_it(
    clock: FakeClock, bucket: Bucket
) -> None:
    """A background read and twenty far polls wait; a near poll arriving after them goes
    first, the far ones in their order, and the background read last."""
    budget = bucket()
    await spend_the_burst(budget)
    done: list[str] = []
    fars = [f"far{n}" for n in range(20)]
    tasks = await queue(budget, Priority.BACKGROUND, ["ledger"], done)
    tasks += await queue(budget, Priority.FAR, fars, done)
    queued = budget.state()[2]
    assert (queued[Priority.FAR], queued[Priority.BACKGROUND]) == (20, 1)
    tasks += await queue(budget, Priority.NEAR, ["near"], done)
    await drive(clock, *tasks)
    assert done == ["near", *fars, "ledger"]


async def test_a_polls_second_request_goes_before_polls_started_after_its_first(
    clock: FakeClock, bucket: Bucket
) -> None:
    """Within a priority, a task queues from its first request: a poll whose positions were
    read gets its balance before the first requests of the ten polls that asked since
    (queued request by request, it would wait behind all ten)."""
    budget = bucket()
    # In a task of its own: the tasks a running task starts share its place.
    await asyncio.create_task(spend_the_burst(budget))
    done: list[str] = []

    async def poll() -> None:
        await budget.acquire(1.0)
        done.append("positions")
        await others_queued.wait()  # the ten below ask while this one reads its positions
        await budget.acquire(1.0)
        done.append("balance")

    others_queued = asyncio.Event()
    first = asyncio.create_task(poll())
    await asyncio.sleep(0)
    clock.advance(STEP)
    others = await queue(budget, Priority.MIDDLE, [f"new{n}" for n in range(10)], done)
    others_queued.set()
    await drive(clock, first, *others)
    assert done[:2] == ["positions", "balance"]
    assert done[2:] == [f"new{n}" for n in range(10)]


async def test_a_cancelled_waiter_costs_nothing(clock: FakeClock, bucket: Bucket) -> None:
    """A poll given up while it waited takes no tokens from the ones behind it."""
    budget = bucket()
    await spend_the_burst(budget)
    with priority(Priority.NEAR):
        dear = asyncio.create_task(budget.acquire(30.0))
    await asyncio.sleep(0)
    dear.cancel()
    started = clock.now
    await drive(clock, budget.acquire(1.0))
    assert clock.now - started == pytest.approx(1.0, abs=STEP)


async def test_a_429_halves_the_pace_pauses_everyone_and_recovers_gradually(
    clock: FakeClock, bucket: Bucket
) -> None:
    budget = bucket()
    sent = await budget.acquire(1.0)
    budget.throttled(sent, 5.0)
    pace, paused_s, _ = budget.state()
    assert pace == pytest.approx(LIMIT / 2) and paused_s == pytest.approx(5.0)
    budget.throttled(sent, None)  # another request sent at the old pace: no second halving
    assert budget.state()[0] == pytest.approx(LIMIT / 2)
    started = clock.now
    await drive(clock, *(budget.acquire(1.0) for _ in range(3)))
    # Nothing before the pause ends, then one at once and the rest at half pace (2 s apart).
    assert clock.now - started == pytest.approx(5.0 + 2 * 2.0, abs=2 * STEP)
    clock.now += 60.0  # a minute later: a tenth of the full pace is back
    assert budget.pace() * 60 == pytest.approx(LIMIT / 2 + LIMIT * RECOVERY, rel=0.05)
    clock.now += 600.0
    assert budget.pace() * 60 == pytest.approx(LIMIT)


async def test_a_new_429_after_the_halving_halves_again_down_to_a_floor(
    clock: FakeClock, bucket: Bucket
) -> None:
    budget = bucket()
    for _ in range(10):
        clock.advance(0.5)  # sent after the last halving: at the halved pace
        [sent] = await drive(clock, budget.acquire(1.0), step=0.5)
        budget.throttled(sent, None)
    assert budget.state()[0] == pytest.approx(LIMIT * MIN_PACE)


async def test_a_pause_longer_than_a_call_waits_fails_the_calls_at_once(
    bucket: Bucket,
) -> None:
    """An IP ban (418, Retry-After an hour): queued and new calls fail now, not sent, not
    retried, as a network failure."""
    budget = bucket()
    await budget.acquire(1.0)
    sent = await budget.acquire(1.0)
    waiting = asyncio.create_task(budget.acquire(1.0))
    await asyncio.sleep(0)
    budget.throttled(sent, 3600.0)
    with pytest.raises(VenuePaused):
        await waiting
    with pytest.raises(VenuePaused) as raised:
        await budget.acquire(1.0)
    assert not retryable(raised.value)
    assert as_failure(raised.value, "binanceusdm").kind == "network"


async def test_without_pacing_only_a_pause_holds_requests(clock: FakeClock, bucket: Bucket) -> None:
    budget = bucket(pace=False)
    for _ in range(100):
        await budget.acquire(10.0)
    assert clock.now == 1000.0
    budget.throttled(clock.now, 2.0)
    await drive(clock, budget.acquire(1.0))
    assert clock.now == pytest.approx(1002.0, abs=STEP)


def test_budgets_describe_per_ip_and_per_key_venues(clock: FakeClock) -> None:
    budgets = Budgets(clock=clock, sleep=clock.sleep, limits={"bybit": 600.0})
    budgets.get("hyperliquid", None, per_minute=1200.0, per_ip=True)
    for key in (None, "1", "2"):
        budgets.get("bybit", key, per_minute=3000.0, per_ip=False)
    bybit, hyperliquid = budgets.describe(["hyperliquid", "bybit", "okx"])
    assert (bybit.venue, hyperliquid.venue) == ("bybit", "hyperliquid")
    assert hyperliquid.per_ip and hyperliquid.limit_per_minute == 1200.0
    assert hyperliquid.pace_per_minute == pytest.approx(1200.0 * 0.9)
    assert not bybit.per_ip and bybit.buckets == 3 and bybit.limit_per_minute == 600.0
    assert bybit.paused_s == 0 and set(bybit.queued.values()) == {0}
