"""Alert episodes, their decision log, silences and the chats an owner is reached in."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence

from engine.alerts.evaluate import Decision, Evaluation
from engine.alerts.events import AlertStatus, Reason
from engine.alerts.policy import Silence
from engine.alerts.quiet import ChatSettings, QuietHours
from engine.alerts.state import Alert
from engine.domain import Platform
from storage.db import Database, Transaction

_FIELDS = (
    "id", "rule_id", "account_id", "key", "status", "since", "polls", "value", "worst",
    "fired_at", "resolved_at", "notified_value", "last_notified_at", "acked_at",
    "snoozed_until", "reason", "reason_at",
)  # fmt: skip
_SELECT = f"SELECT {', '.join('al.' + f for f in _FIELDS)} FROM alerts al"
_LIVE = "al.status IN ('pending', 'firing')"
#: A chat's delivery settings, as ``chat_settings`` reads them.
_CHAT = (
    "c.quiet_from, c.quiet_to, c.quiet_tz, c.quiet_allow_critical, c.blocked_at, c.blocked_reason"
)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _alert(row: sqlite3.Row) -> Alert:
    return Alert(
        id=int(row["id"]),
        rule_id=int(row["rule_id"]),
        account_id=int(row["account_id"]),
        key=str(row["key"]),
        status=AlertStatus(row["status"]),
        since=float(row["since"]),
        polls=int(row["polls"]),
        value=_nan(row["value"]),
        worst=_nan(row["worst"]),
        fired_at=row["fired_at"],
        resolved_at=row["resolved_at"],
        notified_value=row["notified_value"],
        last_notified_at=row["last_notified_at"],
        acked_at=row["acked_at"],
        snoozed_until=row["snoozed_until"],
        reason=Reason(row["reason"]) if row["reason"] else None,
        reason_at=row["reason_at"],
    )


def _grouped(rows: Sequence[sqlite3.Row]) -> dict[int, list[sqlite3.Row]]:
    """Rows by their ``whose`` column, each group in the rows' order."""
    out: dict[int, list[sqlite3.Row]] = {}
    for row in rows:
        out.setdefault(int(row["whose"]), []).append(row)
    return out


def _row(alert: Alert) -> tuple[object, ...]:
    values = [getattr(alert, f) for f in _FIELDS]
    return tuple(
        None
        if isinstance(v, float) and v != v
        else (v.value if isinstance(v, Reason | AlertStatus) else v)
        for v in values
    )


