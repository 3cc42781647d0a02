"""Fixtures: a real database, the fake exchange, the real hub and a monitor over them."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.accounts.service import AccountService
from bot.exchanges import Credentials, ExchangeHub
from bot.monitor.events import AlertStage, no_alerts
from bot.monitor.poller import Monitor
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
from engine.domain import LinkedAccount, Platform
from storage import Database
from storage.users import Users
from tests.bot.exchanges.conftest import link
from tests.fakes.exchange import FakeExchange
from tests.postgres import postgres_schema


@dataclass
class World:
    """Everything a monitor test touches, all real except the exchange (a local fake)."""

    fake: FakeExchange
    db: Database
    hub: ExchangeHub
    vault: Vault
    monitor: Monitor
    service: AccountService
    owner_id: int
    db_path: Path
    vault_key: str

    async def link(self, venue: str, n: int = 0, **kwargs: object) -> LinkedAccount:
        """Register account n on the fake and link it through the real service."""
        creds: Credentials = link(self.fake, venue, n)
        linked = await self.service.link(
            self.owner_id, venue, creds, label=f"{venue}-{n}", **kwargs
        )  # type: ignore[arg-type]
        return linked.account


async def _database(databases: contextlib.AsyncExitStack, db_path: Path) -> str:
    """The SQLite file, or with LIQWATCH_TEST_BACKEND=postgres a fresh PostgreSQL schema."""
    if os.environ.get("LIQWATCH_TEST_BACKEND") == "postgres":
        return str(await databases.enter_async_context(postgres_schema()))
    return str(db_path)


async def make_world(
    tmp_path: Path,
    fake: FakeExchange,
    *,
    alerts: AlertStage = no_alerts,
    poll_s: float = 30.0,
    blind_after: int = 3,
    rate_limit: bool = False,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[World]:
    db_path = tmp_path / "liqwatch.db"
    key = generate_key()
    vault = Vault(Secret(key))
    async with (
        contextlib.AsyncExitStack() as databases,
        Database.open(await _database(databases, db_path)) as db,
        ExchangeHub(fake.url, rate_limit=rate_limit, retries=2, backoff_s=0.01) as hub,
    ):
        monitor = Monitor(
            db=db, hub=hub, vault=vault, poll_s=poll_s, blind_after=blind_after, alerts=alerts,
            clock=clock,
        )  # fmt: skip
        service = AccountService(db, hub, vault, on_change=monitor.sync)
        owner = await Users(db).ensure(Platform.TELEGRAM, "1001", "alice", "1001", now=time.time())
        try:
            yield World(fake, db, hub, vault, monitor, service, owner.id, db_path, key)
        finally:
            await monitor.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange() as server:
        yield server


@pytest.fixture
async def world(tmp_path: Path, fake: FakeExchange) -> AsyncIterator[World]:
    async for w in make_world(tmp_path, fake):
        yield w
