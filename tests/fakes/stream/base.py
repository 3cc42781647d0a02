"""Shared records of the fake stream: quotes, connections, topics and a venue protocol's answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aiohttp import web

from tests.fakes.exchange.base import decimal
from tests.fakes.exchange.server import VENUE_MODULES

#: What a topic streams: a market's mark (with the ticker fields around it), Hyperliquid's
#: mids of every coin, Hyperliquid's public trades of a coin, or an account's positions.
Kind = Literal["mark", "mids", "trades", "positions"]
#: Every venue the fake streams, as ccxt names them.
VENUES = ("binanceusdm", "binancecoinm", "bybit", "okx", "deribit", "hyperliquid")

#: A new mark moves the index and the last price by these factors unless a test gives them, so
#: the three always differ (code that reads the last price or the mid as the mark fails).
INDEX_FACTOR = 0.9998
LAST_FACTOR = 1.0003
#: The mark of every market before a test sets one (the REST fake's default positions use
#: these marks, bar Binance's SOL at 142): by base coin, the Deribit option apart (in BTC).
DEFAULT_MARKS = {
    "BTC": 62000.0,
    "ETH": 3100.0,
    "SOL": 145.0,
    "XRP": 0.52,
    "ATOM": 8.5,
    "MATIC": 0.7,
    "DYDX": 2.0,
}
OPTION_MARK = 0.045


@dataclass(frozen=True)
class Quote:
    """One market's prices: the mark, the index it tracks and the last trade (Hyperliquid's
    mid). ``at`` is when the mark last moved, in clock seconds."""

    mark: float
    index: float
    last: float
    at: float

    @classmethod
    def around(
        cls, mark: float, at: float, index: float | None = None, last: float | None = None
    ) -> Quote:
        """A quote at ``mark``; the index and last price follow it unless given."""
        return cls(
            mark,
            round(mark * INDEX_FACTOR, 8) if index is None else index,
            round(mark * LAST_FACTOR, 8) if last is None else last,
            at,
        )


def default_mark(symbol: str) -> float:
    """The starting mark of unified ``symbol``: by base coin (an option's premium apart)."""
    if symbol.count("-") >= 3:
        return OPTION_MARK
    return DEFAULT_MARKS.get(symbol.split("/")[0], 10.0)


def markets(venue: str) -> dict[str, str]:
    """Unified symbol → market id of ``venue``, exactly the REST fake's markets."""
    table: dict[str, str] = VENUE_MODULES[venue].markets(venue)
    return table


def symbols(venue: str) -> dict[str, str]:
    """Market id → unified symbol of ``venue``."""
    return {market_id: symbol for symbol, market_id in markets(venue).items()}


def text(value: float) -> str:
    """``value`` as the plain decimal string most venues send ("62000.5", never "6.2e4")."""
    return decimal(value)


@dataclass(frozen=True)
class Topic:
    """One subscription of one connection, by the venue's own name for it.

    ``market_ids`` are the markets it streams (``None``: every market of the venue, like
    Binance's ``!markPrice@arr`` or Hyperliquid's ``allMids``); ``echo`` is what the venue
    repeats in each push (OKX's ``arg``, Binance's stream name in combined mode)."""

    name: str
    kind: Kind
    market_ids: frozenset[str] | None
    echo: Any = None

    def covers(self, market_id: str) -> bool:
        return self.market_ids is None or market_id in self.market_ids


@dataclass
class Answer:
    """What a venue does with one client frame: ``frames`` to send back (JSON-able values or
    raw text), topics ``subscribed`` (each then gets its first push) and ``unsubscribed`` (by
    name); ``pong`` when the frames answer a ping (they are still sent while the venue is
    silenced, unless its pongs are off too); ``drop`` closes the connection after sending."""

    frames: list[Any] = field(default_factory=list)
    subscribed: list[Topic] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    pong: bool = False
    drop: bool = False


@dataclass(eq=False)
class Connection:
    """One client socket: where it connected, what it subscribed and what it sent."""

    number: int
    venue: str
    host: str
    path: str
    query: Mapping[str, str]
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    #: The venue's id of the connection (Bybit's ``conn_id``, OKX's ``connId``).
    conn_id: str
    topics: dict[str, Topic] = field(default_factory=dict)
    #: Every client frame, parsed (JSON) or raw text (OKX's ``ping``), in order.
    received: list[Any] = field(default_factory=list)
    #: Venue state per connection, e.g. the ticker fields Bybit last sent per topic.
    state: dict[str, Any] = field(default_factory=dict)
    #: Monotonic times of the client's recent frames (Binance's 10-per-second limit).
    arrivals: list[float] = field(default_factory=list)
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)


class Venue(Protocol):
    """A venue module: where it listens, how it answers and what it pushes."""

    def route(self, host: str, path: str) -> str | None:
        """The venue served at ``host`` + ``path`` (``None``: no such endpoint, 404)."""
        ...

    def opened(self, conn: Connection) -> list[Topic]:
        """Topics the connection's URL subscribes (Binance's ``/ws/<stream>``)."""
        ...

    def receive(self, conn: Connection, message: Any, now_ms: int) -> Answer:
        """The venue's answer to one client frame (parsed JSON, or text that is not JSON)."""
        ...

    def push(
        self,
        conn: Connection,
        topic: Topic,
        quotes: Mapping[str, Quote],
        first: bool,
        now_ms: int,
    ) -> list[Any]:
        """Frames for ``topic`` now: its ``first`` push after subscribing, or an update (a
        moved mark, or the venue's periodic push); ``quotes`` are the venue's, by market id."""
        ...


def dumps(frame: Any) -> str:
    """A frame as the venues put it on the wire: compact JSON (text frames pass as they are)."""
    return frame if isinstance(frame, str) else json.dumps(frame, separators=(",", ":"))
