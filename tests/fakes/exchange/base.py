"""Shared records of the fake exchange: requests, replies, accounts and the venue handler type."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol

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
    #: The venue's marks moved by ``FakeExchange.set_mark``, by market id: its public mark
    #: endpoints serve them (and their own default for the other markets).
    marks: Mapping[str, float] = field(default_factory=dict)
    #: Open-time ranges [from, to) the venue's candle history lacks (``missing_candles``).
    missing_candles: tuple[tuple[int, int], ...] = ()

    def json(self) -> Any:
        """The body parsed as JSON (``{}`` when empty)."""
        return json.loads(self.body) if self.body else {}

    @property
    def url(self) -> str:
        """Host, path and query in one string, for grepping."""
        query = "&".join(f"{k}={v}" for k, v in self.query.items())
        return f"{self.host}{self.path}?{query}"

    @property
    def endpoint(self) -> str:
        """The path, and the ``type`` a JSON body names after a colon: Hyperliquid's one
        ``/info`` path serves every read by type ("/info:clearinghouseState")."""
        try:
            body = self.json()
        except ValueError:
            body = None
        kind = body.get("type") if isinstance(body, dict) else None
        return f"{self.path}:{kind}" if isinstance(kind, str) else self.path


@dataclass(frozen=True)
class Reply:
    """What the fake answers: a JSON-able body (or raw text) with a status and headers."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None

    def text(self) -> str:
        return self.raw if self.raw is not None else json.dumps(self.body)


#: "commission" is a trading fee (Binance's COMMISSION income; a Hyperliquid fill's ``fee``);
#: "transfer" money moved into (+) or out of (−) the account (Binance's TRANSFER income).
FlowKind = Literal["funding", "realised", "commission", "transfer"]
FLOW_KINDS: tuple[FlowKind, ...] = ("funding", "realised", "commission", "transfer")


@dataclass(frozen=True)
class Flow:
    """One realised-PnL, funding or commission cash flow of an account, from the trader's side."""

    kind: FlowKind
    symbol: str  # unified ccxt symbol, e.g. "BTC/USDT:USDT", "SOL/USDC:USDC", "BTC/USD:BTC"
    amount: float  # signed, in the market's settle currency: + received / profit, - paid / loss
    at_ms: int  # epoch milliseconds
    ref: str  # the venue's id of the flow: unique per account and kind

    @property
    def settle(self) -> str:
        """The currency the flow is paid in: the settle coin of its symbol ("USDT", "BTC")."""
        return self.symbol.rpartition(":")[2]


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
    flows: list[Flow] = field(default_factory=list)
    #: What the private balance endpoint answers (``None``: the venue's default); a callable
    #: gets the request, so the answer may follow its parameters (``served``).
    balance: Any = None
    #: The account's settings as the venue's account endpoint states them, over the fake's
    #: defaults: OKX account/config ``acctLv`` ("2", single-currency margin; "4" portfolio
    #: margin), Bybit v5/account/info ``marginMode`` ("REGULAR_MARGIN", "PORTFOLIO_MARGIN").
    settings: dict[str, Any] = field(default_factory=dict)

    def served(self, request: Request, default: Callable[[], Any]) -> Any:
        """The account's own ``balance`` for ``request``, else ``default()``."""
        if self.balance is None:
            return default()
        return self.balance(request) if callable(self.balance) else self.balance


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


def bounded(value: Any, default: int, maximum: int) -> int:
    """A page size from a request (``default`` when absent or not a number), kept in
    ``1..maximum`` like the venues keep it."""
    try:
        return default if value is None else max(1, min(int(value), maximum))
    except ValueError:
        return default


def decimal(value: float) -> str:
    """``value`` as the plain decimal string a venue sends ("-0.00001", never "-1e-05"); it
    parses back to exactly the same float."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite amount: {value!r}")
    return format(Decimal(repr(float(value) + 0.0)), "f")


def as_ms(value: Any) -> int | None:
    """A time bound from a query string or JSON body (``None`` when absent); ``ValueError`` if
    it is not an integer."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"not a time in milliseconds: {value!r}")
    return int(value)


def select_flows(
    flows: Iterable[Flow],
    kinds: Collection[str],
    symbols: Collection[str],
    start_ms: int | None,
    end_ms: int | None,
) -> list[Flow]:
    """The flows of ``kinds`` on ``symbols`` with ``start_ms <= at_ms <= end_ms`` (either bound
    may be ``None``), oldest first; flows at the same millisecond keep the order they were added."""
    chosen = [
        flow
        for flow in flows
        if flow.kind in kinds
        and flow.symbol in symbols
        and (start_ms is None or flow.at_ms >= start_ms)
        and (end_ms is None or flow.at_ms <= end_ms)
    ]
    return sorted(chosen, key=lambda flow: flow.at_ms)


def ref_number(ref: str) -> int | None:
    """``ref`` as an integer when it is one written plainly ("9000000001", not "007")."""
    if ref.isascii() and ref.isdigit() and str(int(ref)) == ref:
        return int(ref)
    return None


def numeric_id(ref: str) -> int:
    """An integer id for ``ref``: the number itself when ``ref`` is one (so ccxt's parsed id
    equals ``ref``), else a stable 63-bit hash of it."""
    number = ref_number(ref)
    if number is not None:
        return number
    return int.from_bytes(hashlib.sha256(ref.encode()).digest()[:8], "big") >> 1
