"""Owner isolation: Bob, holding a valid id of Alice's account, reaches and changes nothing."""

from __future__ import annotations

from engine.domain import LinkedAccount, SnapshotSummary, User
from storage.accounts import Accounts
from storage.db import Database
from storage.snapshots import Snapshots
from tests.storage.conftest import NOW


async def _snapshot(db: Database, account: LinkedAccount) -> None:
    async with db.transaction() as tx:
        await Snapshots(tx.db).insert(SnapshotSummary(account.id, NOW, 100.0, 0, 0, 0, 0), tx=tx)


async def test_get_returns_none_for_another_owners_account(
    accounts: Accounts, bob: User, alice_account: LinkedAccount
) -> None:
    """accounts.get with Bob's id and Alice's account id is None."""
    assert await accounts.get(bob.id, alice_account.id) is None


async def test_by_label_does_not_find_another_owners_account(
    accounts: Accounts, bob: User, alice_account: LinkedAccount
) -> None:
    """accounts.by_label searches only the caller's own labels."""
    assert await accounts.by_label(bob.id, alice_account.label) is None


async def test_list_for_lists_only_own_accounts(
    accounts: Accounts, bob: User, alice_account: LinkedAccount, bob_account: LinkedAccount
) -> None:
    """accounts.list_for returns Bob's accounts and none of Alice's."""
    assert await accounts.list_for(bob.id) == [bob_account]


async def test_remove_does_not_delete_another_owners_account(
    accounts: Accounts, alice: User, bob: User, alice_account: LinkedAccount
) -> None:
    """accounts.remove by Bob returns False and Alice's account survives."""
    assert not await accounts.remove(bob.id, alice_account.id)
    assert await accounts.get(alice.id, alice_account.id) == alice_account


async def test_pause_and_resume_do_not_touch_another_owners_account(
    accounts: Accounts, alice: User, bob: User, alice_account: LinkedAccount
) -> None:
    """accounts.pause/resume by Bob return False and leave Alice's account as it was."""
    assert not await accounts.pause(bob.id, alice_account.id)
    await accounts.pause(alice.id, alice_account.id)
    assert not await accounts.resume(bob.id, alice_account.id)
    account = await accounts.get(alice.id, alice_account.id)
    assert account is not None and account.status == "paused"


async def test_set_credentials_does_not_overwrite_another_owners_keys(
    accounts: Accounts, alice: User, bob: User, alice_account: LinkedAccount
) -> None:
    """accounts.set_credentials by Bob returns False and Alice keeps her ciphertext."""
    assert not await accounts.set_credentials(bob.id, alice_account.id, b"evil", "k9")
    row = await accounts.system_credentials(alice_account.id)
    assert row is not None and (row.ciphertext, row.key_id) == (b"sealed-alice", "k1")


async def test_latest_snapshot_is_hidden_from_another_owner(
    db: Database, snapshots: Snapshots, bob: User, alice_account: LinkedAccount
) -> None:
    """snapshots.latest with Bob's id and Alice's account id is None."""
    await _snapshot(db, alice_account)
    assert await snapshots.latest(bob.id, alice_account.id) is None


async def test_snapshot_history_is_hidden_from_another_owner(
    db: Database, snapshots: Snapshots, bob: User, alice_account: LinkedAccount
) -> None:
    """snapshots.between with Bob's id and Alice's account id is empty."""
    await _snapshot(db, alice_account)
    assert await snapshots.between(bob.id, alice_account.id, 0, NOW + 1) == []
