"""The digest's text as a desk reads it: stale figures marked with their age, times in the
chat's zone, one title, the day's PnL per account in USD."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.analysis.snapshot import load
from bot.digest import build as digest
from bot.digest import charts
from bot.digest import text as digest_text
from bot.digest.figures import is_stale, upnl_usd
from bot.digest.jobs import DigestJobs
from bot.render.views import account_view
from engine.alerts.events import DigestNotice
from engine.alerts.quiet import QuietHours
from engine.analysis import Analysis, analyze
from engine.domain import (
    AccountStatus,
    LinkedAccount,
    Platform,
    PositionSummary,
    SnapshotSummary,
)
from storage import Database
from storage.accounts import Accounts
from storage.chats import Chats
from storage.flows import Flows, StoredFlow
from storage.outbox import Outbox
from storage.snapshots import Snapshots
from storage.users import Users
from tests.fakes.clock import FakeClock

EXAMPLE = Path(__file__).parents[3] / "examples" / "binanceusdm.json"
#: 2026-12-07 08:00 UTC: 09:00 in Paris.
NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0


def _analysis() -> Analysis:
    loaded = load(EXAMPLE)
    return analyze(loaded.snapshot, volatility=loaded.volatility, horizon_hours=24)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(str(tmp_path / "db.sqlite")) as database:
        yield database


async def _two(db: Database) -> tuple[LinkedAccount, LinkedAccount]:
    """A healthy account polled a minute ago, and one whose venue fails since 3 h 12 min
    ago (blind after two failures)."""
    user = await Users(db).ensure(Platform.TELEGRAM, "1", "Ann", "1", now=1.0)
    accounts = Accounts(db)
    live = await accounts.add(user.id, "binanceusdm", "live", wallet_address="x", now=1.0)
    blind = await accounts.add(user.id, "binanceusdm", "blind", wallet_address="y", now=1.0)
    await accounts.record_poll_success(live.id, NOW - 60)
    await accounts.record_poll_success(blind.id, NOW - 3 * HOUR - 720)
    for n in (1, 2):
        await accounts.record_poll_failure(blind.id, NOW - n * 60, "HTTP 503", blind_after=2)
    found = {a.label: a for a in await accounts.list_for(user.id)}
    return found["live"], found["blind"]


async def test_a_blind_accounts_figures_are_marked_with_their_age(db: Database) -> None:
    """Its old figures still count (dropping them would hide risk), but the top says so, its
    line and its positions carry "as of 05:48, 3 h old" in the chat's zone (Paris), and the ladder
    draws its rows as stale; the healthy account's are not marked."""
    live, blind = await _two(db)
    latest = {live.id: _analysis(), blind.id: _analysis()}
    found = await digest.build(db, [live, blind], latest, now=NOW)
    text = digest_text.text(found, tz="Europe/Paris")
    lines = text.splitlines()

    assert lines[0] == "Digest · 2 accounts · Mon 07 Dec 09:00 CET"
    assert lines[1] == "⚠ Totals include stale figures: blind (as of 05:48, 3 h old)"
    at = next(i for i, line in enumerate(lines) if line.startswith("blind binanceusdm"))
    assert lines[at + 1] == "    stale: as of 05:48, 3 h old"
    at = next(i for i, line in enumerate(lines) if line.startswith("live binanceusdm"))
    assert "stale" not in lines[at + 1]
    assert found.equity_usd == pytest.approx(2 * found.lines[0].equity_usd)  # type: ignore[operator]
    rows = charts.ladder_rows(found)
    assert {r.stale for r in rows if r.label.startswith("blind ")} == {True}
    assert {r.stale for r in rows if r.label.startswith("live ")} == {False}
    assert all(r.label.endswith("(stale)") == r.stale for r in rows)
    assert all(e.stale_usd == pytest.approx((e.long_usd + e.short_usd) / 2) for e in found.exposure)


async def test_the_days_pnl_is_per_account_and_in_usd_with_unpriced_coins_named(
    db: Database,
) -> None:
    """USDT counts as dollars; a BTC amount no position prices stays out of the USD total,
    by name; a kind the venue's ledger does not read (fees) is "n/r", never 0."""
    live, blind = await _two(db)
    flows, since = Flows(db), NOW - 30 * HOUR

    def flow(kind: str, ref: str, amount: float, currency: str = "USDT") -> StoredFlow:
        return StoredFlow(live.id, kind, ref, NOW - HOUR, "BTC/USDT:USDT", currency, amount)

    realised = [flow("realised", "a", 150.0), flow("realised", "b", -30.5)]
    funding = [flow("funding", "c", -4.25), flow("funding", "d", 0.001, "BTC")]
    await flows.record(live.id, "realised", realised, since=since, until=NOW)
    await flows.record(live.id, "funding", funding, since=since, until=NOW)
    found = await digest.build(db, [live, blind], {live.id: _analysis()}, now=NOW)
    text = digest_text.text(found)

    row = next(line for line in text.splitlines() if line.startswith("live  "))
    assert row.split()[1:4] == ["+119.50", "-4.25", "n/r"]
    assert "Day in USD: +115.25 booked" in text
    assert "not in USD totals (no price): BTC" in text
    blind_row = next(line for line in text.splitlines() if line.startswith("blind  "))
    assert blind_row.split()[1:4] == ["n/r", "n/r", "n/r"]  # never read: not a quiet day


