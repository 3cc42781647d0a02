"""Build ccxt instances that report HTTP status and Retry-After on their errors."""

from __future__ import annotations

import functools
import ssl
from contextvars import ContextVar
from typing import Any

import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import certifi

from bot.exchanges import weights
from bot.exchanges.budget import MAX_PAUSE_S, Budget
from bot.exchanges.credentials import Credentials
from bot.exchanges.errors import rate_limited, retry_after_s
from bot.exchanges.meter import Meter, cost_of
from bot.exchanges.urls import apply_prefix
from bot.exchanges.venues import exchange_class, spec_for

#: The attribute of an instance holding its ``Meter`` (set by the hub).
METER = "liqwatch_meter"
#: The attribute of an instance holding the ``Budget`` it spends (set by the hub).
BUDGET = "liqwatch_budget"
#: (status, headers) of the last response seen by the current task; read when a call fails.
_RESPONSE: ContextVar[tuple[int, Any] | None] = ContextVar("liqwatch_ccxt_response", default=None)


class _Observed:
    """Mixin over a ccxt class: tags errors with ``http_status``/``retry_after``, rejects non-JSON.

    ccxt raises from inside ``fetch`` after ``on_rest_response`` saw the response, in the same
    task, so a context variable carries the status safely across concurrent requests.
    """

    def on_rest_response(self, code: Any, reason: Any, url: Any, method: Any, *rest: Any) -> Any:
        _RESPONSE.set((int(code), rest[0] if rest else {}))
        return super().on_rest_response(code, reason, url, method, *rest)  # type: ignore[misc]

    async def fetch2(
        self,
        path: Any,
        api: Any = None,
        method: Any = "GET",
        params: Any = None,
        config: Any = None,
    ) -> Any:
        """Every REST request: paid for on the instance's budget before it is sent, counted on
        its meter (``hub.rest_use``), and a 429/418 slows and pauses that budget — every
        instance spending it — not only this one."""
        api = ["public"] if api is None else api
        params = {} if params is None else params
        config = {} if config is None else config
        cost = cost_of(self, api, method, path, params, config)
        budget: Budget | None = getattr(self, BUDGET, None)
        sent_at = await budget.acquire(cost) if budget is not None else 0.0
        meter: Meter | None = getattr(self, METER, None)
        if meter is not None:
            meter.add(cost)
        try:
            result = await super().fetch2(path, api, method, params, config)  # type: ignore[misc]
        except Exception as exc:
            if budget is not None and rate_limited(exc):
                # Retry-After from this request's own response (``_annotate``): the instance's
                # last_response_headers may be another concurrent request's.
                wait_s = retry_after_s(getattr(exc, "retry_after", None), cap_s=MAX_PAUSE_S)
                budget.throttled(sent_at, wait_s)
            raise
        # Weight the venue adds for what it returned (Hyperliquid's histories): paid after.
        extra = weights.extra(getattr(self, "id", ""), path, params, result)
        if extra > 0:
            if budget is not None:
                budget.debit(extra)
            if meter is not None:
                meter.add(extra)
        return result

    async def fetch(
        self, url: str, method: str = "GET", headers: Any = None, body: Any = None
    ) -> Any:
        _RESPONSE.set(None)
        try:
            result = await super().fetch(url, method, headers, body)  # type: ignore[misc]
        except Exception as exc:
            _annotate(exc)
            raise
        if not isinstance(result, dict | list):
            malformed = ccxt.BadResponse("response is not a JSON object or array")
            _annotate(malformed)
            raise malformed
        return result


def _annotate(exc: Exception) -> None:
    seen = _RESPONSE.get()
    if seen is None:
        return
    status, headers = seen
    exc.http_status = status  # type: ignore[attr-defined]
    lowered = {str(k).lower(): v for k, v in dict(headers or {}).items()}
    exc.retry_after = lowered.get("retry-after")  # type: ignore[attr-defined]


@functools.cache
def observed_class(venue: str) -> Any:
    """``venue``'s ccxt class with the ``_Observed`` mixin (one subclass per venue)."""
    cls = exchange_class(venue)
    if cls is None:
        raise KeyError(venue)
    return type(cls.__name__, (_Observed, cls), {})


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every instance: ccxt would load the CA bundle per instance (~30 ms)."""
    return ssl.create_default_context(cafile=certifi.where())


def _build(venue: str, config: dict[str, Any], prefix: str | None) -> Any:
    exchange = observed_class(venue)(config)
    exchange.ssl_context = shared_ssl_context()
    apply_prefix(exchange, prefix)
    return exchange


def _config(venue: str, rate_limit: bool) -> dict[str, Any]:
    """``rate_limit``: ccxt's own per-instance throttle. The hub turns it off on every instance
    it builds, since its shared ``Budget`` paces them: ccxt's FIFO queue behind it would only
    add a second wait, undo the budget's priority order, and charge requests whose caller gave
    up while they waited."""
    return {"enableRateLimit": rate_limit, "options": dict(spec_for(venue).options)}


def build_public(venue: str, *, prefix: str | None, rate_limit: bool) -> Any:
    """A credential-free instance for markets, tickers, tiers, OHLCV and wallet reads."""
    return _build(venue, _config(venue, rate_limit), prefix)


def build_private(
    venue: str, credentials: Credentials, *, prefix: str | None, rate_limit: bool
) -> Any:
    """An instance holding one account's API key. Never a wallet private key."""
    config = _config(venue, rate_limit)
    config.update(apiKey=credentials.api_key, secret=credentials.secret)
    if credentials.passphrase:
        config["password"] = credentials.passphrase
    if credentials.wallet_address:
        config["walletAddress"] = credentials.wallet_address
    return _build(venue, config, prefix)
