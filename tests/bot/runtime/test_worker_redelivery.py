"""At-least-once across workers, counted (issue 17, item 3): a worker killed with kill -9 after
Telegram took a message but before the send was recorded. The other worker sends it again once
the row's lease lapses (no alert lost), Telegram has it twice, and the duplicate is counted on
the row and in the survivor's /metrics. Real processes on PostgreSQL, the fake Bot API holding
its answer to the send so the kill lands between sending and recording (the sender is found
by the socket its request came from)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.security.vault import generate_key
from storage import Database
from storage.outbox import Outbox, OutboxStatus
from tests.bot.runtime.workers import holders, seed_wallets, start_worker, stop_workers
from tests.fakes.exchange import FakeExchange
from tests.fakes.notices import alert_notice, message
from tests.fakes.telegram import FakeTelegram
from tests.postgres import postgres_schema

pytestmark = pytest.mark.slow

LEASE_S = 3.0
USER = 4242


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _until(predicate: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.1)


async def _redeliveries(port: int) -> float:
    """``liqwatch_outbox_redeliveries_total{platform="telegram"}`` of the worker on ``port``."""
    url = f"http://127.0.0.1:{port}/metrics"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        text = await response.text()
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "liqwatch_outbox_redeliveries_total" and s.labels == {"platform": "telegram"}
    )


def _owner(port: int, pids: list[int]) -> int:
    """Which of ``pids`` has the TCP socket whose local port is ``port`` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in inodes:
                    return pid
    raise AssertionError(f"no worker has the socket on port {port}")


async def test_a_send_cut_off_by_kill_9_is_sent_again_and_counted(tmp_path: Path) -> None:
    async with (
        postgres_schema() as url,
        FakeExchange() as fake,
        FakeTelegram() as telegram,
        Database.open(url) as db,
    ):
        await seed_wallets(db, fake, 2)
        telegram.private_chat(USER, "Ann")
        key, ports = generate_key(), {"wA": _free_port(), "wB": _free_port()}
        procs = {}
        try:
            for name in ("wA", "wB"):
                proc = await start_worker(
                    url, name, cwd=tmp_path, exchange_url=fake.url, telegram=telegram,
                    master_key=key, lease_s=LEASE_S, poll_s=2, http_port=ports[name],
                    log=tmp_path / f"{name}.log",
                )  # fmt: skip
                procs[proc.pid] = (name, proc)

            async def both_hold() -> bool:
                return set(await holders(db)) == {"wA", "wB"}

            await _until(both_hold, 60, "both workers run")
            hold = telegram.hold_reply("sendMessage", USER)
            notice = alert_notice()
            await Outbox(db).enqueue(
                [message(str(USER), notice.severity, key="liq-1", notice=notice)], now=time.time()
            )
            # Whichever worker claimed it has sent it: Telegram has the message, the worker
            # waits for the answer. It dies now, long before its HTTP client would time out.
            await telegram.wait_for(lambda: hold.peer, timeout=30)
            assert hold.peer is not None and len(telegram.bot_messages(USER)) == 1
            sender = _owner(hold.peer[1], list(procs))
            os.kill(sender, signal.SIGKILL)
            killed = time.monotonic()
            survivor = next(name for pid, (name, _) in procs.items() if pid != sender)

            async def sent() -> bool:
                row = await Outbox(db).by_key("liq-1")
                return row is not None and row.status is OutboxStatus.SENT

            await _until(sent, 4 * LEASE_S + 10, "the survivor sends the row again")
            took = time.monotonic() - killed
            row = await Outbox(db).by_key("liq-1")
            assert row is not None and row.redeliveries == 1, row
            sends = telegram.bot_messages(USER)
            assert len(sends) == 2 and sends[0].text == sends[1].text, sends
            assert await _redeliveries(ports[survivor]) == 1.0
            print(f"\nsent again by {survivor} {took:.1f} s after kill -9 (lease {LEASE_S:g} s)")
        finally:
            await stop_workers(procs)  # FakeTelegram's close releases the held answer
