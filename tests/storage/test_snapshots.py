"""Snapshots repository: insert inside a transaction, latest, between, retention."""

from __future__ import annotations

import math

from engine.domain import LinkedAccount, PositionSummary, SnapshotSummary, User
from storage.accounts import Accounts
from storage.db import Database
from storage.snapshots import Snapshots
from tests.storage.conftest import NOW

BTC = PositionSummary("BTC/USDT:USDT", "long", 0.5, 30_000.0, 60_000.0, 48_000.0, 20.0, "cross")


async def _insert(db: Database, account: LinkedAccount, *times: float) -> None:
    async with db.transaction() as tx:
        for at in times:
            await Snapshots(tx.db).insert(SnapshotSummary(account.id, at, at, 0, 0, 0, 0), tx=tx)


async def test_insert_round_trips_every_field(
    db: Database, snapshots: Snapshots, alice: User, alice_account: LinkedAccount
) -> None:
    """What insert stores, latest reads back identically (positions included)."""
    summary = SnapshotSummary(
        alice_account.id, NOW, 10_000.0, 30_000.0, 30_000.0, 3.0, 0.05, (BTC,)
    )
    async with db.transaction() as tx:
        stored = await Snapshots(tx.db).insert(summary, tx=tx)
    assert stored.positions == (BTC,)
    assert stored.equity_usd == 10_000.0 and stored.margin_ratio == 0.05
    assert await snapshots.latest(alice.id, alice_account.id) == stored


async def test_non_finite_numbers_are_stored_as_none(
    db: Database, snapshots: Snapshots, alice: User, alice_account: LinkedAccount
) -> None:
    """The engine's NaN ("not reported") and inf come back as None, in columns and positions."""
    position = PositionSummary("ETH/USDT:USDT", "short", 1.0, math.nan, 3000.0, math.inf, None, "x")
    summary = SnapshotSummary(alice_account.id, NOW, math.nan, 0, 0, math.inf, 0, (position,))
    async with db.transaction() as tx:
        stored = await Snapshots(tx.db).insert(summary, tx=tx)
    assert (stored.equity_usd, stored.effective_leverage) == (None, None)
    assert (stored.positions[0].notional_usd, stored.positions[0].liquidation_price) == (None, None)


async def test_latest_is_the_newest_by_time(
    db: Database, snapshots: Snapshots, alice: User, alice_account: LinkedAccount
) -> None:
    """latest returns the snapshot with the greatest taken_at, whatever the insert order."""
    await _insert(db, alice_account, NOW + 60, NOW + 120, NOW)
    latest = await snapshots.latest(alice.id, alice_account.id)
    assert latest is not None and latest.taken_at == NOW + 120


async def test_latest_is_none_without_snapshots(
    snapshots: Snapshots, alice: User, alice_account: LinkedAccount
) -> None:
    """An account never polled has no latest snapshot."""
    assert await snapshots.latest(alice.id, alice_account.id) is None


async def test_between_is_half_open_and_ordered(
    db: Database, snapshots: Snapshots, alice: User, alice_account: LinkedAccount
) -> None:
    """between(since, until) returns since <= taken_at < until, oldest first."""
    await _insert(db, alice_account, NOW + 90, NOW, NOW + 30, NOW + 60)
    found = await snapshots.between(alice.id, alice_account.id, NOW + 30, NOW + 90)
    assert [s.taken_at for s in found] == [NOW + 30, NOW + 60]


async def test_between_returns_only_the_asked_account(
    db: Database,
    accounts: Accounts,
    snapshots: Snapshots,
    alice: User,
    alice_account: LinkedAccount,
) -> None:
    """Snapshots of the owner's other accounts are not mixed in."""
    other = await accounts.add(alice.id, "okx", "other", wallet_address="0", now=NOW)
    await _insert(db, alice_account, NOW)
    await _insert(db, other, NOW + 1)
    found = await snapshots.between(alice.id, alice_account.id, 0, NOW + 10)
    assert [s.account_id for s in found] == [alice_account.id]


async def test_prune_deletes_old_snapshots(
    db: Database, snapshots: Snapshots, alice: User, alice_account: LinkedAccount
) -> None:
    """prune(older_than) deletes snapshots taken before the cutoff and counts them."""
    await _insert(db, alice_account, NOW - 200, NOW - 100, NOW, NOW + 100)
    assert await snapshots.prune(NOW) == 2
    remaining = await snapshots.between(alice.id, alice_account.id, 0, NOW + 1000)
    assert [s.taken_at for s in remaining] == [NOW, NOW + 100]


async def test_prune_keeps_each_accounts_newest_snapshot(
    db: Database, snapshots: Snapshots, alice: User, alice_account: LinkedAccount
) -> None:
    """An account whose snapshots are all old keeps its newest: 'last seen' survives."""
    await _insert(db, alice_account, NOW - 300, NOW - 200)
    assert await snapshots.prune(NOW) == 1
    latest = await snapshots.latest(alice.id, alice_account.id)
    assert latest is not None and latest.taken_at == NOW - 200
