"""Hyperliquid's websocket for the fake: ``activeAssetCtx``, ``allMids`` and ``trades``.

Wire format (hyperliquid.gitbook.io …/api/websocket and …/websocket/subscriptions, and the
samples in ccxt.pro's ``hyperliquid.handle_active_asset_ctx``/``handle_ws_tickers``/
``handle_trades``/``handle_error_message``):

* ``wss://api.hyperliquid.xyz/ws``. ``{"method": "subscribe", "subscription": {…}}`` is
  answered ``{"channel": "subscriptionResponse", "data": {"method": "subscribe",
  "subscription": {…as sent}}}``; ``unsubscribe`` likewise. Subscribing twice on one
  connection is ``{"channel": "error", "data": "Already subscribed: {…}"}``; a frame that is
  no request, ``"Error parsing JSON into valid websocket request: …"``.
* ``activeAssetCtx`` (``coin``) pushes ``{"coin", "ctx": {markPx, oraclePx, midPx, funding,
  openInterest, premium, prevDayPx, dayNtlVlm, dayBaseVlm, impactPxs}}`` (strings) when
  subscribed and when the context changes.
* ``allMids`` pushes ``{"mids": {coin: mid}}`` for every coin, spot ones (``@1``,
  ``PURR/USDC``) included: mids, not marks.
* ``trades`` (``coin``) pushes lists of ``{coin, side ("B" buy / "A" sell aggressor), px,
  sz, time, hash, tid, users: [buyer, seller]}``; a new subscription first gets the coin's
  recent trades (how many the venue replays is not documented; the fake keeps 10).
* ``{"method": "ping"}`` is answered ``{"channel": "pong"}``.

Not modelled: the disconnect after 60 s without a client frame, ``post`` requests, HIP-3
dexes (an ``allMids`` with a ``dex`` is acknowledged and never pushed), other channels
(acknowledged, never pushed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from tests.fakes.exchange.hyperliquid import FUNDING_RATE
from tests.fakes.stream.base import (
    Answer,
    Connection,
    Quote,
    Topic,
    default_mark,
    markets,
    text,
)

HOST = "api.hyperliquid.xyz"
PATH = "/ws"
#: Spot pairs in ``allMids`` (by their spot names), at fixed mids.
SPOT_MIDS = {"@1": "0.071185", "PURR/USDC": "0.19822"}
RECENT_TRADES = 10


def route(host: str, path: str) -> str | None:
    return "hyperliquid" if host == HOST and path == PATH else None


def opened(conn: Connection) -> list[Topic]:
    return []


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _error(text_: str) -> dict[str, Any]:
    return {"channel": "error", "data": text_}


def receive(conn: Connection, message: Any, now_ms: int) -> Answer:
    method = message.get("method") if isinstance(message, dict) else None
    if method == "ping":
        return Answer([{"channel": "pong"}], pong=True)
    subscription = message.get("subscription") if isinstance(message, dict) else None
    if method not in ("subscribe", "unsubscribe") or not isinstance(subscription, dict):
        raw = message if isinstance(message, str) else compact(message)
        return Answer([_error(f"Error parsing JSON into valid websocket request: {raw}")])
    topic = _topic(subscription)
    data = {"method": method, "subscription": subscription}
    reply = {"channel": "subscriptionResponse", "data": data}
    if method == "unsubscribe":
        return Answer([reply], unsubscribed=[topic.name] if topic.name in conn.topics else [])
    if topic.name in conn.topics:
        return Answer([_error(f"Already subscribed: {compact(subscription)}")])
    return Answer([reply], subscribed=[topic])


def _topic(subscription: dict[str, Any]) -> Topic:
    """The topic of a subscription (named by its canonical JSON: key order is no identity)."""
    name = json.dumps(subscription, sort_keys=True, separators=(",", ":"))
    kind, coin = subscription.get("type"), subscription.get("coin")
    coins = set(markets("hyperliquid").values())
    if kind == "activeAssetCtx" and coin in coins:
        return Topic(name, "mark", frozenset({coin}))
    if kind == "trades" and coin in coins:
        return Topic(name, "trades", frozenset({coin}))
    if kind == "allMids" and "dex" not in subscription:
        return Topic(name, "mids", None)
    return Topic(name, "mark", frozenset())


def push(
    conn: Connection,
    topic: Topic,
    quotes: Mapping[str, Quote],
    first: bool,
    now_ms: int,
) -> list[Any]:
    if topic.kind == "mids":
        mids = {coin: text(quotes[coin].last) for coin in quotes} | SPOT_MIDS
        return [{"channel": "allMids", "data": {"mids": mids}}]
    if topic.kind != "mark" or not topic.market_ids:
        return []
    (coin,) = topic.market_ids
    ctx = _context(coin, quotes[coin])
    return [{"channel": "activeAssetCtx", "data": {"coin": coin, "ctx": ctx}}]


def _context(coin: str, quote: Quote) -> dict[str, Any]:
    premium = (quote.mark - quote.index) / quote.index
    return {
        "funding": text(FUNDING_RATE),
        "openInterest": "1000.5",
        "prevDayPx": text(default_mark(f"{coin}/USDC:USDC")),
        "dayNtlVlm": "1169046.29406",
        "premium": text(round(premium, 8)),
        "oraclePx": text(quote.index),
        "markPx": text(quote.mark),
        "midPx": text(quote.last),
        "impactPxs": [text(round(quote.last * 0.9999, 6)), text(round(quote.last * 1.0001, 6))],
        "dayBaseVlm": "100.0",
    }


def trades_frame(trades: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One push of the ``trades`` channel."""
    return {"channel": "trades", "data": list(trades)}
