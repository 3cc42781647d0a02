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


def retryable(exc: BaseException) -> bool:
    """Network errors, and any error answered with HTTP 429 or 5xx whatever ccxt made of it.

    ccxt maps a venue's own rate-limit body (Bybit, OKX) to ``ExchangeError`` when the JSON is
    not in the shape it expects; the status still says "later".
    """
    status = http_status(exc)
    if isinstance(exc, _AUTH) or status in PROXY_STATUSES:
        return False
    return isinstance(exc, ccxt.NetworkError) or status == 429 or (status or 0) >= 500


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
    if retryable(exc):
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


def retry_after_s(value: str | None, *, now: float | None = None) -> float | None:
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
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def backoff(exc: BaseException, attempt: int, base_s: float) -> float:
    """The wait before retry ``attempt`` (0-based): Retry-After if given, else exponential."""
    hinted = retry_after_s(getattr(exc, "retry_after", None))
    return hinted if hinted is not None else base_s * (2**attempt)


async def with_retries(
    call: Callable[[], Awaitable[T]], *, venue: str, retries: int, backoff_s: float
) -> T:
    """Await ``call()``, retrying network errors; anything else becomes an ``ExchangeFailure``.

    Raised ``from None``: the ccxt exception (signed URL in its text) must not ride along in a
    logged traceback.
    """
    for attempt in range(retries + 1):
        try:
            return await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not retryable(exc) or attempt >= retries:
                raise as_failure(exc, venue) from None
            await asyncio.sleep(backoff(exc, attempt, backoff_s))
    raise AssertionError("unreachable")  # pragma: no cover
