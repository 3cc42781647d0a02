"""The fault suite's stack: the real runtime (monitor, alert stage, outbox, notifier, watchdogs,
supervisor) over a real SQLite file, the real ccxt against the fake exchange, and fake chat
channels — one for the trader's chat, one for the ops chat — on real time.

Every scenario checks the same four things: nothing lost, duplicates only where at-least-once
allows (and counted), the loops alive, and the operator told.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.delivery.channel import Channel
from bot.exchanges import ExchangeHub
from bot.runtime.assemble import DELIVERY, Runtime, assemble
from bot.security.vault import Vault, generate_key
from bot.settings import Secret, Settings
from engine.alerts.events import NoticeKind, OpsNotice
from engine.domain import LinkedAccount, Platform
from storage import Database
from storage.outbox import OutboxStatus
from storage.users import Users
from tests.bot.exchanges.conftest import link
from tests.engine.normalise.payloads import binance as pb
from tests.fakes.channel import FakeChannel
from tests.fakes.exchange import FakeExchange

USER_CHAT = "1001"
OPS_CHAT = "ops-room"
#: The isolated SOL long of the Binance payloads: its liquidation price ignores the mark.
SOL = pb.LEGS[2]
SOL_SYMBOL = "SOL/USDT:USDT"
SOL_LIQ = pb.liquidation_price((SOL,), "SOLUSDT")


def mark_at(distance_pct: float) -> float:
    """The SOL mark that is ``distance_pct`` above the long's liquidation price."""
    return SOL_LIQ / (1 - distance_pct / 100)


@dataclass
class Stack:
    fake: FakeExchange
    db: Database
    runtime: Runtime
    chat: FakeChannel
    ops: FakeChannel
    owner_id: int
    db_path: Path

    async def link_sol(self, n: int) -> LinkedAccount:
        """Binance account ``n`` holding the isolated SOL long, linked as a user would."""
        creds = link(self.fake, "binanceusdm", n, positions=(SOL,))
        linked = await self.runtime.accounts.link(
            self.owner_id, "binanceusdm", creds, label=f"sol-{n}"
        )
        return linked.account

    def move(self, distance_pct: float) -> None:
        self.fake.set_mark("binanceusdm", SOL_SYMBOL, mark_at(distance_pct))

    async def polled(self, count: int, timeout_s: float = 30.0) -> None:
        """Until ``count`` more polls finished successfully."""
        target = self.runtime.monitor.stats.polls + count
        await until(lambda: self.runtime.monitor.stats.polls >= target, timeout_s)

    async def settled(self, timeout_s: float = 60.0) -> Counter[str]:
        """Until no outbox row is pending; each row's sent status, counted."""
        await until(lambda: self._pending == 0, timeout_s, poll=self._count_pending)
        rows = await self.db.fetchall("SELECT status FROM outbox")
        return Counter(str(r["status"]) for r in rows)

    _pending: int = -1

    async def _count_pending(self) -> None:
        row = await self.db.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        self._pending = int(row[0]) if row is not None else 0

    async def sent_keys(self) -> set[str]:
        rows = await self.db.fetchall(
            "SELECT dedup_key FROM outbox WHERE status = ? AND chat_id = ?",
            (OutboxStatus.SENT.value, USER_CHAT),
        )
        return {str(r["dedup_key"]) for r in rows}

    def delivered(self) -> Counter[str]:
        """How many times each dedup key reached the trader's chat."""
        return Counter(d.dedup_key for d in self.chat.sent)

    def told(self, kind: NoticeKind) -> list[OpsNotice]:
        """Ops notices of ``kind`` the ops chat received (queued or sent directly)."""
        found = [d.message.notice for d in self.ops.sent]
        return [n for n in found if isinstance(n, OpsNotice) and n.kind is kind]

    @property
    def delivering(self) -> bool:
        return self.runtime.supervisor.running(DELIVERY)


async def until(
    predicate: Callable[[], bool],
    timeout_s: float,
    *,
    poll: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Wait for ``predicate`` (after awaiting ``poll``, if given, before each look)."""
    deadline = time.monotonic() + timeout_s
    while True:
        if poll is not None:
            await poll()
        if predicate():
            return
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def open_stack(
    db_path: Path,
    fake: FakeExchange,
    *,
    busy_timeout_s: float = 5.0,
    timeout_s: float = 10.0,
    wrap: Callable[[FakeChannel], Channel] = lambda chat: chat,
    **settings: object,
) -> AsyncIterator[Stack]:
    """The runtime polling every second, watchdogs at their shortest limits; ``wrap`` puts a
    faulty layer between the notifier and the trader's chat."""
    chat = FakeChannel(Platform.TELEGRAM, clock=time.time)
    ops = FakeChannel(Platform.DISCORD, clock=time.time)
    channels: dict[Platform, Channel] = {Platform.TELEGRAM: wrap(chat), Platform.DISCORD: ops}
    chosen = Settings(
        db_path=db_path, poll_s=1.0, poll_bands=False, snapshot_s=0.0, blind_after=3,
        ops_chat=(Platform.DISCORD, OPS_CHAT),
        stall_s=10.0, delivery_stall_s=10.0, **settings,  # type: ignore[arg-type]
    )  # fmt: skip
    vault = Vault(Secret(generate_key()))
    async with (
        Database.open(db_path, busy_timeout_s=busy_timeout_s) as db,
        ExchangeHub(
            fake.url, rate_limit=False, retries=1, backoff_s=0.01, timeout_s=timeout_s
        ) as hub,
    ):
        owner = await Users(db).ensure(
            Platform.TELEGRAM, USER_CHAT, "alice", USER_CHAT, now=time.time()
        )
        async with assemble(
            chosen, db=db, hub=hub, flows=hub, vault=vault, channels=channels
        ) as runtime:
            yield Stack(fake, db, runtime, chat, ops, owner.id, db_path)


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange() as server:
        yield server


@pytest.fixture
async def stack(tmp_path: Path, fake: FakeExchange) -> AsyncIterator[Stack]:
    async for built in open_stack(tmp_path / "liqwatch.db", fake):
        yield built
