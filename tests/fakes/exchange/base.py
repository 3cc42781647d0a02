"""Shared records of the fake exchange: requests, replies, accounts and the venue handler type."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

NOW_MS = 1717100000000


@dataclass(frozen=True)
class Request:
    """One request as the fake saw it; headers are kept raw so tests can grep them for secrets."""

    method: str
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    venue: str
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        """The body parsed as JSON (``{}`` when empty)."""
        return json.loads(self.body) if self.body else {}

    @property
    def url(self) -> str:
        """Host, path and query in one string, for grepping."""
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.host}{self.path}?{query}"


@dataclass(frozen=True)
class Reply:
    """What the fake answers: a JSON-able body (or raw text) with a status and headers."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None

    def text(self) -> str:
        return self.raw if self.raw is not None else json.dumps(self.body)


@dataclass
class Account:
    """One linked account (or tracked wallet) and its venue-specific position state."""

    venue: str
    key: str
    secret: str = ""
    passphrase: str | None = None
    positions: Any = ()
    permissions: dict[str, Any] = field(default_factory=dict)
    revoked: bool = False


#: Finds the live account of ``key`` on a venue family (``None`` if unknown).
Lookup = Callable[[str, str], Account | None]


class Venue(Protocol):
    """A venue module: its hosts, default positions, mark update and request handler."""

    HOSTS: dict[str, str]

    def default_positions(self, venue: str) -> Any: ...

    def markets(self, venue: str) -> dict[str, str]: ...

    def remark(self, venue: str, positions: Any, market_id: str, price: float) -> Any: ...

    def handle(self, request: Request, lookup: Lookup) -> Reply: ...


def not_found(request: Request) -> Reply:
    """A 404 in plain text, like a CDN answering an unknown path."""
    return Reply(None, status=404, raw=f"fake exchange: no route {request.method} {request.path}")


DAY_MS = 86_400_000
#: The daily candle the fake is "in": the last one served opens here.
TODAY_MS = NOW_MS // DAY_MS * DAY_MS


def daily_closes(market_id: str, count: int) -> list[float]:
    """``count`` deterministic daily closes of ``market_id``, oldest first (σ differs per
    market so a test can tell them apart)."""
    seed = sum(map(ord, market_id))
    level = 10.0 + seed % 97
    swing = 0.01 + (seed % 7) / 200.0
    return [round(level * (1.0 + swing * ((n * seed) % 11 - 5) / 5.0), 6) for n in range(count)]


def funding_rate(market_id: str) -> float:
    """A deterministic funding rate (fraction per interval) per market; some are negative."""
    seed = sum(map(ord, market_id))
    return round((seed % 13 - 5.5) * 0.00005, 8)


def candle_limit(request: Request, default: int, maximum: int = 1000) -> int:
    """The ``limit`` query parameter, bounded like the venues bound it."""
    try:
        return max(1, min(int(request.query.get("limit", default)), maximum))
    except ValueError:
        return default
