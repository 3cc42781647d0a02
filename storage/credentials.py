"""Encrypted account credentials: stored and swapped as opaque ciphertext, never decrypted here."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from storage.db import Database, Transaction
from storage.errors import ConflictError


@dataclass(frozen=True)
class CredentialRow:
    """One account's credential blob and the id of the master key that sealed it."""

    account_id: int
    #: Hidden from repr: ciphertext is not a secret, but logs have no use for it either.
    ciphertext: bytes = field(repr=False)
    key_id: str
    #: Sealed with the account id in its authenticated data (False: by a liqwatch before
    #: migration 0010, waiting to be re-encrypted at start-up).
    bound: bool = True


def _row(row: sqlite3.Row) -> CredentialRow:
    return CredentialRow(
        int(row["account_id"]), bytes(row["ciphertext"]), str(row["key_id"]), bool(row["bound"])
    )


class CredentialStore:
    """The credentials table; ``Accounts`` is its owner-checking front door."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(
        self, account_id: int, ciphertext: bytes, key_id: str, *, tx: Transaction | None = None
    ) -> None:
        """Insert or replace one account's credentials (bound to it: the caller sealed them
        with the account id)."""
        async with self._db.joining(tx) as write:
            await write.execute(
                "INSERT INTO credentials (account_id, ciphertext, key_id, bound)"
                " VALUES (?, ?, ?, 1)"
                " ON CONFLICT (account_id) DO UPDATE"
                " SET ciphertext = excluded.ciphertext, key_id = excluded.key_id, bound = 1",
                (account_id, ciphertext, key_id),
            )

    async def get(self, account_id: int) -> CredentialRow | None:
        """One account's credentials, or None."""
        row = await self._db.fetchone(
            "SELECT * FROM credentials WHERE account_id = ?", (account_id,)
        )
        return None if row is None else _row(row)

    async def all(self) -> list[CredentialRow]:
        """Every stored credential, by account id."""
        rows = await self._db.fetchall("SELECT * FROM credentials ORDER BY account_id")
        return [_row(row) for row in rows]

    async def replace(self, changes: Sequence[tuple[CredentialRow, CredentialRow]]) -> int:
        """Compare-and-swap every (old, new) pair in one transaction; the number swapped."""
        async with self._db.transaction() as tx:
            for old, new in changes:
                if old.account_id != new.account_id:
                    raise ValueError("old and new credentials belong to different accounts")
                changed = await tx.execute(
                    "UPDATE credentials SET ciphertext = ?, key_id = ?, bound = ?"
                    " WHERE account_id = ? AND ciphertext = ? AND key_id = ?",
                    (
                        new.ciphertext,
                        new.key_id,
                        int(new.bound),
                        old.account_id,
                        old.ciphertext,
                        old.key_id,
                    ),
                )
                if changed != 1:
                    raise ConflictError(
                        f"credentials of account {old.account_id} changed during rotation"
                    )
        return len(changes)
