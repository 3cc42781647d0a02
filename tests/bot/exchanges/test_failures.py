"""Exchange failures become states: retried when transient, typed, and never leak a secret."""

from __future__ import annotations

import time

import aiohttp
import ccxt.async_support as ccxt  # type: ignore[import-untyped]
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from bot.exchanges import Credentials, ExchangeFailure, ExchangeHub
from bot.exchanges.errors import MAX_RETRY_AFTER_S, retry_after_s
from bot.exchanges.errors import as_failure as classify
from tests.bot.exchanges.conftest import KEY_VENUES, PASSPHRASE, SECRET, VENUES, link
from tests.fakes.exchange import FakeExchange

#: Each venue's own rate-limit answer (status, body).
RATE_LIMITED = {
    "binanceusdm": (429, '{"code":-1003,"msg":"Too many requests; current limit is 2400."}'),
    "binancecoinm": (429, '{"code":-1003,"msg":"Too many requests; current limit is 2400."}'),
    "bybit": (429, '{"retCode":10006,"retMsg":"Too many visits!","result":{},"time":1}'),
    "okx": (429, '{"msg":"Too Many Requests","code":"50011"}'),
    "hyperliquid": (429, "null"),
    "deribit": (429, '{"jsonrpc":"2.0","error":{"message":"too_many_requests","code":10028}}'),
}


async def snapshot_failure(
    hub: ExchangeHub, venue: str, credentials: Credentials
) -> ExchangeFailure:
    with pytest.raises(ExchangeFailure) as raised:
        await hub.fetch_snapshot("acct", venue, credentials)
    return raised.value


