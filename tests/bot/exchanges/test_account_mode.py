"""The account's margin mode through the monitor (issue 19, bot/exchanges/account_mode.py):
real ccxt against the fake exchange reads OKX's account/config ``acctLv`` and Bybit's
v5/account/info ``marginMode``, the hub merges it into the balance, and the engine takes the
venue's own ratio on portfolio margin (docs/risk.md#pm-ratio).

The accounts, by hand:

    OKX multi-currency margin: adjEq 50,000 USD, mmr 5,000 USD, mgnRatio 4 (OKX states
    adjusted equity / maintenance). The engine's ratio is 5,000 / 50,000 = 10 %; on portfolio
    margin (acctLv 4) the venue's is 1 / 4 = 25 %.
    Bybit unified: totalMarginBalance 50,000, totalMaintenanceMargin 5,000 (10 %), accountMMRate
    0.3: on PORTFOLIO_MARGIN the venue's ratio is 30 %.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.analysis.snapshot import parse
from bot.exchanges import Credentials, ExchangeHub
from bot.exchanges.account_mode import AccountModes
from engine.analysis import Analysis, analyze
from tests.bot.exchanges.conftest import link
from tests.engine.normalise.payloads import greeks as g
from tests.engine.normalise.payloads import okx as po
from tests.fakes.clock import FakeClock
from tests.fakes.exchange import FakeExchange

CONFIG = "/api/v5/account/config"
INFO = "/v5/account/info"
MODE_PATH = {"okx": CONFIG, "bybit": INFO}
PM = {"okx": {"acctLv": "4"}, "bybit": {"marginMode": "PORTFOLIO_MARGIN"}}
REGULAR = {"okx": {"acctLv": "2"}, "bybit": {"marginMode": "REGULAR_MARGIN"}}
VENUE_RATIO = {"okx": 0.25, "bybit": 0.3}
ENGINE_RATIO = 0.1
#: ccxt's Bybit reads v5/account/info itself once per instance, on its first private call, for
#: the unified-account flags it keeps (not the margin mode): not liqwatch's reads.
CCXT_READS = {"okx": 0, "bybit": 1}


def _served(balance: dict[str, Any], merged: str) -> dict[str, Any]:
    """The venue's raw answer behind a balance of the engine's tests (payloads/greeks.py),
    without the mode those merged into it: the mode is what the hub must read."""
    return {key: value for key, value in balance["info"].items() if key != merged}


def okx_balance() -> dict[str, Any]:
    """account/balance in multi-currency margin: adjEq 50,000, mmr 5,000, mgnRatio 4."""
    return _served(g.okx_balance("", "4"), "acctLv")


def bybit_balance() -> dict[str, Any]:
    """v5/account/wallet-balance of a unified account whose accountMMRate (30 %) is not its
    maintenance / margin balance (10 %), so the test can tell which one was used."""
    return _served(g.bybit_balance(""), "marginMode")


BALANCE = {"okx": okx_balance, "bybit": bybit_balance}
#: The USDT swap each account holds (OKX's shares the multi-currency "USD" pool).
POOL = {"okx": "USD", "bybit": "USD"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def hub(fake: FakeExchange, clock: FakeClock) -> AsyncIterator[ExchangeHub]:
    """The hub on a clock the test moves: the mode's ten minutes pass at once."""
    async with ExchangeHub(fake.url, rate_limit=False, backoff_s=0.01, clock=clock) as exchanges:
        yield exchanges


def _link(fake: FakeExchange, venue: str, settings: dict[str, str], **account: Any) -> Credentials:
    positions = [po.okx_raw()] if venue == "okx" else None  # Bybit's defaults hold a USDT swap
    account = {"positions": positions, "balance": BALANCE[venue](), **account}
    return link(fake, venue, settings=settings, **account)


async def _analysed(
    hub: ExchangeHub, venue: str, credentials: Credentials
) -> tuple[dict[str, Any], Analysis]:
    """One poll, parsed and analysed as the monitor does (bot/monitor/poller.py)."""
    raw = await hub.fetch_snapshot(f"{venue}-pm", venue, credentials)
    loaded = parse(raw, source=f"{venue} account")
    return raw, analyze(loaded.snapshot, volatility=loaded.volatility, horizon_hours=24.0)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.exchanges.account_mode"]


def _pm_notes(analysis: Analysis) -> list[str]:
    return [n for n in analysis.portfolio.diagnostics if "portfolio margin" in n]


