"""Flows repository: idempotent records, the covered window, sums per currency, retention."""

from __future__ import annotations

from engine.domain import LinkedAccount
from storage.db import Database
from storage.flows import Coverage, Flows, StoredFlow
from tests.storage.conftest import NOW

H = 3600.0


def _flow(account: LinkedAccount, ref: str, at: float, amount: float, currency: str = "USDT",
          kind: str = "funding") -> StoredFlow:  # fmt: skip
    return StoredFlow(account.id, kind, ref, at, "BTC/USDT:USDT", currency, amount)


async def test_reading_the_same_flows_twice_stores_them_once(
    db: Database, alice_account: LinkedAccount
) -> None:
    """Reads overlap on purpose (late venue entries): the venue's id keeps the sum right."""
    flows = Flows(db)
    batch = [_flow(alice_account, "a", NOW - H, -1.5), _flow(alice_account, "b", NOW, 0.5)]
    assert await flows.record(alice_account.id, "funding", batch, since=NOW - 2 * H, until=NOW) == 2
    again = [*batch, _flow(alice_account, "c", NOW + 60, -2.0)]
    assert await flows.record(alice_account.id, "funding", again, since=NOW - H, until=NOW + H) == 1
    [total] = await flows.totals([alice_account.id], since=NOW - 3 * H, until=NOW + H)
    assert (total.kind, total.currency, total.amount, total.count) == ("funding", "USDT", -3.0, 3)


async def test_coverage_grows_with_touching_reads_and_restarts_after_a_gap(
    db: Database, alice_account: LinkedAccount
) -> None:
    """A gap (the venue was down) must not be covered: its flows are unknown."""
    flows = Flows(db)
    await flows.record(alice_account.id, "realised", [], since=NOW - 26 * H, until=NOW)
    await flows.record(alice_account.id, "realised", [], since=NOW - 0.1 * H, until=NOW + H)
    assert await flows.coverage([alice_account.id]) == [
        Coverage(alice_account.id, "realised", NOW - 26 * H, NOW + H)
    ]
    await flows.record(alice_account.id, "realised", [], since=NOW + 3 * H, until=NOW + 4 * H)
    assert await flows.coverage([alice_account.id]) == [
        Coverage(alice_account.id, "realised", NOW + 3 * H, NOW + 4 * H)
    ]


async def test_totals_are_per_kind_and_currency_inside_the_window(
    db: Database, alice_account: LinkedAccount
) -> None:
    flows = Flows(db)
    await flows.record(alice_account.id, "realised", [
        _flow(alice_account, "r1", NOW - 25 * H, 1000.0, kind="realised"),  # before the window
        _flow(alice_account, "r2", NOW - H, 120.0, kind="realised"),
        _flow(alice_account, "r3", NOW - H, -0.002, "BTC", kind="realised"),
    ], since=NOW - 26 * H, until=NOW)  # fmt: skip
    await flows.record(alice_account.id, "funding", [_flow(alice_account, "f1", NOW, -4.0)],
                       since=NOW - 26 * H, until=NOW)  # fmt: skip
    totals = await flows.totals([alice_account.id], since=NOW - 24 * H, until=NOW)
    assert [(t.kind, t.currency, t.amount) for t in totals] == [
        ("funding", "USDT", -4.0),
        ("realised", "BTC", -0.002),
        ("realised", "USDT", 120.0),
    ]
    assert await flows.totals([], since=0, until=NOW) == []


async def test_prune_forgets_old_flows_and_shrinks_the_coverage(
    db: Database, alice_account: LinkedAccount
) -> None:
    flows = Flows(db)
    old, new = (
        _flow(alice_account, "old", NOW - 40 * 24 * H, 1.0),
        _flow(alice_account, "new", NOW, 2.0),
    )
    await flows.record(alice_account.id, "funding", [old, new], since=NOW - 41 * 24 * H, until=NOW)
    assert await flows.prune(NOW - 35 * 24 * H) == 1
    [total] = await flows.totals([alice_account.id], since=0, until=NOW)
    assert total.amount == 2.0
    [coverage] = await flows.coverage([alice_account.id])
    assert coverage.covered_from == NOW - 35 * 24 * H
