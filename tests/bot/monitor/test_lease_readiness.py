"""A worker is ready (/healthz) only while its leases are renewed: one that has not claimed
yet, or whose last renewal is a lease time old, polls nothing it can trust to be its own."""

from __future__ import annotations

from pathlib import Path

from bot.monitor.leases import LeaseKeeper
from storage import Database


async def test_a_worker_is_ready_while_its_leases_are_renewed(tmp_path: Path) -> None:
    now = [1_000.0]
    async with Database.open(str(tmp_path / "liqwatch.db")) as db:
        keeper = LeaseKeeper(db, worker="w1@host", lease_s=15.0, clock=lambda: now[0])
        ok, said = keeper.current()
        assert not ok and said == "worker w1@host has not claimed its share of the accounts yet"
        await keeper.turn()
        now[0] += 14.0
        assert keeper.current() == (True, "worker w1@host holds 0 accounts by lease")
        now[0] += 1.0
        assert keeper.current() == (False, "worker w1@host last renewed its leases 15 s ago")
