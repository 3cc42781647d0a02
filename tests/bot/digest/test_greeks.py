"""The digest's net delta and vega per underlying and their change since yesterday (issue 19),
over a real database: today from the live analysis, 24 h ago from the stored snapshot.

Today: short 5 BTC of the 90k put (Bybit, no venue greeks: Black-76 at σ 0.55, F 95,400; the
hand values are ``_short_put`` of the analyze test). Yesterday, stored by hand: short 3 BTC of
it with Δ +1.0 BTC (+95,000 USD) and vega −300 USD per vol point. The change is today's figure
minus those.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.analysis.snapshot import parse
from bot.digest import build as digest
from bot.digest import greeks as digest_greeks
from bot.digest import text as digest_text
from bot.digest.greeks import NetGreeks, lines, net_greeks
from bot.monitor.summary import summarise
from bot.render.views import AccountView, account_view
from engine.analysis import Analysis, analyze
from engine.domain import LinkedAccount, Platform, PositionSummary, SnapshotSummary
from storage import Database
from storage.accounts import Accounts
from storage.snapshots import Snapshots
from storage.users import Users
from tests.bot.analysis.test_analyze_greeks import _put_file, _short_put

NOW = 1_790_000_000.0
DAY = 86_400.0
PUT = "BTC/USDC:USDC-260327-90000-P"
EXAMPLE = Path(__file__).parents[3] / "examples" / "binanceusdm.json"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(str(tmp_path / "db.sqlite")) as database:
        yield database


async def _account(db: Database, *, created: float = 1.0) -> LinkedAccount:
    user = await Users(db).ensure(Platform.TELEGRAM, "desk", "desk", "desk", now=1.0)
    return await Accounts(db).add(user.id, "bybit", "opts", wallet_address="x", now=created)


def _analysis(data: dict[str, Any]) -> Analysis:
    return analyze(parse(data).snapshot)


def _views(analysis: Analysis) -> list[AccountView]:
    return [account_view(analysis, "bybit")]


async def _store(db: Database, account: LinkedAccount, at: float, *held: PositionSummary) -> None:
    summary = SnapshotSummary(account.id, at, 70_000.0, 1.0, 1.0, 1.0, 0.1, tuple(held))
    await Snapshots(db).insert(summary)


def _yesterday_put(**fields: Any) -> PositionSummary:
    kept: dict[str, Any] = {"underlying": "BTC", "contract_type": "option", "delta_coin": 1.0,
                            "delta_usd": 95_000.0, "vega_usd": -300.0} | fields  # fmt: skip
    return PositionSummary(PUT, "short", 3.0, 285_000.0, 2_800.0, None, None, "cross", **kept)


async def test_net_delta_and_vega_with_the_change_since_yesterday(db: Database) -> None:
    """Today's figures are the put's hand values; the change subtracts yesterday's stored
    figures (the snapshot 10 min before the instant 24 h ago; a later one does not count)."""
    account = await _account(db)
    await _store(db, account, NOW - DAY - 600, _yesterday_put())
    await _store(db, account, NOW - DAY + 600, _yesterday_put(delta_coin=9.0, vega_usd=-9.0))
    (btc,) = await net_greeks(db, [account], _views(_analysis(_put_file())), at=NOW)
    hand = _short_put()
    assert btc.underlying == "BTC" and btc.unknown == 0
    assert btc.delta_coin == pytest.approx(hand["delta_coin"], rel=1e-9)
    assert btc.delta_usd == pytest.approx(hand["delta_usd"], rel=1e-9)
    assert btc.vega_usd == pytest.approx(hand["vega_usd"], rel=1e-9)
    assert btc.delta_coin_change == pytest.approx(hand["delta_coin"] - 1.0, rel=1e-9)
    assert btc.vega_usd_change == pytest.approx(hand["vega_usd"] + 300.0, rel=1e-9)


def test_the_lines_read_as_a_table_with_units() -> None:
    """Net Δ coin 1.7941 (+0.7941 in 24 h), Δ USD 171,153, vega −785.24 (−485.24): the put's
    hand values (rounded) against yesterday's +1.0 BTC and −300 USD per vol point."""
    found = NetGreeks("BTC", 1.79406, 171_153.07, -785.239, 0, 1.0, -300.0)
    assert lines([found]) == [
        "Net greeks  Δ coin     24h    Δ USD    vega     24h",
        "  BTC      +1.7941 +0.7941 +171,153 -785.24 -485.24",
        "  vega: USD per vol point · 24h: change since 24 h ago",
    ]


