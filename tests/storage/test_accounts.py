"""Accounts repository: linking, labels, credentials, poll outcomes, rotation, cascades."""

from __future__ import annotations

import pytest

from engine.domain import AccountStatus, LinkedAccount, SnapshotSummary, User
from storage.accounts import Accounts
from storage.credentials import CredentialRow
from storage.db import Database
from storage.errors import ConflictError
from storage.snapshots import Snapshots
from tests.storage.conftest import NOW


async def test_add_returns_the_stored_account(accounts: Accounts, alice: User) -> None:
    """add links an account with credentials and returns it as a LinkedAccount."""
    account = await accounts.add(
        alice.id, "bybit", "swing", ciphertext=b"x", key_id="k1", poll_s=15.0, now=NOW
    )
    assert account == LinkedAccount(
        id=account.id,
        owner_id=alice.id,
        venue="bybit",
        label="swing",
        status=AccountStatus.ACTIVE,
        poll_s=15.0,
        wallet_address=None,
        has_credentials=True,
        consecutive_failures=0,
        last_error=None,
        last_polled_at=None,
        created_at=NOW,
    )
    assert await accounts.get(alice.id, account.id) == account


async def test_duplicate_label_for_one_owner_is_a_conflict(
    accounts: Accounts, alice: User, alice_account: LinkedAccount
) -> None:
    """A second account labelled like an existing one (any case) raises ConflictError."""
    with pytest.raises(ConflictError, match="MAIN"):
        await accounts.add(alice.id, "okx", "MAIN", wallet_address="0x1", now=NOW)
    assert len(await accounts.list_for(alice.id)) == 1


async def test_two_owners_may_use_the_same_label(
    accounts: Accounts, bob: User, alice_account: LinkedAccount
) -> None:
    """Labels are unique per owner only."""
    account = await accounts.add(bob.id, "okx", alice_account.label, wallet_address="0", now=NOW)
    assert account.label == alice_account.label


async def test_add_rejects_ciphertext_without_key_id(accounts: Accounts, alice: User) -> None:
    """Ciphertext without the id of the key that sealed it could never be decrypted."""
    with pytest.raises(ValueError, match="key_id"):
        await accounts.add(alice.id, "okx", "x", ciphertext=b"c", now=NOW)


async def test_by_label_ignores_case(
    accounts: Accounts, alice: User, alice_account: LinkedAccount
) -> None:
    """A user typing 'Main' finds the account labelled 'main'."""
    assert await accounts.by_label(alice.id, "Main") == alice_account


async def test_set_credentials_lifts_auth_failed(
    accounts: Accounts, alice: User, alice_account: LinkedAccount
) -> None:
    """Re-linking with new credentials makes an AUTH_FAILED account ACTIVE again."""
    await accounts.mark_auth_failed(alice_account.id, "invalid api key")
    assert await accounts.set_credentials(alice.id, alice_account.id, b"new", "k2")
    account = await accounts.get(alice.id, alice_account.id)
    assert account is not None and account.status is AccountStatus.ACTIVE
    row = await accounts.system_credentials(alice_account.id)
    assert row is not None and (row.ciphertext, row.key_id) == (b"new", "k2")


async def test_mark_auth_failed_takes_the_account_out_of_polling(
    accounts: Accounts, alice_account: LinkedAccount, bob_account: LinkedAccount
) -> None:
    """An AUTH_FAILED account is no longer listed for the monitor."""
    assert await accounts.mark_auth_failed(alice_account.id, "invalid api key")
    assert [a.id for a in await accounts.all_pollable()] == [bob_account.id]


async def test_record_poll_failure_turns_blind_at_the_threshold(
    accounts: Accounts, alice_account: LinkedAccount
) -> None:
    """With blind_after=3 the first two failures stay ACTIVE, the third makes it BLIND."""
    statuses = [
        await accounts.record_poll_failure(alice_account.id, NOW + i, "timeout", blind_after=3)
        for i in range(3)
    ]
    assert statuses == [AccountStatus.ACTIVE, AccountStatus.ACTIVE, AccountStatus.BLIND]
    account = await accounts.system_get(alice_account.id)
    assert account is not None
    assert (account.consecutive_failures, account.last_error) == (3, "timeout")


