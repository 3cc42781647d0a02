"""Digest subscriptions: which chat gets which accounts' digest, at what local time."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from engine.domain import THREAD_SEPARATOR, Platform
from storage.db import Database, Transaction


@dataclass(frozen=True)
class Subscription:
    id: int
    owner_id: int
    platform: Platform
    #: The outbox target (a chat, or "chat#topic").
    chat_id: str
    #: Account ids; empty means "every account visible in that chat at digest time".
    account_ids: tuple[int, ...]
    local_time: str
    timezone: str
    created_at: float
    last_sent_at: float | None


def _subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(
        id=int(row["id"]),
        owner_id=int(row["owner_id"]),
        platform=Platform(row["platform"]),
        chat_id=str(row["chat_id"]),
        account_ids=tuple(int(i) for i in json.loads(row["accounts_json"])),
        local_time=str(row["local_time"]),
        timezone=str(row["timezone"]),
        created_at=float(row["created_at"]),
        last_sent_at=None if row["last_sent_at"] is None else float(row["last_sent_at"]),
    )


class Digests:
    """Repository of subscriptions: one per target, a chat or one forum topic of it (a new
    subscribe replaces that target's old one)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def subscribe(
        self,
        owner_id: int,
        platform: Platform,
        chat_id: str,
        account_ids: tuple[int, ...],
        local_time: str,
        timezone: str,
        *,
        now: float,
    ) -> Subscription:
        async with self._db.transaction() as tx:
            await tx.execute(
                "DELETE FROM digest_subscriptions WHERE platform = ? AND chat_id = ?",
                (str(platform), chat_id),
            )
            row = await tx.fetchone(
                "INSERT INTO digest_subscriptions (owner_id, platform, chat_id, accounts_json,"
                " local_time, timezone, created_at, last_sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING *",
                (owner_id, str(platform), chat_id, json.dumps(list(account_ids)), local_time,
                 timezone, now, now),
            )  # fmt: skip
        assert row is not None  # RETURNING always yields the inserted row
        return _subscription(row)

    async def unsubscribe(self, platform: Platform, chat_id: str) -> bool:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "DELETE FROM digest_subscriptions WHERE platform = ? AND chat_id = ? RETURNING id",
                (str(platform), chat_id),
            )
        return row is not None

    async def for_chat(self, platform: Platform, chat_id: str) -> Subscription | None:
        row = await self._db.fetchone(
            "SELECT * FROM digest_subscriptions WHERE platform = ? AND chat_id = ?",
            (str(platform), chat_id),
        )
        return None if row is None else _subscription(row)

    async def for_group(self, platform: Platform, chat_id: str) -> list[Subscription]:
        """The subscriptions of a chat and of every forum topic in it ("chat#topic"), oldest
        first: a topic's subscription is its own, so the group as a whole may have several."""
        topics = f"{chat_id}{THREAD_SEPARATOR}"
        # substr, not LIKE: the chat id is compared literally, "%" and "_" included.
        rows = await self._db.fetchall(
            "SELECT * FROM digest_subscriptions WHERE platform = ? AND (chat_id = ?"
            " OR substr(chat_id, 1, length(?)) = ?) ORDER BY id",
            (str(platform), chat_id, topics, topics),
        )
        return [_subscription(r) for r in rows]

    async def get(self, subscription_id: int) -> Subscription | None:
        row = await self._db.fetchone(
            "SELECT * FROM digest_subscriptions WHERE id = ?", (subscription_id,)
        )
        return None if row is None else _subscription(row)

    async def all(self) -> list[Subscription]:
        rows = await self._db.fetchall("SELECT * FROM digest_subscriptions ORDER BY id")
        return [_subscription(r) for r in rows]

    async def mark_sent(
        self, subscription_id: int, at: float, *, tx: Transaction | None = None
    ) -> None:
        async with self._db.joining(tx) as write:
            await write.execute(
                "UPDATE digest_subscriptions SET last_sent_at = ? WHERE id = ?",
                (at, subscription_id),
            )
