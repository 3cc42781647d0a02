"""Position pushes of linked keys: one authenticated ccxt.pro client per account whose venue
streams its positions (Binance USDⓈ-M/COIN-M user data, OKX ``positions``, Bybit
``position``), handing every change to the monitor without waiting for a poll.

The REST poll stays the slow truth (docs/streaming.md#position-pushes): a push only moves positions
earlier, and the next poll overwrites whatever it said.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import ccxt.pro as ccxtpro  # type: ignore[import-untyped]
from ccxt.base.errors import AuthenticationError, PermissionDenied  # type: ignore[import-untyped]

from bot.exchanges import Credentials, ExchangeHub, apply_prefix
from bot.exchanges.factory import shared_ssl_context
from bot.exchanges.urls import apply_ws_prefix
from bot.exchanges.venues import spec_for
from bot.stream.client import EXPECTED
from bot.stream.records import Backoff

log = logging.getLogger(__name__)

#: No REST snapshot when a client starts: the poll already read the positions, and a snapshot
#: per client would spend the venue's budget on every reconnect of every account.
_NO_SNAPSHOT = {
    "watchPositions": {"fetchPositionsSnapshot": False, "awaitPositionsSnapshot": False}
}
#: Venues whose private stream pushes position changes through ccxt's ``watch_positions``.
PUSH_VENUES: dict[str, Mapping[str, Any]] = {
    # ACCOUNT_UPDATE on the user-data stream; ccxt opens and keeps alive the listen key
    # (POST then PUT every 20 min; Binance expires one after 60 min without).
    "binanceusdm": _NO_SNAPSHOT,
    "binancecoinm": _NO_SNAPSHOT,
    # The private ``positions`` channel: the REST record's fields, on every change.
    "okx": _NO_SNAPSHOT,
    # v5 private ``position``: the REST position-list fields, on every change.
    "bybit": _NO_SNAPSHOT,
}
#: A key the venue rejects is retried this rarely (the poll marks the account auth_failed).
REJECTED_RETRY_S = 300.0

#: Gets an account's changed positions (ccxt's unified records, as the venue pushed them).
OnPositions = Callable[[int, list[dict[str, Any]]], Awaitable[object]]
#: An account's decrypted keys, read when its client starts (never kept beside the client).
Keys = Callable[[int], Awaitable[Credentials]]


@dataclass(frozen=True)
class PushStatus:
    """The position pushes, for operators: accounts followed, connected, failing."""

    followed: int
    connected: int
    failing: int
    pushes: int


class PositionStreams:
    """One client per followed account; ``run`` until cancelled (clients closed on the way out).

    ``follow`` says which accounts (id → venue) to follow; accounts on venues without a
    position stream are ignored. Every push goes to ``on_positions``, awaited in the account's
    own task (so one account's pushes are applied in order).
    """

    def __init__(
        self,
        hub: ExchangeHub,
        on_positions: OnPositions,
        keys: Keys,
        *,
        ws_prefix: str | None = None,
        backoff_s: float = 1.0,
        backoff_cap_s: float = 60.0,
    ) -> None:
        self.hub, self.on_positions, self.keys, self.ws_prefix = hub, on_positions, keys, ws_prefix
        self.backoff_s, self.backoff_cap_s = backoff_s, backoff_cap_s
        self._wanted: dict[int, str] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._connected: set[int] = set()
        self._failing: set[int] = set()
        self.pushes = 0
        self._running = False

    def follow(self, accounts: Mapping[int, str]) -> Mapping[int, str]:
        """Follow exactly those of these accounts (id → venue) whose venue pushes positions;
        others' clients are closed. Returns the accounts followed."""
        self._wanted = {a: v for a, v in accounts.items() if v in PUSH_VENUES}
        if not self._running:
            return dict(self._wanted)
        for account_id in [a for a in self._tasks if a not in self._wanted]:
            self._tasks.pop(account_id).cancel()
            self._connected.discard(account_id)
            self._failing.discard(account_id)
        for account_id, venue in self._wanted.items():
            if account_id not in self._tasks:
                self._start(account_id, venue)
        return dict(self._wanted)

    def status(self) -> PushStatus:
        return PushStatus(len(self._wanted), len(self._connected), len(self._failing), self.pushes)

    async def run(self) -> None:
        """Follow until cancelled; every client is closed on the way out."""
        self._running = True
        try:
            self.follow(self._wanted)
            await asyncio.Event().wait()
        finally:
            self._running = False
            tasks, self._tasks = list(self._tasks.values()), {}
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, account_id: int, venue: str) -> None:
        task = asyncio.create_task(self._follow(account_id, venue), name=f"push:{account_id}")
        self._tasks[account_id] = task

    async def _follow(self, account_id: int, venue: str) -> None:
        """Keep one account's client streaming through drops, with a capped backoff."""
        backoff = Backoff(self.backoff_s, self.backoff_cap_s)
        while True:
            try:
                await self._session(account_id, venue, backoff)
                delay = backoff.next()
            except (AuthenticationError, PermissionDenied):
                # Before EXPECTED: both are ccxt errors, but a rejected key is not a drop.
                log.warning("account %s: %s refused its position stream", account_id, venue)
                delay = REJECTED_RETRY_S
            except EXPECTED as exc:
                # The type only: ccxt's messages may carry the listen key in a URL.
                log.info("account %s: position stream dropped (%s)", account_id, type(exc).__name__)
                delay = backoff.next()
            except Exception:
                log.exception("account %s: the position stream crashed", account_id)
                delay = backoff.next()
            finally:
                self._connected.discard(account_id)
            self._failing.add(account_id)
            await asyncio.sleep(delay)

    async def _session(self, account_id: int, venue: str, backoff: Backoff) -> None:
        public = await self.hub.public(venue)
        exchange = self._build(venue, await self.keys(account_id))
        try:
            exchange.set_markets_from_exchange(public)
            while True:
                positions = await exchange.watch_positions()
                self._connected.add(account_id)
                self._failing.discard(account_id)
                backoff.reset()
                if isinstance(positions, list) and positions:
                    self.pushes += 1
                    await self.on_positions(account_id, _sized(exchange, positions))
        finally:
            try:
                await exchange.close()
            except Exception as exc:  # closing must not hide why the session ended
                log.debug("closing account %s's stream client: %s", account_id, type(exc))

    def _build(self, venue: str, keys: Credentials) -> Any:
        """A ccxt.pro instance holding the account's keys, its REST (the listen key) and
        websocket URLs behind the hub's prefixes."""
        options = {**spec_for(venue).options, **PUSH_VENUES[venue]}
        config: dict[str, Any] = {
            "enableRateLimit": False,  # two listen-key calls an hour; the hub paces the rest
            "options": options,
            "apiKey": keys.api_key,
            "secret": keys.secret,
        }
        if keys.passphrase:
            config["password"] = keys.passphrase
        exchange = getattr(ccxtpro, venue)(config)
        exchange.ssl_context = shared_ssl_context()
        exchange.timeout = int(self.hub.timeout_s * 1000)
        apply_prefix(exchange, self.hub.url_prefix)
        apply_ws_prefix(exchange, self.ws_prefix)
        return exchange


def _sized(exchange: Any, positions: list[Any]) -> list[dict[str, Any]]:
    """ccxt's pushed records with the market's contract size where the push has none
    (Binance's): a COIN-M contract is 100 USD, not one coin."""
    out = []
    for position in positions:
        record = dict(position)
        market = (exchange.markets or {}).get(record.get("symbol"))
        if record.get("contractSize") is None and isinstance(market, dict):
            record["contractSize"] = market.get("contractSize")
        out.append(record)
    return out
