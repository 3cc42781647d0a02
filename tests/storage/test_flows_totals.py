"""Running totals in the flows store (OKX's positions history): each version stores what it
adds, so a position closed in parts counts each part once, at its time."""

from __future__ import annotations

import pytest

from engine.domain import LinkedAccount
from storage.db import Database
from storage.flows import KEEP_TOTALS_S, Flows, StoredFlow
from tests.storage.conftest import NOW

H = 3600.0
TOTAL = "fetch_positions_history:77:1717000000000"


def _version(account: LinkedAccount, at: float, total: float, key: str = TOTAL) -> StoredFlow:
    """The position's realised PnL so far (``total``) as updated at ``at``."""
    return StoredFlow(account.id, "realised", f"{key}@{int(at * 1000)}", at, "BTC/USDT:USDT",
                      "USDT", total, key)  # fmt: skip


async def _day(flows: Flows, account: LinkedAccount, since: float, until: float) -> float:
    totals = await flows.totals([account.id], since=since, until=until)
    return sum(t.amount for t in totals)


async def test_a_position_closed_in_parts_counts_each_part_once(
    db: Database, alice_account: LinkedAccount
) -> None:
    """60 realised at the first partial close, 100 in all at the second: the days hold 60 and
    40; reading either version again (the ledger's overlap) adds nothing."""
    flows, a = Flows(db), alice_account
    first, second = _version(a, NOW - 30 * H, 60.0), _version(a, NOW - 2 * H, 100.0)
    assert (
        await flows.record(a.id, "realised", [first], since=NOW - 31 * H, until=NOW - 29 * H) == 1
    )
    assert await flows.record(a.id, "realised", [second], since=NOW - 29 * H, until=NOW) == 1
    assert await flows.record(a.id, "realised", [first, second], since=NOW - 31 * H, until=NOW) == 0
    assert await _day(flows, a, NOW - 24 * H, NOW) == pytest.approx(40.0)
    assert await _day(flows, a, NOW - 48 * H, NOW - 24 * H) == pytest.approx(60.0)


async def test_a_total_going_down_is_a_loss_and_an_unchanged_one_is_nothing(
    db: Database, alice_account: LinkedAccount
) -> None:
    """A later close at a loss lowers the total (the step is negative); a version that only
    moved the update time (the same total) stores no zero row. Other positions, and another
    one whose key starts like this one's, are their own totals."""
    flows, a = Flows(db), alice_account
    other = "fetch_positions_history:77:17170000000001"
    batch = [
        _version(a, NOW - 5 * H, 50.0),
        _version(a, NOW - 3 * H, 20.0),
        _version(a, NOW - 2 * H, 20.0),
        _version(a, NOW - 1 * H, 7.0, key=other),
    ]
    assert await flows.record(a.id, "realised", batch, since=NOW - 6 * H, until=NOW) == 3
    rows = await flows.totals([a.id], since=NOW - 4 * H, until=NOW)
    assert [(t.amount, t.count) for t in rows] == [(pytest.approx(-23.0), 2)]


async def test_versions_of_totals_outlive_the_other_flows(
    db: Database, alice_account: LinkedAccount
) -> None:
    """The daily prune keeps a total's old versions (its next increase is measured against
    them) until they are KEEP_TOTALS_S older than the cutoff, and events go at the cutoff."""
    flows, a = Flows(db), alice_account
    cutoff = NOW - 90 * 24 * H
    old = _version(a, cutoff - 10 * 24 * H, 60.0)
    event = StoredFlow(a.id, "realised", "fetch_ledger:1", cutoff - H, "BTC/USDT:USDT", "USDT", 5.0)
    await flows.record(a.id, "realised", [old, event], since=cutoff - 11 * 24 * H, until=cutoff)
    assert await flows.prune(cutoff) == 1
    await flows.record(
        a.id, "realised", [_version(a, NOW - H, 100.0)], since=NOW - 2 * H, until=NOW
    )
    assert await _day(flows, a, NOW - 24 * H, NOW) == pytest.approx(40.0)
    assert await flows.prune(cutoff + 20 * 24 * H - KEEP_TOTALS_S) == 0
    assert await flows.prune(NOW - H + KEEP_TOTALS_S) == 1  # a year past the cutoff, the 60 goes


async def test_a_version_must_be_named_after_its_total(
    db: Database, alice_account: LinkedAccount
) -> None:
    bad = StoredFlow(alice_account.id, "realised", "elsewhere@1", NOW, "", "USDT", 1.0, TOTAL)
    with pytest.raises(ValueError, match="must have a ref starting"):
        await Flows(db).record(alice_account.id, "realised", [bad], since=NOW - H, until=NOW)