async def test_record_poll_failure_keeps_auth_failed(
    accounts: Accounts, alice_account: LinkedAccount
) -> None:
    """Failures past the threshold never overwrite AUTH_FAILED with BLIND."""
    await accounts.mark_auth_failed(alice_account.id, "bad key")
    status = await accounts.record_poll_failure(alice_account.id, NOW, "x", blind_after=1)
    assert status is AccountStatus.AUTH_FAILED


async def test_a_run_of_key_rejections_keeps_when_it_started(
    accounts: Accounts, alice_account: LinkedAccount
) -> None:
    """Rejected polls in a row (each also counted as a failed poll) report the first one's
    time; the account stays pollable meanwhile."""
    starts = []
    for i in range(3):
        starts.append(await accounts.note_key_rejected(alice_account.id, NOW + 30 * i))
        status = await accounts.record_poll_failure(
            alice_account.id, NOW + 30 * i, "rejected", blind_after=5, key_rejected=True
        )
        assert status is AccountStatus.ACTIVE
    assert starts == [NOW, NOW, NOW]
    account = await accounts.system_get(alice_account.id)
    assert account is not None and account.consecutive_failures == 3


@pytest.mark.parametrize("outcome", ["other failure", "success", "re-link"])
async def test_any_other_outcome_ends_a_run_of_key_rejections(
    accounts: Accounts, alice: User, alice_account: LinkedAccount, outcome: str
) -> None:
    """A network failure, a good poll or new credentials between two rejections: the second
    one starts a new run."""
    await accounts.note_key_rejected(alice_account.id, NOW)
    if outcome == "other failure":
        await accounts.record_poll_failure(alice_account.id, NOW + 30, "timeout", blind_after=5)
    elif outcome == "success":
        await accounts.record_poll_success(alice_account.id, NOW + 30)
    else:
        await accounts.set_credentials(alice.id, alice_account.id, b"new", "k2")
    assert await accounts.note_key_rejected(alice_account.id, NOW + 60) == NOW + 60


async def test_a_rejection_of_a_deleted_account_reports_it_gone(accounts: Accounts) -> None:
    """No row: None, nothing raised."""
    assert await accounts.note_key_rejected(999, NOW) is None


async def test_record_poll_success_clears_blind(
    accounts: Accounts, alice_account: LinkedAccount
) -> None:
    """A successful poll of a BLIND account resets failures and makes it ACTIVE."""
    await accounts.record_poll_failure(alice_account.id, NOW, "timeout", blind_after=1)
    assert await accounts.record_poll_success(alice_account.id, NOW + 30)
    account = await accounts.system_get(alice_account.id)
    assert account is not None
    assert (account.status, account.consecutive_failures, account.last_error) == (
        AccountStatus.ACTIVE,
        0,
        None,
    )
    assert account.last_polled_at == NOW + 30


async def test_poll_outcome_of_a_deleted_account_reports_it_gone(accounts: Accounts) -> None:
    """Recording a poll for an account removed mid-poll changes nothing and returns None/False."""
    assert await accounts.record_poll_failure(999, NOW, "x", blind_after=1) is None
    assert not await accounts.record_poll_success(999, NOW)


async def test_poll_success_can_share_the_callers_transaction(
    db: Database, accounts: Accounts, alice_account: LinkedAccount
) -> None:
    """The monitor records success and its snapshot atomically: an error undoes both."""
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await Snapshots(tx.db).insert(
                SnapshotSummary(alice_account.id, NOW, 1, 0, 0, 0, 0), tx=tx
            )
            await accounts.record_poll_success(alice_account.id, NOW, tx=tx)
            raise RuntimeError("crash mid-poll")
    account = await accounts.system_get(alice_account.id)
    assert account is not None and account.last_polled_at is None


