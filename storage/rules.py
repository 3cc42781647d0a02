"""Alert rules: the owner's own, plus the defaults every new account is born with."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection

from engine.alerts.rules import Kind, Op, Rule, RuleSpec, Severity, default_specs
from storage.db import Database, Transaction

_SELECT = (
    "SELECT id, owner_id, account_id, kind, params_json, severity, enabled, created_at, is_default"
    " FROM alert_rules"
)


def _params(spec: RuleSpec) -> str:
    return json.dumps(
        {
            "op": spec.op.value,
            "threshold": spec.threshold,
            "clear": spec.clear,
            "symbols": list(spec.symbols),
            "for_polls": spec.for_polls,
            "for_s": spec.for_s,
        },
        allow_nan=False,
    )


def _rule(row: sqlite3.Row) -> Rule:
    params = json.loads(row["params_json"])
    spec = RuleSpec(
        kind=Kind(row["kind"]),
        op=Op(params["op"]),
        threshold=float(params["threshold"]),
        severity=Severity(row["severity"]),
        symbols=tuple(params.get("symbols", ())),
        clear=params.get("clear"),
        for_polls=int(params.get("for_polls", 1)),
        for_s=float(params.get("for_s", 0.0)),
    )
    return Rule(
        id=int(row["id"]),
        owner_id=int(row["owner_id"]),
        account_id=row["account_id"],
        spec=spec,
        enabled=bool(row["enabled"]),
        created_at=float(row["created_at"]),
        default=bool(row["is_default"]),
    )


class Rules:
    """Repository of alert rules; every user-facing call is scoped by the owner in SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(
        self,
        owner_id: int,
        account_id: int | None,
        spec: RuleSpec,
        *,
        now: float,
        default: bool = False,
        tx: Transaction | None = None,
    ) -> Rule:
        """Store a rule (the account must be the owner's)."""
        async with self._db.joining(tx) as write:
            return await _insert(write, owner_id, account_id, spec, now=now, default=default)

    async def insert_defaults(
        self, owner_id: int, account_id: int, *, now: float, tx: Transaction | None = None
    ) -> list[Rule]:
        """The rules that protect a new account before its owner configures anything."""
        async with self._db.joining(tx) as write:
            return [
                await _insert(write, owner_id, account_id, spec, now=now, default=True)
                for spec in default_specs()
            ]

    async def add(
        self, owner_id: int, account_id: int | None, spec: RuleSpec, *, now: float
    ) -> Rule:
        return await self.insert(owner_id, account_id, spec, now=now)

    async def list_for(self, owner_id: int) -> list[Rule]:
        rows = await self._db.fetchall(f"{_SELECT} WHERE owner_id = ? ORDER BY id", (owner_id,))
        return [_rule(r) for r in rows]

    async def in_scope(
        self, owner_id: int, account_id: int, *, tx: Transaction | None = None
    ) -> list[Rule]:
        """Every rule (enabled or not) that covers this account (read inside the poll)."""
        return (await self.in_scope_many([(owner_id, account_id)], tx=tx))[(owner_id, account_id)]

    async def in_scope_many(
        self, pairs: Collection[tuple[int, int]], *, tx: Transaction | None = None
    ) -> dict[tuple[int, int], list[Rule]]:
        """``in_scope`` of each (owner, account), in one read, each list by rule id."""
        # Only the owners' rules for every account and these accounts' own: a desk with 2,000
        # accounts has 8,000 default rules, and reading all of them in each poll was three
        # quarters of a worker's CPU.
        rows = await self._db.reads(tx).fetchall(
            f"{_SELECT} WHERE owner_id IN (SELECT value FROM json_each(?)) AND (account_id IS NULL"
            " OR account_id IN (SELECT value FROM json_each(?))) ORDER BY id",
            (
                json.dumps(sorted({owner for owner, _a in pairs})),
                json.dumps(sorted({account for _o, account in pairs})),
            ),
        )
        rules = [_rule(r) for r in rows]
        return {
            (owner, account): [
                r for r in rules if r.owner_id == owner and r.account_id in (None, account)
            ]
            for owner, account in pairs
        }

    async def remove(self, owner_id: int, rule_id: int) -> bool:
        async with self._db.transaction() as tx:
            return (
                await tx.execute(
                    "DELETE FROM alert_rules WHERE owner_id = ? AND id = ?", (owner_id, rule_id)
                )
                > 0
            )

    async def set_enabled(self, owner_id: int, rule_id: int, enabled: bool) -> bool:
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE alert_rules SET enabled = ? WHERE owner_id = ? AND id = ?",
                (int(enabled), owner_id, rule_id),
            )
        return changed > 0


async def _insert(
    tx: Transaction,
    owner_id: int,
    account_id: int | None,
    spec: RuleSpec,
    *,
    now: float,
    default: bool,
) -> Rule:
    rule_id = await tx.insert(
        "INSERT INTO alert_rules (owner_id, account_id, kind, params_json, severity,"
        " created_at, is_default) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            owner_id,
            account_id,
            spec.kind.value,
            _params(spec),
            spec.severity.value,
            now,
            int(default),
        ),
    )
    return Rule(rule_id, owner_id, account_id, spec, True, now, default)
