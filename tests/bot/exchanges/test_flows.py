"""``ExchangeHub.fetch_flows`` with the real ccxt against the fake venues: whole windows across
full pages, whichever order the venue lists them in, in the trader's sign convention."""

from __future__ import annotations

import json

import pytest

from bot.exchanges import Credentials, ExchangeFailure, ExchangeHub
from bot.exchanges.flows import reported
from tests.bot.exchanges.conftest import link
from tests.fakes.exchange import FakeExchange

T0 = 1_717_000_000_000
MIN = 60_000
HOUR = 3_600_000


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
    assert reported("kraken") == () and "transfer" not in reported("deribit")
    creds = link(fake, "deribit")
    assert await hub.fetch_flows("d", "deribit", creds, "transfer", since_ms=0, until_ms=1) == []
    assert fake.count("deribit") == 0  # a kind the venue has no list of costs no request
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


async def test_hyperliquid_funding_sharing_the_zero_hash_is_read_whole(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Every userFunding entry has the hash 0x00…0 (ccxt's id): a payment is its time and coin.
    Six coins paid together each hour for 100 hours fill more than one 500-entry page, and the
    page edge repeats an hour: each payment is read once."""
    creds = link(fake, "hyperliquid")
    address = creds.wallet_address or ""
    coins = ("BTC", "ETH", "ATOM", "MATIC", "DYDX", "SOL")
    served = [
        fake.add_flow(address, "funding", f"{coin}/USDC:USDC", -0.01 * (1 + n % 7), T0 + h * HOUR)
        for h in range(100)
        for n, coin in enumerate(coins)
    ]
    flows = await hub.fetch_flows(
        "h", "hyperliquid", creds, "funding", since_ms=T0, until_ms=T0 + 100 * HOUR
    )
    assert len(flows) == 600 and fake.count("hyperliquid", "userFunding") == 2
    assert sum(f.amount for f in flows) == pytest.approx(sum(f.amount for f in served))
    coin = {f"{c}/USDC:USDC": c for c in coins}
    assert {f.ref for f in flows} == {
        f"fetch_funding_history:{s.at_ms}:{coin[s.symbol]}" for s in served
    }


async def test_binance_realised_pnl_keeps_its_row_beside_a_commission_of_its_tran_id(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """A trade's REALIZED_PNL and COMMISSION rows share a tranId (unique per income type only):
    the realised row is kept under tranId and type, and the commission counts nowhere."""
    creds = link(fake, "binanceusdm")
    fake.add_flow(creds.api_key, "realised", "BTC/USDT:USDT", 80.0, T0, ref="4480321991774044580")
    fake.add_flow(creds.api_key, "commission", "BTC/USDT:USDT", -0.4, T0, ref="4480321991774044580")
    fake.add_flow(
        creds.api_key, "funding", "BTC/USDT:USDT", -1.0, T0 + MIN, ref="4480321991774044580"
    )
    window = {"since_ms": T0, "until_ms": T0 + HOUR}
    realised = await hub.fetch_flows("a", "binanceusdm", creds, "realised", **window)
    funding = await hub.fetch_flows("a", "binanceusdm", creds, "funding", **window)
    assert [(f.ref, f.amount) for f in realised] == [
        ("fetch_funding_history:4480321991774044580:REALIZED_PNL", 80.0)
    ]
    assert [(f.ref, f.amount) for f in funding] == [
        ("fetch_funding_history:4480321991774044580:FUNDING_FEE", -1.0)
    ]


async def test_refs_already_unique_on_their_venue_stay_as_stored(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Hyperliquid fills keep their tid, Bybit funding its execId and closed PnL its orderId:
    rows stored before keep matching what a re-read finds."""
    wallet, bybit = link(fake, "hyperliquid"), link(fake, "bybit")
    fill = fake.add_flow(wallet.wallet_address or "", "realised", "SOL/USDC:USDC", 3.0, T0)
    paid = fake.add_flow(bybit.api_key, "funding", "BTC/USDT:USDT", -1.0, T0, ref="e-1")
    closed = fake.add_flow(bybit.api_key, "realised", "BTC/USDT:USDT", 9.0, T0, ref="o-1")
    window = {"since_ms": T0, "until_ms": T0 + HOUR}
    [hl] = await hub.fetch_flows("h", "hyperliquid", wallet, "realised", **window)
    [funding] = await hub.fetch_flows("b", "bybit", bybit, "funding", **window)
    [realised] = await hub.fetch_flows("b", "bybit", bybit, "realised", **window)
    assert hl.ref == f"fetch_my_trades:{fill.ref}"  # the fake's tid is the ref
    assert funding.ref == f"fetch_funding_history:{paid.ref}"
    assert realised.ref == f"fetch_positions_history:{closed.ref}"


async def test_income_of_a_type_not_asked_for_is_no_flow(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """An answer listing every income type though one was asked for (what Binance sends when
    ``incomeType`` is left out): only the asked type's rows are flows of that kind."""
    creds = link(fake, "binanceusdm")
    row = {"symbol": "BTCUSDT", "asset": "USDT", "info": "", "time": T0, "tradeId": "9"}
    rows = [
        {**row, "incomeType": "REALIZED_PNL", "income": "80.0", "tranId": 77},
        {**row, "incomeType": "COMMISSION", "income": "-0.4", "tranId": 77},
        {**row, "incomeType": "FUNDING_FEE", "income": "-1.0", "tranId": 78},
    ]
    fake.fail("binanceusdm", status=200, body=json.dumps(rows), path="/income")
    flows = await hub.fetch_flows(
        "a", "binanceusdm", creds, "realised", since_ms=T0, until_ms=T0 + HOUR
    )
    assert [(f.ref, f.amount) for f in flows] == [("fetch_funding_history:77:REALIZED_PNL", 80.0)]
