"""The repositories' SQL (written for SQLite) as PostgreSQL runs it: only where the dialects
truly differ (docs/storage.md).

* placeholders: ``?`` and ``:name`` become ``$1…$n`` (outside quoted strings and ``::`` casts);
* ``INSERT OR IGNORE`` becomes ``INSERT … ON CONFLICT DO NOTHING``;
* ``x IN (SELECT value FROM json_each(?))`` (a JSON array bound as one text parameter, SQLite's
  way of binding a list) becomes ``x = ANY($n)`` with the array decoded into a Python list;
* ``json_extract(col, '$.a')`` becomes ``(col::jsonb ->> 'a')``;
* SQLite's two-argument scalar ``MIN(a, b)``/``MAX(a, b)`` are written ``LEAST``/``GREATEST``
  in the repositories (SQLite gets those as functions, ``storage/db.py``), so nothing here.

A statement is translated once and cached; each call only reorders and decodes parameters.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storage.errors import StorageError

_TOKENS = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|::|\?|:[A-Za-z_][A-Za-z0-9_]*")
_ANY = re.compile(
    r"\bIN\s*\(\s*SELECT\s+value\s+FROM\s+json_each\(\s*\$(\d+)\s*\)\s*\)", re.IGNORECASE
)
_JSON_EXTRACT = re.compile(
    r"json_extract\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*,\s*'\$\.([A-Za-z_]+)'\s*\)"
)
_OR_IGNORE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    """One translated statement: its SQL, where each ``$k`` comes from, which are JSON arrays."""

    sql: str
    #: ``$k`` (k = index + 1) is the caller's parameter at this position or name.
    sources: tuple[int | str, ...]
    #: Indexes (into ``sources``) bound as a JSON array text: decoded into a list.
    arrays: frozenset[int]

    def args(self, params: Sequence[Any] | Mapping[str, Any]) -> list[Any]:
        if isinstance(params, Mapping):
            values = [params[s] for s in self.sources if isinstance(s, str)]
        else:
            values = [params[s] for s in self.sources if isinstance(s, int)]
        if len(values) != len(self.sources):
            raise StorageError("a statement's parameters mix names and positions")
        for i in self.arrays:
            values[i] = json.loads(values[i]) if isinstance(values[i], str) else list(values[i])
        return values


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> Statement:
    """``sql`` as PostgreSQL runs it (see the module's list)."""
    sources: list[int | str] = []
    named: dict[str, int] = {}

    def placeholder(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith(("'", '"')) or token == "::":
            return token
        if token == "?":
            sources.append(len(sources))
            return f"${len(sources)}"
        name = token[1:]
        if name not in named:
            sources.append(name)
            named[name] = len(sources)
        return f"${named[name]}"

    out = _TOKENS.sub(placeholder, sql)
    arrays = frozenset(int(m.group(1)) - 1 for m in _ANY.finditer(out))
    out = _ANY.sub(lambda m: f"= ANY(${m.group(1)})", out)
    out = _JSON_EXTRACT.sub(lambda m: f"(({m.group(1)})::jsonb ->> '{m.group(2)}')", out)
    if _OR_IGNORE.search(out):
        out = _OR_IGNORE.sub("INSERT INTO", out).rstrip().rstrip(";")
        returning = _RETURNING.search(out)
        if returning is None:
            out += " ON CONFLICT DO NOTHING"
        else:
            at = returning.start()
            out = f"{out[:at]}ON CONFLICT DO NOTHING {out[at:]}"
    return Statement(out, tuple(sources), arrays)


def rowcount(status: str) -> int:
    """Rows changed, from asyncpg's command tag ("INSERT 0 3", "UPDATE 2", "DELETE 0")."""
    last = status.rsplit(" ", 1)[-1] if status else ""
    return int(last) if last.isdigit() else 0
