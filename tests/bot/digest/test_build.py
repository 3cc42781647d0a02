"""The digest over a real database: 30 days of snapshots, the alert log and a live analysis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.analysis.snapshot import load
from bot.digest import build as digest
from bot.digest import charts
from bot.digest import text as digest_text
from bot.render.positions import advice
from engine.alerts.grammar import parse_rule
from engine.alerts.rules import Severity
from engine.analysis import Analysis, analyze
from engine.domain import LinkedAccount, Platform, SnapshotSummary
from storage import Database
from storage.accounts import Accounts
from storage.flows import Flows, StoredFlow
from storage.rules import Rules
from storage.snapshots import Snapshots
from storage.users import Users

NOW = 1_790_000_000.0
HOUR = 3600.0
EXAMPLE = Path(__file__).parents[3] / "examples" / "binanceusdm.json"


def _analysis() -> Analysis:
    loaded = load(EXAMPLE)
    return analyze(loaded.snapshot, volatility=loaded.volatility, horizon_hours=24)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(str(tmp_path / "db.sqlite")) as database:
        yield database


async def _account(db: Database, label: str = "desk") -> LinkedAccount:
    user = await Users(db).ensure(Platform.TELEGRAM, label, label, label, now=1.0)
    return await Accounts(db).add(user.id, "binanceusdm", label, wallet_address="x", now=1.0)


async def _seed(db: Database, account: LinkedAccount) -> None:
    """30 days of 15-minute snapshots: equity from 10,000 to 13,000, leverage 2x → 3x."""
    steps = 30 * 24 * 4
    async with db.transaction() as tx:
        for i in range(steps + 1):
            at = NOW - 30 * 86400 + i * 900
            equity = 10_000 + 3_000 * i / steps
            lev = 2 + i / steps
            await Snapshots(tx.db).insert(
                SnapshotSummary(account.id, at, equity, equity * lev, equity, lev, 0.1, ()), tx=tx
            )
        # Alerts of the last day: two fired, one acknowledged after 4 minutes; one older.
        episodes = ((NOW - 3 * HOUR, NOW - 3 * HOUR + 240), (NOW - HOUR, None),
                    (NOW - 3 * 86400, None))  # fmt: skip
        for n, (fired, acked) in enumerate(episodes):
            await tx.execute(
                "INSERT INTO alerts (rule_id, account_id, key, status, since, fired_at, acked_at)"
                " VALUES (1, ?, ?, 'firing', ?, ?, ?)",
                (account.id, f"K{n}", fired, fired, acked),
            )


@pytest.mark.slow
async def test_a_digest_from_thirty_days_of_snapshots(db: Database) -> None:
    account = await _account(db)
    await _seed(db, account)
    analysis = _analysis()
    found = await digest.build(db, [account], {account.id: analysis}, now=NOW)

    # Changes come from the stored history: equity 24 h / 7 d ago, leverage 24 h ago.
    assert found.equity_24h_ago == pytest.approx(13_000 - 100, rel=1e-3)
    assert found.equity_7d_ago == pytest.approx(13_000 - 700, rel=1e-3)
    assert found.leverage_24h_ago == pytest.approx(3 - 1 / 30, rel=1e-3)
    assert len(found.history) == 30 * 24 + 1  # one point per hour (the last of each hour)
    # Now comes from the live analysis.
    assert found.equity_usd == pytest.approx(analysis.portfolio.equity_usd)
    assert {e.underlying for e in found.exposure} == set(analysis.portfolio.underlyings)
    assert [c.distance_pct for c in found.closest] == sorted(c.distance_pct for c in found.closest)
    assert (found.alerts.fired, found.alerts.acknowledged, found.alerts.unacknowledged) == (2, 1, 1)
    assert found.alerts.median_ack_s == 240

    text = digest_text.text(found)
    assert "Alerts, last 24 h: 2 fired · 1 acknowledged (median 4m) · 1 unacknowledged" in text
    assert "Closest to liquidation:" in text and "Exposure, USD    long    short      net" in text


async def test_no_accounts_is_nothing_to_report(db: Database) -> None:
    found = await digest.build(db, [], {}, now=NOW)
    assert found.empty and digest_text.text(found).startswith("Nothing to report")


async def test_fifty_accounts_build_quickly_enough_to_report(db: Database) -> None:
    """Not a timed assertion (see benchmarks/): the build must simply work at 50 accounts."""
    accounts = [await _account(db, f"a{i}") for i in range(50)]
    analysis = _analysis()
    found = await digest.build(db, accounts, {a.id: analysis for a in accounts}, now=time.time())
    assert len(found.accounts) == 50 and len(found.closest) == digest.CLOSEST


async def _venue_account(db: Database, label: str, venue: str) -> LinkedAccount:
    user = await Users(db).ensure(Platform.TELEGRAM, "desk", "desk", "desk", now=1.0)
    return await Accounts(db).add(user.id, venue, label, wallet_address="x", now=1.0)


def _flow(account: LinkedAccount, kind: str, ref: str, at: float, amount: float,
          currency: str = "USDT") -> StoredFlow:  # fmt: skip
    return StoredFlow(account.id, kind, ref, at, "BTC/USDT:USDT", currency, amount)


async def test_realised_pnl_and_funding_of_the_day_where_the_venue_reports_them(
    db: Database,
) -> None:
    """Sums per currency over exactly the last 24 h, only for accounts read whole; the others
    are named with the reason instead of counting as a quiet day."""
    usdm = await _venue_account(db, "usdm", "binanceusdm")
    coinm = await _venue_account(db, "coinm", "binancecoinm")
    stale = await _venue_account(db, "hl", "hyperliquid")
    other = await _venue_account(db, "options", "bitmex")  # a venue the ledger does not read
    flows = Flows(db)
    since = NOW - 26 * HOUR
    await flows.record(usdm.id, "realised", [
        _flow(usdm, "realised", "r0", NOW - 25 * HOUR, 999.0),  # yesterday: not in the sum
        _flow(usdm, "realised", "r1", NOW - 5 * HOUR, 150.25),
        _flow(usdm, "realised", "r2", NOW - HOUR, -30.0),
    ], since=since, until=NOW - 600)  # fmt: skip
    await flows.record(usdm.id, "funding", [_flow(usdm, "funding", "f1", NOW - 8 * HOUR, -12.5)],
                       since=since, until=NOW - 600)  # fmt: skip
    await flows.record(coinm.id, "realised", [
        _flow(coinm, "realised", "c1", NOW - 2 * HOUR, -0.0015, "BTC")
    ], since=since, until=NOW)  # fmt: skip
    await flows.record(coinm.id, "funding", [_flow(coinm, "funding", "c2", NOW, 0.0004, "BTC")],
                       since=since, until=NOW)  # fmt: skip
    # The Hyperliquid account's last complete read ended 5 hours ago (the venue was down since).
    await flows.record(stale.id, "funding", [_flow(stale, "funding", "h1", NOW - 20 * HOUR, -99.0)],
                       since=since, until=NOW - 5 * HOUR)  # fmt: skip

    found = await digest.build(db, [usdm, coinm, stale, other], {}, now=NOW)

    assert found.realised.totals == (("BTC", -0.0015), ("USDT", 120.25))
    assert found.funding.totals == (("BTC", 0.0004), ("USDT", -12.5))
    assert found.funding.included == ("usdm", "coinm")
    text = digest_text.text(found)
    assert "Realised PnL, 24 h: -0.0015 BTC · +120.25 USDT" in text
    assert "Funding, 24 h: received 0.0004 BTC · paid 12.50 USDT" in text
    left = "hl (not read yet), options (bitmex does not report it)"
    assert f"  not in realised PnL and funding: {left}\n" in text
    # No account's fees were read: not a day without fees.
    assert "Fees, 24 h: not available" in text
    assert f"  not in fees: usdm (not read yet), coinm (not read yet), {left}" in text


async def test_no_venue_reporting_flows_says_so_once(db: Database) -> None:
    other = await _venue_account(db, "options", "bitmex")
    text = digest_text.text(await digest.build(db, [other], {}, now=NOW))
    assert (
        "Realised PnL, funding and fees, 24 h: not available for options (bitmex does not "
        "report it)" in text
    )


async def _rule(db: Database, account: LinkedAccount, text: str, *, on: bool = True) -> None:
    """Add ``text`` (the /alert add grammar) for the account's owner, scoped to the account."""
    spec = parse_rule(text)
    rules = Rules(db)
    rule = await rules.add(account.owner_id, account.id, spec, now=1.0)
    if not on:
        await rules.set_enabled(account.owner_id, rule.id, False)


