"""OKX v5 public stream for the fake: the ``mark-price`` channel.

Wire format (okx.com/docs-v5 "WebSocket mark price channel", "Connect", and the samples in
ccxt.pro's ``okx.handle_message``/``handle_unsubscription``):

* ``wss://ws.okx.com:8443/ws/v5/public`` (ccxt dials ``ws.okx.com:443``: both are served).
* ``{"op": "subscribe", "args": [{"channel": "mark-price", "instId": "BTC-USDT-SWAP"}]}``
  is answered per argument ``{"event": "subscribe", "arg": {…}, "connId": …}``, then the
  channel pushes ``{"arg": {…}, "data": [{"instType": "SWAP", "instId": …, "markPx": "…",
  "ts": "…"}]}`` (every value a string). The venue pushes every 200 ms while the mark moves
  and every 10 s when it does not; the fake pushes when a subscription starts, on
  ``set_mark`` and on ``tick``.
* An unknown channel or instrument is ``{"event": "error", "code": "60018", "msg": …,
  "connId": …}``; a frame that is no request, ``60012`` ("Illegal request").
  ``unsubscribe`` is answered ``{"event": "unsubscribe", "arg": {…}, "connId": …}``.
* The text frame ``ping`` is answered with the text ``pong``.

Not modelled: the 30 s disconnect of a connection that neither subscribes nor gets data, the
subscription rate limits, the optional request ``id``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tests.fakes.stream.base import Answer, Connection, Quote, Topic, markets, text

HOSTS = ("ws.okx.com:8443", "ws.okx.com:443", "ws.okx.com")
PATH = "/ws/v5/public"
CHANNELS = ("mark-price",)


def route(host: str, path: str) -> str | None:
    return "okx" if host in HOSTS and path == PATH else None


def opened(conn: Connection) -> list[Topic]:
    return []


def _name(arg: dict[str, Any]) -> str:
    return f"{arg.get('channel')}:{arg.get('instId')}"


def receive(conn: Connection, message: Any, now_ms: int) -> Answer:
    if message == "ping":
        return Answer(["pong"], pong=True)
    op = message.get("op") if isinstance(message, dict) else None
    args = message.get("args") if isinstance(message, dict) else None
    if op not in ("subscribe", "unsubscribe") or not isinstance(args, list):
        raw = message if isinstance(message, str) else json.dumps(message)
        return Answer([_error(conn, "60012", f"Illegal request: {raw}")])
    answer = Answer()
    for arg in args:
        if not isinstance(arg, dict) or not _known(arg):
            return Answer([_error(conn, "60018", _unknown(arg))])
    for arg in args:
        answer.frames.append({"event": op, "arg": arg, "connId": conn.conn_id})
        if op == "subscribe":
            answer.subscribed.append(Topic(_name(arg), "mark", frozenset({arg["instId"]}), arg))
        else:
            answer.unsubscribed.append(_name(arg))
    return answer


def _known(arg: dict[str, Any]) -> bool:
    return arg.get("channel") in CHANNELS and arg.get("instId") in markets("okx").values()


def _unknown(arg: Any) -> str:
    channel, inst = (arg.get("channel"), arg.get("instId")) if isinstance(arg, dict) else (arg, "")
    return (
        f"Wrong URL or channel:{channel},instId:{inst} doesn't exist. Please use the correct "
        "URL, channel and parameters referring to API document."
    )


def _error(conn: Connection, code: str, message: str) -> dict[str, Any]:
    return {"event": "error", "code": code, "msg": message, "connId": conn.conn_id}


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
    row = {
        "instType": "SWAP",
        "instId": market_id,
        "markPx": text(quotes[market_id].mark),
        "ts": str(now_ms),
    }
    return [{"arg": topic.echo, "data": [row]}]