async def test_no_snapshot_yesterday_is_said_not_zeroed(db: Database) -> None:
    """An account that existed a day ago but has no snapshot then: the change is n/a, with the
    reason, never today's figure against nothing."""
    account = await _account(db)
    await _store(db, account, NOW - DAY - 3 * 3600, _yesterday_put())  # before the window
    (btc,) = await net_greeks(db, [account], _views(_analysis(_put_file())), at=NOW)
    assert btc.delta_coin_before is None and btc.vega_usd_change is None
    text = "\n".join(lines([btc]))
    assert "n/a" in text.splitlines()[1]
    assert "n/a: no whole figure from 24 h ago" in text


async def test_snapshots_from_before_greeks_were_kept_give_no_figure(db: Database) -> None:
    """Rows stored before the greeks were kept read as unknown: n/a, not a change against 0."""
    account = await _account(db)
    old = PositionSummary(PUT, "short", 3.0, 285_000.0, 2_800.0, None, None, "cross")
    await _store(db, account, NOW - DAY - 600, old)
    (btc,) = await net_greeks(db, [account], _views(_analysis(_put_file())), at=NOW)
    assert btc.delta_coin_before is None and btc.vega_usd_before is None


async def test_an_account_linked_today_held_nothing_yesterday(db: Database) -> None:
    """Created after the instant 24 h ago: it counts as zero then, so the change is the whole
    of today's figure."""
    account = await _account(db, created=NOW - 3600)
    (btc,) = await net_greeks(db, [account], _views(_analysis(_put_file())), at=NOW)
    assert btc.delta_coin_before == 0.0 and btc.delta_coin_change == btc.delta_coin


async def test_perpetuals_only_add_no_greeks_lines(db: Database) -> None:
    """No option now or yesterday: the exposure table already says the net delta in USD."""
    account = await _account(db)
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert await net_greeks(db, [account], _views(_analysis(data)), at=NOW) == ()
    assert lines(()) == []


async def test_an_option_closed_overnight_still_shows_its_vega_gone(db: Database) -> None:
    """Yesterday's option, today none: the underlying is listed with vega 0 and the change."""
    account = await _account(db)
    await _store(db, account, NOW - DAY - 60, _yesterday_put())
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    found = await net_greeks(db, [account], _views(_analysis(data)), at=NOW)
    btc = next(g for g in found if g.underlying == "BTC")
    assert btc.vega_usd == 0.0 and btc.vega_usd_change == pytest.approx(300.0)


async def test_a_poll_stores_the_figures_yesterday_is_read_from(db: Database) -> None:
    """The monitor's summary keeps each position's delta and vega, and they read back whole:
    yesterday's figure from a real poll's snapshot equals that poll's analysis."""
    account = await _account(db)
    analysis = _analysis(_put_file())
    await Snapshots(db).insert(summarise(analysis, account_id=account.id, taken_at=NOW - DAY))
    (stored,) = (await Snapshots(db).latest(account.owner_id, account.id)).positions  # type: ignore[union-attr]
    assert (stored.underlying, stored.contract_type) == ("BTC", "option")
    assert stored.delta_coin == pytest.approx(float(analysis.greeks.delta_coin[0]))
    assert stored.vega_usd == pytest.approx(float(analysis.greeks.vega_usd[0]))
    (btc,) = await net_greeks(db, [account], _views(analysis), at=NOW)
    assert btc.delta_coin_change == pytest.approx(0.0, abs=1e-9)
    assert btc.vega_usd_change == pytest.approx(0.0, abs=1e-9)


async def test_the_digest_text_carries_the_greeks(db: Database) -> None:
    """Through build and the text: the table sits after the exposure table."""
    account = await _account(db)
    await _store(db, account, NOW - DAY - 600, _yesterday_put())
    analysis = _analysis(_put_file())
    found = await digest.build(db, [account], {account.id: analysis}, now=NOW)
    assert [g.underlying for g in found.greeks] == ["BTC"]
    text = digest_text.text(found)
    assert "Net greeks" in text and text.index("Exposure, USD") < text.index("Net greeks")
    assert digest_greeks.lines(found.greeks)[1] in text
