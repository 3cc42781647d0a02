"""Accounts no longer polled lose their ccxt instance (and the decrypted keys inside it)."""

from __future__ import annotations

from typing import Any

from engine.domain import AccountStatus
from tests.bot.monitor.conftest import World
from tests.fakes.clock import FakeClock


def clients(world: World, api_key: str) -> list[Any]:
    """The hub's open ccxt instances holding ``api_key``."""
    return [ex for ex in world.hub.instances() if ex.apiKey == api_key]


def closed(exchange: Any) -> bool:
    return exchange.session is None and bool(exchange.closed_by_user)


async def test_a_paused_account_loses_its_client_at_the_next_sync(world: World) -> None:
    """Paused (here or by another process), then the monitor's resync: its instance is closed
    and gone from the hub, its latest analysis forgotten; another account's stays open."""
    paused = await world.link("binanceusdm", 0)
    kept = await world.link("binanceusdm", 1)
    await world.monitor.sync()
    for account in (paused, kept):
        assert (await world.monitor.poll(account.id)).failure is None  # type: ignore[union-attr]
    [client] = clients(world, "KEY-binanceusdm-0")
    assert await world.monitor.accounts.pause(world.owner_id, paused.id)
    await world.monitor.sync()
    assert closed(client) and not clients(world, "KEY-binanceusdm-0")
    assert str(paused.id) not in world.hub.account_keys()
    assert paused.id not in world.monitor.latest and kept.id in world.monitor.latest
    [other] = clients(world, "KEY-binanceusdm-1")
    assert not closed(other)


async def test_an_auth_failed_account_loses_its_client(world: World) -> None:
    """The poll that marks the account auth_failed also closes its instance."""
    world.monitor.clock = clock = FakeClock(1_700_000_000.0)
    account = await world.link("okx")
    assert (await world.monitor.poll(account.id)).failure is None  # type: ignore[union-attr]
    [client] = clients(world, "KEY-okx-0")
    world.fake.revoke("KEY-okx-0")
    for _ in range(3):
        event = await world.monitor.poll(account.id)
        clock.now += 30.0
    assert event is not None and event.status == AccountStatus.AUTH_FAILED
    assert closed(client) and not clients(world, "KEY-okx-0")


async def test_an_account_removed_from_the_cli_loses_its_client(world: World) -> None:
    """``liqwatch accounts remove`` deletes the row from another process; the next resync
    closes the instance and forgets the analysis."""
    account = await world.link("bybit")
    await world.monitor.sync()
    assert (await world.monitor.poll(account.id)).failure is None  # type: ignore[union-attr]
    [client] = clients(world, "KEY-bybit-0")
    assert await world.monitor.accounts.remove(world.owner_id, account.id)
    await world.monitor.sync()
    assert closed(client) and world.hub.account_keys() == []
    assert world.monitor.latest == {}
    assert world.monitor.scheduler.get_job(f"poll:{account.id}") is None