class Alerts:
    """Repository of alert episodes. Owner-scoped reads join through the account's owner."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # --- the poll's transaction (pass it as ``tx``) -------------------------------------------
    async def live(self, account_id: int, *, tx: Transaction | None = None) -> list[Alert]:
        return (await self.live_many([account_id], tx=tx))[account_id]

    async def live_many(
        self, account_ids: Collection[int], *, tx: Transaction | None = None
    ) -> dict[int, list[Alert]]:
        """Each account's live episodes, in one read (a tick batch's accounts)."""
        rows = await self._db.reads(tx).fetchall(
            f"{_SELECT} WHERE al.account_id IN (SELECT value FROM json_each(?)) AND {_LIVE}"
            " ORDER BY al.id",
            (json.dumps(sorted(set(account_ids))),),
        )
        out: dict[int, list[Alert]] = {a: [] for a in account_ids}
        for row in rows:
            out[int(row["account_id"])].append(_alert(row))
        return out

    async def next_id(self, *, tx: Transaction | None = None) -> int:
        """Ids for new episodes; safe inside BEGIN IMMEDIATE (no other writer)."""
        row = await self._db.reads(tx).fetchone("SELECT coalesce(max(id), 0) + 1 FROM alerts")
        assert row is not None
        return int(row[0])

    async def apply(self, evaluation: Evaluation, *, tx: Transaction | None = None) -> None:
        """Write back one evaluation: drops, upserts, then the decision log."""
        async with self._db.joining(tx) as write:
            if evaluation.dropped:
                await write.executemany(
                    "DELETE FROM alerts WHERE id = ?", [(i,) for i in evaluation.dropped]
                )
            updates = ", ".join(f"{f} = excluded.{f}" for f in _FIELDS[1:])
            await write.executemany(
                f"INSERT INTO alerts ({', '.join(_FIELDS)})"
                f" VALUES ({', '.join('?' * len(_FIELDS))})"
                f" ON CONFLICT(id) DO UPDATE SET {updates}",
                [_row(a) for a in evaluation.alerts],
            )
            await self.log(evaluation.decisions, tx=write)

    async def log(self, decisions: Sequence[Decision], *, tx: Transaction | None = None) -> None:
        async with self._db.joining(tx) as write:
            await write.executemany(
                "INSERT INTO alert_decisions (alert_id, at, reason, detail) VALUES (?, ?, ?, ?)",
                [(d.alert_id, d.at, d.reason.value, d.detail) for d in decisions],
            )

    async def silences(
        self, owner_id: int, at: float, *, tx: Transaction | None = None
    ) -> list[Silence]:
        """The owner's silences still in force at ``at``, oldest first."""
        return (await self.silences_many([owner_id], at, tx=tx))[owner_id]

    async def silences_many(
        self, owner_ids: Collection[int], at: float, *, tx: Transaction | None = None
    ) -> dict[int, list[Silence]]:
        """Each owner's silences still in force at ``at``, oldest first, in one read."""
        rows = await self._db.reads(tx).fetchall(
            "SELECT id, owner_id, matchers_json, starts_at, ends_at FROM silences"
            " WHERE owner_id IN (SELECT value FROM json_each(?)) AND ends_at > ? ORDER BY id",
            (json.dumps(sorted(set(owner_ids))), at),
        )
        out: dict[int, list[Silence]] = {o: [] for o in owner_ids}
        for row in rows:
            out[int(row["owner_id"])].append(_silence(row))
        return out

    async def recipients(
        self, owner_id: int, account_id: int | None = None, *, tx: Transaction | None = None
    ) -> list[ChatSettings]:
        """Who hears about the owner's account: the owner's private chats on every platform,
        then the groups the account is shared with (in the topic it was shared from), with
        quiet hours and blocked state."""
        return (await self.recipients_many([(owner_id, account_id)], tx=tx))[(owner_id, account_id)]

    async def recipients_many(
        self, pairs: Collection[tuple[int, int | None]], *, tx: Transaction | None = None
    ) -> dict[tuple[int, int | None], list[ChatSettings]]:
        """``recipients`` of each (owner, account), in two reads for all of them."""
        reads = self._db.reads(tx)
        owners = sorted({owner for owner, _a in pairs})
        accounts = sorted({a for _o, a in pairs if a is not None})
        private = await reads.fetchall(
            f"SELECT ci.user_id AS whose, ci.platform, ci.chat_id, {_CHAT}"
            " FROM chat_identities ci LEFT JOIN chats c"
            " ON c.platform = ci.platform AND c.chat_id = ci.chat_id"
            " WHERE ci.user_id IN (SELECT value FROM json_each(?)) AND ci.chat_id IS NOT NULL",
            (json.dumps(owners),),
        )
        shared = await reads.fetchall(
            f"SELECT s.account_id AS whose, s.platform, s.target AS chat_id, {_CHAT}"
            " FROM (SELECT account_id, platform, CASE WHEN thread_id IS NULL THEN chat_id"
            " ELSE chat_id || '#' || thread_id END AS target FROM shares"
            " WHERE account_id IN (SELECT value FROM json_each(?))) s"
            " LEFT JOIN chats c ON c.platform = s.platform AND c.chat_id = s.target",
            (json.dumps(accounts),),
        )
        by_owner = _grouped(private)
        by_account = _grouped(shared)
        out: dict[tuple[int, int | None], list[ChatSettings]] = {}
        for owner, account in pairs:
            rows = by_owner.get(owner, []) + (
                [] if account is None else by_account.get(account, [])
            )
            unique = {(r["platform"], r["chat_id"]): r for r in rows}
            out[(owner, account)] = [chat_settings(r) for r in unique.values()]
        return out

    # --- owner-scoped ------------------------------------------------------------------------
    async def get(self, owner_id: int, alert_id: int) -> Alert | None:
        row = await self._db.fetchone(
            f"{_SELECT} JOIN accounts a ON a.id = al.account_id WHERE a.owner_id = ? AND al.id = ?",
            (owner_id, alert_id),
        )
        return _alert(row) if row else None

    async def live_for(self, owner_id: int) -> list[Alert]:
        rows = await self._db.fetchall(
            f"{_SELECT} JOIN accounts a ON a.id = al.account_id"
            f" WHERE a.owner_id = ? AND {_LIVE} ORDER BY al.id",
            (owner_id,),
        )
        return [_alert(r) for r in rows]

    async def fired_since(
        self, account_ids: Sequence[int], since: float
    ) -> list[tuple[float, float | None]]:
        """(fired at, acknowledged at or None) of every alert of these accounts that fired
        at or after ``since`` (system: for a digest of accounts the reader may see)."""
        if not account_ids:
            return []
        rows = await self._db.fetchall(
            "SELECT fired_at, acked_at FROM alerts"
            " WHERE account_id IN (SELECT value FROM json_each(?)) AND fired_at >= ?",
            (json.dumps(list(account_ids)), since),
        )
        return [
            (float(r["fired_at"]), None if r["acked_at"] is None else float(r["acked_at"]))
            for r in rows
        ]

    async def decisions(self, alert_id: int, *, limit: int = 5) -> list[Decision]:
        """The latest decisions about one alert, oldest first (call after an owner check)."""
        rows = await self._db.fetchall(
            "SELECT alert_id, at, reason, detail FROM alert_decisions WHERE alert_id = ?"
            " ORDER BY id DESC LIMIT ?",
            (alert_id, limit),
        )
        return [
            Decision(int(r["alert_id"]), float(r["at"]), Reason(r["reason"]), str(r["detail"]))
            for r in reversed(rows)
        ]

    async def acknowledge(self, owner_id: int, alert_ids: Sequence[int], at: float) -> list[int]:
        """Mark live alerts acknowledged; the ids that changed."""
        return await self._update_live(owner_id, alert_ids, "acked_at = coalesce(acked_at, ?)", at)

    async def snooze(self, owner_id: int, alert_ids: Sequence[int], until: float) -> list[int]:
        return await self._update_live(owner_id, alert_ids, "snoozed_until = ?", until)

    async def _update_live(
        self, owner_id: int, alert_ids: Sequence[int], assignment: str, value: float
    ) -> list[int]:
        changed: list[int] = []
        async with self._db.transaction() as tx:
            for alert_id in alert_ids:
                count = await tx.execute(
                    f"UPDATE alerts SET {assignment} WHERE id = ?"
                    " AND status IN ('pending', 'firing')"
                    " AND account_id IN (SELECT id FROM accounts WHERE owner_id = ?)",
                    (value, alert_id, owner_id),
                )
                if count:
                    changed.append(alert_id)
        return changed

    async def add_silence(
        self, owner_id: int, matchers: dict[str, str], *, starts_at: float, ends_at: float
    ) -> Silence:
        async with self._db.transaction() as tx:
            silence_id = await tx.insert(
                "INSERT INTO silences (owner_id, matchers_json, starts_at, ends_at, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (owner_id, json.dumps(matchers, sort_keys=True), starts_at, ends_at, starts_at),
            )
        return Silence(silence_id, owner_id, dict(matchers), starts_at, ends_at)

    async def expire_silence(self, owner_id: int, silence_id: int, at: float) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE silences SET ends_at = max(starts_at + 0.001, ?)"
                " WHERE owner_id = ? AND id = ? AND ends_at > ?",
                (at, owner_id, silence_id, at),
            )
        return changed > 0


def _silence(row: sqlite3.Row) -> Silence:
    return Silence(
        int(row["id"]),
        int(row["owner_id"]),
        dict(json.loads(row["matchers_json"])),
        float(row["starts_at"]),
        float(row["ends_at"]),
    )


def chat_settings(row: sqlite3.Row) -> ChatSettings:
    """A ``chats`` row (possibly all NULL from a LEFT JOIN) as ChatSettings."""
    quiet = None
    if row["quiet_from"] and row["quiet_to"]:
        quiet = QuietHours(
            row["quiet_from"],
            row["quiet_to"],
            row["quiet_tz"] or "UTC",
            bool(row["quiet_allow_critical"] if row["quiet_allow_critical"] is not None else 1),
        )
    return ChatSettings(
        Platform(row["platform"]),
        str(row["chat_id"]),
        quiet,
        row["blocked_at"],
        row["blocked_reason"],
    )
