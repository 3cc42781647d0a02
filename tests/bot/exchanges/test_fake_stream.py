"""The fake stream against the real ccxt.pro: each venue's mark reaches ``watch_*``, a dropped
socket fails the pending watch and the next one reconnects, a silent venue hangs it.

Markets load over REST from the REST fake, marks stream from the stream fake, both through the
URL prefixes production uses (``apply_prefix``, ``apply_ws_prefix``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import ccxt.pro as ccxtpro  # type: ignore[import-untyped]
import pytest
from ccxt.base.errors import NetworkError, RequestTimeout  # type: ignore[import-untyped]

from bot.exchanges import apply_prefix
from bot.exchanges.urls import apply_ws_prefix
from bot.exchanges.venues import spec_for
from tests.fakes.exchange import FakeExchange
from tests.fakes.stream import EVERY, FakeStream

#: Every wait of these tests ends by then.
DEADLINE = 5.0
#: ccxt's keepalive period in the keepalive tests (ms): short enough to trip in a test, long
#: enough that Binance's 10-frames-per-second limit never drops the pings.
KEEPALIVE_MS = 120


@dataclass(frozen=True)
class Case:
    """How liqwatch watches one venue's mark through ccxt.pro."""

    venue: str
    symbol: str
    method: str
    params: dict[str, Any] = field(default_factory=dict)

    def mark(self, ticker: dict[str, Any]) -> float:
        """Where the mark lands: ``markPrice``, but Hyperliquid's only in ``info.markPx``."""
        if self.venue == "hyperliquid":
            return float(ticker["info"]["markPx"])
        return float(ticker["markPrice"])

    def __str__(self) -> str:
        return f"{self.venue}:{self.symbol}"


CASES = (
    Case("binanceusdm", "BTC/USDT:USDT", "watch_mark_price"),
    Case("binancecoinm", "BTC/USD:BTC", "watch_mark_price"),
    Case("bybit", "ETH/USDT:USDT", "watch_ticker"),
    Case("bybit", "BTC/USD:BTC", "watch_ticker"),
    Case("okx", "BTC/USDT:USDT", "watch_mark_price"),
    Case("deribit", "BTC/USD:BTC", "watch_ticker"),
    Case("hyperliquid", "SOL/USDC:USDC", "watch_ticker"),
)
BY_VENUE = {case.venue: case for case in CASES}
each_case = pytest.mark.parametrize("case", CASES, ids=str)


@pytest.fixture
async def stream() -> AsyncIterator[FakeStream]:
    async with FakeStream() as server:
        yield server


@contextlib.asynccontextmanager
async def pro(
    venue: str, fake: FakeExchange, stream: FakeStream, **streaming: Any
) -> AsyncIterator[Any]:
    """A real ccxt.pro instance with the hub's options, REST on ``fake``, streams on
    ``stream``, markets loaded; closed on exit. ``streaming`` overrides ccxt's keepalive."""
    options = dict(spec_for(venue).options)
    exchange = getattr(ccxtpro, venue)({"enableRateLimit": False, "options": options})
    exchange.timeout_on_exit = 0  # no TLS to drain on 127.0.0.1
    exchange.streaming = {**exchange.streaming, **streaming}
    apply_prefix(exchange, fake.url)
    apply_ws_prefix(exchange, stream.url)
    try:
        await exchange.load_markets()
        yield exchange
    finally:
        await exchange.close()


async def watch(exchange: Any, case: Case, timeout: float = DEADLINE) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        ticker: dict[str, Any] = await getattr(exchange, case.method)(case.symbol, case.params)
    return ticker


async def raw(stream: FakeStream, path: str) -> aiohttp.ClientWebSocketResponse:
    """A bare websocket on the fake (for wire details ccxt hides); close its session after."""
    session = aiohttp.ClientSession()
    try:
        ws = await session.ws_connect(f"{stream.url}/{path}", autoping=False)
    except BaseException:
        await session.close()
        raise
    ws._liqwatch_session = session  # type: ignore[attr-defined]
    return ws


