"""Risk-driven poll intervals through the real monitor, alert stage and scheduler: a poll picks
the account's band (stored with its reason), and a streamed mark that brings an account near
its warning level has it polled now and then at the near band."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerting.stage import AlertPipeline
from bot.chat import replies
from bot.delivery.ops import OpsAlerts
from bot.exchanges import BudgetState, Priority
from bot.monitor.cadence import Cadences
from bot.monitor.events import OverrunLog
from bot.monitor.ticks import TickStage
from bot.ops.operator import accounts_list
from bot.render import venues as venue_text
from bot.runtime.assemble import poll_costs
from bot.settings import Settings
from engine.cadence import Bands
from engine.domain import AccountStatus, LinkedAccount, Platform
from storage.accounts import Accounts
from tests.bot.exchanges.conftest import link
from tests.bot.monitor.conftest import World, make_world
from tests.engine.normalise.payloads import binance as pb
from tests.fakes.exchange import FakeExchange

SOL = "SOL/USDT:USDT"
SOL_LEG = pb.LEGS[2]
SOL_LIQ = pb.liquidation_price((SOL_LEG,), "SOLUSDT")
BANDS = Bands(near_s=5.0, middle_s=30.0, far_s=300.0)


@dataclass(frozen=True)
class _Tick:
    venue: str
    symbol: str
    mark: float


def _at(distance_pct: float) -> float:
    return SOL_LIQ / (1 - distance_pct / 100)


@pytest.fixture
async def banded(tmp_path: Path, fake: FakeExchange) -> AsyncIterator[World]:
    pipeline = AlertPipeline()
    async for world in make_world(tmp_path, fake, alerts=pipeline):
        world.monitor.cadences = Cadences(BANDS, pipeline)
        world.monitor.scheduler.start(paused=True)  # jobs exist; nothing runs by itself
        yield world


async def _account(world: World, distance_pct: float) -> LinkedAccount:
    creds = link(world.fake, "binanceusdm", 0, positions=(SOL_LEG,))
    world.fake.set_mark("binanceusdm", SOL, _at(distance_pct))
    linked = await world.service.link(world.owner_id, "binanceusdm", creds, label="sol")
    await world.monitor.sync()
    return linked.account


def _interval(world: World, account: LinkedAccount) -> float:
    job = world.monitor.scheduler.get_job(f"poll:{account.id}")
    assert job is not None
    interval = job.trigger.interval
    assert isinstance(interval, timedelta)
    return interval.total_seconds()


async def _stored(world: World, account: LinkedAccount) -> tuple[str | None, float | None, str]:
    row = await Accounts(world.db).system_get(account.id)
    assert row is not None
    return row.poll_band, row.poll_every_s, row.poll_reason or ""


async def test_a_poll_picks_the_band_and_stores_it_with_its_reason(banded: World) -> None:
    """A new account starts in the middle band; 60 % away it is far (300 s), 15 % away near
    (5 s, within twice the default 10 % warning); the job follows each time."""
    account = await _account(banded, 60.0)
    assert _interval(banded, account) == 30.0
    await banded.monitor.poll(account.id)
    band, every, reason = await _stored(banded, account)
    assert (band, every) == ("far", 300.0) and _interval(banded, account) == 300.0
    assert reason.startswith("closest: SOL/USDT:USDT 60.0% from liquidation")
    banded.fake.set_mark("binanceusdm", SOL, _at(15.0))
    await banded.monitor.poll(account.id)
    band, every, reason = await _stored(banded, account)
    assert (band, every) == ("near", 5.0) and _interval(banded, account) == 5.0
    assert "15.0% from liquidation, within 20%" in reason


async def test_a_firing_alert_keeps_the_account_near(banded: World) -> None:
    """Critical at 3 % away: an alert is live, the account is near whatever else."""
    account = await _account(banded, 3.0)
    await banded.monitor.poll(account.id)
    assert await _stored(banded, account) == ("near", 5.0, "an alert is live")


async def test_a_streamed_mark_near_the_warning_polls_the_account_now(banded: World) -> None:
    """Far at 60 %, then a tick at 12 %: the job is due at once and then every 5 s, without
    waiting out the 300 s it was on; a tick back to 60 % does not slow it (a poll decides)."""
    account = await _account(banded, 60.0)
    await banded.monitor.poll(account.id)
    assert _interval(banded, account) == 300.0
    stage = TickStage(
        banded.db, banded.monitor.latest, banded.monitor.alerts,  # type: ignore[arg-type]
        on_moved=banded.monitor.quicken,
    )  # fmt: skip
    before = time.time()
    stage.on_ticks([_Tick("binanceusdm", SOL, _at(12.0))])
    await stage.apply()
    job = banded.monitor.scheduler.get_job(f"poll:{account.id}")
    assert job is not None and job.next_run_time.timestamp() <= time.time() + 0.01
    assert job.next_run_time.timestamp() >= before - 0.01
    assert _interval(banded, account) == 5.0
    stage.on_ticks([_Tick("binanceusdm", SOL, _at(60.0))])
    await stage.apply()
    assert _interval(banded, account) == 5.0


async def test_accounts_list_and_slash_accounts_show_the_interval_and_why(
    banded: World, tmp_path: Path
) -> None:
    account = await _account(banded, 15.0)
    await banded.monitor.poll(account.id)
    listed = await accounts_list(Settings(db_path=banded.db_path))
    assert "polled every 5s (near: SOL/USDT:USDT 15.0% from liquidation" in listed
    mine = await Accounts(banded.db).list_for(banded.owner_id)
    assert "polled every 5s (near: SOL/USDT:USDT 15.0%" in replies.accounts(mine)


async def test_snapshots_are_stored_when_the_holdings_change_or_at_the_snapshot_cadence(
    banded: World,
) -> None:
    """Polled every few seconds near liquidation, an account must not add a row each time:
    three polls of the same positions store one snapshot; a position opened stores the next
    at once; with the cadence elapsed, the next poll stores again."""
    banded.monitor.snapshot_cadence.every_s = 300.0
    account = await _account(banded, 15.0)
    for _ in range(3):
        await banded.monitor.poll(account.id)
    assert await _snapshots(banded) == 1
    held = banded.fake.lookup("binanceusdm", "KEY-binanceusdm-0")
    assert held is not None
    held.positions = (SOL_LEG, pb.LEGS[0])
    await banded.monitor.poll(account.id)
    assert await _snapshots(banded) == 2
    banded.monitor.snapshot_cadence.every_s = 0.0
    await banded.monitor.poll(account.id)
    assert await _snapshots(banded) == 3


async def _snapshots(world: World) -> int:
    row = await world.db.fetchone("SELECT COUNT(*) FROM account_snapshots")
    return int(row[0]) if row else 0


async def test_a_venue_budget_too_small_stretches_far_accounts_and_tells_the_operator(
    banded: World,
) -> None:
    """Three far Binance accounts (60 % away) on a budget of 3 polls a minute: polled every
    300 s they would need 0.6 a minute, inside 80 % of 3 — nothing moves; at 0.4 a minute the
    far band stretches to 562.5 s (3 polls in 0.32 a minute), the jobs follow and the ops chat
    hears once with what the budget allows; a budget back to 3 a minute restores 300 s."""
    banded.monitor.ops = OpsAlerts(banded.db, (Platform.TELEGRAM, "ops"))
    accounts = []
    for n in range(3):
        creds = link(banded.fake, "binanceusdm", n, positions=(SOL_LEG,))
        linked = await banded.service.link(banded.owner_id, "binanceusdm", creds, label=f"a{n}")
        accounts.append(linked.account)
    banded.fake.set_mark("binanceusdm", SOL, _at(60.0))
    await banded.monitor.sync()
    for account in accounts:
        await banded.monitor.poll(account.id)
    assert await banded.monitor.rebalance(lambda venue: (1.0, 3.0)) == 0
    assert {_interval(banded, a) for a in accounts} == {300.0}
    assert await banded.monitor.rebalance(lambda venue: (1.0, 0.4)) == 3
    assert [_interval(banded, a) for a in accounts] == pytest.approx([562.5] * 3)
    assert await banded.monitor.rebalance(lambda venue: (1.0, 0.4)) == 0
    told = await banded.db.fetchall("SELECT payload_json FROM outbox")
    assert len(told) == 1
    assert "far accounts are polled every 562s" in told[0]["payload_json"]
    assert await banded.monitor.rebalance(lambda venue: (1.0, 3.0)) == 3
    assert {_interval(banded, a) for a in accounts} == {300.0}


async def test_near_accounts_alone_past_the_budget_stretch_too_and_the_operator_hears_it(
    banded: World,
) -> None:
    """Three near Binance accounts (12 % away, inside twice the 10 % warning) at 5 s and one
    poll each cost 36 a minute; on a budget of 10 (8 planned) nothing else can give way, so the
    near band stretches to 22.5 s (3 polls in 8 a minute) — their jobs follow, since a queue
    that never drains serves no one on time — and the operator is told it is the near band;
    a budget back to 100 a minute restores 5 s."""
    banded.monitor.ops = OpsAlerts(banded.db, (Platform.TELEGRAM, "ops"))
    accounts = []
    for n in range(3):
        creds = link(banded.fake, "binanceusdm", n, positions=(SOL_LEG,))
        linked = await banded.service.link(banded.owner_id, "binanceusdm", creds, label=f"n{n}")
        accounts.append(linked.account)
    banded.fake.set_mark("binanceusdm", SOL, _at(12.0))
    await banded.monitor.sync()
    for account in accounts:
        await banded.monitor.poll(account.id)
    assert {_interval(banded, a) for a in accounts} == {5.0}
    assert await banded.monitor.rebalance(lambda venue: (1.0, 10.0)) == 3
    assert [_interval(banded, a) for a in accounts] == pytest.approx([22.5] * 3)
    told = await banded.db.fetchall("SELECT payload_json FROM outbox")
    assert len(told) == 1
    assert "near ones every 22s, not 5s: they alone pass the budget" in told[0]["payload_json"]
    assert await banded.monitor.rebalance(lambda venue: (1.0, 100.0)) == 3
    assert {_interval(banded, a) for a in accounts} == {5.0}


async def test_a_polls_cost_is_measured_per_ip_venue_and_unknown_per_key(banded: World) -> None:
    """What the bands are fitted to: Hyperliquid's limit is the IP's (1,200 weight a minute,
    as Hyperliquid publishes it) and a poll costs at least its clearinghouseState (2); Bybit's
    limit is each key's, so fitting its accounts together means nothing (None)."""
    for venue in ("hyperliquid", "bybit"):
        creds = link(banded.fake, venue, 0)
        linked = await banded.service.link(banded.owner_id, venue, creds, label=venue)
        for _ in range(2):
            await banded.monitor.poll(linked.account.id)
    measured = poll_costs(banded.hub, banded.monitor, "hyperliquid")
    assert measured is not None
    cost, limit = measured
    assert limit == 1200.0 and cost >= 2.0
    assert poll_costs(banded.hub, banded.monitor, "bybit") is None
    assert poll_costs(banded.hub, banded.monitor, "okx") is None


