"""Three `liqwatch run` worker processes on one PostgreSQL database share 2,000 accounts
(issue 17, "Must be shown"): over two full poll intervals after they settle, every account is
read in each interval, by exactly one worker — the one holding its lease, which never changes
— and each worker holds a third of the accounts.

The accounts are Deribit API keys: Deribit limits requests per key, not per IP as Binance and
Hyperliquid do, so one host's budget for a venue is not what bounds 2,000 accounts (at one IP,
Hyperliquid's 1,200 weight a minute reads 600 wallets a minute, Binance's 2,400 about 240
accounts). Each worker reads the venues through a fake of its own (the same accounts behind
each), so the fake that saw a read says which worker made it. Polls every 60 s: 2,000 polls a
minute are about two thirds of a core here, and the machine's two cores also run PostgreSQL,
the fakes and other sessions. The workers start before the accounts are linked, so each
claims its share at once instead of the first one claiming all 2,000 and handing two thirds
on.

About two and a half minutes (140 s here): it runs only with LIQWATCH_TEST_SCALE=1 (and
PostgreSQL).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

from bot.security.vault import generate_key
from storage import Database
from storage.leases import Leases
from tests.bot.runtime.workers import Procs, seed_keys, start_worker, stop_workers
from tests.fakes.exchange import FakeExchange
from tests.fakes.telegram import FakeTelegram
from tests.postgres import postgres_schema

pytestmark = [
    pytest.mark.slow,
    pytest.mark.scale,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        os.environ.get("LIQWATCH_TEST_SCALE") != "1",
        reason="three workers and 2,000 accounts take minutes: set LIQWATCH_TEST_SCALE=1",
    ),
]

ACCOUNTS, WORKERS, POLL_S, LEASE_S, INTERVALS = 2000, 3, 60.0, 15.0, 2
POSITIONS = "/api/v2/private/get_positions"
_KEY = re.compile(r"id=([^,]+)")
#: A poll due inside an interval may reach the venue this much after it ends: a worker's 667
#: accounts were claimed together, so all fall due in the same second and go out over several
#: (a gap of 65.9 s was seen between two reads of one account at 60 s polls), plus the
#: scheduler's lag on a loaded machine.
LATE_S = 10.0


@dataclass
class Shared:
    db: Database
    fakes: list[FakeExchange]
    procs: Procs
    linked: dict[str, int]

    def reads(self, since: float, until: float) -> dict[int, list[tuple[float, str]]]:
        """Account → (when, which worker) of each positions read in [since, until)."""
        out: dict[int, list[tuple[float, str]]] = defaultdict(list)
        for n, fake in enumerate(self.fakes):
            for request in fake.requests:
                found = _KEY.search(request.headers.get("Authorization", ""))
                if request.path == POSITIONS and found and since <= request.at < until:
                    out[self.linked[found.group(1)]].append((request.at, f"w{n}"))
        return {account: sorted(seen) for account, seen in out.items()}

    async def owners(self) -> dict[int, str]:
        """Account → worker of every live lease."""
        rows = await self.db.fetchall(
            "SELECT account_id, owner FROM account_leases WHERE expires_at > ?", (time.time(),)
        )
        return {int(r["account_id"]): str(r["owner"]) for r in rows}


@pytest.fixture
async def shared(tmp_path: Path) -> AsyncIterator[Shared]:
    """The workers' logs stay in ``tmp_path`` (w0.log …) for a failure to be read."""
    key = generate_key()
    async with (
        postgres_schema() as url,
        FakeExchange() as f0, FakeExchange() as f1, FakeExchange() as f2,
        FakeTelegram() as telegram,
        Database.open(url) as db,
    ):  # fmt: skip
        fakes = [f0, f1, f2]
        procs: Procs = {}
        try:
            for n, fake in enumerate(fakes):
                proc = await start_worker(
                    url, f"w{n}", cwd=tmp_path, exchange_url=fake.url, telegram=telegram,
                    master_key=key, lease_s=LEASE_S, poll_s=POLL_S, log=tmp_path / f"w{n}.log",
                )  # fmt: skip
                procs[proc.pid] = (f"w{n}", proc)
            await _until(lambda: _live(db), 90, "three workers alive")
            linked = await seed_keys(db, fakes, ACCOUNTS, master_key=key)
            yield Shared(db, fakes, procs, linked)
        finally:
            await stop_workers(procs)


async def _live(db: Database) -> bool:
    return len(await Leases(db).live(time.time(), LEASE_S)) == WORKERS


async def _until(predicate: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {timeout_s:g} s: {what}"
        await asyncio.sleep(1.0)


async def _settled(shared: Shared, since: float) -> bool:
    """Every account leased, and read by its holder since ``since``."""
    owners = await shared.owners()
    if len(owners) < ACCOUNTS:
        return False
    reads = shared.reads(since, time.monotonic())
    return all(any(w == owners[a] for _, w in reads.get(a, ())) for a in owners)


async def test_three_workers_poll_2000_accounts_each_by_one_worker_in_every_interval(
    shared: Shared,
) -> None:
    linked_at = time.monotonic()
    await _until(lambda: _settled(shared, linked_at), 4 * POLL_S, "every account polled")
    owners = await shared.owners()
    start = time.monotonic()
    history = [(0.0, owners)]
    # Until the last interval's reads may still come (LATE_S after it): collecting only up to
    # its end gave the last interval no lateness at all, so a batch due in its final seconds
    # and sent a few seconds late counted as "not read" (always interval 2, never interval 1).
    while time.monotonic() < start + INTERVALS * POLL_S + LATE_S:
        await asyncio.sleep(5.0)
        history.append((time.monotonic() - start, await shared.owners()))
    end = time.monotonic()
    reads = shared.reads(start, end)

    moves = [(at, sum(1 for a, w in now.items() if owners.get(a) != w)) for at, now in history]
    assert not any(n for _, n in moves), f"leases changed hands (s, how many): {moves}"
    unleased = [(at, ACCOUNTS - len(now)) for at, now in history if len(now) < ACCOUNTS]
    assert not unleased, f"accounts without a live lease (s, how many): {unleased}"
    shares = {w: sum(1 for o in owners.values() if o == w) for w in sorted(set(owners.values()))}
    assert len(shares) == WORKERS, shares
    assert all(abs(n - ACCOUNTS / WORKERS) <= 1 for n in shares.values()), shares

    assert set(reads) == set(owners), f"{ACCOUNTS - len(reads)} accounts never read"
    strangers = {a: seen for a, seen in reads.items() if {w for _, w in seen} != {owners[a]}}
    assert not strangers, f"{len(strangers)} read by another worker than the holder"
    for k in range(INTERVALS):
        lo, hi = start + k * POLL_S, start + (k + 1) * POLL_S
        missed = [
            a for a, seen in reads.items() if not any(lo <= at < hi + LATE_S for at, _ in seen)
        ]
        assert not missed, f"interval {k + 1}: {len(missed)} accounts not read"
    gaps = [b[0] - a[0] for seen in reads.values() for a, b in pairwise(seen)]
    assert min(gaps) > POLL_S / 2, f"an account read twice within {min(gaps):.1f} s"
    assert max(gaps) < POLL_S + LATE_S, f"an account not read for {max(gaps):.1f} s"
    print(
        f"\n{ACCOUNTS} accounts over {INTERVALS} intervals of {POLL_S:g} s: held {shares}; "
        f"reads {sum(len(s) for s in reads.values())}, gap between an account's reads "
        f"{min(gaps):.1f}-{max(gaps):.1f} s"
    )
