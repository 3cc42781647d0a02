"""One poll, called directly: fetch → engine → snapshot, and failures as account states."""

from __future__ import annotations

import asyncio
import logging

import numpy as np
import pytest

from bot.monitor.events import PollEvent
from engine.domain import AccountStatus
from engine.probability import TouchModel, hours_to_years, touch_probability
from storage import Transaction
from storage.snapshots import Snapshots
from tests.bot.exchanges.conftest import VENUES, link
from tests.bot.monitor.conftest import World
from tests.fakes.clock import FakeClock


@pytest.mark.parametrize("venue", VENUES)
async def test_a_poll_stores_the_priced_account(world: World, venue: str) -> None:
    """Link → poll on every tested venue stores a snapshot with every position priced."""
    account = await world.link(venue)
    event = await world.monitor.poll(account.id)
    assert event is not None and event.failure is None and event.analysis is not None
    stored = await Snapshots(world.db).latest(world.owner_id, account.id)
    assert stored is not None and stored.positions
    assert len(stored.positions) == int(event.analysis.snapshot.positions.valid.sum())
    assert stored.equity_usd is not None and stored.equity_usd > 0
    refreshed = await world.monitor.accounts.get(world.owner_id, account.id)
    assert refreshed is not None and refreshed.last_polled_at == pytest.approx(stored.taken_at)


async def test_a_revoked_key_marks_the_account_and_stops_polling(world: World) -> None:
    """A key rejected on every poll for a minute sets auth_failed; the next poll does not even
    call the venue."""
    world.monitor.clock = clock = FakeClock(1_000_000.0)
    account = await world.link("binanceusdm")
    world.fake.revoke("KEY-binanceusdm-0")
    for _ in range(2):
        event = await world.monitor.poll(account.id)
        assert event is not None and event.status == AccountStatus.ACTIVE
        clock.now += 30.0
    event = await world.monitor.poll(account.id)
    assert event is not None and event.status == AccountStatus.AUTH_FAILED
    assert event.failure is not None and event.failure.kind == "auth"
    before = len(world.fake.requests)
    assert await world.monitor.poll(account.id) is None
    assert len(world.fake.requests) == before
    assert world.monitor.scheduler.get_job(f"poll:{account.id}") is None


async def test_linking_again_replaces_a_revoked_key_on_the_same_account(world: World) -> None:
    """After auth_failed, /link on that venue with a new key re-arms the same account (same id,
    label and history) instead of adding "binanceusdm-2" beside a dead one; it polls again."""
    world.monitor.clock = clock = FakeClock(1_000_000.0)
    account = await world.link("binanceusdm")
    world.fake.revoke("KEY-binanceusdm-0")
    for _ in range(3):
        await world.monitor.poll(account.id)
        clock.now += 30.0
    dead = await world.monitor.accounts.system_get(account.id)
    assert dead is not None and dead.status == AccountStatus.AUTH_FAILED
    fresh = link(world.fake, "binanceusdm", 7)
    relinked = await world.service.link(world.owner_id, "binanceusdm", fresh)
    assert (relinked.account.id, relinked.account.label) == (account.id, account.label)
    assert relinked.account.status == AccountStatus.ACTIVE
    assert [a.id for a in await world.service.accounts.list_for(world.owner_id)] == [account.id]
    event = await world.monitor.poll(account.id)
    assert event is not None and event.failure is None


async def test_consecutive_failures_make_an_account_blind_until_it_recovers(world: World) -> None:
    """Three failed polls in a row (5xx) → blind; the next good poll → active again."""
    account = await world.link("bybit")
    world.fake.fail("bybit", status=503, body="Service Unavailable", times=1000)
    statuses = [(await world.monitor.poll(account.id)).status for _ in range(3)]  # type: ignore[union-attr]
    assert statuses == [AccountStatus.ACTIVE, AccountStatus.ACTIVE, AccountStatus.BLIND]
    world.fake.failures.clear()
    event = await world.monitor.poll(account.id)
    assert event is not None and event.failure is None and event.status == AccountStatus.ACTIVE
    refreshed = await world.monitor.accounts.get(world.owner_id, account.id)
    assert refreshed is not None and refreshed.consecutive_failures == 0


