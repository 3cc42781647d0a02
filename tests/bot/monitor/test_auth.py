"""Key rejections: auth_failed only after a minute of them; a proxy's 407 is the operator's."""

from __future__ import annotations

import json

import pytest

from bot.delivery.ops import OpsAlerts
from engine.alerts.events import NoticeKind, OpsNotice, from_payload
from engine.alerts.rules import Severity
from engine.domain import AccountStatus, Platform
from tests.bot.monitor.conftest import World
from tests.fakes.clock import NOW, FakeClock

KEY = "KEY-binanceusdm-0"
OPS_CHAT = (Platform.TELEGRAM, "-100200300")


@pytest.fixture
def clock(world: World) -> FakeClock:
    world.monitor.clock = clock = FakeClock(NOW)
    return clock


async def test_one_rejected_poll_is_a_failed_poll_not_auth_failed(
    world: World, clock: FakeClock
) -> None:
    """A single 401: the account stays active and polled, the poll counts as failed, and
    last_error says the key was rejected and what happens if it goes on."""
    account = await world.link("binanceusdm")
    await world.monitor.sync()
    world.fake.revoke(KEY)
    event = await world.monitor.poll(account.id)
    assert event is not None and event.failure is not None and event.failure.kind == "auth"
    assert event.status == AccountStatus.ACTIVE
    stored = await world.monitor.accounts.system_get(account.id)
    assert stored is not None and stored.status == AccountStatus.ACTIVE
    assert stored.consecutive_failures == 1
    assert stored.last_error and "rejected the credentials" in stored.last_error
    assert "auth_failed" in stored.last_error
    assert world.monitor.scheduler.get_job(f"poll:{account.id}") is not None


async def test_a_key_accepted_again_ends_the_run_of_rejections(
    world: World, clock: FakeClock
) -> None:
    """Rejected, then accepted, then rejected again a minute later: a new run starts, the
    account stays active."""
    account = await world.link("binanceusdm")
    world.fake.revoke(KEY)
    await world.monitor.poll(account.id)
    world.fake.accounts[KEY].revoked = False
    clock.now += 30.0
    assert (await world.monitor.poll(account.id)).failure is None  # type: ignore[union-attr]
    world.fake.revoke(KEY)
    clock.now += 40.0
    event = await world.monitor.poll(account.id)
    assert event is not None and event.status == AccountStatus.ACTIVE


async def test_rejections_for_a_minute_make_the_account_auth_failed(
    world: World, clock: FakeClock
) -> None:
    """Rejected on every poll: active (then blind, by count) until the run has lasted 60 s,
    auth_failed from then on, its poll job gone."""
    account = await world.link("binanceusdm")
    await world.monitor.sync()
    world.fake.revoke(KEY)
    statuses = []
    for _ in range(4):
        event = await world.monitor.poll(account.id)
        assert event is not None
        statuses.append(event.status)
        clock.now += 20.0
    assert statuses == [
        AccountStatus.ACTIVE,
        AccountStatus.ACTIVE,
        AccountStatus.BLIND,  # blind_after=3 in these tests: the rejections count as failures
        AccountStatus.AUTH_FAILED,
    ]
    assert world.monitor.scheduler.get_job(f"poll:{account.id}") is None


async def test_a_proxy_407_is_told_to_the_operator_and_never_auth_fails(
    world: World, clock: FakeClock
) -> None:
    """407 from the proxy on every poll for minutes: the account goes blind (it is not being
    watched) but never auth_failed; the operator hears once as a warning and once more when
    the account goes blind, not on every poll."""
    world.monitor.ops = OpsAlerts(world.db, OPS_CHAT, clock=clock)
    account = await world.link("binanceusdm")
    world.fake.fail("binanceusdm", status=407, body="Proxy Authentication Required", times=999)
    events = []
    for _ in range(6):
        events.append(await world.monitor.poll(account.id))
        clock.now += 30.0
    assert {e.failure.kind for e in events if e and e.failure} == {"proxy"}
    assert [e.status for e in events if e][-1] == AccountStatus.BLIND
    rows = await world.db.fetchall("SELECT dedup_key, payload_json FROM outbox ORDER BY id")
    notices = [from_payload(json.loads(r["payload_json"])) for r in rows]
    assert [(n.kind, n.severity, n.subject) for n in notices if isinstance(n, OpsNotice)] == [
        (NoticeKind.OPERATOR, Severity.WARNING, "binanceusdm"),
        (NoticeKind.OPERATOR, Severity.CRITICAL, "binanceusdm"),
    ]
    assert all("407" in (n.detail or "") for n in notices if isinstance(n, OpsNotice))
    stored = await world.monitor.accounts.system_get(account.id)
    assert stored is not None and stored.status == AccountStatus.BLIND
