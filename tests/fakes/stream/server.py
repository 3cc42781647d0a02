"""The fake stream server: one catch-all aiohttp websocket route serving every venue by host
and path (``ws://127.0.0.1:PORT/<host>/<path>``, as the REST fake serves
``http://127.0.0.1:PORT/<host>/<path>``)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from aiohttp import WSMsgType, web

from tests.engine.normalise.payloads.binance import CROSS_WALLET, Leg
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange.binance import listen_key
from tests.fakes.stream import binance, binance_user, bybit, deribit, hyperliquid, okx
from tests.fakes.stream import private as private_streams
from tests.fakes.stream.base import (
    VENUES,
    Answer,
    Connection,
    Quote,
    Topic,
    Venue,
    default_mark,
    dumps,
    markets,
    symbols,
    text,
)

PROTOCOLS: dict[str, Venue] = {
    "binanceusdm": binance,
    "binancecoinm": binance,
    "bybit": bybit,
    "okx": okx,
    "deribit": deribit,
    "hyperliquid": hyperliquid,
}
#: ``wait_until`` re-checks its predicate at least this often (seconds).
POLL_S = 0.02
#: A subscription covering every market of a venue is counted under this symbol.
EVERY = "*"
EventKind = Literal["connect", "disconnect", "subscribe", "unsubscribe", "refused"]


@dataclass(frozen=True)
class Event:
    """Something a client did: connected, subscribed a topic, unsubscribed it, went away, or
    was refused at the handshake (``refuse``; connection 0: there was none). ``market_ids``
    are the topic's (``None``: every market; empty: a topic the fake does not push, e.g.
    another channel or an unknown symbol)."""

    kind: EventKind
    venue: str
    connection: int
    topic: str = ""
    market_ids: frozenset[str] | None = frozenset()


@dataclass
class Refusal:
    """The next ``times`` handshakes to ``venue`` are answered ``status`` instead."""

    venue: str
    status: int
    times: int


@dataclass
class FakeStream:
    """Streams binanceusdm, binancecoinm, bybit, okx, deribit and hyperliquid on 127.0.0.1.

    Markets are the REST fake's (``tests.fakes.exchange``); every market starts at a default
    mark (``base.DEFAULT_MARKS``). With ``exchange``, ``set_mark`` also moves that REST fake's
    marks (its positions' uPnL follow). ``clock`` (seconds) stamps the venues' event times.
    """

    exchange: FakeExchange | None = None
    clock: Callable[[], float] = time.time
    port: int = 0
    #: Everything clients did, in order.
    events: list[Event] = field(default_factory=list)
    #: Every client frame (venue, connection number, parsed JSON or raw text), in order.
    frames: list[tuple[str, int, Any]] = field(default_factory=list)
    #: Data frames enqueued per (venue, market id or ``EVERY``): snapshots and updates.
    pushes: dict[tuple[str, str], int] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _conns: list[Connection] = field(default_factory=list)
    _quotes: dict[str, dict[str, Quote]] = field(default_factory=dict)
    _trades: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _silenced: dict[str, bool] = field(default_factory=dict)  # venue → pongs still answered
    _refusals: list[Refusal] = field(default_factory=list)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _tids: Iterator[int] = field(default_factory=lambda: itertools.count(981894269203506))
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def url(self) -> str:
        """The websocket URL prefix to hand to ``apply_ws_prefix``."""
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_get("/{host}/{path:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        self.kill_connections()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----------------------------------------------------------------- control
    def market_id(self, venue: str, symbol: str) -> str:
        """``symbol`` (unified, or already the venue's market id / coin) as a market id."""
        table = markets(venue)
        if symbol in table:
            return table[symbol]
        if symbol in table.values():
            return symbol
        raise KeyError(f"{symbol!r} is no {venue} market of the fakes: {sorted(table)}")

    def quote(self, venue: str, symbol: str) -> Quote:
        """The current mark, index and last price of a market."""
        return self._venue_quotes(venue)[self.market_id(venue, symbol)]

    def set_mark(
        self,
        venue: str,
        symbol: str,
        price: float,
        *,
        index: float | None = None,
        last: float | None = None,
    ) -> Quote:
        """Move a market's mark (index and last price follow unless given) and push it to
        every subscriber, as the venue would; new subscribers get it in their first push."""
        market_id = self.market_id(venue, symbol)
        quote = Quote.around(price, self.clock(), index, last)
        self._venue_quotes(venue)[market_id] = quote
        if self.exchange is not None:
            unified = symbols(venue)[market_id]
            self.exchange.set_mark(venue, unified, price)
        self._push(venue, [market_id])
        return quote

    def tick(self, venue: str | None = None) -> None:
        """The venue's periodic push with nothing new (Binance every 1 s or 3 s, OKX every 10 s,
        Deribit on its interval, Hyperliquid per block; Bybit sends only changes, so nothing)."""
        for name in VENUES if venue is None else (venue,):
            self._push(name, list(self._venue_quotes(name)))

    def trade(
        self,
        coin: str,
        users: Sequence[str],
        px: float,
        sz: float,
        *,
        side: Literal["B", "A"] = "B",
        time_ms: int | None = None,
    ) -> dict[str, Any]:
        """A public Hyperliquid trade of ``coin`` between ``users`` ([buyer, seller]), pushed
        to its ``trades`` subscribers and kept for the next ones. Returns it as sent."""
        coin = self.market_id("hyperliquid", coin)
        if len(users) != 2:
            raise ValueError(f"a trade names its buyer and its seller, not {users!r}")
        record = {
            "coin": coin,
            "side": side,
            "px": text(px),
            "sz": text(sz),
            "time": int(self.clock() * 1000) if time_ms is None else time_ms,
            "hash": "0x" + secrets.token_hex(32),
            "tid": next(self._tids),
            "users": [users[0].lower(), users[1].lower()],
        }
        recent = self._trades.setdefault(coin, [])
        recent.append(record)
        del recent[: -hyperliquid.RECENT_TRADES]
        for conn, _ in self._subscribers("hyperliquid", coin, "trades"):
            self._send(conn, hyperliquid.trades_frame([record]), market=coin)
        return record

    def account_update(
        self, api_key: str, legs: Sequence[Leg], *, reason: str = "ORDER"
    ) -> dict[str, Any]:
        """A Binance USDⓈ-M account's positions become ``legs`` (on the REST fake too, as on
        the venue), pushed as one ``ACCOUNT_UPDATE`` to its user-data sockets. Returns it."""
        if self.exchange is None:
            raise RuntimeError("account updates need the REST fake (StreamServer.exchange)")
        account = self.exchange.accounts[api_key]
        frame = binance_user.account_update(
            account.positions, legs, wallet=CROSS_WALLET, now_ms=self._now_ms(), reason=reason
        )
        account.positions = tuple(legs)
        key = listen_key(api_key)
        for conn in self._conns:
            if conn.venue == account.venue and binance_user.listen_key_of(conn) == key:
                self._send(conn, frame)
        return frame

    def positions_update(self, api_key: str, positions: list[dict[str, Any]]) -> int:
        """An OKX or Bybit account's positions become ``positions`` (REST records; on the REST
        fake too), pushed to its logged-in positions subscribers. Returns how many got it."""
        if self.exchange is None:
            raise RuntimeError("position updates need the REST fake (StreamServer.exchange)")
        account = self.exchange.accounts[api_key]
        rows = private_streams.changes(account.venue, list(account.positions), positions)
        account.positions = list(positions)
        sent = 0
        for conn in self._conns:
            if conn.state.get(private_streams.KEY) != api_key:
                continue
            for topic in conn.topics.values():
                if topic.kind == "positions":
                    self._send(conn, private_streams.frame(conn.venue, topic, rows, self._now_ms()))
                    sent += 1
        return sent

    def kill_connections(self, venue: str | None = None) -> int:
        """Drop sockets abruptly (no close frame, like a network cut); how many."""
        doomed = [c for c in self._conns if venue in (None, c.venue)]
        for conn in doomed:
            self._abort(conn)
        return len(doomed)

    async def close_connections(
        self, venue: str | None = None, *, code: int = 1001, message: str = ""
    ) -> int:
        """Close sockets with a close frame (``1001`` going away: maintenance, 24 h limit)."""
        doomed = [c for c in self._conns if venue in (None, c.venue)]
        for conn in doomed:
            with contextlib.suppress(Exception):
                await conn.ws.close(code=code, message=message.encode())
        return len(doomed)

    def silence(self, venue: str, on: bool = True, *, pongs: bool = True) -> None:
        """Stop (or resume) every frame to ``venue``'s sockets, which stay open: the hanging
        venue. Answers to pings still go out unless ``pongs`` is off. Updates made while
        silenced are not replayed; the next ``set_mark``/``tick`` pushes the latest."""
        if on:
            self._silenced[venue] = pongs
        else:
            self._silenced.pop(venue, None)

    def refuse(self, venue: str, *, status: int = 503, times: int = 1) -> None:
        """The next ``times`` handshakes to ``venue`` fail with HTTP ``status``."""
        self._refusals.append(Refusal(venue, status, times))

    # ----------------------------------------------------------------- observation
    def count(self, kind: EventKind, venue: str | None = None, symbol: str | None = None) -> int:
        """Events of ``kind`` (of ``venue``; whose topic covers ``symbol``, or ``EVERY`` for
        the topics that cover every market)."""
        return sum(1 for event in self.events if self._matches(event, kind, venue, symbol))

    def subscribed(self, venue: str, symbol: str | None = None) -> int:
        """Subscriptions made to ``venue`` (covering ``symbol``, see ``count``)."""
        return self.count("subscribe", venue, symbol)

    def unsubscribed(self, venue: str, symbol: str | None = None) -> int:
        return self.count("unsubscribe", venue, symbol)

    def connected(self, venue: str | None = None) -> int:
        """Connections ever opened (to ``venue``)."""
        return self.count("connect", venue)

    def refused(self, venue: str | None = None) -> int:
        """Handshakes ``refuse`` turned away (to ``venue``): attempts that never connected."""
        return self.count("refused", venue)

    def open_connections(self, venue: str | None = None) -> int:
        return sum(1 for conn in self._conns if venue in (None, conn.venue))

    def watchers(self, venue: str, symbol: str) -> int:
        """Live (connection, topic) pairs that get ``symbol``'s updates now."""
        return len(self._subscribers(venue, self.market_id(venue, symbol)))

    def received(self, venue: str | None = None) -> list[Any]:
        """Frames clients sent (to ``venue``), closed connections' too: parsed JSON, or the
        raw text of a frame that is none (OKX's ``ping``)."""
        return [message for name, _, message in self.frames if venue in (None, name)]

    def topics(self, venue: str) -> list[str]:
        """Names of the topics subscribed on ``venue``'s open connections."""
        return [name for c in self._conns if c.venue == venue for name in c.topics]

    async def wait_until(
        self, predicate: Callable[[], bool], *, timeout: float = 5.0, what: str = "condition"
    ) -> None:
        """Return once ``predicate()`` holds: checked after every client event, and every
        ``POLL_S`` for predicates on the client's side; ``TimeoutError`` after ``timeout``."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    if predicate():
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), POLL_S)
        except TimeoutError:
            raise TimeoutError(f"fake stream: {what} not reached in {timeout} s") from None

    async def wait_subscribed(
        self, venue: str, symbol: str | None = None, *, count: int = 1, timeout: float = 5.0
    ) -> None:
        """Return once ``venue`` had ``count`` subscriptions covering ``symbol``."""
        await self.wait_until(
            lambda: self.subscribed(venue, symbol) >= count,
            timeout=timeout,
            what=f"{count} subscription(s) to {venue} {symbol or ''}",
        )

    async def wait_connected(self, venue: str, *, count: int = 1, timeout: float = 5.0) -> None:
        """Return once ``count`` connections to ``venue`` were ever opened."""
        await self.wait_until(
            lambda: self.connected(venue) >= count,
            timeout=timeout,
            what=f"{count} connection(s) to {venue}",
        )

    # ----------------------------------------------------------------- internals
    def _matches(
        self, event: Event, kind: EventKind, venue: str | None, symbol: str | None
    ) -> bool:
        if event.kind != kind or venue not in (None, event.venue):
            return False
        if symbol is None:
            return True
        if symbol == EVERY:
            return event.market_ids is None
        market_id = self.market_id(event.venue, symbol)
        return event.market_ids is None or market_id in event.market_ids

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _record(self, event: Event) -> None:
        self.events.append(event)
        self._notify()

    def _venue_quotes(self, venue: str) -> dict[str, Quote]:
        if venue not in self._quotes:
            now = self.clock()
            self._quotes[venue] = {
                market_id: Quote.around(default_mark(symbol), now)
                for symbol, market_id in markets(venue).items()
            }
        return self._quotes[venue]

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _subscribers(
        self, venue: str, market_id: str, kind: str | None = None
    ) -> list[tuple[Connection, Topic]]:
        return [
            (conn, topic)
            for conn in self._conns
            if conn.venue == venue
            for topic in conn.topics.values()
            if topic.covers(market_id) and (kind is None or topic.kind == kind)
        ]

    def _push(self, venue: str, market_ids: Sequence[str]) -> None:
        """An update to every topic covering one of ``market_ids`` (once per topic: an array
        topic like ``!markPrice@arr`` gets one array)."""
        protocol = PROTOCOLS[venue]
        quotes = self._venue_quotes(venue)
        pairs = {
            (conn.number, topic.name): (conn, topic)
            for market_id in market_ids
            for conn, topic in self._subscribers(venue, market_id)
            if topic.kind != "trades"
        }
        for conn, topic in pairs.values():
            market = ",".join(sorted(topic.market_ids)) if topic.market_ids else EVERY
            for frame in protocol.push(conn, topic, quotes, False, self._now_ms()):
                self._send(conn, frame, market=market)

    def _send(self, conn: Connection, frame: Any, *, market: str = "", pong: bool = False) -> None:
        """Queue ``frame`` on ``conn`` (dropped while the venue is silenced, pongs aside)."""
        if conn.venue in self._silenced and not (pong and self._silenced[conn.venue]):
            return
        if market:
            key = (conn.venue, market)
            self.pushes[key] = self.pushes.get(key, 0) + 1
        conn.outbox.put_nowait(dumps(frame))

    def _abort(self, conn: Connection) -> None:
        if conn.transport is not None:
            conn.transport.abort()  # type: ignore[attr-defined]

    def _route(self, host: str, path: str) -> str | None:
        private = binance_user.private_route(host, path) or private_streams.route(host, path)
        if private is not None:
            return private
        for protocol in dict.fromkeys(PROTOCOLS.values()):
            venue = protocol.route(host, path)
            if venue is not None:
                return venue
        return None

    def _refused(self, venue: str) -> int | None:
        for refusal in self._refusals:
            if refusal.venue == venue and refusal.times > 0:
                refusal.times -= 1
                return refusal.status
        return None

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        host, path = request.match_info["host"], "/" + request.match_info["path"]
        venue = self._route(host, path)
        if venue is None:
            return web.Response(status=404, text=f"fake stream: nothing at {host}{path}")
        status = self._refused(venue)
        if status is not None:
            self._record(Event("refused", venue, 0))
            return web.Response(status=status, text="fake stream: refused")
        ws = web.WebSocketResponse(autoping=False, max_msg_size=0)
        transport = request.transport
        await ws.prepare(request)
        conn = Connection(
            number=next(self._numbers),
            venue=venue,
            host=host,
            path=path,
            query=dict(request.query),
            ws=ws,
            transport=transport,
            conn_id=str(uuid.uuid4()) if venue == "bybit" else secrets.token_hex(4),
        )
        self._conns.append(conn)
        writer = asyncio.create_task(self._write(conn))
        self._record(Event("connect", venue, conn.number))
        try:
            self._subscribe(conn, PROTOCOLS[venue].opened(conn))
            await self._read(conn, writer)
        finally:
            self._conns.remove(conn)
            conn.outbox.put_nowait(None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._record(Event("disconnect", venue, conn.number))
        return ws

    async def _read(self, conn: Connection, writer: asyncio.Task[None]) -> None:
        protocol = PROTOCOLS[conn.venue]
        async for msg in conn.ws:
            if msg.type in (WSMsgType.PING, WSMsgType.PONG):
                if conn.venue.startswith("binance") and binance.counted_frame(conn):
                    await self._drop(conn, writer)
                    return
                if msg.type == WSMsgType.PING and self._silenced.get(conn.venue, True):
                    await conn.ws.pong(msg.data)
                continue
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                message: Any = json.loads(msg.data)
            except ValueError:
                message = msg.data
            conn.received.append(message)
            self.frames.append((conn.venue, conn.number, message))
            answer = None
            if self.exchange is not None and private_streams.route(conn.host, conn.path):
                answer = private_streams.receive(conn, message, self.exchange.lookup)
            if answer is None:
                answer = protocol.receive(conn, message, self._now_ms())
            self._answer(conn, answer)
            if answer.drop:
                await self._drop(conn, writer)
                return
            self._notify()

    async def _drop(self, conn: Connection, writer: asyncio.Task[None]) -> None:
        """The venue hangs up: what it already answered goes out, then the socket is cut."""
        conn.outbox.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await writer
        self._abort(conn)

    def _answer(self, conn: Connection, answer: Answer) -> None:
        for frame in answer.frames:
            self._send(conn, frame, pong=answer.pong)
        for name in answer.unsubscribed:
            topic = conn.topics.pop(name, None)
            if topic is not None:
                self._record(Event("unsubscribe", conn.venue, conn.number, name, topic.market_ids))
        self._subscribe(conn, answer.subscribed)

    def _subscribe(self, conn: Connection, topics: list[Topic]) -> None:
        protocol = PROTOCOLS[conn.venue]
        quotes = self._venue_quotes(conn.venue)
        for topic in topics:
            conn.topics[topic.name] = topic
            self._record(Event("subscribe", conn.venue, conn.number, topic.name, topic.market_ids))
            if topic.kind == "positions":  # pushed on change only (positions_update)
                continue
            market = EVERY if topic.market_ids is None else ",".join(sorted(topic.market_ids))
            if topic.kind == "trades":
                (coin,) = topic.market_ids or ("",)
                if self._trades.get(coin):
                    self._send(conn, hyperliquid.trades_frame(self._trades[coin]), market=coin)
                continue
            for frame in protocol.push(conn, topic, quotes, True, self._now_ms()):
                self._send(conn, frame, market=market)

    async def _write(self, conn: Connection) -> None:
        while (text := await conn.outbox.get()) is not None:
            try:
                await conn.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return