@pytest.mark.parametrize("venue", VENUES)
async def test_a_5xx_then_success_is_retried(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """Two 503s, then the venue answers: the poll succeeds without the caller noticing."""
    credentials = link(fake, venue)
    await hub.fetch_snapshot("acct", venue, credentials)
    fake.fail(venue, status=503, body="Service Unavailable", times=2)
    snapshot = await hub.fetch_snapshot("acct", venue, credentials)
    assert snapshot["positions"]
    assert all(f.times == 0 for f in fake.failures)


async def test_persistent_5xx_is_a_network_failure(fake: FakeExchange, hub: ExchangeHub) -> None:
    """500 on every attempt: 1 + retries requests, then ExchangeFailure("network")."""
    credentials = link(fake, "bybit")
    await hub.fetch_snapshot("acct", "bybit", credentials)
    before = fake.count("bybit")
    fake.fail("bybit", status=500, times=100)
    failure = await snapshot_failure(hub, "bybit", credentials)
    assert failure.kind == "network"
    assert failure.status == 500
    assert "bybit" in str(failure)
    assert fake.count("bybit") - before == 1 + hub.retries


@pytest.mark.parametrize("venue", VENUES)
async def test_429_is_retried_after_retry_after(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """The venue's own 429 with Retry-After: the retry waits that long, then succeeds."""
    credentials = link(fake, venue)
    await hub.fetch_snapshot("acct", venue, credentials)
    status, body = RATE_LIMITED[venue]
    fake.fail(venue, status=status, body=body, retry_after=0.3, times=1)
    started = time.monotonic()
    await hub.fetch_snapshot("acct", venue, credentials)
    assert time.monotonic() - started >= 0.3  # backoff_s is 0.01: only Retry-After waits this long


@pytest.mark.parametrize(
    ("venue", "body"),
    [(v, ('{"code": 0, "data": [', "<html>busy</html>")[n % 2]) for n, v in enumerate(VENUES)],
)
async def test_malformed_json_is_malformed(
    fake: FakeExchange, hub: ExchangeHub, venue: str, body: str
) -> None:
    """A 200 whose body is not JSON is not retried and fails as "malformed"."""
    credentials = link(fake, venue)
    await hub.fetch_snapshot("acct", venue, credentials)
    fake.fail(venue, status=200, body=body, times=100)
    before = fake.count(venue)
    failure = await snapshot_failure(hub, venue, credentials)
    assert failure.kind == "malformed"
    assert fake.count(venue) - before == 1


@pytest.mark.parametrize("venue", KEY_VENUES)
async def test_a_revoked_key_is_an_auth_failure(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """The venue's own auth error (after revoking the key) is "auth", not retried."""
    credentials = link(fake, venue)
    await hub.fetch_snapshot("acct", venue, credentials)
    fake.revoke(credentials.api_key)
    before = fake.count(venue)
    failure = await snapshot_failure(hub, venue, credentials)
    assert failure.kind == "auth"
    assert fake.count(venue) - before == 1


@pytest.mark.parametrize("venue", VENUES)
async def test_a_proxy_refusing_us_is_a_proxy_failure_not_an_auth_one(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """407 Proxy Authentication Required (ccxt: AuthenticationError) is "proxy": the operator's
    problem, not the account's key; not retried, and the message says the proxy refused."""
    credentials = link(fake, venue)
    await hub.fetch_snapshot("acct", venue, credentials)
    fake.fail(venue, status=407, body="Proxy Authentication Required", times=99)
    before = fake.count(venue)
    refused = await snapshot_failure(hub, venue, credentials)
    assert (refused.kind, refused.status) == ("proxy", 407)
    assert "proxy" in str(refused) and "credentials" not in str(refused)
    assert fake.count(venue) - before == 1


def test_a_forward_proxy_refusing_the_tunnel_is_a_proxy_failure() -> None:
    """aiohttp's 407 from a forward proxy (no venue response at all), wrapped by ccxt."""
    info = aiohttp.RequestInfo(
        URL("https://fapi.binance.com"), "GET", CIMultiDictProxy(CIMultiDict())
    )
    cause = aiohttp.ClientHttpProxyError(info, (), status=407, message="Proxy Auth Required")
    wrapped = ccxt.ExchangeError("binanceusdm GET https://fapi.binance.com/fapi/v1/x")
    wrapped.__cause__ = cause
    refused = classify(wrapped, "binanceusdm")
    assert (refused.kind, refused.status) == ("proxy", 407)
    assert "fapi" not in str(refused)


async def test_no_secret_in_any_failure(fake: FakeExchange, hub: ExchangeHub) -> None:
    """Messages and reprs of every failure kind carry no key, secret, passphrase or signature."""
    failures: list[ExchangeFailure] = []
    for venue in KEY_VENUES:
        credentials = link(fake, venue)
        await hub.fetch_snapshot(venue, venue, credentials)
        for status, body in ((500, "boom"), (200, "{"), (400, '{"code":-1,"msg":"?"}')):
            fake.fail(venue, status=status, body=body, times=100)
            failures.append(await snapshot_failure(hub, venue, credentials))
            fake.failures.clear()
        fake.revoke(credentials.api_key)
        failures.append(await snapshot_failure(hub, venue, credentials))
    assert {f.kind for f in failures} == {"network", "malformed", "exchange", "auth"}
    for failure in failures:
        for text in (str(failure), repr(failure), str(failure.args)):
            for secret in ("KEY-", SECRET, PASSPHRASE, "signature", "sig=", "127.0.0.1", "http"):
                assert secret not in text
        assert failure.__cause__ is None and failure.__suppress_context__


async def test_requests_carry_the_secret_only_as_a_signature(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """The fake sees the key (headers) but never the secret itself: it only signs."""
    await hub.fetch_snapshot("acct", "binanceusdm", link(fake, "binanceusdm"))
    private = [r for r in fake.requests if "signature" in r.query]
    assert private and all(r.headers.get("X-MBX-APIKEY") == "KEY-binanceusdm-0" for r in private)
    assert not any(SECRET in f"{r.url} {r.headers} {r.body}" for r in fake.requests)


def test_retry_after_accepts_seconds_and_http_dates_and_caps() -> None:
    """Retry-After as delta seconds or an HTTP date; garbage ignored; long waits capped."""
    assert retry_after_s("2") == 2.0
    assert retry_after_s("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after_s("soon") is None and retry_after_s(None) is None
    assert retry_after_s("86400") == MAX_RETRY_AFTER_S
