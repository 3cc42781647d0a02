"""Linked accounts and wallets: owner-scoped calls for users, system calls for the monitor."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from engine.domain import AccountStatus, LinkedAccount
from storage.credentials import CredentialRow, CredentialStore
from storage.db import Database, Transaction
from storage.errors import ConflictError
from storage.rules import Rules

#: Accounts with whether they hold credentials; other repositories join on it.
SELECT_ACCOUNTS = (
    "SELECT a.*, c.account_id IS NOT NULL AS has_credentials"
    " FROM accounts a LEFT JOIN credentials c ON c.account_id = a.id"
)
#: Longest stored poll error: enough to diagnose, bounded so a huge HTML error page is not kept.
MAX_ERROR_CHARS = 500


def account_from_row(row: sqlite3.Row) -> LinkedAccount:
    """A row of ``SELECT_ACCOUNTS`` as a LinkedAccount."""
    return LinkedAccount(
        id=int(row["id"]),
        owner_id=int(row["owner_id"]),
        venue=str(row["venue"]),
        label=str(row["label"]),
        status=AccountStatus(row["status"]),
        poll_s=None if row["poll_s"] is None else float(row["poll_s"]),
        wallet_address=row["wallet_address"],
        has_credentials=bool(row["has_credentials"]),
        consecutive_failures=int(row["consecutive_failures"]),
        last_error=row["last_error"],
        last_polled_at=None if row["last_polled_at"] is None else float(row["last_polled_at"]),
        created_at=float(row["created_at"]),
        **_cadence(row),
    )


def _cadence(row: sqlite3.Row) -> dict[str, Any]:
    """The poll band columns (migration 0013), absent from a database not yet migrated to
    it (a migration's own data step reads accounts too)."""
    if "poll_band" not in row.keys():  # noqa: SIM118 (a Row's `in` looks at its values)
        return {}
    every = row["poll_every_s"]
    return {
        "poll_band": row["poll_band"],
        "poll_every_s": None if every is None else float(every),
        "poll_reason": row["poll_reason"],
    }


class Accounts:
    """Repository of linked accounts and their (already encrypted) credentials.

    Every user-facing method takes the owner's id and matches it in SQL, so another user's
    account id finds nothing. The "system" methods (no owner) are for the monitor and operator
    tools only: never call them with an id that came from a chat message.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._credentials = CredentialStore(db)

    # --- owner-scoped -----------------------------------------------------------------------

    async def add(
        self,
        owner_id: int,
        venue: str,
        label: str,
        *,
        wallet_address: str | None = None,
        ciphertext: bytes | Callable[[int], bytes] | None = None,
        key_id: str | None = None,
        poll_s: float | None = None,
        now: float,
    ) -> LinkedAccount:
        """Link an account (and its credentials) in one transaction.

        ``ciphertext`` may be a function of the new account's id (credentials are sealed with
        it, so they decrypt for this account only). Raises ConflictError when the owner
        already has an account with this label (labels compare case-insensitively),
        ValueError when only one of ciphertext/key_id is given.
        """
        if (ciphertext is None) != (key_id is None):
            raise ValueError("ciphertext and key_id go together")
        async with self._db.transaction() as tx:
            if await tx.fetchone(
                "SELECT 1 FROM accounts WHERE owner_id = ? AND label = ?", (owner_id, label)
            ):
                raise ConflictError(f"an account labelled {label!r} already exists")
            account_id = await tx.insert(
                "INSERT INTO accounts (owner_id, venue, label, poll_s, wallet_address, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (owner_id, venue, label, poll_s, wallet_address, now),
            )
            if ciphertext is not None and key_id is not None:
                sealed = ciphertext(account_id) if callable(ciphertext) else ciphertext
                await self._credentials.put(account_id, sealed, key_id, tx=tx)
            await Rules(tx.db).insert_defaults(owner_id, account_id, now=now, tx=tx)
            row = await tx.fetchone(f"{SELECT_ACCOUNTS} WHERE a.id = ?", (account_id,))
        assert row is not None  # inserted in this very transaction
        return account_from_row(row)

    async def get(self, owner_id: int, account_id: int) -> LinkedAccount | None:
        """The owner's account with this id; None if it does not exist or is someone else's."""
        row = await self._db.fetchone(
            f"{SELECT_ACCOUNTS} WHERE a.owner_id = ? AND a.id = ?", (owner_id, account_id)
        )
        return None if row is None else account_from_row(row)

    async def by_label(self, owner_id: int, label: str) -> LinkedAccount | None:
        """The owner's account with this label (case-insensitive)."""
        row = await self._db.fetchone(
            f"{SELECT_ACCOUNTS} WHERE a.owner_id = ? AND a.label = ?", (owner_id, label)
        )
        return None if row is None else account_from_row(row)

    async def list_for(self, owner_id: int) -> list[LinkedAccount]:
        """Every account of the owner, by label."""
        rows = await self._db.fetchall(
            f"{SELECT_ACCOUNTS} WHERE a.owner_id = ? ORDER BY a.label, a.id", (owner_id,)
        )
        return [account_from_row(row) for row in rows]

    async def remove(self, owner_id: int, account_id: int) -> bool:
        """Delete the owner's account with its credentials, snapshots and alert state."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "DELETE FROM accounts WHERE owner_id = ? AND id = ?", (owner_id, account_id)
            )
        return changed == 1

    async def pause(self, owner_id: int, account_id: int) -> bool:
        """Stop monitoring the owner's account; False if it is not theirs."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE accounts SET status = ? WHERE owner_id = ? AND id = ?",
                (AccountStatus.PAUSED, owner_id, account_id),
            )
        return changed == 1

    async def resume(self, owner_id: int, account_id: int) -> bool:
        """Monitor a PAUSED account again, failures reset; False if not theirs or not paused.

        Deliberately not a way out of AUTH_FAILED: that takes new credentials.
        """
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE accounts SET status = ?, consecutive_failures = 0"
                " WHERE owner_id = ? AND id = ? AND status = ?",
                (AccountStatus.ACTIVE, owner_id, account_id, AccountStatus.PAUSED),
            )
        return changed == 1

    async def set_credentials(
        self, owner_id: int, account_id: int, ciphertext: bytes, key_id: str
    ) -> bool:
        """Replace the owner's account credentials (a re-link); False if not theirs.

        Re-linking is what lifts AUTH_FAILED: the account becomes ACTIVE with a clean slate.
        """
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE accounts SET consecutive_failures = 0, last_error = NULL,"
                " key_rejected_since = NULL,"
                " status = CASE WHEN status = ? THEN ? ELSE status END"
                " WHERE owner_id = ? AND id = ?",
                (AccountStatus.AUTH_FAILED, AccountStatus.ACTIVE, owner_id, account_id),
            )
            if changed:
                await self._credentials.put(account_id, ciphertext, key_id, tx=tx)
        return changed == 1

    # --- system (monitor, operator tools): no owner check -----------------------------------

    async def system_get(self, account_id: int) -> LinkedAccount | None:
        """Any account by id (the monitor's poll job)."""
        row = await self._db.fetchone(f"{SELECT_ACCOUNTS} WHERE a.id = ?", (account_id,))
        return None if row is None else account_from_row(row)

    async def system_credentials(self, account_id: int) -> CredentialRow | None:
        """Any account's credentials by id (the monitor's poll job)."""
        return await self._credentials.get(account_id)

    async def all_accounts(self) -> list[LinkedAccount]:
        """Every account of every user (operator listing)."""
        rows = await self._db.fetchall(f"{SELECT_ACCOUNTS} ORDER BY a.owner_id, a.label")
        return [account_from_row(row) for row in rows]

    async def all_pollable(self) -> list[LinkedAccount]:
        """Accounts the monitor polls: ACTIVE and BLIND (not AUTH_FAILED, not PAUSED)."""
        rows = await self._db.fetchall(
            f"{SELECT_ACCOUNTS} WHERE a.status IN (?, ?) ORDER BY a.id",
            (AccountStatus.ACTIVE, AccountStatus.BLIND),
        )
        return [account_from_row(row) for row in rows]

    async def record_poll_success(
        self, account_id: int, at: float, *, tx: Transaction | None = None
    ) -> bool:
        """A poll worked: failures reset, BLIND back to ACTIVE; False if the account is gone."""
        async with self._db.joining(tx) as write:
            changed = await write.execute(
                "UPDATE accounts SET consecutive_failures = 0, last_error = NULL,"
                " key_rejected_since = NULL, last_polled_at = ?,"
                " status = CASE WHEN status = ? THEN ? ELSE status END WHERE id = ?",
                (at, AccountStatus.BLIND, AccountStatus.ACTIVE, account_id),
            )
        return changed == 1

    async def set_cadence(
        self, account_id: int, band: str, every_s: float, reason: str, *,
        tx: Transaction | None = None,
    ) -> None:  # fmt: skip
        """The band the running service now polls the account in (``engine.cadence``)."""
        async with self._db.joining(tx) as write:
            await write.execute(
                "UPDATE accounts SET poll_band = ?, poll_every_s = ?, poll_reason = ? WHERE id = ?",
                (band, every_s, reason[:MAX_ERROR_CHARS], account_id),
            )

    async def record_poll_failure(
        self,
        account_id: int,
        at: float,
        error: str,
        blind_after: int,
        *,
        key_rejected: bool = False,
        tx: Transaction | None = None,
    ) -> AccountStatus | None:
        """Count a failed poll; the ``blind_after``-th in a row turns ACTIVE into BLIND.

        ``key_rejected``: this failure is the venue rejecting the key (``note_key_rejected``
        started or continued the run); any other failure ends a run of rejections.
        Returns the status after the update, or None if the account is gone.
        """
        async with self._db.joining(tx) as write:
            # SET expressions all read the pre-update row, hence "+ 1" in the threshold test.
            row = await write.fetchone(
                "UPDATE accounts SET consecutive_failures = consecutive_failures + 1,"
                " last_error = ?, last_polled_at = ?,"
                " key_rejected_since = CASE WHEN ? THEN key_rejected_since END,"
                " status = CASE WHEN status = ? AND consecutive_failures + 1 >= ? THEN ?"
                " ELSE status END WHERE id = ? RETURNING status",
                (
                    error[:MAX_ERROR_CHARS],
                    at,
                    key_rejected,
                    AccountStatus.ACTIVE,
                    blind_after,
                    AccountStatus.BLIND,
                    account_id,
                ),
            )
        return None if row is None else AccountStatus(row["status"])

    async def note_key_rejected(
        self, account_id: int, at: float, *, tx: Transaction | None = None
    ) -> float | None:
        """The venue rejected the account's key at ``at``: start a run of rejections unless
        one is going on. When the run started; None if the account is gone."""
        async with self._db.joining(tx) as write:
            row = await write.fetchone(
                "UPDATE accounts SET key_rejected_since = COALESCE(key_rejected_since, ?)"
                " WHERE id = ? RETURNING key_rejected_since",
                (at, account_id),
            )
        return None if row is None else float(row["key_rejected_since"])

    async def mark_auth_failed(
        self, account_id: int, error: str, *, tx: Transaction | None = None
    ) -> bool:
        """The venue rejected the credentials: stop polling until the owner re-links."""
        async with self._db.joining(tx) as write:
            changed = await write.execute(
                "UPDATE accounts SET status = ?, last_error = ? WHERE id = ?",
                (AccountStatus.AUTH_FAILED, error[:MAX_ERROR_CHARS], account_id),
            )
        return changed == 1

    async def all_credentials(self) -> list[CredentialRow]:
        """Every stored credential (key rotation reads them all, then replace_credentials)."""
        return await self._credentials.all()

    async def replace_credentials(
        self, changes: Sequence[tuple[CredentialRow, CredentialRow]]
    ) -> int:
        """Swap each (old, new) credential pair in ONE transaction (key rotation).

        All or nothing: if any row no longer holds its ``old`` value (re-linked meanwhile, or
        deleted), nothing changes and ConflictError is raised; read again and retry.
        """
        return await self._credentials.replace(changes)
