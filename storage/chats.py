"""Per-chat delivery settings: quiet hours, and the chats the platform told us are gone."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import TypeAlias

from engine.alerts.quiet import ChatSettings, QuietHours
from engine.domain import Platform
from storage.db import Database, Transaction

#: One chat: (platform, chat id).
ChatKey: TypeAlias = tuple[Platform, str]
#: Longest stored block reason (it comes from a platform error message).
MAX_REASON_CHARS = 500


def _settings(row: sqlite3.Row) -> ChatSettings:
    quiet = None
    if row["quiet_from"] is not None and row["quiet_to"] is not None:
        quiet = QuietHours(
            start=str(row["quiet_from"]),
            end=str(row["quiet_to"]),
            tz=str(row["quiet_tz"]),
            allow_critical=bool(row["quiet_allow_critical"]),
        )
    return ChatSettings(
        platform=Platform(row["platform"]),
        chat_id=str(row["chat_id"]),
        quiet=quiet,
        blocked_at=None if row["blocked_at"] is None else float(row["blocked_at"]),
        blocked_reason=row["blocked_reason"],
    )


def _keys_json(keys: Iterable[ChatKey]) -> str:
    return json.dumps(sorted({(str(platform), chat_id) for platform, chat_id in keys}))


class Chats:
    """Repository of chat settings. A chat without a row has the defaults (no quiet hours)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, platform: Platform, chat_id: str) -> ChatSettings:
        """The chat's settings (defaults when it has none stored)."""
        row = await self._db.fetchone(
            "SELECT * FROM chats WHERE platform = ? AND chat_id = ?", (str(platform), chat_id)
        )
        return ChatSettings(platform, chat_id) if row is None else _settings(row)

    async def set_quiet(self, platform: Platform, chat_id: str, quiet: QuietHours | None) -> None:
        """Set the chat's quiet hours, or clear them with None."""
        start, end = (None, None) if quiet is None else (quiet.start, quiet.end)
        tz = "UTC" if quiet is None else quiet.tz
        allow = True if quiet is None else quiet.allow_critical
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO chats (platform, chat_id, quiet_from, quiet_to, quiet_tz,"
                " quiet_allow_critical) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (platform, chat_id) DO UPDATE SET quiet_from = excluded.quiet_from,"
                " quiet_to = excluded.quiet_to, quiet_tz = excluded.quiet_tz,"
                " quiet_allow_critical = excluded.quiet_allow_critical",
                (str(platform), chat_id, start, end, tz, int(allow)),
            )

    async def block(
        self,
        platform: Platform,
        chat_id: str,
        reason: str,
        at: float,
        *,
        tx: Transaction | None = None,
    ) -> None:
        """Stop targeting the chat: the platform said the bot is blocked or the chat is gone."""
        async with self._db.joining(tx) as w:
            await w.execute(
                "INSERT INTO chats (platform, chat_id, blocked_at, blocked_reason)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (platform, chat_id) DO UPDATE SET"
                " blocked_at = excluded.blocked_at, blocked_reason = excluded.blocked_reason",
                (str(platform), chat_id, at, reason[:MAX_REASON_CHARS]),
            )

    async def unblock(self, platform: Platform, chat_id: str) -> bool:
        """Target the chat again (the user came back); False if it was not blocked."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE chats SET blocked_at = NULL, blocked_reason = NULL"
                " WHERE platform = ? AND chat_id = ? AND blocked_at IS NOT NULL",
                (str(platform), chat_id),
            )
        return changed == 1

    async def blocked(self, keys: Iterable[ChatKey]) -> dict[ChatKey, str]:
        """Which of these chats are blocked, each with its reason."""
        rows = await self._db.fetchall(
            "SELECT platform, chat_id, blocked_reason FROM chats WHERE blocked_at IS NOT NULL"
            " AND (platform, chat_id) IN"
            + (
                " (SELECT k ->> 0, k ->> 1 FROM jsonb_array_elements(?::jsonb) k)"
                if self._db.dialect == "postgres"
                else " (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]')"
                " FROM json_each(?))"
            ),
            (_keys_json(keys),),
        )
        return {
            (Platform(r["platform"]), str(r["chat_id"])): str(r["blocked_reason"] or "")
            for r in rows
        }
