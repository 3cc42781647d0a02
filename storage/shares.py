"""Accounts shared with group chats: what a group may read, and where its alerts go."""

from __future__ import annotations

from engine.domain import LinkedAccount, Platform
from storage.accounts import SELECT_ACCOUNTS, account_from_row
from storage.db import Database


class Shares:
    """Repository of shares; only an account's owner can share or unshare it (caller checks)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        platform: Platform,
        chat_id: str,
        account_id: int,
        shared_by: int,
        *,
        thread_id: str | None,
        now: float,
    ) -> bool:
        """Share the account with the chat; False if it already was (the topic is updated)."""
        async with self._db.transaction() as tx:
            existing = await tx.fetchone(
                "SELECT 1 FROM shares WHERE platform = ? AND chat_id = ? AND account_id = ?",
                (str(platform), chat_id, account_id),
            )
            await tx.execute(
                "INSERT INTO shares (platform, chat_id, account_id, shared_by, thread_id,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (platform, chat_id, account_id)"
                " DO UPDATE SET"
                " thread_id = excluded.thread_id, shared_by = excluded.shared_by",
                (str(platform), chat_id, account_id, shared_by, thread_id, now),
            )
        return existing is None

    async def remove(self, platform: Platform, chat_id: str, account_id: int) -> bool:
        """Stop sharing; False if it was not shared here."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "DELETE FROM shares WHERE platform = ? AND chat_id = ? AND account_id = ?"
                " RETURNING account_id",
                (str(platform), chat_id, account_id),
            )
        return row is not None

    async def accounts_in(self, platform: Platform, chat_id: str) -> list[LinkedAccount]:
        """The accounts shared with this chat, in the order they were shared."""
        rows = await self._db.fetchall(
            f"{SELECT_ACCOUNTS} JOIN shares s ON s.account_id = a.id"
            " WHERE s.platform = ? AND s.chat_id = ? ORDER BY s.created_at, a.id",
            (str(platform), chat_id),
        )
        return [account_from_row(r) for r in rows]
