"""A worker that loses PostgreSQL for 30 s (issue 17): it reaches the database through a TCP
proxy that is cut (connections dropped, new ones refused) while the other worker connects
directly. The cut-off worker stops polling before its leases expire, so no account is polled
by both; the other takes its accounts within the lease time; the cut-off worker says so in
one sentence, not a storm of tracebacks; restored, it reconnects and claims its share again,
ready on /healthz, without a restart. Real processes, one fake venue per worker (so each
poll is known by who made it); skipped without PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.runtime.app import INBOUND_KEY
from bot.security.vault import generate_key
from storage import Database
from storage.postgres import PgDatabase
from tests.bot.runtime.workers import holders, seed_wallets, start_worker, stop_workers
from tests.fakes.exchange import FakeExchange
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram import FakeTelegram
from tests.postgres import postgres_schema

pytestmark = pytest.mark.slow

WALLETS, LEASE_S, POLL_S, OUTAGE_S = 8, 3.0, 1.0, 30.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until(predicate: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> float:
    """Wait for ``predicate``; the monotonic time it held."""
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.1)
    return time.monotonic()


def _polls(fake: FakeExchange) -> list[tuple[float, str]]:
    """(when, wallet) of every position read the fake answered."""
    return [
        (r.at, str(r.json().get("user", "")).lower())
        for r in fake.requests
        if r.venue == "hyperliquid" and r.json().get("type") == "clearinghouseState"
    ]


async def _ready(port: int) -> bool:
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def test_a_worker_cut_off_for_30_s_stops_then_rejoins(tmp_path: Path) -> None:
    async with (
        postgres_schema() as url,
        FakeExchange() as fake_a,
        FakeExchange() as fake_b,
        FakeTelegram() as telegram,
        Database.open(url) as db,
    ):
        assert isinstance(db, PgDatabase)
        server = urlsplit(url)
        proxy = TcpProxy(server.hostname or "127.0.0.1", server.port or 5432)
        await proxy.start()
        proxied = url.replace(f"{server.hostname}:{server.port}", f"127.0.0.1:{proxy.port}", 1)
        await seed_wallets(db, fake_b, WALLETS)
        for n in range(WALLETS):
            fake_a.add_wallet(f"0x{n + 1:040x}")
        key, port = generate_key(), _free_port()

        def worker(name: str, db_url: str, fake: FakeExchange, **more: object) -> Awaitable[object]:
            return start_worker(
                db_url, name, cwd=tmp_path, exchange_url=fake.url, telegram=telegram,
                master_key=key, lease_s=LEASE_S, poll_s=POLL_S, log=tmp_path / f"{name}.log",
                **more,  # type: ignore[arg-type]
            )  # fmt: skip

        procs = {}
        try:
            # B first, so B holds the chat inbound and A's outage is about its accounts.
            b = await worker("wB", url, fake_b)
            procs[b.pid] = ("wB", b)

            async def b_leads() -> bool:
                inbound = await db.holder(INBOUND_KEY)
                return await holders(db) == {"wB": WALLETS} and f" {b.pid}@" in str(inbound)

            await _until(b_leads, 60, "worker B holds every account and the inbound")
            a = await worker("wA", proxied, fake_a, http_port=port)
            procs[a.pid] = ("wA", a)

            async def shared() -> bool:
                held = await holders(db)
                return held.get("wA") == WALLETS // 2 and bool(_polls(fake_a))

            await _until(shared, 60, "worker A holds its share and polls")
            await _until(lambda: _ready(port), 30, "worker A is ready")
            cut_at = time.monotonic()
            await proxy.cut()

            async def b_holds_all() -> bool:
                return await holders(db) == {"wB": WALLETS}

            took = await _until(b_holds_all, 4 * LEASE_S, "B takes A's accounts") - cut_at
            assert not await _ready(port), "A says it is ready without its database"
            await asyncio.sleep(max(cut_at + OUTAGE_S - time.monotonic(), 0.0))
            await proxy.start()
            restored_at = time.monotonic()

            async def a_rejoins() -> bool:
                return (await holders(db)).get("wA", 0) > 0

            rejoined = await _until(a_rejoins, 30, "A claims accounts again") - restored_at
            await _until(lambda: _ready(port), 30, "A is ready again")
            polled_again = await _until(
                lambda: _polled_after(fake_a, restored_at), 30, "A polls again"
            )
        finally:
            await stop_workers(procs)
            await proxy.cut()

        a_polls, b_polls = _polls(fake_a), _polls(fake_b)
        a_wallets = {w for at, w in a_polls if at < cut_at}
        last_a = max(at for at, _ in a_polls if at < restored_at)
        assert last_a < cut_at + LEASE_S, f"A polled {last_a - cut_at:.1f} s into the outage"
        for wallet in a_wallets:
            a_last = max(at for at, w in a_polls if w == wallet and at < restored_at)
            b_first = min(at for at, w in b_polls if w == wallet and at > cut_at)
            assert a_last < b_first, f"{wallet} polled by both workers at once"
        log = (tmp_path / "wA.log").read_text()
        assert "database unreachable" in log and "stops polling" in log, log[-3000:]
        assert log.count("Traceback") <= 3, log[-5000:]
        print(
            f"\nB held all {took:.1f} s after the cut (lease {LEASE_S:g} s); A claimed again "
            f"{rejoined:.1f} s and polled again {polled_again - restored_at:.1f} s after the "
            f"{OUTAGE_S:g} s outage; A's log: {len(log.splitlines())} lines, "
            f"{log.count('Traceback')} tracebacks"
        )


async def _polled_after(fake: FakeExchange, since: float) -> bool:
    return any(at > since for at, _ in _polls(fake))