async def test_each_state_change_is_one_info_line_and_polls_are_not(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator's INFO log says when an account went blind and came back: once each, not
    once per poll (the per-poll failure is a WARNING of its own)."""
    caplog.set_level(logging.INFO, logger="bot.monitor")
    account = await world.link("bybit")
    world.fake.fail("bybit", status=503, body="Service Unavailable", times=1000)
    for _ in range(5):
        await world.monitor.poll(account.id)
    world.fake.failures.clear()
    for _ in range(2):
        await world.monitor.poll(account.id)
    changes = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert changes == [
        f"account {account.id} (bybit-0, bybit) is now blind (was active)",
        f"account {account.id} (bybit-0, bybit) is now active (was blind)",
    ]


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (200, "{not json", "malformed"),
        (429, "Too Many Requests", "network"),
        (502, "<html>Bad Gateway</html>", "network"),
    ],
)
async def test_bad_venue_replies_are_failures_not_crashes(
    world: World, status: int, body: str, kind: str
) -> None:
    """Malformed JSON, 429 storms and 5xx pages become a failed poll with a reason."""
    account = await world.link("okx")
    world.fake.fail("okx", status=status, body=body, times=1000)
    event = await world.monitor.poll(account.id)
    assert event is not None and event.failure is not None
    assert event.failure.kind == kind
    refreshed = await world.monitor.accounts.get(world.owner_id, account.id)
    assert refreshed is not None and refreshed.consecutive_failures == 1
    assert refreshed.last_error and "okx" in refreshed.last_error


async def test_a_poll_cancelled_inside_its_transaction_leaves_no_snapshot(world: World) -> None:
    """Cancellation mid-write (shutdown) rolls back: no snapshot, no success recorded."""
    entered = asyncio.Event()

    async def slow_alerts(tx: Transaction, event: PollEvent) -> None:
        entered.set()
        await asyncio.sleep(30)

    world.monitor.alerts = slow_alerts
    account = await world.link("deribit")
    task = asyncio.create_task(world.monitor.poll(account.id))
    await asyncio.wait_for(entered.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await Snapshots(world.db).latest(world.owner_id, account.id) is None
    refreshed = await world.monitor.accounts.get(world.owner_id, account.id)
    assert refreshed is not None and refreshed.last_polled_at is None


async def test_the_alert_stage_sees_the_poll_inside_its_transaction(world: World) -> None:
    """The hook runs in the poll's transaction and can see the snapshot it just wrote."""
    seen: list[int] = []

    async def count_snapshots(tx: Transaction, event: PollEvent) -> None:
        row = await tx.fetchone("SELECT count(*) AS n FROM account_snapshots")
        seen.append(int(row["n"]) if row else -1)

    world.monitor.alerts = count_snapshots
    account = await world.link("hyperliquid")
    await world.monitor.poll(account.id)
    assert seen == [1]


@pytest.mark.parametrize("model", list(TouchModel))
async def test_a_poll_prices_the_probability_with_the_configured_model(
    world: World, model: TouchModel
) -> None:
    """LIQWATCH_TOUCH_MODEL reaches the poll: the stored analysis says which model, and its
    probabilities are that model's for the analysis' own marks, prices and σ."""
    world.monitor.touch_model = model
    account = await world.link("binanceusdm")
    event = await world.monitor.poll(account.id)
    assert event is not None and event.analysis is not None
    analysis = event.analysis
    assert analysis.touch_model is model
    expected = touch_probability(
        analysis.snapshot.positions.mark,
        analysis.liquidation_price,
        analysis.sigma,
        hours_to_years(analysis.horizon_hours),
        model=model,
    )
    known = np.isfinite(expected) & (expected > 0.0)
    assert known.any()
    np.testing.assert_allclose(analysis.probability[known], expected[known], rtol=1e-12)
