"""Deribit API v2 over websocket (JSON-RPC) for the fake: the ``ticker`` channel.

Wire format (docs.deribit.com "public/subscribe", "ticker.{instrument_name}.{interval}",
"public/set_heartbeat", and the samples in ccxt.pro's ``deribit.handle_ticker``):

* ``wss://www.deribit.com/ws/api/v2``. Requests are ``{"jsonrpc": "2.0", "id": N, "method":
  …, "params": {…}}``; results come back as ``{"jsonrpc": "2.0", "id": N, "result": …,
  "usIn": …, "usOut": …, "usDiff": …, "testnet": false}``, errors with ``"error": {"message",
  "code"}`` instead.
* ``public/subscribe`` with ``{"channels": ["ticker.BTC-PERPETUAL.100ms"]}`` answers the list
  of channels it subscribed: one naming no instrument is left out silently; a ``raw``
  interval needs an authorised connection (error 13778). ``public/unsubscribe`` answers
  the channels it removed. ``public/hello``, ``public/test``, ``public/get_time`` and
  ``public/set_heartbeat`` are answered; any other method is ``-32601``.
* Each push is a notification ``{"jsonrpc": "2.0", "method": "subscription", "params":
  {"channel": …, "data": {…}}}`` with the whole ticker (numbers, not strings): ``mark_price``,
  ``index_price``, ``last_price``, best bid/ask, ``stats``; perpetuals add ``funding_8h`` and
  ``current_funding``, options ``mark_iv``, ``underlying_price`` and ``greeks``.

Not modelled: the heartbeat ``test_request`` messages after ``public/set_heartbeat`` (ccxt
never asks for them; ccxt's keepalive is the websocket ping, answered by the server).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.fakes.stream.base import Answer, Connection, Quote, Topic, markets

HOST = "www.deribit.com"
PATH = "/ws/api/v2"
INTERVALS = ("100ms", "agg2")
VERSION = "1.2.26"


def route(host: str, path: str) -> str | None:
    return "deribit" if host == HOST and path == PATH else None


def opened(conn: Connection) -> list[Topic]:
    return []


def _envelope(request_id: Any, now_ms: int, **body: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        **body,
        "usIn": now_ms * 1000,
        "usOut": now_ms * 1000 + 122,
        "usDiff": 122,
        "testnet": False,
    }


def _error(request_id: Any, now_ms: int, code: int, message: str) -> dict[str, Any]:
    return _envelope(request_id, now_ms, error={"message": message, "code": code})


def receive(conn: Connection, message: Any, now_ms: int) -> Answer:
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return Answer([_error(None, now_ms, 11050, "bad_request")])
    request_id, method = message.get("id"), message["method"]
    params = message.get("params") or {}
    channels = params.get("channels", []) if isinstance(params, dict) else []
    if method == "public/subscribe":
        if any(str(name).endswith(".raw") for name in channels):
            message_ = "raw_subscriptions_not_available_for_unauthorized"
            return Answer([_error(request_id, now_ms, 13778, message_)])
        topics = [topic for name in channels if (topic := _topic(name))]
        names = [topic.name for topic in topics]
        return Answer([_envelope(request_id, now_ms, result=names)], subscribed=topics)
    if method == "public/unsubscribe":
        gone = [name for name in channels if name in conn.topics]
        return Answer([_envelope(request_id, now_ms, result=gone)], unsubscribed=gone)
    if method in ("public/hello", "public/test"):
        result = {"version": VERSION}
        return Answer([_envelope(request_id, now_ms, result=result)], pong=method == "public/test")
    if method == "public/get_time":
        return Answer([_envelope(request_id, now_ms, result=now_ms)])
    if method in ("public/set_heartbeat", "public/disable_heartbeat"):
        return Answer([_envelope(request_id, now_ms, result="ok")])
    return Answer([_error(request_id, now_ms, -32601, "Method not found")])


def _topic(name: Any) -> Topic | None:
    parts = str(name).split(".")
    if len(parts) != 3 or parts[0] != "ticker" or parts[2] not in INTERVALS:
        return None
    if parts[1] not in markets("deribit").values():
        return None
    return Topic(str(name), "mark", frozenset({parts[1]}))


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
    data = _ticker(market_id, quotes[market_id], now_ms)
    params = {"channel": topic.name, "data": data}
    return [{"jsonrpc": "2.0", "method": "subscription", "params": params}]


def _ticker(market_id: str, quote: Quote, now_ms: int) -> dict[str, Any]:
    last = quote.last
    ticker: dict[str, Any] = {
        "timestamp": now_ms,
        "stats": {
            "volume_usd": 284061480.0,
            "volume": 7871.02139035,
            "price_change": 0.7229,
            "low": round(last * 0.967, 8),
            "high": round(last * 1.011, 8),
        },
        "state": "open",
        "settlement_price": round(quote.index * 0.999, 8),
        "open_interest": 502097590.0,
        "min_price": round(quote.mark * 0.985, 8),
        "max_price": round(quote.mark * 1.015, 8),
        "mark_price": quote.mark,
        "last_price": last,
        "instrument_name": market_id,
        "index_price": quote.index,
        "estimated_delivery_price": quote.index,
        "best_bid_price": round(last * 0.9999, 8),
        "best_bid_amount": 5000.0,
        "best_ask_price": last,
        "best_ask_amount": 100.0,
    }
    if market_id.endswith("-C") or market_id.endswith("-P"):
        return ticker | {
            "underlying_price": 62010.5,
            "underlying_index": "BTC-27JUN25",
            "interest_rate": 0.0,
            "mark_iv": 52.1,
            "bid_iv": 50.7,
            "ask_iv": 53.9,
            "greeks": {"delta": 0.1721, "gamma": 0.00002, "vega": 40.2, "theta": -28.1, "rho": 9.4},
        }
    return ticker | {
        "interest_value": 1.7362511643080387,
        "funding_8h": 0.0000211,
        "current_funding": 0.0,
    }
