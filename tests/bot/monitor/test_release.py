"""Accounts a monitor stops polling all at once — a worker handing a share of its accounts to
one that joined — are let go together: ccxt's ``close()`` waits 250 ms per instance, so one at
a time 600 accounts took 150 s, and the lease round waiting on it let the worker's own leases
lapse."""

from __future__ import annotations

import time

import pytest
from ccxt.async_support.base.exchange import Exchange

from tests.bot.monitor.conftest import World

ACCOUNTS = 20


async def test_letting_many_accounts_go_closes_their_clients_together(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Exchange, "timeout_on_exit", 250)  # ccxt's, which the suite sets to 0
    accounts = [await world.link("deribit", n) for n in range(ACCOUNTS)]
    for account in accounts:
        await world.monitor.poll(account.id)
    assert len(world.hub.account_keys()) == ACCOUNTS, "each account has its client"

    world.monitor.holds = frozenset  # this worker holds none of them now
    started = time.monotonic()
    await world.monitor.sync()
    took = time.monotonic() - started

    assert world.hub.account_keys() == [], "every client closed, its keys gone"
    assert not [j for j in world.monitor.scheduler.get_jobs() if j.id.startswith("poll:")]
    # One at a time: ACCOUNTS × 0.25 s = 5 s.
    assert took < 2.0, f"letting {ACCOUNTS} accounts go took {took:.1f} s"
