"""Account leases (migration 0015), on both backends: one holder per account at a time, even
when claims race; a lease that is not renewed expires and goes to whoever claims next; only
pollable accounts are claimed; released leases are free at once."""

from __future__ import annotations

import asyncio

from engine.domain import User
from storage.accounts import Accounts
from storage.db import Database
from storage.leases import Leases
from tests.storage.conftest import NOW

LEASE_S = 15.0


async def _accounts(accounts: Accounts, owner: User, n: int) -> list[int]:
    out = []
    for i in range(n):
        wallet = f"0x{i:040x}"
        out.append(
            (
                await accounts.add(owner.id, "hyperliquid", f"w{i}", wallet_address=wallet, now=NOW)
            ).id
        )
    return out


async def test_each_account_has_one_holder_and_a_lapsed_lease_moves(
    db: Database, accounts: Accounts, alice: User
) -> None:
    ids = await _accounts(accounts, alice, 5)
    leases = Leases(db)
    a = await leases.claim("host:1", 3, now=NOW, until=NOW + LEASE_S)
    b = await leases.claim("host:2", 5, now=NOW, until=NOW + LEASE_S)
    assert len(a) == 3 and a.isdisjoint(b) and a | b == set(ids)
    assert await leases.claim("host:3", 5, now=NOW + 1, until=NOW + 1 + LEASE_S) == set()
    # host:1 keeps renewing; host:2 stops: its leases lapse and host:3 takes them.
    assert await leases.renew("host:1", NOW + 10 + LEASE_S, NOW + 10) == a
    later = NOW + LEASE_S + 1
    assert await leases.renew("host:2", later + LEASE_S, later) == set()
    assert await leases.claim("host:3", 5, now=later, until=later + LEASE_S) == b
    assert await leases.held() == {"host:1": 3, "host:3": 2}


async def test_racing_claims_never_share_an_account(
    db: Database, accounts: Accounts, alice: User
) -> None:
    ids = await _accounts(accounts, alice, 40)
    leases = Leases(db)
    got = await asyncio.gather(
        *(leases.claim(f"host:{n}", 15, now=NOW, until=NOW + LEASE_S) for n in range(4))
    )
    union = set().union(*got)
    assert sum(len(g) for g in got) == len(union) == len(ids)


async def test_only_pollable_accounts_are_claimed_and_released_ones_are_free(
    db: Database, accounts: Accounts, alice: User
) -> None:
    first, paused = await _accounts(accounts, alice, 2)
    assert await accounts.pause(alice.id, paused)
    leases = Leases(db)
    assert await leases.pollable() == 1
    assert await leases.claim("host:1", 5, now=NOW, until=NOW + LEASE_S) == {first}
    await leases.release("host:1", {first})
    assert await leases.claim("host:2", 5, now=NOW, until=NOW + LEASE_S) == {first}


async def test_live_workers_are_those_seen_within_the_lease(db: Database) -> None:
    leases = Leases(db)
    await leases.beat("host:1", NOW)
    await leases.beat("host:2", NOW + 10)
    assert await leases.live(NOW + 12, LEASE_S) == ["host:1", "host:2"]
    assert await leases.live(NOW + 20, LEASE_S) == ["host:2"]
    assert await leases.forget_workers(NOW + 5) == 1