async def test_pause_and_resume(
    accounts: Accounts, alice: User, alice_account: LinkedAccount
) -> None:
    """A paused account is not polled; resuming makes it ACTIVE and pollable again."""
    assert await accounts.pause(alice.id, alice_account.id)
    assert await accounts.all_pollable() == []
    assert await accounts.resume(alice.id, alice_account.id)
    assert [a.id for a in await accounts.all_pollable()] == [alice_account.id]


async def test_resume_does_not_lift_auth_failed(
    accounts: Accounts, alice: User, alice_account: LinkedAccount
) -> None:
    """Only new credentials end AUTH_FAILED; resume leaves it as it is."""
    await accounts.mark_auth_failed(alice_account.id, "bad key")
    assert not await accounts.resume(alice.id, alice_account.id)


async def test_replace_credentials_swaps_all_in_one_go(
    accounts: Accounts, alice_account: LinkedAccount, bob: User
) -> None:
    """Key rotation replaces every credential read by all_credentials."""
    other = await accounts.add(bob.id, "okx", "o", ciphertext=b"sealed-bob", key_id="k1", now=NOW)
    old = await accounts.all_credentials()
    new = [CredentialRow(row.account_id, row.ciphertext + b"'", "k2") for row in old]
    assert await accounts.replace_credentials(list(zip(old, new, strict=True))) == 2
    assert await accounts.all_credentials() == new
    assert [row.account_id for row in new] == [alice_account.id, other.id]


async def test_replace_credentials_is_all_or_nothing(
    accounts: Accounts, alice: User, alice_account: LinkedAccount, bob: User
) -> None:
    """If one credential changed since it was read (a re-link), rotation changes nothing."""
    await accounts.add(bob.id, "okx", "o", ciphertext=b"sealed-bob", key_id="k1", now=NOW)
    old = await accounts.all_credentials()
    await accounts.set_credentials(alice.id, alice_account.id, b"relinked", "k1")
    before = await accounts.all_credentials()
    new = [CredentialRow(row.account_id, b"rotated", "k2") for row in old]
    with pytest.raises(ConflictError, match=str(alice_account.id)):
        await accounts.replace_credentials(list(zip(old, new, strict=True)))
    assert await accounts.all_credentials() == before


async def test_credential_repr_hides_the_ciphertext() -> None:
    """repr of a credential row names the account and key, not the blob."""
    assert "sealed" not in repr(CredentialRow(1, b"sealed", "k1"))


async def test_remove_cascades_to_credentials_snapshots_rules_and_alerts(
    db: Database, accounts: Accounts, alice: User, alice_account: LinkedAccount
) -> None:
    """Deleting an account deletes its credentials, snapshots, rules and alert state."""
    async with db.transaction() as tx:
        await Snapshots(tx.db).insert(SnapshotSummary(alice_account.id, NOW, 1, 0, 0, 0, 0), tx=tx)
        rule = await tx.insert(
            "INSERT INTO alert_rules (owner_id, account_id, kind, severity, created_at)"
            " VALUES (?, ?, 'liq_distance', 'critical', ?)",
            (alice.id, alice_account.id, NOW),
        )
        await tx.execute(
            "INSERT INTO alerts (rule_id, account_id, status, since) VALUES (?, ?, 'firing', ?)",
            (rule, alice_account.id, NOW),
        )
    assert await accounts.remove(alice.id, alice_account.id)
    for table in ("credentials", "account_snapshots", "alert_rules", "alerts"):
        row = await db.fetchone(f"SELECT count(*) FROM {table}")
        assert row is not None and row[0] == 0, table


async def test_a_rule_cannot_point_at_another_owners_account(
    db: Database, bob: User, alice_account: LinkedAccount
) -> None:
    """The schema itself pins an alert rule's account to the rule's owner."""
    with pytest.raises(Exception, match=r"(?i)FOREIGN KEY"):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO alert_rules (owner_id, account_id, kind, severity, created_at)"
                " VALUES (?, ?, 'liq_distance', 'critical', ?)",
                (bob.id, alice_account.id, NOW),
            )