async def test_a_queued_digest_has_its_header_once_in_the_chats_zone(
    db: Database,
) -> None:
    """/digest now queues a notice whose title is the header (in the chat's quiet-hours zone,
    as it has no subscription) and whose text is the rest: no platform shows "Digest" twice."""
    live, _ = await _two(db)
    await Chats(db).set_quiet(Platform.TELEGRAM, "1", _quiet("Asia/Tokyo"))
    scheduler = AsyncIOScheduler(timezone=UTC)
    jobs = DigestJobs(db, scheduler, {live.id: _analysis()}, clock=FakeClock(NOW))
    await jobs.queue(live.owner_id, Platform.TELEGRAM, "1", [live], title="Digest", key="k")

    (claimed,) = await Outbox(db).claim(4e9, 10, 60.0)
    notice = claimed.notice
    assert isinstance(notice, DigestNotice)
    assert notice.title == "Digest · 1 account · Mon 07 Dec 17:00 JST"
    assert "Digest" not in notice.text and notice.text.startswith("Equity ")
    assert datetime.fromtimestamp(NOW, ZoneInfo("Asia/Tokyo")).hour == 17


def _quiet(tz: str) -> QuietHours:
    return QuietHours(start="23:00", end="07:00", tz=tz)


async def test_after_a_restart_a_blind_account_counts_from_its_last_snapshot(
    db: Database,
) -> None:
    """The book is empty for an account whose venue has failed since the restart: its last
    stored snapshot stands in (equity in the totals, its position on the ladder), marked with
    the time it was stored; not a silent hole in the totals."""
    live, blind = await _two(db)
    taken = NOW - 2 * HOUR
    position = PositionSummary("SOL/USDC:USDC", "long", 100.0, 14_500.0, 145.0, 138.5, 4.5, "cross")
    await Snapshots(db).insert(
        SnapshotSummary(blind.id, taken, 8_000.0, 14_500.0, 14_500.0, 1.8, 0.05, (position,))
    )
    analysis = _analysis()
    found = await digest.build(db, [live, blind], {live.id: analysis}, now=NOW)

    line = next(x for x in found.lines if x.label == "blind")
    assert line.has_figures and line.stale and line.as_of == taken
    assert line.equity_usd == 8_000.0 and line.upnl_usd is None  # not stored: unknown
    assert found.equity_usd == pytest.approx(8_000.0 + (found.lines[0].equity_usd or 0.0))
    sol = next(c for c in found.closest if c.account == "blind")
    assert sol.distance_pct == 4.5 and sol.stale_as_of == taken
    text = digest_text.text(found)
    assert "⚠ Totals include stale figures: blind (as of 06:00, 2 h old)" in text
    assert "blind SOL (USDC) long 4.50% away" in text


def test_old_figures_are_stale_by_the_accounts_own_pace() -> None:
    """Blind is stale at once; a healthy account after 15 min without a good read, or three
    of its own intervals where it is polled every 10 min."""
    account = LinkedAccount(1, 1, "okx", "a", AccountStatus.ACTIVE, None, "x", False, 0, None,
                            None, 0.0)  # fmt: skip
    assert not is_stale(account, NOW - 800, NOW) and is_stale(account, NOW - 1000, NOW)
    slow = replace(account, poll_every_s=600.0)
    assert not is_stale(slow, NOW - 1700, NOW) and is_stale(slow, NOW - 1900, NOW)
    assert is_stale(replace(account, status=AccountStatus.BLIND), NOW - 10, NOW)
    assert not is_stale(account, None, NOW)  # never read: no figures to mark


def test_unrealised_pnl_is_the_engines_usd_else_the_settle_coin_at_its_rate() -> None:
    """The engine's USD uPnL where it has one (an option's is at its settle rate); else the
    settle amount at the rate the account's own positions imply; unknown stays unknown."""
    view = account_view(_analysis(), "binanceusdm")
    first, second = view.positions[:2]
    engine = replace(first, unrealized_pnl_usd=12.5, unrealized_pnl_settle=999.0)
    in_btc = replace(second, unrealized_pnl_usd=None, unrealized_pnl_settle=0.01, settle="BTC")
    assert upnl_usd([engine], {}) == 12.5
    assert upnl_usd([engine, in_btc], {"BTC": 60_000.0}) == pytest.approx(612.5)
    assert upnl_usd([engine, in_btc], {}) is None  # BTC unpriced: not a guess
