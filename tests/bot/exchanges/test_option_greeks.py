"""ccxt's greeks of held options reach the snapshot best effort: few requests, cached briefly,
never failing or holding up a poll (bot/exchanges/greeks.py, market_data.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from bot.analysis.snapshot import parse
from bot.exchanges import ExchangeHub
from bot.exchanges.market_data import SIGMA_WAIT_S
from tests.bot.exchanges.conftest import link
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange import options as o

#: The request that reads greeks on each venue, and the books whose two options it answers.
GREEKS = {
    "deribit": "/api/v2/public/ticker",
    "okx": "/api/v5/public/opt-summary",
    "bybit": "/v5/market/tickers",
}
BOOKS = {
    "deribit": lambda: [o.deribit_option("C", 1.0), o.deribit_option("P", -1.0)],
    "okx": lambda: [o.okx_option("C", 100), o.okx_option("P", -100)],
    "bybit": lambda: [o.bybit_option("C", 1.0), o.bybit_option("P", -1.0)],
}
SYMBOLS = {"deribit": o.DERIBIT_SYMBOLS, "okx": o.OKX_SYMBOLS, "bybit": o.BYBIT_SYMBOLS}
#: Deribit answers one option a request; OKX one instrument family, Bybit one base coin.
PER_POLL = {"deribit": 2, "okx": 1, "bybit": 1}


@pytest.fixture
def now() -> list[float]:
    return [1000.0]


@pytest.fixture
async def hub(fake: FakeExchange, now: list[float]) -> AsyncIterator[ExchangeHub]:
    async with ExchangeHub(
        fake.url,
        rate_limit=False,
        backoff_s=0.01,
        clock=lambda: now[0],
        wall_clock=lambda: o.TAKEN_MS / 1000.0,
    ) as exchanges:
        yield exchanges


def _greeks_reads(fake: FakeExchange, venue: str) -> int:
    query = {"category": "option"} if venue == "bybit" else {}
    return fake.count(venue, GREEKS[venue], **query)


@pytest.mark.parametrize("venue", ["deribit", "okx", "bybit"])
async def test_greeks_are_read_once_per_family_and_cached_a_minute(
    fake: FakeExchange, hub: ExchangeHub, now: list[float], venue: str
) -> None:
    """Two options: one request per option on Deribit, one for both on OKX and Bybit; another
    poll and another account within the minute ask nothing; after it, the greeks are read
    again."""
    first = await hub.fetch_snapshot("a", venue, link(fake, venue, 1, positions=BOOKS[venue]()))
    assert set(first["greeks"]) == set(SYMBOLS[venue].values())
    assert _greeks_reads(fake, venue) == PER_POLL[venue]
    now[0] += 30.0
    await hub.fetch_snapshot("a", venue, link(fake, venue, 1, positions=BOOKS[venue]()))
    second = await hub.fetch_snapshot("b", venue, link(fake, venue, 2, positions=BOOKS[venue]()))
    assert second["greeks"] == first["greeks"]
    assert _greeks_reads(fake, venue) == PER_POLL[venue]
    now[0] += 31.0
    await hub.fetch_snapshot("a", venue, link(fake, venue, 1, positions=BOOKS[venue]()))
    await hub.settle()
    assert _greeks_reads(fake, venue) == 2 * PER_POLL[venue]


async def test_a_failing_greeks_endpoint_costs_only_the_greeks(
    fake: FakeExchange, hub: ExchangeHub, now: list[float]
) -> None:
    """opt-summary answers 500: the poll succeeds without "greeks" (one attempt, no retries),
    the call keeps its position's BS greeks, the put without any says its mark IV is missing;
    the next poll within the minute does not ask again."""
    fake.fail("okx", status=500, times=100, path=GREEKS["okx"])
    book = [o.okx_option("C", 100), o.okx_option("P", -100, greeks=False)]
    credentials = link(fake, "okx", positions=book)
    raw = await hub.fetch_snapshot("a", "okx", credentials)
    assert "greeks" not in raw and set(raw["markets"]) == set(o.OKX_SYMBOLS.values())
    assert _greeks_reads(fake, "okx") == 1
    positions = parse(raw).snapshot.positions
    call, put = (list(positions.symbol).index(o.OKX_SYMBOLS[k]) for k in "CP")
    assert positions.delta[call] == pytest.approx(0.531506, rel=2e-5)
    assert positions.greeks_source[call] == "venue"
    assert any("mark IV" in d for d in positions.diagnostics[put])
    now[0] += 30.0
    await hub.fetch_snapshot("a", "okx", credentials)
    assert _greeks_reads(fake, "okx") == 1


async def test_a_slow_greeks_read_holds_a_poll_briefly_and_serves_the_next(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Deribit's ticker stalls: the poll waits about SIGMA_WAIT_S for an option's first greeks
    and goes on without them; once the read ends, the next poll has them."""
    fake.stall("deribit", 3.0, path=GREEKS["deribit"], times=2)
    credentials = link(fake, "deribit", positions=BOOKS["deribit"]())
    started = time.monotonic()
    raw = await hub.fetch_snapshot("a", "deribit", credentials)
    assert SIGMA_WAIT_S * 0.9 <= time.monotonic() - started < 2.5
    assert "greeks" not in raw
    fake.release()
    await hub.settle()
    raw = await hub.fetch_snapshot("a", "deribit", credentials)
    assert set(raw["greeks"]) == set(o.DERIBIT_SYMBOLS.values())
    assert _greeks_reads(fake, "deribit") == 2
