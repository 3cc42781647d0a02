"""Bybit v5 public streams (linear and inverse) for the fake: the ``tickers`` topic.

Wire format (bybit-exchange.github.io/docs/v5/ws/connect and v5/websocket/public/ticker, and
the samples in ccxt.pro's ``bybit.handle_ticker``/``handle_pong``/``handle_un_subscribe``):

* ``wss://stream.bybit.com/v5/public/linear`` serves USDT/USDC contracts, ``…/inverse`` the
  inverse ones; a topic of the other category is refused like an unknown symbol.
* ``{"op": "subscribe", "req_id": …, "args": ["tickers.BTCUSDT"]}`` is answered
  ``{"success": true, "ret_msg": "subscribe", "conn_id": …, "req_id": "<as sent>", "op":
  "subscribe"}`` (``req_id`` comes back as a string); a topic already subscribed on the
  connection or an unknown symbol fails the whole request with ``"success": false``.
  ``unsubscribe`` likewise (``"ret_msg": ""``).
* The first push of a topic is ``"type": "snapshot"`` with every ticker field (strings);
  later ones are ``"type": "delta"`` with the symbol and only the fields that changed (a
  repeated mark sends nothing). Each carries ``cs`` (a cross sequence) and ``ts``.
* ``{"op": "ping", "req_id": …}`` is answered ``{"success": true, "ret_msg": "pong",
  "conn_id": …, "req_id": …, "op": "ping"}``.

Not modelled: the 10-minute idle disconnect, the 100 ms push cadence, the per-request
topic limits.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from tests.fakes.exchange.base import funding_rate
from tests.fakes.stream.base import (
    Answer,
    Connection,
    Quote,
    Topic,
    default_mark,
    markets,
    symbols,
    text,
)

HOST = "stream.bybit.com"
PATHS = {"/v5/public/linear": "linear", "/v5/public/inverse": "inverse"}
FUNDING_PERIOD_MS = 8 * 3_600_000
_SEQUENCE = itertools.count(24987956059)


def route(host: str, path: str) -> str | None:
    return "bybit" if host == HOST and path in PATHS else None


def opened(conn: Connection) -> list[Topic]:
    return []


def _category(market_id: str) -> str:
    return "inverse" if market_id.endswith("USD") else "linear"


def _ids(conn: Connection) -> set[str]:
    """The market ids this connection's endpoint serves."""
    category = PATHS[conn.path]
    return {i for i in markets("bybit").values() if _category(i) == category}


def _reply(conn: Connection, message: dict[str, Any], success: bool, ret_msg: str) -> Any:
    req_id = message.get("req_id")
    return {
        "success": success,
        "ret_msg": ret_msg,
        "conn_id": conn.conn_id,
        "req_id": "" if req_id is None else str(req_id),
        "op": message.get("op"),
    }


def receive(conn: Connection, message: Any, now_ms: int) -> Answer:
    if not isinstance(message, dict):
        return Answer([{"success": False, "ret_msg": "error:invalid op", "conn_id": conn.conn_id}])
    op = message.get("op")
    if op == "ping":
        return Answer([_reply(conn, message, True, "pong")], pong=True)
    args = message.get("args")
    if op not in ("subscribe", "unsubscribe") or not isinstance(args, list):
        return Answer([_reply(conn, message, False, "error:invalid op")])
    if op == "unsubscribe":
        gone = [name for name in args if name in conn.topics]
        return Answer([_reply(conn, message, True, "")], unsubscribed=gone)
    topics: list[Topic] = []
    for name in args:
        refusal = _refusal(conn, name)
        if refusal:
            return Answer([_reply(conn, message, False, refusal)])
        topics.append(Topic(name, "mark", frozenset({name.partition(".")[2]})))
    return Answer([_reply(conn, message, True, "subscribe")], subscribed=topics)


def _refusal(conn: Connection, name: Any) -> str:
    """Why Bybit refuses to subscribe ``name`` here ("" when it accepts)."""
    if not isinstance(name, str) or "." not in name:
        return f"error:handler not found,topic:{name}"
    if name in conn.topics:
        return f"error:already subscribed,topic:{name}"
    channel, _, market_id = name.partition(".")
    if channel != "tickers" or market_id not in _ids(conn):
        return f"Invalid symbol :[{name}]"
    return ""


def push(
    conn: Connection,
    topic: Topic,
    quotes: Mapping[str, Quote],
    first: bool,
    now_ms: int,
) -> list[Any]:
    (market_id,) = topic.market_ids or (None,)
    if market_id is None:
        return []
    fields = _ticker(market_id, quotes[market_id], now_ms)
    sent: dict[str, str] = conn.state.setdefault("sent", {}).get(topic.name, {})
    conn.state["sent"][topic.name] = fields
    if first or not sent:
        kind, data = "snapshot", fields
    else:
        delta = {k: v for k, v in fields.items() if sent.get(k) != v}
        if not delta:
            return []
        kind, data = "delta", {"symbol": market_id, **delta}
    return [{"topic": topic.name, "type": kind, "data": data, "cs": next(_SEQUENCE), "ts": now_ms}]


def _ticker(market_id: str, quote: Quote, now_ms: int) -> dict[str, str]:
    """Every field of a linear/inverse ticker, as strings (the order of Bybit's sample)."""
    last = quote.last
    day = default_mark(symbols("bybit")[market_id])  # the 24 h figures stay put
    inverse = _category(market_id) == "inverse"
    interest = 373504107.0 if inverse else 68744.761
    next_funding = (now_ms // FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS
    return {
        "symbol": market_id,
        "tickDirection": "PlusTick",
        "price24hPcnt": text(round(last / day - 1, 6)),
        "lastPrice": text(last),
        "prevPrice24h": text(day),
        "highPrice24h": text(round(day * 1.021, 8)),
        "lowPrice24h": text(round(day * 0.982, 8)),
        "prevPrice1h": text(round(day * 1.001, 8)),
        "markPrice": text(quote.mark),
        "indexPrice": text(quote.index),
        "openInterest": text(interest),
        "openInterestValue": text(
            round(interest / quote.mark if inverse else interest * quote.mark, 2)
        ),
        "turnover24h": "1570383121.943499",
        "volume24h": "91705.276",
        "nextFundingTime": str(next_funding),
        "fundingRate": text(funding_rate(market_id)),
        "bid1Price": text(round(last * 0.99995, 8)),
        "bid1Size": "84.489",
        "ask1Price": text(last),
        "ask1Size": "83.020",
    }
