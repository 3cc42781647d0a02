"""The exchange hub: shared public instances per venue, one private instance per account."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Self, TypeVar

from bot.exchanges import clearinghouse, factory, flows, greeks, marks, validate, weights
from bot.exchanges.account_mode import AccountModes
from bot.exchanges.budget import Budget, Budgets, BudgetState, Priority, priority
from bot.exchanges.credentials import Credentials
from bot.exchanges.errors import ExchangeFailure, with_retries
from bot.exchanges.flight import Flights
from bot.exchanges.market_data import MarketData
from bot.exchanges.meter import Meters, RestUse
from bot.exchanges.reads import check_positions, nonempty, wallet_params
from bot.exchanges.tiers import RETRY_FAILED_S, Caller, TierCache
from bot.exchanges.venues import VenueSpec, exchange_class, spec_for

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class _Account:
    venue: str
    credentials: Credentials
    exchange: Any
    generation: int = -1


class ExchangeHub:
    """Every ccxt instance liqwatch uses, their markets and leverage tiers; close it when done.

    Markets load once per venue on the shared public instance and are handed to each account's
    private instance with ``set_markets_from_exchange`` (no HTTP). The first load is awaited
    (concurrent polls share it); after ``markets_ttl_s`` one reload runs in the background while
    polls go on with the loaded markets (a failed reload is tried again after
    ``retry_failed_s``). Network errors retry with exponential backoff (or Retry-After).

    Every request waits for its venue's ``Budget`` (``budgets``, one per IP or per key as the
    venue limits it) at the priority of the caller's ``budget.priority`` context; with
    ``rate_limit`` off (tests) the default budgets do not pace, but a 429 still pauses them.

    ``clock`` times caches and reloads; ``wall_clock`` (POSIX seconds) stamps each snapshot
    with when its positions were read, from which an option's time to expiry runs.
    """

    def __init__(
        self,
        url_prefix: str | None = None,
        *,
        rate_limit: bool = True,
        retries: int = 3,
        backoff_s: float = 0.5,
        markets_ttl_s: float = 86400.0,
        retry_failed_s: float = RETRY_FAILED_S,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        budgets: Budgets | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.url_prefix = url_prefix
        #: Each HTTP request's time limit (ccxt's own default is 10 s).
        self.timeout_s = timeout_s
        self.rate_limit = rate_limit
        self.retries = retries
        self.backoff_s = backoff_s
        self.markets_ttl_s = markets_ttl_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._public: dict[str, Any] = {}
        self.retry_failed_s = retry_failed_s
        #: When each venue's markets are due for a reload (absent: never loaded).
        self._reload_at: dict[str, float] = {}
        self._generation: dict[str, int] = {}
        self._loads: Flights[str] = Flights()
        self._accounts: dict[str, _Account] = {}
        self._tiers = TierCache(ttl_s=markets_ttl_s, clock=clock, retry_s=retry_failed_s)
        self._market_data = MarketData(clock=clock)
        self._modes = AccountModes(clock=clock)
        self._meters = Meters(clock)
        # Their own clock: a budget waits in real time, whatever clock a test gives the TTLs.
        self._budgets = Budgets(pace=rate_limit) if budgets is None else budgets
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ lifecycle
    def instances(self) -> list[Any]:
        """Every open ccxt instance (public ones first)."""
        return [*self._public.values(), *(a.exchange for a in self._accounts.values())]

    def account_keys(self) -> list[str]:
        """The keys of the accounts holding a private instance (their decrypted keys)."""
        return list(self._accounts)

    async def settle(self) -> None:
        """Until the reads running in the background (markets, tiers, σ, funding) have ended."""
        await self._loads.settle()
        await self._tiers.settle()
        await self._market_data.settle()

    async def close(self) -> None:
        """Close every instance; the hub refuses further calls."""
        self._closed = True
        await self._loads.close()
        await self._tiers.close()
        await self._market_data.close()
        self._budgets.close()
        live = self.instances()
        self._public.clear()
        self._accounts.clear()
        await asyncio.gather(*(ex.close() for ex in live), return_exceptions=True)

    async def drop(self, account_key: str) -> None:
        """Close one account's private instance (unlink, or credentials changed)."""
        account = self._accounts.pop(account_key, None)
        self._modes.forget(account_key)
        if account is not None:
            self._meters.forget(account.venue, account_key)
            self._budgets.forget(account.venue, account_key)
            await account.exchange.close()

    # ------------------------------------------------------------------ calls
    async def call(self, venue: str, fn: Callable[[], Awaitable[T]]) -> T:
        """``fn()`` with the hub's retry policy; failures become ``ExchangeFailure``."""
        return await with_retries(fn, venue=venue, retries=self.retries, backoff_s=self.backoff_s)

    async def public(self, venue: str) -> Any:
        """The shared public instance of ``venue`` with markets loaded and fresh."""
        exchange = self._public_instance(venue)
        await self._markets(venue, exchange)
        return exchange

    def _public_instance(self, venue: str) -> Any:
        """The shared public instance of ``venue``, built if need be (no request)."""
        if self._closed:
            raise RuntimeError("the exchange hub is closed")
        exchange = self._public.get(venue)
        if exchange is None:
            if exchange_class(venue) is None:
                raise ExchangeFailure("exchange", f"{venue[:40]} is not a venue liqwatch knows")
            # ccxt's own throttle off: the budget paces (``factory._config`` says why).
            exchange = factory.build_public(venue, prefix=self.url_prefix, rate_limit=False)
            exchange.timeout = int(self.timeout_s * 1000)
            setattr(exchange, factory.METER, self._meters.get(venue, None))
            setattr(exchange, factory.BUDGET, self._budget(venue, None, exchange))
            self._public[venue] = exchange
        return exchange

    def _budget(self, venue: str, key: str | None, exchange: Any) -> Budget:
        """The budget ``key``'s instance spends: the venue's own where the venue limits per
        IP (and a wallet venue's, read on the public instance), else the key's."""
        spec = spec_for(venue)
        per_ip = spec.limit_per_ip or spec.wallet
        return self._budgets.get(
            venue,
            None if per_ip else key,
            per_minute=60_000.0 / float(exchange.rateLimit),
            per_ip=per_ip,
        )

    def budgets(self, venues: Iterable[str] | None = None) -> list[BudgetState]:
        """Each venue's REST budget: its limit, current pace, pause and queue by priority.
        ``None``: the venues read so far; else ``venues``' (set up without a request, so it
        can be shown at start-up). Unknown venues are left out."""
        if venues is not None:
            known = [v for v in dict.fromkeys(venues) if exchange_class(v) is not None]
            for venue in known:
                self._public_instance(venue)
            return self._budgets.describe(known)
        return self._budgets.describe()

    async def _markets(self, venue: str, exchange: Any) -> None:
        """Awaits the first load (shared by concurrent callers); starts a due reload in the
        background and returns at once: a slow or failing reload delays no poll."""
        due = self._reload_at.get(venue)
        if due is not None and self._clock() < due:
            return
        if not self._loads.flying(venue):
            reload = due is not None
            self._loads.start([venue], functools.partial(self._load, venue, exchange, reload))
        if due is None:
            await self._loads.join(venue)

    async def _load(self, venue: str, exchange: Any, reload: bool) -> None:
        try:
            await self.call(venue, lambda: exchange.load_markets(reload))
        except ExchangeFailure as failure:
            if not reload:
                raise
            log.warning("%s: markets refresh failed, keeping the old ones (%s)", venue, failure)
            self._reload_at[venue] = self._clock() + self.retry_failed_s
            return
        self._reload_at[venue] = self._clock() + self.markets_ttl_s
        self._generation[venue] = self._generation.get(venue, 0) + 1

    async def _private(self, key: str, venue: str, credentials: Credentials, public: Any) -> Any:
        account = self._accounts.get(key)
        if account is not None and (account.venue, account.credentials) != (venue, credentials):
            await self.drop(key)
            account = None
        if account is None:
            exchange = factory.build_private(
                venue, credentials, prefix=self.url_prefix, rate_limit=False
            )
            exchange.timeout = int(self.timeout_s * 1000)
            per_ip = spec_for(venue).limit_per_ip
            setattr(exchange, factory.METER, self._meters.get(venue, None if per_ip else key))
            setattr(exchange, factory.BUDGET, self._budget(venue, key, exchange))
            account = self._accounts[key] = _Account(venue, credentials, exchange)
        if account.generation != self._generation[venue]:
            account.exchange.set_markets_from_exchange(public)
            account.generation = self._generation[venue]
        return account.exchange

    @asynccontextmanager
    async def probe(self, venue: str, credentials: Credentials) -> AsyncIterator[Any]:
        """A throw-away private instance with markets set (for validation); closed on exit."""
        public = await self.public(venue)
        exchange = factory.build_private(
            venue, credentials, prefix=self.url_prefix, rate_limit=False
        )
        exchange.timeout = int(self.timeout_s * 1000)
        exchange.set_markets_from_exchange(public)
        if spec_for(venue).limit_per_ip:  # the key's own budget is not the service's concern
            setattr(exchange, factory.METER, self._meters.get(venue, None))
            setattr(exchange, factory.BUDGET, getattr(public, factory.BUDGET))
        try:
            yield exchange
        finally:
            await exchange.close()

    # ------------------------------------------------------------------ snapshots
    async def _reader(
        self, account_key: str, venue: str, credentials: Credentials
    ) -> tuple[Any, Any, dict[str, Any]]:
        """(public instance, the instance that reads the account, params every account call
        carries): a wallet venue reads by address on the public instance."""
        public = await self.public(venue)
        if spec_for(venue).wallet:
            return public, public, wallet_params(venue, credentials)
        return public, await self._private(account_key, venue, credentials, public), {}

    async def fetch_snapshot(
        self, account_key: str, venue: str, credentials: Credentials
    ) -> dict[str, Any]:
        """One account's ``liqwatch analyze`` input: exchange, positions, balance, tiers, the
        time the positions were read ("timestamp", ms), the held options' "markets" (omitted
        when none), and (best effort, omitted when unknown) volatility, funding_rates and the
        options' "greeks"; OKX's and Bybit's balance carries the account's mode
        (``AccountModes``)."""
        spec = spec_for(venue)
        public, reader, params = await self._reader(account_key, venue, credentials)
        balance: Any = None
        if spec.clearinghouse:  # one request for both
            positions, balance = await self.call(
                venue, functools.partial(clearinghouse.read, reader, params)
            )
            check_positions(venue, positions)
        else:
            positions = await self._positions(venue, spec, reader, params)
        taken_ms = round(self._wall_clock() * 1000.0)
        symbols = [str(p.get("symbol")) for p in positions]
        # σ, funding and greeks are public and best effort: fetched while the account calls run,
        # and abandoned if they fail (the poll fails on those, not on market data).
        extras = asyncio.create_task(self._market_data.extras(venue, public, symbols))
        mode = asyncio.create_task(self._modes.fields(account_key, venue, reader))
        try:
            balance, tiers = await self._account_data(
                venue, spec, public, reader, params, symbols, balance
            )
        except BaseException:
            extras.cancel()
            mode.cancel()
            raise
        return {
            "exchange": venue,
            "positions": positions,
            "balance": AccountModes.merge(balance, await mode),
            "leverage_tiers": tiers,
            "timestamp": taken_ms,
            **nonempty("markets", greeks.option_markets(public, symbols)),
            **await extras,
        }

    async def _account_data(
        self,
        venue: str,
        spec: VenueSpec,
        public: Any,
        reader: Any,
        params: dict[str, Any],
        symbols: list[str],
        balance: Any = None,
    ) -> tuple[Any, Any]:
        """Balance (unless read already), then the leverage tiers of ``symbols``."""
        if balance is None:
            balance = await self.call(
                venue, lambda: reader.fetch_balance({**spec.balance_params, **params})
            )
        if not (isinstance(balance, dict) and isinstance(balance.get("info"), dict | list)):
            raise ExchangeFailure("malformed", f"{venue} sent a balance liqwatch could not read")
        tiers = await self._tiers.get(
            venue, symbols, spec.tiers, self._call_for(venue), public, reader
        )
        return balance, tiers

    def _call_for(self, venue: str) -> Caller:
        return lambda fn: self.call(venue, fn)

    async def _positions(
        self, venue: str, spec: VenueSpec, reader: Any, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        positions: list[dict[str, Any]] = []
        for extra in spec.positions_params:
            found = await self.call(
                venue, functools.partial(reader.fetch_positions, None, {**extra, **params})
            )
            positions.extend(check_positions(venue, found))
        return positions

    async def fetch_flows(
        self,
        account_key: str,
        venue: str,
        credentials: Credentials,
        kind: flows.FlowKind | tuple[flows.FlowKind, ...],
        *,
        since_ms: int,
        until_ms: int,
    ) -> list[flows.Flow]:
        """The account's flows of ``kind`` (or of several kinds one call lists together,
        ``flows.groups``) in the window (``flows.reported(venue)`` says which kinds a venue
        has; an empty list for the others). Read at background priority: a ledger read,
        however long its backfill, never delays a poll."""
        kinds = (kind,) if isinstance(kind, str) else kind
        kinds = tuple(k for k in kinds if k in flows.reported(venue))
        if not kinds:
            return []
        with priority(Priority.BACKGROUND):
            _, reader, params = await self._reader(account_key, venue, credentials)
            return await flows.fetch(
                reader,
                venue,
                kinds,
                params,
                since_ms=since_ms,
                until_ms=until_ms,
                call=self._call_for(venue),
            )

    async def fetch_marks(self, venue: str, symbols: Collection[str]) -> dict[str, float]:
        """The mark price of each of ``symbols`` over REST on the shared public instance: one
        request per group the venue answers at once (usually one: a market type, or Deribit's
        currency). A symbol the venue does not list, or sends no finite positive mark for, is
        left out; a failed request raises ``ExchangeFailure``."""
        public = await self.public(venue)
        found: dict[str, float] = {}
        for group in marks.groups(venue, public.markets, symbols):
            tickers = await self.call(venue, functools.partial(marks.fetch, venue, public, group))
            if not isinstance(tickers, dict):
                raise ExchangeFailure("malformed", f"{venue} sent marks liqwatch could not read")
            for symbol in group:
                mark = marks.mark_of(venue, tickers.get(symbol))
                if mark is not None:
                    found[symbol] = mark
        return found

    def rest_use(self, venue: str) -> RestUse | None:
        """How much of ``venue``'s REST budget the last minute spent (``None``: no request)."""
        public = self._public.get(venue)
        if public is None:
            return None
        spec = spec_for(venue)
        per_ip = spec.limit_per_ip or spec.wallet  # a wallet venue reads on the public instance
        # The venue's published limit where the meters count its published weights.
        published = weights.limit_per_minute(venue)
        rate_limit_ms = 60_000.0 / published if published else float(public.rateLimit)
        return self._meters.use(venue, rate_limit_ms=rate_limit_ms, per_ip=per_ip)

    async def validate(self, venue: str, credentials: Credentials) -> list[str]:
        """Check credentials before linking: warnings, or ``LinkRefused`` with the reason."""
        return await validate.validate(self, venue, credentials)
