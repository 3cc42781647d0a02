"""The fake exchange server: one catch-all aiohttp route serving every venue by host and path."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Self

from aiohttp import web

from tests.fakes.exchange import binance, bybit, deribit, hyperliquid, okx
from tests.fakes.exchange.base import FLOW_KINDS, Account, Flow, FlowKind, Reply, Request
from tests.fakes.exchange.weights import WeightMeter

MODULES: tuple[ModuleType, ...] = (binance, bybit, okx, hyperliquid, deribit)
#: host → (venue, module); e.g. "fapi.binance.com" → ("binanceusdm", binance)
HOSTS: dict[str, tuple[str, ModuleType]] = {
    host: (venue, module) for module in MODULES for host, venue in module.HOSTS.items()
}
VENUE_MODULES = {venue: module for venue, module in HOSTS.values()}
#: Generated flow refs are numbers from here on (a numeric ref is what Binance's ``tranId``
#: and Hyperliquid's ``tid`` are, so ccxt's parsed ids equal the ref on every venue).
FIRST_REF = 9_000_000_001


@dataclass
class Failure:
    """An injected failure: the next ``times`` requests to ``target`` (host or venue) whose
    path contains ``path`` and whose query has ``query`` get ``reply``."""

    target: str
    reply: Reply
    times: int
    path: str | None = None
    query: dict[str, str] = field(default_factory=dict)

    def matches(self, request: Request) -> bool:
        venue_match = self.target in (request.host, request.venue) or (
            self.target == "binance" and request.venue.startswith("binance")
        )
        return (
            venue_match
            and (self.path is None or self.path in request.path)
            and all(request.query.get(k) == v for k, v in self.query.items())
        )


@dataclass
class Stall(Failure):
    """An injected delay: matching requests are answered ``seconds`` late (then normally), or
    as soon as the test calls ``FakeExchange.release``."""

    seconds: float = 0.0
    released: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FakeExchange:
    """Serves binanceusdm, binancecoinm, bybit, okx, hyperliquid and deribit on 127.0.0.1."""

    requests: list[Request] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    stalls: list[Stall] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    port: int = 0
    _refs: Iterator[int] = field(default_factory=lambda: itertools.count(FIRST_REF), repr=False)
    _flow_refs: set[tuple[str, str, str]] = field(default_factory=set, repr=False)
    #: venue → market id → the mark ``set_mark`` gave it (the public mark endpoints serve it).
    marks: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Every request's weight as its venue counts it, per minute, with each breach of the
    #: venue's published limit (``weights.py``).
    weights: WeightMeter = field(default_factory=WeightMeter)
    #: Open-time ranges [from, to) left out of every market's candle history (a venue's gap):
    #: history requests skip them, as Binance's klines skip a missing minute.
    missing_candles: list[tuple[int, int]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The URL prefix to hand to ``ExchangeHub(url_prefix=...)``."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{host}/{path:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ----------------------------------------------------------------- state
    def add_account(
        self,
        venue: str,
        *,
        api_key: str,
        secret: str = "",
        passphrase: str | None = None,
        positions: Any = None,
        permissions: dict[str, Any] | None = None,
        balance: Any = None,
        settings: dict[str, Any] | None = None,
    ) -> Account:
        """Register an API key on ``venue`` with its positions (the venue's defaults if None),
        its own balance (``Account.balance``) and account settings (``Account.settings``: OKX
        ``acctLv``, Bybit ``marginMode``)."""
        module = VENUE_MODULES[venue]
        held = module.default_positions(venue) if positions is None else positions
        account = Account(venue, api_key, secret, passphrase, held, dict(permissions or {}))
        account.balance = balance
        account.settings = dict(settings or {})
        self.accounts[api_key] = account
        return account

    def add_wallet(self, address: str, *, positions: Any = None) -> Account:
        """Register a Hyperliquid wallet (read-only tracking by address)."""
        return self.add_account("hyperliquid", api_key=address.lower(), positions=positions)

    def add_flow(
        self,
        key: str,
        kind: FlowKind,
        symbol: str,
        amount: float,
        at_ms: int,
        *,
        ref: str | None = None,
    ) -> Flow:
        """Record a realised-PnL, funding, commission (a trading fee) or transfer (Binance)
        flow on the account of ``key`` (an API key, or a Hyperliquid wallet address in any
        case) and return it.

        ``amount`` is from the trader's side in the settle currency of ``symbol`` (a unified
        symbol of one of the account's markets): + received / profit, - paid / loss. ``ref``
        defaults to a new numeric id, unique across this fake; a given one must be new to the
        account's flows of that kind only (Binance's ``tranId`` is unique per income type, and
        a trade's REALIZED_PNL and COMMISSION rows share one).
        """
        account = self.accounts.get(key) or self.accounts.get(key.lower())
        if account is None or (account.key != key and account.venue != "hyperliquid"):
            raise KeyError(f"no account with key {key!r}: add_account/add_wallet it first")
        if kind not in FLOW_KINDS:
            raise ValueError(f"flow kind must be one of {FLOW_KINDS}, not {kind!r}")
        if kind == "transfer" and not account.venue.startswith("binance"):
            raise ValueError(f"only Binance lists transfers as flows, not {account.venue}")
        known = VENUE_MODULES[account.venue].markets(account.venue)
        if symbol not in known:
            raise ValueError(f"{symbol!r} is not a {account.venue} market of the fake: {known}")
        if not math.isfinite(amount):
            raise ValueError(f"amount must be finite, not {amount!r}")
        ref = str(next(self._refs)) if ref is None else ref
        if (account.key, kind, ref) in self._flow_refs:
            raise ValueError(f"the account already has a {kind} flow with ref {ref!r}")
        flow = Flow(kind, symbol, float(amount), int(at_ms), ref)
        account.flows.append(flow)
        self._flow_refs.add((account.key, kind, ref))
        return flow

    def revoke(self, api_key: str) -> None:
        """The venue forgets the key: every private call with it now fails authentication."""
        self.accounts[api_key].revoked = True

    def set_mark(self, venue: str, symbol: str, price: float) -> None:
        """Move the mark of unified ``symbol`` on every account of ``venue`` (uPnL follows) and
        on the venue's public mark endpoints (premiumIndex, tickers, mark-price, book summary,
        metaAndAssetCtxs)."""
        module = VENUE_MODULES[venue]
        market_id = module.markets(venue)[symbol]
        self.marks.setdefault(venue, {})[market_id] = price
        for account in self.accounts.values():
            if account.venue == venue:
                account.positions = module.remark(venue, account.positions, market_id, price)

    def fail(
        self,
        target: str,
        *,
        status: int = 500,
        body: str = "Internal Server Error",
        times: int = 1,
        retry_after: float | None = None,
        path: str | None = None,
        query: dict[str, str] | None = None,
    ) -> None:
        """The next ``times`` requests to a host or venue (whose path contains ``path`` and
        whose query has ``query``) get ``status`` with ``body`` verbatim."""
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        reply = Reply(None, status=status, headers=headers, raw=body)
        self.failures.append(Failure(target, reply, times, path, dict(query or {})))

    def stall(
        self,
        target: str,
        seconds: float,
        *,
        times: int = 1000,
        path: str | None = None,
        query: dict[str, str] | None = None,
    ) -> None:
        """The next ``times`` matching requests (as ``fail`` matches them) are answered
        ``seconds`` late: a slow endpoint, or one symbol of it."""
        reply = Reply(None)  # unused: a stalled request is then served normally
        self.stalls.append(Stall(target, reply, times, path, dict(query or {}), seconds))

    def release(self) -> None:
        """End every stall now: stalled requests are answered at once, later ones not delayed
        (a test that has seen what the stall was for need not wait it out)."""
        for stall in self.stalls:
            stall.times = 0
            stall.released.set()

    def lookup(self, venue: str, key: str) -> Account | None:
        account = self.accounts.get(key)
        if account is None or account.revoked:
            return None
        same = account.venue == venue or (venue == "binance" and account.venue.startswith(venue))
        return account if same else None

    # ----------------------------------------------------------------- observation
    def count(self, venue: str | None = None, path: str = "", **query: str) -> int:
        """Requests seen (to ``venue``, whose path contains ``path`` and query has ``query``)."""
        return sum(1 for r in self.requests if _selected(r, venue, path, query))

    def peak_rate(self, venue: str, window_s: float = 1.0) -> int:
        """The most requests to ``venue`` inside any ``window_s`` sliding window."""
        times = sorted(r.at for r in self.requests if r.venue == venue)
        best, start = 0, 0
        for end, at in enumerate(times):
            while at - times[start] > window_s:
                start += 1
            best = max(best, end - start + 1)
        return best

    def per_venue(self) -> Counter[str]:
        return Counter(r.venue for r in self.requests)

    def per_endpoint(self, venue: str, since: int = 0) -> Counter[str]:
        """Requests to ``venue`` by ``Request.endpoint``, from ``requests[since]`` on."""
        return Counter(r.endpoint for r in self.requests[since:] if r.venue == venue)

    def peak_weight(self, venue: str, window_s: float, weight: Callable[[Request], float]) -> float:
        """The most weight (``weight`` of each request) ``venue`` received inside any
        ``window_s`` sliding window: what the venue's own limiter would count."""
        seen = sorted((r.at, weight(r)) for r in self.requests if r.venue == venue)
        best = total = 0.0
        start = 0
        for at, amount in seen:
            total += amount
            while at - seen[start][0] > window_s:
                total -= seen[start][1]
                start += 1
            best = max(best, total)
        return best

    # ----------------------------------------------------------------- serving
    async def _serve(self, http: web.Request) -> web.Response:
        host = http.match_info["host"]
        venue, module = HOSTS.get(host, ("?", None))
        request = Request(
            method=http.method,
            host=host,
            path="/" + http.match_info["path"],
            query=dict(http.query),
            headers=dict(http.headers),
            body=await http.text(),
            venue=venue,
            at=time.monotonic(),
            marks=dict(self.marks.get(venue, {})),
            missing_candles=tuple(self.missing_candles),
        )
        self.requests.append(request)
        await self._stalled(request)
        reply = self._injected(request)
        if reply is None:
            reply = module.handle(request, self.lookup) if module else Reply(None, 404, raw="?")
        self.weights.record(request, reply)
        return web.Response(
            status=reply.status,
            text=reply.text(),
            headers=reply.headers,
            content_type="application/json" if reply.raw is None else "text/plain",
        )

    async def _stalled(self, request: Request) -> None:
        for stall in self.stalls:
            if stall.times > 0 and stall.matches(request):
                stall.times -= 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stall.released.wait(), stall.seconds)
                return

    def _injected(self, request: Request) -> Reply | None:
        for failure in self.failures:
            if failure.times > 0 and failure.matches(request):
                failure.times -= 1
                return failure.reply
        return None


def _selected(request: Request, venue: str | None, path: str, query: dict[str, str]) -> bool:
    if venue is not None and request.venue != venue:
        return False
    if path not in request.path and path not in request.body:
        return False
    return all(request.query.get(k) == v for k, v in query.items())