async def test_severity_and_levels_come_from_the_accounts_own_rules(db: Database) -> None:
    """Besides the defaults (10 % warning, 5 % critical): SOL critical under 8 % and BTC info
    under 40 % apply; a paused rule at 70 % neither colours ETH (64.7 %) nor draws a line."""
    account = await _account(db)
    await _rule(db, account, "liq<8% SOL critical")
    await _rule(db, account, "liq<40% BTC info")
    await _rule(db, account, "liq<70% warning", on=False)
    found = await digest.build(db, [account], {account.id: _analysis()}, now=NOW)

    by_symbol = {c.symbol: c.severity for c in found.closest}
    assert by_symbol["SOL/USDT:USDT"] is Severity.CRITICAL  # 5.99 %: under 8 %, not under 5 %
    assert by_symbol["BTC/USDT:USDT"] is Severity.INFO  # 32.7 %
    assert by_symbol["ETH/USDT:USDT"] is None
    assert found.levels == (5.0, 8.0, 10.0, 40.0)


async def test_the_default_rules_colour_the_ladder_as_before(db: Database) -> None:
    """Only the defaults: SOL at 5.99 % is a warning (under 10 %, not under 5 %), the rest
    no alert; the ladder rows carry those severities and the chart lines sit at 5 and 10."""
    account = await _account(db)
    found = await digest.build(db, [account], {account.id: _analysis()}, now=NOW)
    rows = charts.ladder_rows(found)
    assert [(r.label, r.severity) for r in rows[:2]] == [
        ("desk SOL-PERP long", "warning"),
        ("desk BTC-PERP long", None),
    ]
    assert found.levels == (5.0, 10.0)


