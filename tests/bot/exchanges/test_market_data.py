"""Snapshots carry realised σ and funding rates of the held symbols, cached and never fatal."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from bot.alerting.stage import AlertPipeline
from bot.exchanges import ExchangeHub
from bot.exchanges.market_data import CANDLES, TIMEFRAME, sigma_of
from engine.alerts.events import AlertNotice, from_payload
from engine.alerts.grammar import parse_rule
from engine.alerts.rules import Kind
from engine.volatility import periods_per_year, realised_volatility
from storage.rules import Rules
from tests.bot.exchanges.conftest import link
from tests.bot.monitor.conftest import make_world
from tests.engine.normalise.payloads import bybit as bybit_payloads
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange import binance as fake_binance
from tests.fakes.exchange import bybit as fake_bybit
from tests.fakes.exchange.base import daily_closes, funding_rate

#: The fake's market ids per unified symbol, and the requests that fetch σ and funding.
MARKETS = {"binanceusdm": fake_binance.markets("binanceusdm"), "bybit": fake_bybit.markets("")}
KLINES = {"binanceusdm": "/fapi/v1/klines", "bybit": "/v5/market/kline"}
FUNDING = {"binanceusdm": "/fapi/v1/premiumIndex", "bybit": "/v5/market/tickers"}


def _market_data_requests(fake: FakeExchange, venue: str) -> int:
    return fake.count(venue, KLINES[venue]) + fake.count(venue, FUNDING[venue])


@pytest.mark.parametrize("venue", ["binanceusdm", "bybit"])
async def test_snapshot_carries_the_fakes_sigma_and_funding(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """σ is the engine's realised volatility of the venue's 31 daily closes and funding is
    the venue's rate, for exactly the held symbols."""
    snapshot = await hub.fetch_snapshot("a", venue, link(fake, venue))
    held = {p["symbol"] for p in snapshot["positions"]}
    assert set(snapshot["volatility"]) == held == set(snapshot["funding_rates"])
    for symbol in held:
        closes = np.array(daily_closes(MARKETS[venue][symbol], CANDLES))
        expected = realised_volatility(closes, periods_per_year(TIMEFRAME))
        np.testing.assert_allclose(snapshot["volatility"][symbol], expected, rtol=1e-12)
        rate = funding_rate(MARKETS[venue][symbol])
        np.testing.assert_allclose(snapshot["funding_rates"][symbol], rate, rtol=1e-12)


