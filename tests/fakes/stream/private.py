"""OKX and Bybit private streams for the fake: log in with the account's key, subscribe to the
positions channel, and get each change of the account's positions.

Wire formats (okx.com/docs-v5 "Login" and "Positions channel"; bybit-exchange.github.io/docs/v5
"Authentication" and "Position"; the samples in ccxt.pro's ``okx.handle_positions``,
``bybit.handle_authenticate`` and ``bybit.handle_positions``):

* OKX: ``wss://ws.okx.com:8443/ws/v5/private``; ``{"op": "login", "args": [{"apiKey",
  "passphrase", "timestamp", "sign"}]}`` with ``sign`` = base64 HMAC-SHA256(secret,
  timestamp + "GET" + "/users/self/verify"), answered ``{"event": "login", "code": "0", …}`` or
  ``{"event": "error", "code": "60009", "msg": "Login failed."}``; then ``{"op": "subscribe",
  "args": [{"channel": "positions", "instType": "ANY"}]}`` pushes ``{"arg": {…, "uid"},
  "data": [REST position records]}`` (a closed one with ``pos`` "0").
* Bybit: ``wss://stream.bybit.com/v5/private``; ``{"op": "auth", "args": [apiKey, expires,
  signature]}`` with ``signature`` = hex HMAC-SHA256(secret, "GET/realtime" + expires),
  answered ``{"success": true, "ret_msg": "", "op": "auth", "conn_id"}`` (false and "Invalid
  sign" otherwise); ``{"op": "subscribe", "args": ["position"]}`` pushes ``{"id", "topic":
  "position", "creationTime", "data": [position-list records with their "category"]}`` (a
  closed one with ``size`` "0" and ``side`` "").

Not modelled: the snapshot OKX pushes on subscribing (liqwatch's poll reads it), the other
private channels, Bybit's ``position.linear``-style topics, expiring logins.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Any

from tests.fakes.exchange.base import Account
from tests.fakes.stream.base import Answer, Connection, Topic

ROUTES = {
    ("ws.okx.com:8443", "/ws/v5/private"): "okx",
    ("ws.okx.com:443", "/ws/v5/private"): "okx",
    ("ws.okx.com", "/ws/v5/private"): "okx",
    ("stream.bybit.com", "/v5/private"): "bybit",
}
#: The connection state key of the API key a connection logged in with.
KEY = "private:key"
Lookup = Callable[[str, str], Account | None]


def route(host: str, path: str) -> str | None:
    return ROUTES.get((host, path))


def receive(conn: Connection, message: Any, lookup: Lookup) -> Answer | None:
    """The answer to a login or a positions subscription; ``None`` for anything else (the
    venue's public protocol answers it: pings, errors)."""
    if not isinstance(message, dict):
        return None
    op, args = message.get("op"), message.get("args")
    if conn.venue == "okx":
        arg = args[0] if isinstance(args, list) and args and isinstance(args[0], dict) else None
        if op == "login" and arg is not None:
            return _okx_login(conn, arg, lookup)
        if op == "subscribe" and arg is not None and arg.get("channel") == "positions":
            return _okx_subscribe(conn, arg)
        return None
    if op == "auth" and isinstance(args, list) and len(args) == 3:
        return _bybit_auth(conn, [str(a) for a in args], lookup)
    if op == "subscribe" and args == ["position"]:
        ok = KEY in conn.state
        reply = {"success": ok, "ret_msg": "" if ok else "Request not authorized", "op": op}
        topics = [Topic("position", "positions", frozenset())] if ok else []
        return Answer([reply | {"conn_id": conn.conn_id}], subscribed=topics)
    return None


def _signed(secret: str, text: str) -> bytes:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()


def _okx_login(conn: Connection, arg: dict[str, Any], lookup: Lookup) -> Answer:
    account = lookup("okx", str(arg.get("apiKey", "")))
    expected = ""
    if account is not None:
        digest = _signed(account.secret, f"{arg.get('timestamp')}GET/users/self/verify")
        expected = base64.b64encode(digest).decode()
    if (
        account is None
        or arg.get("passphrase") != account.passphrase
        or arg.get("sign") != expected
    ):
        return Answer([{"event": "error", "code": "60009", "msg": "Login failed."}])
    conn.state[KEY] = account.key
    return Answer([{"event": "login", "code": "0", "msg": "", "connId": conn.conn_id}])


def _okx_subscribe(conn: Connection, arg: dict[str, Any]) -> Answer:
    if KEY not in conn.state:
        error = {"event": "error", "code": "60011", "msg": "Please log in", "connId": conn.conn_id}
        return Answer([error])
    echo = {**arg, "uid": "77" + str(abs(hash(conn.state[KEY])) % 10**10)}
    topic = Topic("positions:ANY", "positions", frozenset(), echo)
    return Answer([{"event": "subscribe", "arg": arg, "connId": conn.conn_id}], subscribed=[topic])


def _bybit_auth(conn: Connection, args: list[str], lookup: Lookup) -> Answer:
    api_key, expires, signature = args
    account = lookup("bybit", api_key)
    expected = "" if account is None else _signed(account.secret, f"GET/realtime{expires}").hex()
    ok = account is not None and signature == expected
    if ok and account is not None:
        conn.state[KEY] = account.key
    reply = {"success": ok, "ret_msg": "" if ok else "Invalid sign", "op": "auth"}
    return Answer([reply | {"conn_id": conn.conn_id}])


def _okx_id(row: dict[str, Any]) -> tuple[Any, ...]:
    return row.get("instId"), row.get("posSide")


def _bybit_id(row: dict[str, Any]) -> tuple[Any, ...]:
    return row.get("symbol"), row.get("positionIdx")


def changes(
    venue: str, before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The records a venue pushes for a change from ``before`` to ``after``: the changed and
    new positions, and each closed one at size 0."""
    ident = _okx_id if venue == "okx" else _bybit_id
    old = {ident(r): r for r in before}
    new = {ident(r): r for r in after}
    rows = [r for key, r in new.items() if old.get(key) != r]
    if venue == "okx":
        rows += [{**r, "pos": "0", "upl": "0", "liqPx": ""} for k, r in old.items() if k not in new]
    else:
        closed = {"size": "0", "side": "", "unrealisedPnl": "0", "liqPrice": ""}
        rows += [{**r, **closed} for k, r in old.items() if k not in new]
        rows = [
            {**r, "category": "inverse" if r["symbol"].endswith("USD") else "linear"} for r in rows
        ]
    return rows


def frame(venue: str, topic: Topic, rows: list[dict[str, Any]], now_ms: int) -> dict[str, Any]:
    if venue == "okx":
        return {"arg": topic.echo, "data": rows}
    return {"id": f"{now_ms}-position", "topic": "position", "creationTime": now_ms, "data": rows}
