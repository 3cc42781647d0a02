"""The ledger job with the real hub and ccxt against the fake venues: a day of realised PnL and
funding per account, in one sign convention, read incrementally, and gaps kept as gaps."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.digest import build as digest
from bot.digest import text as digest_text
from bot.monitor.ledger import LOOKBACK_S, OVERLAP_S, Ledger
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.flows import Flows, StoredFlow
from storage.migrate import load_migrations
from storage.users import Users
from tests.bot.monitor.conftest import World, make_world
from tests.engine.normalise.payloads.hyperliquid import ADDRESS
from tests.fakes.clock import FakeClock
from tests.fakes.exchange import FakeExchange
from tests.fakes.exchange.hyperliquid import ZERO_HASH

H_MS = 3_600_000
COINS = ("BTC", "ETH", "SOL")


def _ledger(world: World, clock: FakeClock) -> Ledger:
    return Ledger(world.db, world.hub, world.monitor.credentials, clock=clock)


async def _totals(world: World, account_id: int, kind: str) -> dict[str, float]:
    rows = await Flows(world.db).totals([account_id], since=0, until=time.time() + 3600)
    return {t.currency: round(t.amount, 10) for t in rows if t.kind == kind}


async def test_a_day_of_flows_from_each_venue_in_one_sign_convention(world: World) -> None:
    now_ms = int(time.time() * 1000)
    usdm = await world.link("binanceusdm")
    bybit = await world.link("bybit")
    hl = await world.link("hyperliquid")
    deribit = await world.link("deribit")
    fake = world.fake
    # Binance: income history, received is positive; one entry older than the first read.
    fake.add_flow("KEY-binanceusdm-0", "realised", "BTC/USDT:USDT", 250.0, now_ms - 2 * H_MS)
    fake.add_flow("KEY-binanceusdm-0", "realised", "ETH/USDT:USDT", -40.5, now_ms - H_MS)
    fake.add_flow("KEY-binanceusdm-0", "funding", "BTC/USDT:USDT", -3.25, now_ms - 8 * H_MS)
    fake.add_flow("KEY-binanceusdm-0", "funding", "BTC/USDT:USDT", -1000.0, now_ms - 30 * H_MS)
    # Bybit reports funding as a fee (positive = paid): liqwatch must flip it; linear and
    # inverse are separate categories, and the inverse one settles in BTC.
    fake.add_flow("KEY-bybit-0", "funding", "BTC/USDT:USDT", -2.0, now_ms - 4 * H_MS)
    fake.add_flow("KEY-bybit-0", "funding", "BTC/USD:BTC", 0.0001, now_ms - 4 * H_MS)
    fake.add_flow("KEY-bybit-0", "realised", "XRP/USDT:USDT", 12.0, now_ms - 3 * H_MS)
    fake.add_flow("KEY-bybit-0", "realised", "BTC/USD:BTC", -0.002, now_ms - 3 * H_MS)
    # Hyperliquid: userFunding and the closedPnl of fills, by wallet address.
    address = hl.wallet_address or ""
    fake.add_flow(address, "funding", "SOL/USDC:USDC", -0.75, now_ms - 6 * H_MS)
    fake.add_flow(address, "realised", "SOL/USDC:USDC", 31.5, now_ms - 5 * H_MS)

    clock = FakeClock(time.time())
    ledger = _ledger(world, clock)
    assert await ledger.sync_all() == 9

    assert await _totals(world, usdm.id, "realised") == {"USDT": 209.5}
    assert await _totals(world, usdm.id, "funding") == {"USDT": -3.25}
    assert await _totals(world, bybit.id, "funding") == {"USDT": -2.0, "BTC": 0.0001}
    # Bybit's realised PnL is the closes' price move (closedPnl is net of fees and funding,
    # read as their own lines): to the fake's 8-decimal entry and exit values.
    realised = await _totals(world, bybit.id, "realised")
    assert realised == pytest.approx({"USDT": 12.0, "BTC": -0.002}, abs=1e-7)
    assert await _totals(world, hl.id, "funding") == {"USDC": -0.75}
    assert await _totals(world, hl.id, "realised") == {"USDC": 31.5}
    coverage = await Flows(world.db).coverage([usdm.id, bybit.id, hl.id, deribit.id])
    assert {c.account_id for c in coverage} == {usdm.id, bybit.id, hl.id, deribit.id}
    assert all(c.covered_to - c.covered_from == pytest.approx(LOOKBACK_S) for c in coverage)

    # The digest of these accounts shows the day; every kind of each is read (a quiet day
    # of fees is "none", not "not available").
    built = await digest.build(world.db, [usdm, bybit, hl, deribit], {}, now=clock.now)
    text = digest_text.text(built)
    assert "Realised PnL, 24 h: -0.002 BTC · +31.50 USDC · +221.50 USDT" in text
    assert "Funding, 24 h: received 0.0001 BTC · paid 0.75 USDC · paid 5.25 USDT" in text
    assert "Fees, 24 h: none" in text and "not included" not in text


async def test_later_reads_start_where_the_last_one_ended(world: World) -> None:
    """Each read asks from the end of the previous one (less a small overlap for late entries):
    nothing is read twice into the sums, nothing new is missed."""
    usdm = await world.link("binanceusdm")
    clock = FakeClock(time.time())
    ledger = _ledger(world, clock)
    await ledger.sync_all()
    first_end = clock.now

    clock.now += 900
    world.fake.add_flow("KEY-binanceusdm-0", "funding", "SOL/USDT:USDT", -1.5,
                        int((first_end + 700) * 1000))  # fmt: skip
    world.fake.requests.clear()
    assert await ledger.sync_all() == 1
    starts = {int(r.query["startTime"]) for r in world.fake.requests if "income" in r.path}
    assert starts == {int((first_end - OVERLAP_S) * 1000)}
    assert await ledger.sync_all() == 0  # read 0 s ago: not due, no request
    clock.now += 900
    world.fake.requests.clear()
    assert await ledger.sync_all() == 0  # the overlap re-reads the flow: stored once
    # One income read a window for all four kinds (30 weight each): not one per kind.
    assert world.fake.count("binanceusdm", "income") == 1
    assert await _totals(world, usdm.id, "funding") == {"USDT": -1.5}


async def test_a_worker_reads_only_the_ledgers_of_the_accounts_it_holds(world: World) -> None:
    """With workers sharing a database each reads the ledgers of its leased accounts only (the
    monitor's ``holds``): three workers each reading every account's ledger read every key
    three times, through a ccxt client per account they do not even poll."""
    held = await world.link("binanceusdm")
    other = await world.link("bybit")
    ledger = _ledger(world, FakeClock(time.time()))
    ledger.holds = lambda: frozenset({held.id})
    await ledger.sync_all()
    covered = {c.account_id for c in await Flows(world.db).coverage([held.id, other.id])}
    assert covered == {held.id}
    assert world.fake.count("bybit", "execution") == 0

    ledger.holds = lambda: frozenset({held.id, other.id})  # the lease moved here
    await ledger.sync_all()
    covered = {c.account_id for c in await Flows(world.db).coverage([held.id, other.id])}
    assert covered == {held.id, other.id}


async def test_a_failed_read_is_a_gap_the_digest_names(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    usdm = await world.link("binanceusdm")
    world.fake.add_flow("KEY-binanceusdm-0", "funding", "BTC/USDT:USDT", -9.0,
                        int(time.time() * 1000) - H_MS)  # fmt: skip
    world.fake.fail("binanceusdm", path="/income", status=503, body="Service Unavailable", times=99)
    clock = FakeClock(time.time())
    with caplog.at_level(logging.DEBUG, logger="bot.monitor.ledger"):
        assert await _ledger(world, clock).sync_all() == 0
    assert await Flows(world.db).coverage([usdm.id]) == []
    text = digest_text.text(await digest.build(world.db, [usdm], {}, now=clock.now))
    assert "not available for binanceusdm-0 (not read yet)" in text
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    # Once per read (one income read lists every kind), naming the account, never the key.
    assert len(warnings) == 1 and "realised+funding+fee+transfer" in warnings[0].getMessage()
    assert all("KEY-binanceusdm" not in r.getMessage() for r in caplog.records)


async def test_a_digest_refresh_reads_up_to_the_minute(world: World) -> None:
    """Before a digest, accounts read more than a minute ago are read again, so an 08:00
    digest includes the 07:59 funding; accounts read just now are left alone."""
    usdm = await world.link("binanceusdm")
    clock = FakeClock(time.time())
    ledger = _ledger(world, clock)
    await ledger.sync_all()
    world.fake.add_flow("KEY-binanceusdm-0", "funding", "BTC/USDT:USDT", -2.5,
                        int((clock.now + 100) * 1000))  # fmt: skip
    clock.now += 30
    world.fake.requests.clear()
    await ledger.refresh([usdm])
    assert world.fake.count("binanceusdm", "income") == 0  # read 30 s ago: fresh enough
    clock.now += 120
    await ledger.refresh([usdm])
    assert await _totals(world, usdm.id, "funding") == {"USDT": -2.5}


async def test_the_monitor_retention_job_prunes_old_flows(world: World) -> None:
    usdm = await world.link("binanceusdm")
    now = time.time()
    old = StoredFlow(usdm.id, "funding", "old", now - 91 * 86400, "BTC/USDT:USDT", "USDT", -1.0)
    new = StoredFlow(usdm.id, "funding", "new", now - 3600, "BTC/USDT:USDT", "USDT", -2.0)
    await Flows(world.db).record(usdm.id, "funding", [old, new], since=now - 92 * 86400, until=now)
    await world.monitor.prune()
    assert await _totals(world, usdm.id, "funding") == {"USDT": -2.0}


def _pay_hourly_funding(fake: FakeExchange, address: str, now_ms: int) -> None:
    """Funding on three coins at the same moment each hour for the last ten hours, three
    payments from before the ledger's first read reaches back, and one after its window."""
    top = now_ms // H_MS * H_MS
    for hour in (*range(1, 11), 27):
        for n, coin in enumerate(COINS):
            amount = round(-0.05 * (n + 1) + 0.01 * hour, 6) or 0.001
            fake.add_flow(address, "funding", f"{coin}/USDC:USDC", amount, top - hour * H_MS)
    fake.add_flow(address, "funding", "SOL/USDC:USDC", -9.0, now_ms + H_MS)


async def _served(fake: FakeExchange, address: str, since: float, until: float) -> list[Any]:
    """What the fake's Hyperliquid answers userFunding for the window, asked directly."""
    body = {"type": "userFunding", "user": address, "startTime": int(since * 1000),
            "endTime": int(until * 1000)}  # fmt: skip
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}/api.hyperliquid.xyz/info", json=body) as reply,
    ):
        entries: list[Any] = await reply.json()
    return entries


