"""Binance USDⓈ-M and COIN-M market streams for the fake: the ``markPrice`` streams.

Wire format (developers.binance.com, "Mark Price Stream", "Live Subscribing/Unsubscribing to
streams", and the samples in ccxt.pro's ``binance.parse_ws_ticker``):

* USDⓈ-M market streams live under ``/market`` since the 2026 URL split
  (``wss://fstream.binance.com/market/ws``; the legacy ``/ws`` was retired on 2026-04-23 and is
  not served here); COIN-M keeps ``wss://dstream.binance.com/ws``. ccxt rewrites the linear
  URL to ``…/market/ws`` itself and appends a stream index (``/ws/0``): path segments after
  ``/ws/`` are stream names, and one that is none (``0``) is ignored. ``/stream?streams=a/b``
  (combined mode) wraps every event as ``{"stream": name, "data": event}``.
* ``{"method": "SUBSCRIBE"|"UNSUBSCRIBE", "params": [stream, …], "id": N}`` is answered
  ``{"result": null, "id": N}``; ``LIST_SUBSCRIPTIONS`` with the stream names. A stream name
  that is valid but not a mark stream, or names no market, is acknowledged and never pushed.
  Bad requests get ``{"code": 2|3, "msg": …, "id": N}``.
* ``<symbol>@markPrice`` (3 s) and ``<symbol>@markPrice@1s`` push one ``markPriceUpdate``
  (``p`` mark, ``i`` index, ``P`` estimated settle price, ``r`` funding rate, ``T`` next
  funding time, all strings but the times); USDⓈ-M ``!markPrice@arr[@1s]`` and COIN-M
  ``<pair>@markPrice[@1s]`` push an array of them. Symbols in stream names are lowercase. The
  venue pushes on its clock whether or not the mark moved; the fake pushes when a subscription
  starts, on ``set_mark`` and on ``tick``.
* More than 10 client frames (text, ping or pong) in a second drop the connection.

Not modelled: the server's ping frame every 3 minutes, the 24 h disconnect, the 1024-stream
limit, ``SET_PROPERTY``/``GET_PROPERTY``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tests.fakes.exchange.base import funding_rate
from tests.fakes.stream.base import Answer, Connection, Quote, Topic, markets

HOSTS = {"fstream.binance.com": "binanceusdm", "dstream.binance.com": "binancecoinm"}
#: Where each host serves its market streams.
ROOTS = {"fstream.binance.com": "/market", "dstream.binance.com": ""}
METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
#: Client frames allowed per connection per second.
MAX_FRAMES_PER_S = 10
FUNDING_PERIOD_MS = 8 * 3_600_000


def route(host: str, path: str) -> str | None:
    root = ROOTS.get(host)
    if root is None:
        return None
    if path in (f"{root}/ws", f"{root}/stream") or path.startswith(f"{root}/ws/"):
        return HOSTS[host]
    return None


def _combined(conn: Connection) -> bool:
    return conn.path.endswith("/stream")


def opened(conn: Connection) -> list[Topic]:
    if _combined(conn):
        names = conn.query.get("streams", "").split("/")
    else:
        names = conn.path.partition("/ws/")[2].split("/")
    return [topic for name in names if name and (topic := _topic(conn.venue, name))]


def _topic(venue: str, name: str) -> Topic | None:
    """The topic of stream ``name`` (``None`` when it is no stream name at all, like ccxt's
    stream index ``0``). Another stream, or one naming no market, streams nothing here."""
    if "@" not in name:
        return None
    base, _, channel = name.partition("@")
    if base == "!markPrice" and channel in ("arr", "arr@1s") and venue == "binanceusdm":
        return Topic(name, "mark", None)
    if channel not in ("markPrice", "markPrice@1s"):
        return Topic(name, "mark", frozenset())
    ids = markets(venue).values()
    exact = frozenset(i for i in ids if i.lower() == base)
    if exact or venue != "binancecoinm":
        return Topic(name, "mark", exact)
    pair = frozenset(i for i in ids if i.split("_")[0].lower() == base)
    return Topic(name, "mark", pair, echo="pair")


def _error(code: int, message: str, request_id: Any) -> dict[str, Any]:
    return {"code": code, "msg": message, "id": request_id}


def receive(conn: Connection, message: Any, now_ms: int) -> Answer:
    if _too_fast(conn):
        return Answer(drop=True)
    if not isinstance(message, dict):
        return Answer([_error(3, "Invalid JSON: expected value at line 1 column 1", None)])
    request_id = message.get("id")
    method = message.get("method")
    if method is None:
        return Answer([_error(2, "Invalid request: missing field `method`", request_id)])
    if method not in METHODS:
        expected = ", ".join(METHODS)
        unknown = f"Invalid request: unknown variant `{method}`, expected one of {expected}"
        return Answer([_error(2, unknown, request_id)])
    params = message.get("params", [])
    if method == "LIST_SUBSCRIPTIONS":
        return Answer([{"result": list(conn.topics), "id": request_id}])
    if method in ("SET_PROPERTY", "GET_PROPERTY"):
        return Answer([_error(0, "Unknown property", request_id)])
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        return Answer([_error(2, "Invalid request: params must be stream names", request_id)])
    reply = {"result": None, "id": request_id}
    if method == "UNSUBSCRIBE":
        return Answer([reply], unsubscribed=[name for name in params if name in conn.topics])
    topics = [topic for name in params if (topic := _topic(conn.venue, name))]
    fresh = [topic for topic in topics if topic.name not in conn.topics]
    return Answer([reply], subscribed=fresh)


def _too_fast(conn: Connection) -> bool:
    """Count one client frame; whether the connection went over Binance's limit."""
    now = time.monotonic()
    conn.arrivals = [t for t in conn.arrivals if now - t < 1.0] + [now]
    return len(conn.arrivals) > MAX_FRAMES_PER_S


def counted_frame(conn: Connection) -> bool:
    """A ping or pong frame counts against the limit too; whether it broke it."""
    return _too_fast(conn)


def push(
    conn: Connection,
    topic: Topic,
    quotes: Mapping[str, Quote],
    first: bool,
    now_ms: int,
) -> list[Any]:
    ids = sorted(quotes) if topic.market_ids is None else sorted(topic.market_ids)
    events = [_event(market_id, quotes[market_id], now_ms) for market_id in ids]
    if not events:
        return []
    whole = topic.market_ids is None or topic.echo == "pair"
    data: Any = events if whole else events[0]
    return [{"stream": topic.name, "data": data} if _combined(conn) else data]


def _event(market_id: str, quote: Quote, now_ms: int) -> dict[str, Any]:
    next_funding = (now_ms // FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS
    return {
        "e": "markPriceUpdate",
        "E": now_ms,
        "s": market_id,
        "p": f"{quote.mark:.8f}",
        "P": f"{quote.index:.8f}",
        "i": f"{quote.index:.8f}",
        "r": f"{funding_rate(market_id):.8f}",
        "T": next_funding,
    }
