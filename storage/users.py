"""Users and the chat identities (Telegram/Discord/console) they are reached through."""

from __future__ import annotations

import sqlite3

from engine.domain import ChatIdentity, Platform, User
from storage.db import Database, Transaction
from storage.errors import ConflictError, StorageError


def _user(row: sqlite3.Row) -> User:
    return User(id=int(row["id"]), name=str(row["name"]), created_at=float(row["created_at"]))


def _identity(row: sqlite3.Row) -> ChatIdentity:
    return ChatIdentity(
        user_id=int(row["user_id"]),
        platform=Platform(row["platform"]),
        external_id=str(row["external_id"]),
        chat_id=None if row["chat_id"] is None else str(row["chat_id"]),
    )


class Users:
    """Repository of users; a user is found by (platform, external id) of any identity."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def ensure(
        self, platform: Platform, external_id: str, name: str, chat_id: str | None, *, now: float
    ) -> User:
        """The user behind this identity, created on first contact (idempotent).

        A known identity gets its display name and, when given, its private chat refreshed.
        """
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT user_id FROM chat_identities WHERE platform = ? AND external_id = ?",
                (str(platform), external_id),
            )
            if row is None:
                return await self._create(tx, platform, external_id, name, chat_id, now=now)
            user_id = int(row["user_id"])
            await tx.execute(
                "UPDATE chat_identities SET chat_id = coalesce(?, chat_id)"
                " WHERE platform = ? AND external_id = ?",
                (chat_id, str(platform), external_id),
            )
            updated = await tx.fetchone(
                "UPDATE users SET name = ? WHERE id = ? RETURNING *", (name, user_id)
            )
            if updated is None:  # the identity's foreign key makes this unreachable
                raise StorageError(f"identity {platform}:{external_id} has no user")
            return _user(updated)

    @staticmethod
    async def _create(
        tx: Transaction,
        platform: Platform,
        external_id: str,
        name: str,
        chat_id: str | None,
        *,
        now: float,
    ) -> User:
        user_id = await tx.insert("INSERT INTO users (name, created_at) VALUES (?, ?)", (name, now))
        await tx.execute(
            "INSERT INTO chat_identities (platform, external_id, user_id, chat_id, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (str(platform), external_id, user_id, chat_id, now),
        )
        return User(id=user_id, name=name, created_at=now)

    async def get(self, user_id: int) -> User | None:
        """The user with this id, if any."""
        row = await self._db.fetchone("SELECT * FROM users WHERE id = ?", (user_id,))
        return None if row is None else _user(row)

    async def by_identity(self, platform: Platform, external_id: str) -> User | None:
        """The user behind this platform identity, if they have ever been seen."""
        row = await self._db.fetchone(
            "SELECT u.* FROM users u JOIN chat_identities c ON c.user_id = u.id"
            " WHERE c.platform = ? AND c.external_id = ?",
            (str(platform), external_id),
        )
        return None if row is None else _user(row)

    async def identities(self, user_id: int) -> list[ChatIdentity]:
        """Every platform identity of a user, oldest first."""
        rows = await self._db.fetchall(
            "SELECT * FROM chat_identities WHERE user_id = ? ORDER BY created_at, platform",
            (user_id,),
        )
        return [_identity(row) for row in rows]

    async def link_identity(
        self, user_id: int, platform: Platform, external_id: str, chat_id: str | None, *, now: float
    ) -> bool:
        """Attach another platform identity to an existing user; False if it is already taken."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "INSERT OR IGNORE INTO chat_identities"
                " (platform, external_id, user_id, chat_id, created_at)"
                " SELECT ?, ?, id, ?, ? FROM users WHERE id = ?",
                (str(platform), external_id, chat_id, now, user_id),
            )
        return changed == 1

    async def issue_code(self, user_id: int, code: str, *, expires_at: float) -> None:
        """Store a one-time /connect code for this user (their older codes are dropped)."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM connect_codes WHERE user_id = ?", (user_id,))
            await tx.execute(
                "INSERT INTO connect_codes (code, user_id, expires_at) VALUES (?, ?, ?)",
                (code, user_id, expires_at),
            )

    async def redeem(
        self, code: str, platform: Platform, external_id: str, *, now: float
    ) -> User | None:
        """Move this identity to the code's user; None if the code is unknown or expired.

        The code is spent either way. ``ConflictError`` if the identity's present user still
        owns accounts (joining would orphan them): nothing changes then but the spent code.
        """
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "DELETE FROM connect_codes WHERE code = ? RETURNING user_id, expires_at", (code,)
            )
            if row is None or float(row["expires_at"]) < now:
                return None
            target = int(row["user_id"])
            current = await tx.fetchone(
                "SELECT user_id FROM chat_identities WHERE platform = ? AND external_id = ?",
                (str(platform), external_id),
            )
            if current is not None and int(current["user_id"]) != target:
                old = int(current["user_id"])
                owns = await tx.fetchone("SELECT 1 FROM accounts WHERE owner_id = ?", (old,))
                if owns is not None:
                    raise ConflictError("this identity's user still owns accounts")
                await tx.execute(
                    "UPDATE chat_identities SET user_id = ? WHERE platform = ? AND external_id = ?",
                    (target, str(platform), external_id),
                )
                remaining = await tx.fetchone(
                    "SELECT 1 FROM chat_identities WHERE user_id = ?", (old,)
                )
                if remaining is None:
                    await tx.execute("DELETE FROM users WHERE id = ?", (old,))
            user = await tx.fetchone("SELECT * FROM users WHERE id = ?", (target,))
        return None if user is None else _user(user)