async def test_a_rule_on_another_account_does_not_colour_this_one(db: Database) -> None:
    """A 40 % critical rule scoped to the other account leaves this one's BTC (32.7 %) alone."""
    desk, other = await _account(db, "desk"), await _account(db, "other")
    await _rule(db, other, "liq<40% critical")
    found = await digest.build(db, [desk], {desk.id: _analysis()}, now=NOW)
    assert {c.symbol: c.severity for c in found.closest}["BTC/USDT:USDT"] is None
    assert found.levels == (5.0, 10.0)


async def test_the_digest_advises_with_the_one_advice_sentence(db: Database) -> None:
    """The advice is kept as data and written by the renderer /risk and analyze use."""
    account = await _account(db)
    found = await digest.build(db, [account], {account.id: _analysis()}, now=NOW)
    sol = found.closest[0]
    assert sol.symbol == "SOL/USDT:USDT" and sol.advice is not None
    assert sol.advice.margin_currency == "USDT" and sol.advice.target_distance_pct == 15.0
    assert f"\n    {advice(sol.advice)}\n" in digest_text.text(found)


async def test_the_chance_is_given_over_the_analysis_horizon(db: Database) -> None:
    """An analysis over 12 hours says "in 12h", not a fixed 24h."""
    account = await _account(db)
    loaded = load(EXAMPLE)
    twelve = analyze(loaded.snapshot, volatility=loaded.volatility, horizon_hours=12)
    text = digest_text.text(await digest.build(db, [account], {account.id: twelve}, now=NOW))
    closest = text.split("Closest to liquidation:\n")[1].splitlines()[0]
    assert closest.startswith("  desk SOL-PERP long 5.99% away") and " in 12h)" in closest
