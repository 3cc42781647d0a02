"""Fixtures: the fake exchange, a hub pointed at it, and linked accounts on every venue."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.exchanges import Credentials, ExchangeHub
from tests.engine.normalise.payloads.hyperliquid import ADDRESS
from tests.fakes.exchange import FakeExchange

SECRET = "SECRET-sentinel-123"
PASSPHRASE = "PASSPHRASE-sentinel-456"
KEY_VENUES = ("binanceusdm", "binancecoinm", "bybit", "okx", "deribit")
VENUES = (*KEY_VENUES, "hyperliquid")


def link(fake: FakeExchange, venue: str, n: int = 0, **account: object) -> Credentials:
    """Register account ``n`` on ``venue`` with the fake and return its credentials."""
    if venue == "hyperliquid":
        address = ADDRESS if n == 0 else f"0x{n:040x}"
        fake.add_wallet(address, **account)  # type: ignore[arg-type]
        return Credentials.wallet(address)
    key = f"KEY-{venue}-{n}"
    passphrase = PASSPHRASE if venue == "okx" else None
    fake.add_account(venue, api_key=key, secret=SECRET, passphrase=passphrase, **account)  # type: ignore[arg-type]
    return Credentials(key, SECRET, passphrase)


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange() as server:
        yield server


@pytest.fixture
async def hub(fake: FakeExchange) -> AsyncIterator[ExchangeHub]:
    async with ExchangeHub(fake.url, rate_limit=False, backoff_s=0.01) as exchanges:
        yield exchanges
