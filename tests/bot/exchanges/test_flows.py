"""``ExchangeHub.fetch_flows`` with the real ccxt against the fake venues: whole windows across
full pages, whichever order the venue lists them in, in the trader's sign convention."""

from __future__ import annotations

import pytest

from bot.exchanges import Credentials, ExchangeFailure, ExchangeHub
from bot.exchanges.flows import reported
from tests.bot.exchanges.conftest import link
from tests.fakes.exchange import FakeExchange

T0 = 1_717_000_000_000
MIN = 60_000


async def test_a_window_larger_than_a_page_is_read_whole_oldest_first_venue(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Binance lists income oldest first, 1000 a page: 2,300 closes come back, each once."""
    creds = link(fake, "binanceusdm")
    for i in range(2300):
        fake.add_flow(creds.api_key, "realised", "BTC/USDT:USDT", 1.0 + i % 3, T0 + i * MIN)
    flows = await hub.fetch_flows(
        "a", "binanceusdm", creds, "realised", since_ms=T0, until_ms=T0 + 3000 * MIN
    )
    assert len(flows) == 2300 and len({f.ref for f in flows}) == 2300
    assert sum(f.amount for f in flows) == pytest.approx(sum(1.0 + i % 3 for i in range(2300)))
    assert [f.at for f in flows] == sorted(f.at for f in flows)
    assert fake.count("binanceusdm", "income") == 3


async def test_a_newest_first_venue_pages_backwards(fake: FakeExchange, hub: ExchangeHub) -> None:
    """Bybit answers a window with its newest rows: paging must move the window's end back,
    or everything older than one page is lost. Funding is a fee there (+ = paid)."""
    creds = link(fake, "bybit")
    for i in range(230):
        fake.add_flow(creds.api_key, "funding", "ETH/USDT:USDT", -0.5, T0 + i * MIN)
    fake.add_flow(creds.api_key, "funding", "BTC/USD:BTC", 0.0002, T0 + 5 * MIN)
    fake.add_flow(creds.api_key, "funding", "ETH/USDT:USDT", -99.0, T0 + 999 * MIN)  # after
    flows = await hub.fetch_flows(
        "b", "bybit", creds, "funding", since_ms=T0, until_ms=T0 + 500 * MIN
    )
    usdt = [f for f in flows if f.currency == "USDT"]
    btc = [f for f in flows if f.currency == "BTC"]
    assert len(usdt) == 230 and sum(f.amount for f in usdt) == pytest.approx(-115.0)
    assert [(f.symbol, f.amount) for f in btc] == [("BTC/USD:BTC", 0.0002)]


async def test_venues_without_flows_and_refused_keys(fake: FakeExchange, hub: ExchangeHub) -> None:
    assert reported("deribit") == () and reported("okx") == ()
    creds = link(fake, "deribit")
    assert await hub.fetch_flows("d", "deribit", creds, "funding", since_ms=0, until_ms=1) == []
    link(fake, "binanceusdm")
    wrong = Credentials("KEY-nobody", "secret")
    with pytest.raises(ExchangeFailure) as failure:
        await hub.fetch_flows("w", "binanceusdm", wrong, "funding", since_ms=T0, until_ms=T0 + 1)
    assert failure.value.kind == "auth" and "secret" not in str(failure.value)


async def test_a_full_page_of_opening_fills_does_not_end_the_read(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Hyperliquid's fills carry closedPnl 0 when they open a position: 2,000 of them fill a
    page with no flow in it, and the close after them must still be read."""
    creds = link(fake, "hyperliquid")
    address = creds.wallet_address or ""
    for i in range(2000):
        fake.add_flow(address, "realised", "SOL/USDC:USDC", 0.0, T0 + i * 1000)
    fake.add_flow(address, "realised", "SOL/USDC:USDC", 42.5, T0 + 3000 * 1000)
    flows = await hub.fetch_flows(
        "h", "hyperliquid", creds, "realised", since_ms=T0, until_ms=T0 + 4000 * 1000
    )
    assert [f.amount for f in flows] == [42.5]