@pytest.mark.parametrize("venue", ["okx", "bybit"])
async def test_a_portfolio_margin_account_takes_the_venues_ratio(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """OKX acctLv 4: the USD pool's ratio is 1 / mgnRatio = 25 %; Bybit PORTFOLIO_MARGIN:
    accountMMRate = 30 %; not the 10 % the balance's maintenance gives; with the note."""
    raw, analysis = await _analysed(hub, venue, _link(fake, venue, PM[venue]))
    key, value = next(iter(PM[venue].items()))
    assert raw["balance"]["info"][key] == value
    assert analysis.snapshot.account.portfolio_margin == {"USD"}
    ratio = analysis.portfolio.pool_margin_ratio[POOL[venue]]
    assert ratio == pytest.approx(VENUE_RATIO[venue])
    percent = f"{VENUE_RATIO[venue] * 100:.1f}%"
    assert _pm_notes(analysis) == [
        f"USD is on portfolio margin: its margin ratio is the venue's own maintenance / "
        f"equity, {percent}"
    ]


@pytest.mark.parametrize("venue", ["okx", "bybit"])
async def test_a_regular_account_keeps_the_engines_ratio(
    fake: FakeExchange, hub: ExchangeHub, venue: str
) -> None:
    """The same balance on the venue's regular mode: maintenance / margin balance, 10 %."""
    raw, analysis = await _analysed(hub, venue, _link(fake, venue, REGULAR[venue]))
    key, value = next(iter(REGULAR[venue].items()))
    assert raw["balance"]["info"][key] == value
    assert analysis.snapshot.account.portfolio_margin == frozenset()
    assert analysis.portfolio.pool_margin_ratio[POOL[venue]] == pytest.approx(ENGINE_RATIO)
    assert _pm_notes(analysis) == []


@pytest.mark.parametrize("venue", ["okx", "bybit"])
async def test_the_mode_is_read_once_in_ten_minutes(
    fake: FakeExchange, hub: ExchangeHub, clock: FakeClock, venue: str
) -> None:
    """Read on the first poll; a switch to portfolio margin on the venue's site is not asked
    for again within ten minutes (the polls keep the mode read), and is seen after them."""
    credentials = _link(fake, venue, REGULAR[venue])
    _, first = await _analysed(hub, venue, credentials)
    asked = fake.count(venue, MODE_PATH[venue])
    assert asked == 1 + CCXT_READS[venue]
    fake.accounts[credentials.api_key].settings.update(PM[venue])
    for _ in range(3):
        clock.now += 150.0
        _, later = await _analysed(hub, venue, credentials)
        assert later.snapshot.account.portfolio_margin == frozenset()
    assert fake.count(venue, MODE_PATH[venue]) == asked
    clock.now += 150.0  # 600 s since the first read
    _, switched = await _analysed(hub, venue, credentials)
    assert fake.count(venue, MODE_PATH[venue]) == asked + 1
    assert switched.portfolio.pool_margin_ratio[POOL[venue]] == pytest.approx(VENUE_RATIO[venue])
    assert first.portfolio.pool_margin_ratio[POOL[venue]] == pytest.approx(ENGINE_RATIO)


@pytest.mark.parametrize("venue", ["okx", "bybit"])
async def test_the_mode_read_is_charged_to_the_keys_budget(
    fake: FakeExchange, hub: ExchangeHub, clock: FakeClock, venue: str
) -> None:
    """An account holding nothing, so a poll after the first sends only the key's own
    requests (no tiers, funding, σ or greeks): the key's minute costs ccxt's cost of the mode
    endpoint more on the poll that reads it than on one that does not."""
    credentials = _link(fake, venue, REGULAR[venue], positions=[])
    await hub.fetch_snapshot("a", venue, credentials)
    clock.now += 61.0  # the first poll's requests (markets, the mode) leave the minute
    await hub.fetch_snapshot("a", venue, credentials)
    without = hub.rest_use(venue)
    clock.now += 600.0
    await hub.fetch_snapshot("a", venue, credentials)
    with_mode = hub.rest_use(venue)
    assert fake.count(venue, MODE_PATH[venue]) == 2 + CCXT_READS[venue]
    assert without is not None and with_mode is not None and not with_mode.per_ip
    public = await hub.public(venue)
    path = MODE_PATH[venue].removeprefix("/api/v5/").removeprefix("/")
    cost = public.api["private"]["get"][path]["cost"]  # ccxt's: OKX 4, Bybit 5
    assert cost > 1
    assert with_mode.per_minute - without.per_minute == pytest.approx(cost)


#: What each venue's mode endpoint answers when it fails: OKX a 500, Bybit an answer without
#: ``marginMode``.
FAILURES = {
    "okx": {"status": 500, "body": "Internal Server Error"},
    "bybit": {"status": 200, "body": '{"retCode": 0, "retMsg": "OK", "result": {}}'},
}


@pytest.mark.parametrize("venue", ["okx", "bybit"])
async def test_a_failing_mode_read_never_fails_the_poll(
    fake: FakeExchange,
    hub: ExchangeHub,
    clock: FakeClock,
    venue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The endpoint fails from the first poll: the poll succeeds without a mode (the engine's
    ratio), the read is not retried within the poll, and the failure is logged once while
    it lasts; tried again a minute later."""
    fake.fail(venue, path=MODE_PATH[venue], times=100, **FAILURES[venue])  # type: ignore[arg-type]
    credentials = _link(fake, venue, PM[venue])
    with caplog.at_level(logging.WARNING, logger="bot.exchanges.account_mode"):
        raw, analysis = await _analysed(hub, venue, credentials)
        assert next(iter(PM[venue])) not in raw["balance"]["info"]
        assert analysis.portfolio.pool_margin_ratio[POOL[venue]] == pytest.approx(ENGINE_RATIO)
        asked = fake.count(venue, MODE_PATH[venue])
        assert asked == 1 + CCXT_READS[venue]
        await _analysed(hub, venue, credentials)
        assert fake.count(venue, MODE_PATH[venue]) == asked  # not asked again within the minute
        clock.now += 61.0
        await _analysed(hub, venue, credentials)
        assert fake.count(venue, MODE_PATH[venue]) == asked + 1
    warnings = _warnings(caplog)
    assert len(warnings) == 1
    assert venue in warnings[0] and "with none" in warnings[0]
    assert credentials.api_key not in warnings[0]


@pytest.mark.parametrize("venue", ["okx", "bybit"])
async def test_a_failing_refresh_keeps_the_last_mode_read(
    fake: FakeExchange,
    hub: ExchangeHub,
    clock: FakeClock,
    venue: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Portfolio margin read on the first poll; ten minutes later the endpoint fails: the
    poll goes on with the venue's ratio, and says so once in the log."""
    credentials = _link(fake, venue, PM[venue])
    await _analysed(hub, venue, credentials)
    clock.now += 600.0
    fake.fail(venue, path=MODE_PATH[venue], times=100, **FAILURES[venue])  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="bot.exchanges.account_mode"):
        for _ in range(2):
            raw, analysis = await _analysed(hub, venue, credentials)
            assert raw["balance"]["info"][next(iter(PM[venue]))] == next(iter(PM[venue].values()))
            ratio = analysis.portfolio.pool_margin_ratio[POOL[venue]]
            assert ratio == pytest.approx(VENUE_RATIO[venue])
            clock.now += 61.0
    # The success, then one a minute.
    assert fake.count(venue, MODE_PATH[venue]) == 3 + CCXT_READS[venue]
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and "the last one read" in warnings[0]


async def test_a_dropped_account_reads_its_mode_again(fake: FakeExchange, hub: ExchangeHub) -> None:
    """Unlinked (or its key replaced, maybe by another account's): the next poll under that
    key reads the mode anew rather than trust the old account's."""
    credentials = _link(fake, "okx", PM["okx"])
    await hub.fetch_snapshot("a", "okx", credentials)
    await hub.drop("a")
    await hub.fetch_snapshot("a", "okx", credentials)
    assert fake.count("okx", CONFIG) == 2


@pytest.mark.parametrize("venue", ["deribit", "binanceusdm", "hyperliquid"])
async def test_other_venues_read_no_mode(venue: str) -> None:
    """Deribit's summaries carry margin_model themselves; Binance and Hyperliquid have no
    portfolio margin the engine reads: nothing is asked (no reader needed), nothing merged."""
    modes = AccountModes(clock=FakeClock())
    assert await modes.fields("a", venue, reader=None) == {}
    balance = {"info": {"x": 1}, "total": {}}
    assert AccountModes.merge(balance, {}) is balance


def test_a_merged_mode_never_overrides_the_venues_own_field() -> None:
    """Should a balance payload state the mode itself, the venue's word stands; ccxt's parsed
    balance is not changed in place."""
    balance = {"info": {"code": "0", "acctLv": "3"}, "total": {}}
    merged = AccountModes.merge(balance, {"acctLv": "4", "other": "x"})
    assert merged["info"] == {"code": "0", "acctLv": "3", "other": "x"}
    assert balance["info"] == {"code": "0", "acctLv": "3"}
