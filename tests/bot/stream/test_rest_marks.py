"""``ExchangeHub.fetch_marks`` against the REST fake: the marks REST stands in with while a
stream is stale, one request per group the venue answers at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.exchanges import ExchangeFailure, ExchangeHub
from tests.bot.stream.conftest import Case, each_venue
from tests.fakes.exchange import FakeExchange


@pytest.fixture
async def rest() -> AsyncIterator[tuple[FakeExchange, ExchangeHub]]:
    async with (
        FakeExchange() as fake,
        ExchangeHub(fake.url, rate_limit=False, backoff_s=0.01) as hub,
    ):
        yield fake, hub


@each_venue
async def test_the_venues_mark_of_each_symbol(
    rest: tuple[FakeExchange, ExchangeHub], case: Case
) -> None:
    """Each symbol's mark as the venue publishes it: the one the REST fake was given; one
    request (Bybit: one per category, and the case's two are linear and inverse)."""
    fake, hub = rest
    await hub.public(case.venue)  # markets first: Hyperliquid loads them from the contexts too
    before = fake.count(case.venue, case.rest)
    fake.set_mark(case.venue, case.symbol, 1234.5)
    symbols = [s for s in (case.symbol, case.other) if s]
    marks = await hub.fetch_marks(case.venue, symbols)
    assert marks[case.symbol] == 1234.5
    assert sorted(marks) == sorted(symbols) and all(m > 0 for m in marks.values())
    assert fake.count(case.venue, case.rest) - before == (2 if case.venue == "bybit" else 1)


async def test_a_symbol_the_venue_does_not_list_is_left_out(
    rest: tuple[FakeExchange, ExchangeHub],
) -> None:
    """An unknown symbol is no error: the others are answered."""
    _, hub = rest
    marks = await hub.fetch_marks("okx", ["BTC/USDT:USDT", "DOGE/USDT:USDT"])
    assert list(marks) == ["BTC/USDT:USDT"]


async def test_bybit_reads_linear_and_inverse_in_one_request_each(
    rest: tuple[FakeExchange, ExchangeHub],
) -> None:
    """Bybit's tickers are per category: two symbols of two categories are two requests."""
    fake, hub = rest
    fake.set_mark("bybit", "BTC/USD:BTC", 61000.5)
    marks = await hub.fetch_marks("bybit", ["ETH/USDT:USDT", "BTC/USD:BTC", "XRP/USDT:USDT"])
    assert marks["BTC/USD:BTC"] == 61000.5 and len(marks) == 3
    assert fake.count("bybit", "/v5/market/tickers", category="linear") == 1
    assert fake.count("bybit", "/v5/market/tickers", category="inverse") == 1


async def test_deribit_reads_options_and_futures_of_a_currency_at_once(
    rest: tuple[FakeExchange, ExchangeHub],
) -> None:
    """One book summary of the currency answers its perpetual and its option alike."""
    fake, hub = rest
    fake.set_mark("deribit", "BTC/USD:BTC-250627-70000-C", 0.0525)
    option, perpetual = "BTC/USD:BTC-250627-70000-C", "BTC/USD:BTC"
    marks = await hub.fetch_marks("deribit", [option, perpetual])
    assert marks[option] == 0.0525 and marks[perpetual] > 0
    assert fake.count("deribit", "get_book_summary_by_currency") == 1


async def test_a_failing_venue_is_an_exchange_failure(
    rest: tuple[FakeExchange, ExchangeHub],
) -> None:
    """The venue keeps answering 503: the hub's retries end in an ``ExchangeFailure``."""
    fake, hub = rest
    await hub.public("okx")
    fake.fail("okx", status=503, times=10, path="mark-price")
    with pytest.raises(ExchangeFailure) as failed:
        await hub.fetch_marks("okx", ["BTC/USDT:USDT"])
    assert failed.value.kind == "network"