async def close_raw(ws: aiohttp.ClientWebSocketResponse) -> None:
    await ws.close()
    await ws._liqwatch_session.close()  # type: ignore[attr-defined]


async def receive(ws: aiohttp.ClientWebSocketResponse, timeout: float = DEADLINE) -> Any:
    return await asyncio.wait_for(ws.receive_json(), timeout)


async def nothing_arrives(ws: aiohttp.ClientWebSocketResponse, seconds: float = 0.2) -> bool:
    try:
        await asyncio.wait_for(ws.receive(), seconds)
    except TimeoutError:
        return True
    return False


# ------------------------------------------------------------------ every venue


@each_case
async def test_first_watch_returns_the_mark_set_before_subscribing(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """A new subscriber's first update carries the current mark (snapshot or first push)."""
    stream.set_mark(case.venue, case.symbol, 1234.5)
    async with pro(case.venue, fake, stream) as exchange:
        ticker = await watch(exchange, case)
    assert ticker["symbol"] == case.symbol
    assert case.mark(ticker) == 1234.5


@each_case
async def test_a_new_mark_reaches_the_next_watch(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """After the first update, ``set_mark`` is the next thing the watch returns."""
    async with pro(case.venue, fake, stream) as exchange:
        first = await watch(exchange, case)
        stream.set_mark(case.venue, case.symbol, case.mark(first) * 0.9)
        second = await watch(exchange, case)
    assert case.mark(second) == pytest.approx(case.mark(first) * 0.9)


@each_case
async def test_the_mark_is_neither_the_index_nor_the_last_price(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """The fake keeps mark, index and last apart, so reading the wrong field fails a test."""
    stream.set_mark(case.venue, case.symbol, 2000.0)
    async with pro(case.venue, fake, stream) as exchange:
        ticker = await watch(exchange, case)
    others = [ticker.get("indexPrice"), ticker.get("last"), ticker.get("close")]
    assert case.mark(ticker) == 2000.0
    assert 2000.0 not in [float(value) for value in others if value is not None]


@each_case
async def test_a_dropped_socket_fails_the_pending_watch(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """``kill_connections`` while a watch waits: it raises ccxt's NetworkError (code 1006)."""
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        pending = asyncio.ensure_future(watch(exchange, case))
        await asyncio.sleep(0)  # the watch now waits on ccxt's future
        assert not pending.done()
        assert stream.kill_connections(case.venue) == 1
        with pytest.raises(NetworkError, match="1006"):
            await pending


@each_case
async def test_the_next_watch_after_a_drop_reconnects_and_resubscribes(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """After the failed watch, a fresh call dials again, subscribes again and gets the mark set
    during the outage."""
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        pending = asyncio.ensure_future(watch(exchange, case))
        await asyncio.sleep(0)
        stream.kill_connections(case.venue)
        with pytest.raises(NetworkError):
            await pending
        stream.set_mark(case.venue, case.symbol, 777.0)
        ticker = await watch(exchange, case)
    assert case.mark(ticker) == 777.0
    assert stream.connected(case.venue) == 2
    assert stream.subscribed(case.venue, case.symbol) == 2


@each_case
async def test_a_drop_between_watches_goes_unnoticed(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """Dropped while no watch waits (and ccxt saw it close): the next watch reconnects
    silently and returns the fresh snapshot, no error; only the connection count tells."""
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        stream.kill_connections(case.venue)
        await stream.wait_until(lambda: not exchange.clients, what="ccxt dropping its client")
        ticker = await watch(exchange, case)
    assert case.mark(ticker) > 0
    assert stream.connected(case.venue) == 2


@each_case
async def test_a_silent_venue_hangs_the_watch_past_ccxts_keepalive(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """Silenced but still answering pings: no update and no error, even after several of
    ccxt's keepalive periods (it would raise after four missed pongs); the socket stays."""
    async with pro(case.venue, fake, stream, keepAlive=KEEPALIVE_MS) as exchange:
        await watch(exchange, case)
        stream.silence(case.venue)
        stream.set_mark(case.venue, case.symbol, 999.0)
        with pytest.raises(TimeoutError):
            await watch(exchange, case, timeout=6 * KEEPALIVE_MS / 1000)
        assert stream.open_connections(case.venue) == 1


@each_case
async def test_a_silent_venue_without_pongs_trips_ccxts_keepalive(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """Silenced and deaf to pings: ccxt's keepalive fails the watch with RequestTimeout."""
    async with pro(case.venue, fake, stream, keepAlive=KEEPALIVE_MS) as exchange:
        await watch(exchange, case)
        stream.silence(case.venue, pongs=False)
        with pytest.raises(RequestTimeout, match="ping-pong keepalive"):
            await watch(exchange, case)


@each_case
async def test_after_the_silence_the_latest_mark_arrives(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """Marks set while silenced are not replayed; the next one after it is pushed."""
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        stream.silence(case.venue)
        stream.set_mark(case.venue, case.symbol, 500.0)
        with pytest.raises(TimeoutError):
            await watch(exchange, case, timeout=0.2)
        stream.silence(case.venue, on=False)
        stream.set_mark(case.venue, case.symbol, 501.0)
        ticker = await watch(exchange, case)
    assert case.mark(ticker) == 501.0


@each_case
async def test_a_refused_handshake_fails_the_watch(
    fake: FakeExchange, stream: FakeStream, case: Case
) -> None:
    """The venue answers the upgrade with 503: the watch raises NetworkError."""
    stream.refuse(case.venue, status=503)
    async with pro(case.venue, fake, stream) as exchange:
        with pytest.raises(NetworkError):
            await watch(exchange, case)
    assert stream.connected(case.venue) == 0


# ------------------------------------------------------------------ Binance


async def test_binance_subscribes_the_1s_mark_stream(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """``watch_mark_price`` sends SUBSCRIBE ``<symbol>@markPrice@1s`` with id 1 (use1sFreq is
    ccxt's default) on ``/market/ws/0``."""
    async with pro("binanceusdm", fake, stream) as exchange:
        await watch(exchange, BY_VENUE["binanceusdm"])
    assert stream.received("binanceusdm") == [
        {"method": "SUBSCRIBE", "params": ["btcusdt@markPrice@1s"], "id": 1}
    ]


async def test_binance_use1sfreq_false_subscribes_the_3s_stream(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """``{"use1sFreq": False}`` picks ``<symbol>@markPrice`` (3 s) instead."""
    case = Case("binancecoinm", "BTC/USD:BTC", "watch_mark_price", {"use1sFreq": False})
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        assert stream.topics("binancecoinm") == ["btcusd_perp@markPrice"]


async def test_binance_mark_prices_without_symbols_stream_every_market(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """``watch_mark_prices()`` subscribes ``!markPrice@arr@1s``: one array, every market."""
    async with pro("binanceusdm", fake, stream) as exchange:
        async with asyncio.timeout(DEADLINE):
            tickers = await exchange.watch_mark_prices()
        assert stream.topics("binanceusdm") == ["!markPrice@arr@1s"]
    assert stream.subscribed("binanceusdm", EVERY) == 1
    assert sorted(tickers) == ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT"]


async def test_binance_tick_repeats_an_unchanged_mark(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """Binance pushes on its clock, moved or not: ``tick`` makes the watch return again."""
    case = BY_VENUE["binanceusdm"]
    async with pro(case.venue, fake, stream) as exchange:
        first = await watch(exchange, case)
        stream.tick("binanceusdm")
        again = await watch(exchange, case)
    assert case.mark(again) == case.mark(first)


async def test_binance_unwatch_mark_price_unsubscribes(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """``un_watch_mark_price`` sends UNSUBSCRIBE, resolves on the venue's reply, and a later
    watch subscribes again."""
    case = BY_VENUE["binanceusdm"]
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        async with asyncio.timeout(DEADLINE):
            assert await exchange.un_watch_mark_price(case.symbol) is True
        assert stream.unsubscribed(case.venue, case.symbol) == 1
        await watch(exchange, case)
    assert stream.subscribed(case.venue, case.symbol) == 2


async def test_binance_legacy_usdm_stream_url_is_gone(stream: FakeStream) -> None:
    """``fstream.binance.com/ws`` (retired 2026-04-23) refuses the upgrade; ``/market/ws``
    serves."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await raw(stream, "fstream.binance.com/ws")
    assert refused.value.status == 404
    await close_raw(await raw(stream, "fstream.binance.com/market/ws"))


async def test_binance_drops_a_client_over_ten_frames_a_second(stream: FakeStream) -> None:
    """An eleventh client frame within a second drops the connection, reply-less."""
    ws = await raw(stream, "dstream.binance.com/ws")
    try:
        for n in range(11):
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": n})
        replies: list[Any] = []
        with contextlib.suppress(TypeError):  # receive_json of the close message
            while len(replies) < 11:
                replies.append(await receive(ws))
        assert len(replies) == 10
        assert ws.closed or (await ws.receive()).type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.ERROR,
        )
    finally:
        await close_raw(ws)


async def test_binance_combined_stream_wraps_each_event(stream: FakeStream) -> None:
    """``/stream?streams=…`` subscribes from the URL and wraps events as {stream, data}."""
    ws = await raw(stream, "fstream.binance.com/market/stream?streams=ethusdt@markPrice")
    try:
        event = await receive(ws)
    finally:
        await close_raw(ws)
    assert event["stream"] == "ethusdt@markPrice"
    assert event["data"]["e"] == "markPriceUpdate"
    assert event["data"]["s"] == "ETHUSDT"


async def test_binance_tick_pushes_one_array_on_the_all_market_stream(stream: FakeStream) -> None:
    """``!markPrice@arr@1s``: each push is one array of every market, a tick included."""
    ws = await raw(stream, "fstream.binance.com/market/ws/0")
    try:
        await ws.send_json({"method": "SUBSCRIBE", "params": ["!markPrice@arr@1s"], "id": 1})
        reply, first = await receive(ws), await receive(ws)
        stream.tick("binanceusdm")
        again = await receive(ws)
        quiet = await nothing_arrives(ws)
    finally:
        await close_raw(ws)
    assert reply == {"result": None, "id": 1}
    assert [event["s"] for event in first] == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]
    assert [event["p"] for event in again] == [event["p"] for event in first]
    assert quiet


# ------------------------------------------------------------------ Bybit


async def test_bybit_sends_a_snapshot_then_deltas_of_changed_fields(stream: FakeStream) -> None:
    """First push ``snapshot`` (every field), then ``delta`` with the symbol and what moved;
    the same mark again sends nothing."""
    ws = await raw(stream, "stream.bybit.com/v5/public/linear")
    try:
        await ws.send_json({"op": "subscribe", "req_id": 7, "args": ["tickers.XRPUSDT"]})
        ack, snapshot = await receive(ws), await receive(ws)
        stream.set_mark("bybit", "XRPUSDT", 0.6, index=0.61, last=0.62)
        delta = await receive(ws)
        stream.set_mark("bybit", "XRPUSDT", 0.6, index=0.61, last=0.62)
        quiet = await nothing_arrives(ws)
    finally:
        await close_raw(ws)
    assert ack["success"] is True and ack["req_id"] == "7" and ack["op"] == "subscribe"
    assert snapshot["type"] == "snapshot" and len(snapshot["data"]) == 20
    assert delta["type"] == "delta"
    assert {"symbol", "markPrice", "indexPrice", "lastPrice"} <= set(delta["data"])
    assert "volume24h" not in delta["data"]
    assert delta["data"]["markPrice"] == "0.6"
    assert quiet


async def test_bybit_ccxt_merges_a_delta_into_the_full_ticker(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """After a delta, ccxt's ticker still has the snapshot's other fields (volume, funding)."""
    case = BY_VENUE["bybit"]
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        stream.set_mark("bybit", case.symbol, 3000.0)
        ticker = await watch(exchange, case)
    assert ticker["markPrice"] == 3000.0
    assert ticker["info"]["volume24h"] == "91705.276"
    assert ticker["info"]["fundingRate"]


async def test_bybit_refuses_an_inverse_topic_on_the_linear_endpoint(stream: FakeStream) -> None:
    """``tickers.BTCUSD`` on ``/v5/public/linear``: ``success: false``, nothing subscribed."""
    ws = await raw(stream, "stream.bybit.com/v5/public/linear")
    try:
        await ws.send_json({"op": "subscribe", "req_id": 1, "args": ["tickers.BTCUSD"]})
        reply = await receive(ws)
    finally:
        await close_raw(ws)
    assert reply["success"] is False
    assert "tickers.BTCUSD" in reply["ret_msg"]
    assert stream.subscribed("bybit") == 0


async def test_bybit_unwatch_ticker_unsubscribes(fake: FakeExchange, stream: FakeStream) -> None:
    """``un_watch_ticker`` sends ``op: unsubscribe`` and resolves on the venue's answer."""
    case = BY_VENUE["bybit"]
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        async with asyncio.timeout(DEADLINE):
            assert await exchange.un_watch_ticker(case.symbol) is True
    assert stream.unsubscribed("bybit", case.symbol) == 1
    assert stream.topics("bybit") == []


# ------------------------------------------------------------------ OKX


async def test_okx_subscribes_the_mark_price_channel(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """``watch_mark_price`` subscribes channel ``mark-price`` by ``instId`` on ``/ws/v5/public``."""
    async with pro("okx", fake, stream) as exchange:
        await watch(exchange, BY_VENUE["okx"])
    assert stream.received("okx") == [
        {"op": "subscribe", "args": [{"channel": "mark-price", "instId": "BTC-USDT-SWAP"}]}
    ]


async def test_okx_unwatching_a_mark_price_hangs_ccxt(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """ccxt 4.5.90 quirk: ``un_watch_ticker(…, {"channel": "mark-price"})`` unsubscribes at the
    venue but ccxt ignores the ``mark-price`` answer, so it never resolves, and a new
    ``watch_mark_price`` neither subscribes again nor gets data."""
    case = BY_VENUE["okx"]
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await exchange.un_watch_ticker(case.symbol, {"channel": "mark-price"})
        assert stream.unsubscribed("okx", case.symbol) == 1
        with pytest.raises(TimeoutError):
            await watch(exchange, case, timeout=0.3)
    assert stream.subscribed("okx", case.symbol) == 1


async def test_okx_unknown_instrument_is_error_60018(stream: FakeStream) -> None:
    """A ``mark-price`` subscription of an instrument OKX does not list: ``event: error``."""
    ws = await raw(stream, "ws.okx.com:8443/ws/v5/public")
    try:
        await ws.send_json({"op": "subscribe", "args": [{"channel": "mark-price", "instId": "X"}]})
        reply = await receive(ws)
        await ws.send_str("ping")
        pong = await asyncio.wait_for(ws.receive_str(), DEADLINE)
    finally:
        await close_raw(ws)
    assert reply["event"] == "error" and reply["code"] == "60018"
    assert pong == "pong"


# ------------------------------------------------------------------ Deribit


async def test_deribit_subscribes_the_100ms_ticker_channel(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """``watch_ticker`` sends ``public/subscribe`` ``ticker.<instrument>.100ms`` (JSON-RPC)."""
    async with pro("deribit", fake, stream) as exchange:
        await watch(exchange, BY_VENUE["deribit"])
    (request,) = stream.received("deribit")
    assert request["method"] == "public/subscribe"
    assert request["params"] == {"channels": ["ticker.BTC-PERPETUAL.100ms"]}


async def test_deribit_option_mark_lands_in_mark_price(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """An option's ticker streams too; its mark (in BTC) is ``markPrice``."""
    case = Case("deribit", "BTC/USD:BTC-250627-70000-C", "watch_ticker")
    stream.set_mark("deribit", case.symbol, 0.0525)
    async with pro(case.venue, fake, stream) as exchange:
        ticker = await watch(exchange, case)
    assert ticker["markPrice"] == 0.0525
    assert "greeks" in ticker["info"]


async def test_deribit_raw_interval_needs_an_authorised_connection(stream: FakeStream) -> None:
    """``ticker.….raw`` unauthorised is error 13778; an unknown instrument is left out of
    the result silently."""
    ws = await raw(stream, "www.deribit.com/ws/api/v2")
    try:
        channels = ["ticker.BTC-PERPETUAL.raw"]
        params: dict[str, Any] = {"channels": channels}
        await ws.send_json(
            {"jsonrpc": "2.0", "id": 1, "method": "public/subscribe", "params": params}
        )
        refused = await receive(ws)
        params = {"channels": ["ticker.NOPE-PERPETUAL.100ms", "ticker.BTC-PERPETUAL.100ms"]}
        await ws.send_json(
            {"jsonrpc": "2.0", "id": 2, "method": "public/subscribe", "params": params}
        )
        accepted = await receive(ws)
    finally:
        await close_raw(ws)
    assert refused["error"]["code"] == 13778
    assert accepted["result"] == ["ticker.BTC-PERPETUAL.100ms"]


# ------------------------------------------------------------------ Hyperliquid


async def test_hyperliquid_ticker_keeps_the_mark_in_info_only(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """``watch_ticker`` (``activeAssetCtx``): ccxt leaves ``markPrice`` empty; the mark is
    ``info.markPx``, the oracle ``info.oraclePx``, and ``close`` is the mid."""
    case = BY_VENUE["hyperliquid"]
    quote = stream.set_mark("hyperliquid", case.symbol, 150.0, index=149.0, last=150.5)
    async with pro(case.venue, fake, stream) as exchange:
        ticker = await watch(exchange, case)
    assert ticker["markPrice"] is None
    assert float(ticker["info"]["markPx"]) == quote.mark
    assert float(ticker["info"]["oraclePx"]) == quote.index
    assert ticker["close"] == quote.last


async def test_hyperliquid_watch_tickers_gives_mids_not_marks(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """``watch_tickers`` rides ``allMids``: every ticker's ``last`` is a mid, no mark, and the
    spot mids come along under their spot names."""
    stream.set_mark("hyperliquid", "BTC", 60000.0, last=60010.0)
    async with pro("hyperliquid", fake, stream) as exchange:
        async with asyncio.timeout(DEADLINE):
            tickers = await exchange.watch_tickers()
    assert tickers["BTC/USDC:USDC"]["last"] == 60010.0
    assert tickers["BTC/USDC:USDC"]["markPrice"] is None
    assert "@1" in tickers


async def test_hyperliquid_trades_name_buyer_and_seller(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """The public ``trades`` channel carries ``users`` [buyer, seller] in each trade's info."""
    buyer, seller = "0x" + "a" * 40, "0x" + "b" * 40
    async with pro("hyperliquid", fake, stream) as exchange:
        pending = asyncio.ensure_future(exchange.watch_trades("ETH/USDC:USDC"))
        await stream.wait_subscribed("hyperliquid", "ETH", timeout=DEADLINE)
        sent = stream.trade("ETH", [buyer, seller], 3101.5, 0.25, side="A")
        async with asyncio.timeout(DEADLINE):
            (trade,) = await pending
    assert trade["info"]["users"] == [buyer, seller]
    assert trade["side"] == "sell"
    assert trade["price"] == 3101.5 and trade["amount"] == 0.25
    assert trade["id"] == str(sent["tid"])


async def test_hyperliquid_new_trades_subscription_replays_recent_trades(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """Trades made before subscribing come first, as one batch (consumers must dedupe by
    ``tid`` across reconnects)."""
    users = ["0x" + "1" * 40, "0x" + "2" * 40]
    earlier = [stream.trade("BTC", users, 62000.0 + n, 0.1)["tid"] for n in range(3)]
    async with pro("hyperliquid", fake, stream) as exchange:
        async with asyncio.timeout(DEADLINE):
            trades = await exchange.watch_trades("BTC/USDC:USDC")
    assert [int(trade["id"]) for trade in trades] == earlier


async def test_hyperliquid_unwatch_ticker_unsubscribes(
    fake: FakeExchange, stream: FakeStream
) -> None:
    """``un_watch_ticker`` sends ``method: unsubscribe`` and resolves on the response."""
    case = BY_VENUE["hyperliquid"]
    async with pro(case.venue, fake, stream) as exchange:
        await watch(exchange, case)
        async with asyncio.timeout(DEADLINE):
            assert await exchange.un_watch_ticker(case.symbol) is True
    assert stream.unsubscribed("hyperliquid", case.symbol) == 1


async def test_hyperliquid_subscribing_twice_is_an_error_frame(stream: FakeStream) -> None:
    """The same subscription twice on one socket: ``channel: error``, "Already subscribed"."""
    ws = await raw(stream, "api.hyperliquid.xyz/ws")
    try:
        request = {"method": "subscribe", "subscription": {"type": "activeAssetCtx", "coin": "BTC"}}
        await ws.send_json(request)
        ack, context = await receive(ws), await receive(ws)
        await ws.send_json(request)
        error = await receive(ws)
        await ws.send_json({"method": "ping"})
        pong = await receive(ws)
    finally:
        await close_raw(ws)
    assert ack == {"channel": "subscriptionResponse", "data": request}
    assert context["channel"] == "activeAssetCtx"
    assert error == {
        "channel": "error",
        "data": 'Already subscribed: {"type":"activeAssetCtx","coin":"BTC"}',
    }
    assert pong == {"channel": "pong"}


# ------------------------------------------------------------------ the fake itself


async def test_set_mark_also_moves_a_linked_rest_fake(fake: FakeExchange) -> None:
    """With ``exchange=``, a streamed mark is the REST positions' mark too."""
    account = fake.add_account("okx", api_key="K", secret="S", passphrase="P")
    async with FakeStream(exchange=fake) as linked:
        linked.set_mark("okx", "BTC/USDT:USDT", 65000.0)
    (row,) = [raw for raw in account.positions if raw["instId"] == "BTC-USDT-SWAP"]
    assert row["markPx"] == "65000"


async def test_set_mark_refuses_a_market_the_fakes_do_not_list(stream: FakeStream) -> None:
    """Symbols are the REST fake's: an unknown one is a KeyError, not a silent no-op."""
    with pytest.raises(KeyError, match="DOGE"):
        stream.set_mark("bybit", "DOGE/USDT:USDT", 0.1)


async def test_wait_subscribed_has_a_deadline(stream: FakeStream) -> None:
    """Nothing subscribes: the wait raises TimeoutError instead of hanging."""
    with pytest.raises(TimeoutError, match="subscription"):
        await stream.wait_subscribed("okx", "BTC/USDT:USDT", timeout=0.05)


async def test_an_unknown_stream_path_is_404(stream: FakeStream) -> None:
    """Only the venues' stream endpoints upgrade; anything else is a 404 handshake."""
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await raw(stream, "stream.bybit.com/v5/public/spot")
    assert refused.value.status == 404