@pytest.mark.parametrize("venue", ["binanceusdm", "bybit"])
async def test_a_second_poll_in_the_cache_window_fetches_no_market_data(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """Another poll (and another account of the venue) inside the TTLs reuses σ and funding:
    one kline request per held symbol and one funding request per subtype, once."""
    first = await hub.fetch_snapshot("a", venue, link(fake, venue, 1))
    sent = _market_data_requests(fake, venue)
    assert fake.count(venue, KLINES[venue]) == len(first["volatility"])
    second = await hub.fetch_snapshot("a", venue, link(fake, venue, 1))
    third = await hub.fetch_snapshot("b", venue, link(fake, venue, 2))
    assert _market_data_requests(fake, venue) == sent
    assert second["volatility"] == third["volatility"] == first["volatility"]
    assert second["funding_rates"] == first["funding_rates"]


async def test_failing_endpoints_leave_the_keys_out_and_are_tried_once(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """A 500 on klines and funding: the snapshot comes back without the keys, each request was
    sent once (no retries), and the next poll does not ask again right away."""
    fake.fail("binanceusdm", status=500, times=100, path=KLINES["binanceusdm"])
    fake.fail("binanceusdm", status=500, times=100, path=FUNDING["binanceusdm"])
    credentials = link(fake, "binanceusdm")
    snapshot = await hub.fetch_snapshot("a", "binanceusdm", credentials)
    assert snapshot["positions"] and snapshot["balance"]
    assert "volatility" not in snapshot and "funding_rates" not in snapshot
    symbols = len({p["symbol"] for p in snapshot["positions"]})
    assert fake.count("binanceusdm", KLINES["binanceusdm"]) == symbols
    assert fake.count("binanceusdm", FUNDING["binanceusdm"]) == 1
    before = len(fake.requests)
    await hub.fetch_snapshot("a", "binanceusdm", credentials)
    assert _market_data_requests(fake, "binanceusdm") == symbols + 1
    assert len(fake.requests) - before == 2  # positionRisk and account only


async def test_a_slow_sigma_read_delays_only_the_accounts_holding_the_symbol(
    fake: FakeExchange, hub: ExchangeHub
) -> None:
    """Candles of one symbol stalled for 5 s: an account without that symbol polls at once with
    its σ, while the holder's poll is still waiting."""
    fake.stall("bybit", 5.0, path=KLINES["bybit"], query={"symbol": "BTCUSD"})
    holder = asyncio.create_task(hub.fetch_snapshot("a", "bybit", link(fake, "bybit", 1)))
    async with asyncio.timeout(2.5):
        while not fake.count("bybit", KLINES["bybit"], symbol="BTCUSD"):
            await asyncio.sleep(0.01)
        linear = link(fake, "bybit", 2, positions=[bybit_payloads.bybit_raw()])
        quick = await hub.fetch_snapshot("b", "bybit", linear)
    assert not holder.done()
    assert set(quick["volatility"]) == {"BTC/USDT:USDT"}
    fake.release()  # the holder waited: no need to sit out the rest of the stall
    assert "BTC/USD:BTC" in (await holder)["volatility"]


@pytest.mark.parametrize("venue", ["okx", "deribit"])
async def test_venues_without_the_endpoints_still_poll(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """The fake has no candles or funding for these venues (404): the snapshot is whole."""
    snapshot = await hub.fetch_snapshot("a", venue, link(fake, venue))
    assert snapshot["positions"]
    assert "volatility" not in snapshot and "funding_rates" not in snapshot


async def test_no_positions_no_market_data(fake: FakeExchange, hub: ExchangeHub) -> None:
    """An empty account asks nothing of the venue's candles or funding."""
    snapshot = await hub.fetch_snapshot(
        "a", "binanceusdm", link(fake, "binanceusdm", 0, positions=())
    )
    assert snapshot["positions"] == []
    assert _market_data_requests(fake, "binanceusdm") == 0


def test_sigma_of_refuses_what_the_snapshot_schema_would_reject() -> None:
    """Too few, flat, non-positive or garbled closes give no σ rather than a failing poll."""
    assert sigma_of([[0, 1, 1, 1, 5.0, 1]] * 2) is None
    assert sigma_of([[0, 1, 1, 1, 5.0, 1]] * 10) is None  # σ = 0
    assert sigma_of([[0, 1, 1, 1, c, 1] for c in (1.0, -2.0, 3.0)]) is None
    assert sigma_of([[0, 1, 1, 1, None, 1]] * 5) is None
    assert sigma_of([[0, 1, 1, 1, c, 1] for c in (1.0, 1.1, 1.0)]) == pytest.approx(
        realised_volatility(np.array([1.0, 1.1, 1.0]), 365.0)
    )


async def test_a_funding_rule_fires_through_the_monitor(tmp_path: Path, fake: FakeExchange) -> None:
    """End to end: the fake's ETH funding (0.0325 %) trips ``funding>0.03% ETH`` in a real poll,
    and the notice reaches the outbox."""
    async for world in make_world(tmp_path, fake, alerts=AlertPipeline()):
        account = await world.link("binanceusdm")
        spec = parse_rule("funding>0.03% ETH")
        await Rules(world.db).add(world.owner_id, account.id, spec, now=time.time())
        event = await world.monitor.poll(account.id)
        assert event is not None and event.failure is None
        assert event.funding["ETH/USDT:USDT"] == pytest.approx(0.000325)
    with sqlite3.connect(tmp_path / "liqwatch.db") as conn:
        rows = conn.execute("SELECT payload_json FROM outbox").fetchall()
    conn.close()
    notices = [from_payload(json.loads(r[0])) for r in rows]
    items = [i for n in notices if isinstance(n, AlertNotice) for i in n.items]
    funding = [(i.symbol, i.status.value) for i in items if i.kind == Kind.FUNDING]
    assert funding == [("ETH/USDT:USDT", "firing")]


async def test_an_expired_sigma_is_served_at_once_while_it_is_refreshed(
    fake: FakeExchange,
) -> None:
    """Six hours on, σ is due again and the venue's candles are slow (5 s): the poll does not
    wait for them (not even the short wait of a symbol with no σ), it carries the σ it had,
    and the refresh is under way behind it."""
    now = [1000.0]
    async with ExchangeHub(fake.url, rate_limit=False, backoff_s=0.01, clock=lambda: now[0]) as hub:
        credentials = link(fake, "bybit", 1, positions=[bybit_payloads.bybit_raw()])
        first = await hub.fetch_snapshot("a", "bybit", credentials)
        asked = fake.count("bybit", KLINES["bybit"])
        now[0] += 6 * 3600.0 + 1.0
        fake.stall("bybit", 5.0, path=KLINES["bybit"])
        started = time.monotonic()
        again = await hub.fetch_snapshot("a", "bybit", credentials)
        assert time.monotonic() - started < 0.9  # below the 1 s wait for an unknown σ
        assert again["volatility"] == first["volatility"]
        await asyncio.sleep(0.05)
        assert fake.count("bybit", KLINES["bybit"]) == asked + 1
        fake.release()