async def test_hyperliquid_funding_paid_many_times_a_day_is_all_summed(world: World) -> None:
    """Hyperliquid gives every funding payment the hash 0x00…0: thirty payments in the day
    (three coins each hour) are thirty stored flows, summed to what the venue served."""
    hl = await world.link("hyperliquid")
    address = hl.wallet_address or ""
    clock = FakeClock(time.time())
    _pay_hourly_funding(world.fake, address, int(clock.now * 1000))
    served = await _served(world.fake, address, clock.now - LOOKBACK_S, clock.now)
    assert len(served) == 30 and {entry["hash"] for entry in served} == {ZERO_HASH}

    assert await _ledger(world, clock).sync_all() == 30
    expected = sum(float(entry["delta"]["usdc"]) for entry in served)
    [total] = await Flows(world.db).totals([hl.id], since=0, until=clock.now + 3600)
    assert (total.kind, total.currency, total.count) == ("funding", "USDC", 30)
    assert total.amount == pytest.approx(expected)


async def test_a_database_from_before_the_venue_keys_refills_the_dropped_funding(
    tmp_path: Path, fake: FakeExchange
) -> None:
    """A database at schema 10 kept one Hyperliquid payment of the day (under the zero hash)
    and counts the day read: migrating forgets that day, the ledger reads it again, stores the
    payments it had dropped and counts the kept one once."""
    now = time.time()
    fake.add_wallet(ADDRESS)
    _pay_hourly_funding(fake, ADDRESS, int(now * 1000))
    served = await _served(fake, ADDRESS, now - LOOKBACK_S, now)
    first = served[0]
    async with Database.open(
        str(tmp_path / "liqwatch.db"), migrations=load_migrations()[:10]
    ) as db:
        owner = await Users(db).ensure(Platform.TELEGRAM, "1001", "alice", "1001", now=now)
        hl = await Accounts(db).add(owner.id, "hyperliquid", "hl", wallet_address=ADDRESS, now=now)
        kept = StoredFlow(hl.id, "funding", f"fetch_funding_history:{ZERO_HASH}",
                          first["time"] / 1000, f"{first['delta']['coin']}/USDC:USDC", "USDC",
                          float(first["delta"]["usdc"]))  # fmt: skip
        await Flows(db).record(hl.id, "funding", [kept], since=now - LOOKBACK_S, until=now)

    async for world in make_world(tmp_path, fake):
        clock = FakeClock(now + 1.0)
        assert await _ledger(world, clock).sync_all() == len(served) - 1
        [total] = await Flows(world.db).totals([hl.id], since=0, until=now + 3600)
    assert total.count == len(served) == 30
    assert total.amount == pytest.approx(sum(float(e["delta"]["usdc"]) for e in served))
