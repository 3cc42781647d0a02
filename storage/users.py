"""Users and the chat identities (Telegram/Discord/console) they are reached through."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from engine.alerts.events import Notice
from engine.domain import ChatIdentity, Platform, User
from storage.db import Database, Transaction
from storage.errors import StorageError
from storage.outbox import NewMessage, Outbox


@dataclass(frozen=True)
class AttemptLimit:
    """At most ``failures`` wrong /connect codes per identity within ``window_s``."""

    failures: int
    window_s: float


class Outcome(StrEnum):
    """What a /connect code did."""

    JOINED = "joined"
    #: The identity already belonged to the code's user.
    ALREADY = "already"
    #: Unknown or expired: counted against the identity.
    WRONG = "wrong"
    #: Too many wrong codes lately: the code was not even looked at.
    LIMITED = "limited"
    #: The identity's present user still owns accounts (joining would orphan them).
    OWNS_ACCOUNTS = "owns_accounts"


@dataclass(frozen=True)
class Redeemed:
    outcome: Outcome
    #: JOINED / ALREADY: the user the identity now belongs to.
    user_id: int | None = None
    #: WRONG: wrong codes the identity may still send within the window.
    tries_left: int | None = None
    #: LIMITED: when the identity may try again.
    retry_at: float | None = None


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
        """Store a one-time /connect code for this user, as its hash only (their older codes
        are dropped)."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM connect_codes WHERE user_id = ?", (user_id,))
            await tx.execute(
                "INSERT INTO connect_codes (code_hash, user_id, expires_at) VALUES (?, ?, ?)",
                (code_hash(code), user_id, expires_at),
            )

    async def redeem(
        self,
        code: str,
        platform: Platform,
        external_id: str,
        *,
        now: float,
        limit: AttemptLimit,
        notice: Notice | None = None,
    ) -> Redeemed:
        """Move this identity to the code's user, in one transaction with everything it
        decides: the wrong-code count, the spent code, and ``notice`` queued to the user's
        other chats (so a join they did not make is noticed).

        An identity with ``limit.failures`` wrong codes inside ``limit.window_s`` is refused
        before the code is looked at. A right code whose use would orphan the identity's
        present accounts is kept (``OWNS_ACCOUNTS``): the owner may unlink them and retry.
        """
        hashed = code_hash(code)
        async with self._db.transaction() as tx:
            failures = await _recent_failures(tx, platform, external_id, now=now, limit=limit)
            if len(failures) >= limit.failures:
                # Once the oldest wrong codes leave the window, one more try is allowed.
                retry_at = failures[len(failures) - limit.failures] + limit.window_s
                return Redeemed(Outcome.LIMITED, retry_at=retry_at)
            row = await tx.fetchone(
                "SELECT user_id, expires_at FROM connect_codes WHERE code_hash = ?", (hashed,)
            )
            if row is None or float(row["expires_at"]) < now:
                await tx.execute(
                    "INSERT INTO connect_failures (platform, external_id, at) VALUES (?, ?, ?)",
                    (str(platform), external_id, now),
                )
                return Redeemed(Outcome.WRONG, tries_left=limit.failures - len(failures) - 1)
            target = int(row["user_id"])
            outcome = await _join(tx, target, platform, external_id, now=now)
            if outcome is not Outcome.OWNS_ACCOUNTS:
                await tx.execute("DELETE FROM connect_codes WHERE code_hash = ?", (hashed,))
            if outcome is Outcome.JOINED and notice is not None:
                await _tell_others(tx, target, platform, external_id, notice, now=now)
        return Redeemed(outcome, user_id=target)

    async def remove_identity(self, user_id: int, platform: Platform, external_id: str) -> bool:
        """Detach one identity from its user (False if the user has no such identity).

        Its chat stops being told the user's alerts, and the user's digests subscribed in
        that private chat go with it; the identity is a stranger again on its next message.
        """
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "DELETE FROM chat_identities WHERE user_id = ? AND platform = ? AND external_id = ?"
                " RETURNING chat_id",
                (user_id, str(platform), external_id),
            )
            if row is None:
                return False
            if row["chat_id"] is not None:
                await tx.execute(
                    "DELETE FROM digest_subscriptions"
                    " WHERE owner_id = ? AND platform = ? AND chat_id = ?",
                    (user_id, str(platform), str(row["chat_id"])),
                )
        return True


async def _recent_failures(
    tx: Transaction, platform: Platform, external_id: str, *, now: float, limit: AttemptLimit
) -> list[float]:
    """When the identity sent its wrong codes within the window, oldest first (older rows of
    every identity are deleted on the way: the table prunes itself)."""
    await tx.execute("DELETE FROM connect_failures WHERE at <= ?", (now - limit.window_s,))
    rows = await tx.fetchall(
        "SELECT at FROM connect_failures WHERE platform = ? AND external_id = ? ORDER BY at",
        (str(platform), external_id),
    )
    return [float(row["at"]) for row in rows]


async def _join(
    tx: Transaction, target: int, platform: Platform, external_id: str, *, now: float
) -> Outcome:
    """Point the identity at ``target``; its old user goes if nothing else is left of it."""
    current = await tx.fetchone(
        "SELECT user_id FROM chat_identities WHERE platform = ? AND external_id = ?",
        (str(platform), external_id),
    )
    if current is None:
        await tx.execute(
            "INSERT INTO chat_identities (platform, external_id, user_id, chat_id, created_at)"
            " VALUES (?, ?, ?, NULL, ?)",
            (str(platform), external_id, target, now),
        )
        return Outcome.JOINED
    old = int(current["user_id"])
    if old == target:
        return Outcome.ALREADY
    if await tx.fetchone("SELECT 1 FROM accounts WHERE owner_id = ?", (old,)) is not None:
        return Outcome.OWNS_ACCOUNTS
    await tx.execute(
        "UPDATE chat_identities SET user_id = ? WHERE platform = ? AND external_id = ?",
        (target, str(platform), external_id),
    )
    if await tx.fetchone("SELECT 1 FROM chat_identities WHERE user_id = ?", (old,)) is None:
        await tx.execute("DELETE FROM users WHERE id = ?", (old,))
    return Outcome.JOINED


async def _tell_others(
    tx: Transaction,
    user_id: int,
    platform: Platform,
    external_id: str,
    notice: Notice,
    *,
    now: float,
) -> None:
    """Queue ``notice`` to every private chat of the user but the joining identity's."""
    rows = await tx.fetchall(
        "SELECT platform, chat_id FROM chat_identities WHERE user_id = ? AND chat_id IS NOT NULL"
        " AND NOT (platform = ? AND external_id = ?)",
        (user_id, str(platform), external_id),
    )
    messages = [
        NewMessage(
            f"connect:{platform}:{external_id}:{now!r}:{row['platform']}:{row['chat_id']}",
            user_id,
            Platform(row["platform"]),
            str(row["chat_id"]),
            notice.severity,
            notice,
        )
        for row in rows
    ]
    await Outbox(tx.db).enqueue(messages, now=now, tx=tx)


def code_hash(code: str) -> str:
    """What is stored of a /connect code: its SHA-256. A code carries 80 random bits and
    lives ten minutes, so a plain hash cannot be reversed by guessing in that time."""
    return hashlib.sha256(code.encode()).hexdigest()
