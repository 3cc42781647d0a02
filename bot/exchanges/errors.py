"""Exchange failures as states: classify ccxt errors into safe, typed ``ExchangeFailure`` values."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import aiohttp
import ccxt.async_support as ccxt  # type: ignore[import-untyped]

from bot.errors import UserError

FailureKind = Literal["auth", "proxy", "network", "exchange", "malformed"]
T = TypeVar("T")

#: Longest wait we honour from a Retry-After header; beyond it the poll gives up this round.
MAX_RETRY_AFTER_S = 60.0

_AUTH = (ccxt.AuthenticationError,)
#: Proxy authentication required (407), network authentication required (511): a proxy or
#: gateway in front of the venue refused liqwatch, not the venue refusing the account's key.
#: ccxt calls both AuthenticationError; only the operator can fix them.
PROXY_STATUSES = frozenset({407, 511})
_MALFORMED = (ccxt.BadResponse, TypeError, KeyError, IndexError, ValueError, AttributeError)
_DESCRIPTIONS: dict[FailureKind, str] = {
    "auth": "rejected the credentials (invalid, revoked or lacking read permission)",
    "proxy": "could not be reached: a proxy in front of it refused liqwatch",
    "network": "could not be reached or kept failing",
    "exchange": "returned an error",
    "malformed": "sent a response liqwatch could not read",
}


class ExchangeFailure(Exception):
    """A venue call failed; ``kind`` says what to do, the message is safe to show and log.

    The message is built from the venue, the error class and the HTTP status only: never from
    ccxt's own text, which carries the signed URL, headers and sometimes the API key.
    """

    def __init__(
        self, kind: FailureKind, message: str, *, venue: str = "", status: int | None = None
    ):
        super().__init__(message)
        self.kind: FailureKind = kind
        self.venue = venue
        self.status = status

    def __repr__(self) -> str:
        return f"ExchangeFailure({self.kind!r}, {str(self)!r})"


class LinkRefused(UserError):
    """Linking an account was refused; the message tells the user what to change."""


class VenuePaused(Exception):
    """The venue's budget is paused (its Retry-After) for longer than a call should wait: the
    call fails at once, not sent, and is not retried (the pause outlasts any retry)."""

    def __init__(self, paused_s: float) -> None:
        super().__init__(f"paused for {paused_s:.0f} s")
        self.paused_s = paused_s


def retryable(exc: BaseException) -> bool:
    """Network errors, and any error answered with HTTP 429 or 5xx whatever ccxt made of it.

    ccxt maps a venue's own rate-limit body (Bybit, OKX) to ``ExchangeError`` when the JSON is
    not in the shape it expects; the status still says "later".
    """
    status = http_status(exc)
    if isinstance(exc, (*_AUTH, VenuePaused)) or status in PROXY_STATUSES:
        return False
    return isinstance(exc, ccxt.NetworkError) or status == 429 or (status or 0) >= 500


def rate_limited(exc: BaseException) -> bool:
    """The venue said "too many requests": HTTP 429, or 418 (Binance's IP ban), or what ccxt
    made of a venue's own code for it (Binance -1003 is RateLimitExceeded whatever the status).
    """
    return http_status(exc) in (418, 429) or isinstance(
        exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection
    )


def http_status(exc: BaseException) -> int | None:
    """The HTTP status the failed call got: from the response ccxt saw, or from aiohttp's own
    error when a forward proxy refused the connection before any venue response."""
    status = getattr(exc, "http_status", None)
    if status is None and isinstance(exc.__cause__, aiohttp.ClientResponseError):
        status = exc.__cause__.status
    return status if isinstance(status, int) else None


def kind_of(exc: BaseException) -> FailureKind:
    """Which state a raised exception puts the account in."""
    if http_status(exc) in PROXY_STATUSES:
        return "proxy"
    if isinstance(exc, _AUTH):
        return "auth"
    if retryable(exc) or isinstance(exc, VenuePaused):
        return "network"
    if isinstance(exc, _MALFORMED):
        return "malformed"
    return "exchange"


def as_failure(exc: BaseException, venue: str) -> ExchangeFailure:
    """A safe ``ExchangeFailure`` for ``exc`` raised while talking to ``venue``."""
    if isinstance(exc, ExchangeFailure):
        return exc
    kind = kind_of(exc)
    status = http_status(exc)
    detail = type(exc).__name__ + (f", HTTP {status}" if status else "")
    return ExchangeFailure(
        kind, f"{venue} {_DESCRIPTIONS[kind]} ({detail})", venue=venue, status=status
    )


def retry_after_s(
    value: str | None, *, now: float | None = None, cap_s: float = MAX_RETRY_AFTER_S
) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None
        seconds = when - (time.time() if now is None else now)
    return min(max(seconds, 0.0), cap_s)


def backoff(exc: BaseException, attempt: int, base_s: float) -> float:
    """The wait before retry ``attempt`` (0-based): Retry-After if given, else exponential."""
    hinted = retry_after_s(getattr(exc, "retry_after", None))
    return hinted if hinted is not None else base_s * (2**attempt)


async def with_retries(
    call: Callable[[], Awaitable[T]], *, venue: str, retries: int, backoff_s: float
) -> T:
    """Await ``call()``, retrying network errors; anything else becomes an ``ExchangeFailure``.

    A timeout is not retried: the request has already spent its cost and ``timeout_s`` (the
    venue may well have answered it, late), a slow venue is not sped up by asking again, and a
    retry would take budget from the polls waiting behind it — the account's next poll, seconds
    away when it is near risk, is the retry.

    Raised ``from None``: the ccxt exception (signed URL in its text) must not ride along in a
    logged traceback.
    """
    for attempt in range(retries + 1):
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            timed_out = isinstance(exc, ccxt.RequestTimeout)
            if not retryable(exc) or timed_out or attempt >= retries:
                raise as_failure(exc, venue) from None
            await asyncio.sleep(backoff(exc, attempt, backoff_s))
    raise AssertionError("unreachable")  # pragma: no cover
