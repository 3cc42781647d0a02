"""REST budget use (``ExchangeHub.rest_use``): every request the venue sees is counted at its
published weight (ccxt's cost where bot/exchanges/weights.py does not list the venue) over
the last minute, shared by all accounts where the venue limits per IP, per key
where it limits per key (docs/streaming.md, "Poll budget")."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.exchanges import ExchangeHub
from bot.exchanges.meter import Meter
from tests.bot.exchanges.conftest import link
from tests.fakes.clock import FakeClock
from tests.fakes.exchange import FakeExchange


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def metered(fake: FakeExchange, clock: FakeClock) -> AsyncIterator[ExchangeHub]:
    async with ExchangeHub(fake.url, rate_limit=False, backoff_s=0.01, clock=clock) as hub:
        yield hub


def test_a_meter_sums_the_last_minute_only(clock: FakeClock) -> None:
    meter = Meter(clock)
    meter.add(2)
    clock.now += 30
    meter.add(5)
    assert meter.per_minute() == 7
    clock.now += 31  # the first is 61 s old
    assert meter.per_minute() == 5
    clock.now += 30
    assert meter.per_minute() == 0


async def test_hyperliquid_polls_cost_what_the_venue_counts(
    fake: FakeExchange, metered: ExchangeHub
) -> None:
    """Each /info request counts at its published weight (clearinghouseState 2, the metadata
    reads and candles 20: bot/exchanges/weights.py, not ccxt's 10 and 4) against 1,200 a
    minute, the IP's limit: the same sum the fake venue counted."""
    wallets = [link(fake, "hyperliquid", n) for n in range(3)]
    for n, wallet in enumerate(wallets):
        await metered.fetch_snapshot(f"w{n}", "hyperliquid", wallet)
    await metered.settle()
    types = [r.json().get("type") for r in fake.requests if r.venue == "hyperliquid"]
    use = metered.rest_use("hyperliquid")
    assert use is not None and use.per_ip and use.limit == 1200
    assert types.count("clearinghouseState") >= 3
    assert use.per_minute == pytest.approx(fake.weights.totals["hyperliquid"])
    assert use.per_minute > 2 * types.count("clearinghouseState") + 10 * (len(types) - 3)


async def test_binance_usdm_polls_cost_what_binance_counts(
    fake: FakeExchange, metered: ExchangeHub
) -> None:
    """positionRisk and account V3 weigh 5 each on Binance (ccxt says 1) against 2,400 a
    minute: the hub's sum is the fake venue's."""
    for n in range(3):
        await metered.fetch_snapshot(f"a{n}", "binanceusdm", link(fake, "binanceusdm", n))
    await metered.settle()
    use = metered.rest_use("binanceusdm")
    assert use is not None and use.per_ip and use.limit == 2400
    assert use.per_minute == pytest.approx(fake.weights.totals["binanceusdm"])


async def test_a_hyperliquid_history_pays_its_length_once_answered(
    fake: FakeExchange, metered: ExchangeHub
) -> None:
    """A ledger read returning 45 funding payments weighs 20 + 2 (one more per 20 entries):
    charged 20 before it is sent, the 2 when the answer's length is known."""
    wallet = link(fake, "hyperliquid", 0)
    for n in range(45):
        fake.add_flow(
            wallet.wallet_address or "", "funding", "BTC/USDC:USDC", -0.5, 1_717_000_000_000 + n
        )
    await metered.public("hyperliquid")
    before = metered.rest_use("hyperliquid")
    spent_before = 0.0 if before is None else before.per_minute
    found = await metered.fetch_flows(
        "w0", "hyperliquid", wallet, "funding", since_ms=1_716_900_000_000,
        until_ms=1_717_100_000_000,
    )  # fmt: skip
    assert len(found) == 45
    use = metered.rest_use("hyperliquid")
    assert use is not None
    assert use.per_minute - spent_before == pytest.approx(22.0)
    assert use.per_minute == pytest.approx(fake.weights.totals["hyperliquid"])


async def test_binance_accounts_add_up_on_the_ip_budget(
    fake: FakeExchange, metered: ExchangeHub
) -> None:
    """Binance limits weight per IP: every account's polls add to the one figure."""
    keys = [link(fake, "binanceusdm", n) for n in range(3)]
    for n, key in enumerate(keys):  # markets, tiers and brackets load on these
        await metered.fetch_snapshot(f"a{n}", "binanceusdm", key)
    await metered.settle()
    before = _spent(metered, "binanceusdm")
    await metered.fetch_snapshot("a0", "binanceusdm", keys[0])
    one = _spent(metered, "binanceusdm") - before
    for n, key in enumerate(keys[1:], start=1):
        await metered.fetch_snapshot(f"a{n}", "binanceusdm", key)
    assert one > 0
    assert _spent(metered, "binanceusdm") == pytest.approx(before + 3 * one)
    assert metered.rest_use("binanceusdm").per_ip  # type: ignore[union-attr]


async def test_bybit_shows_the_busiest_key_and_forgets_a_dropped_one(
    fake: FakeExchange, metered: ExchangeHub, clock: FakeClock
) -> None:
    """Bybit limits per key: more keys polling do not add up; the busiest key is shown."""
    keys = [link(fake, "bybit", n) for n in range(3)]
    await metered.fetch_snapshot("b0", "bybit", keys[0])
    await metered.settle()
    clock.now += 61  # the markets' load leaves the window: only polls remain
    for _ in range(3):
        await metered.fetch_snapshot("b0", "bybit", keys[0])
    busiest = _spent(metered, "bybit")
    for n, key in enumerate(keys[1:], start=1):
        await metered.fetch_snapshot(f"b{n}", "bybit", key)
    use = metered.rest_use("bybit")
    assert use is not None and not use.per_ip and use.limit == 60_000 / 20
    assert use.per_minute == pytest.approx(busiest) and busiest > 0
    await metered.drop("b0")
    assert 0 < _spent(metered, "bybit") < busiest


async def test_a_venue_not_read_yet_has_nothing_to_say(metered: ExchangeHub) -> None:
    assert metered.rest_use("okx") is None


def _spent(hub: ExchangeHub, venue: str) -> float:
    use = hub.rest_use(venue)
    assert use is not None
    return use.per_minute