def test_the_start_up_line_says_whose_budget_and_its_pace() -> None:
    state = BudgetState("hyperliquid", True, 1200.0, 1080.0, 0.0, {})
    assert venue_text.budget_state(state) == (
        "hyperliquid: REST budget 1,200 a minute per IP, shared by its accounts, paced at 1,080"
    )


def _linked(band: str | None) -> LinkedAccount:
    return LinkedAccount(
        id=7, owner_id=1, venue="hyperliquid", label="w", status=AccountStatus.ACTIVE,
        poll_s=None, wallet_address="0x1", has_credentials=False, consecutive_failures=0,
        last_error=None, last_polled_at=None, created_at=0.0, poll_band=band,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("stored", "bands", "expected"),
    [
        ("near", BANDS, Priority.NEAR),
        ("far", BANDS, Priority.FAR),
        (None, BANDS, Priority.FIRST),
        ("sideways", BANDS, Priority.FIRST),
        ("near", None, Priority.MIDDLE),
    ],
)
def test_after_a_restart_an_account_queues_by_the_band_the_last_run_stored(
    stored: str | None, bands: Bands | None, expected: Priority
) -> None:
    """Before its first poll since start, a near account's requests go first (a restart
    otherwise queued every account as middle, near ones behind far ones' first reads); one whose
    risk was never read (new, or a band this version does not know) queues right after near
    ones and before every account known to be safer."""
    assert Cadences(bands).priority(_linked(stored)) is expected


def test_overrunning_polls_are_told_once_a_minute_with_the_slowest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    overruns = OverrunLog()
    with caplog.at_level(logging.WARNING, logger="bot.monitor.events"):
        for n in range(300):  # a start-up storm: 300 slow polls in 30 s
            overruns.note(n, 10.0 + n % 7, at=1000.0 + n / 10)
        overruns.note(999, 12.0, at=1061.0)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2
    assert said[1].startswith("300 poll(s) took longer") and "account 6, 16.0s" in said[1]
