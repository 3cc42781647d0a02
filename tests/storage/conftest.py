"""Fixtures: a real migrated database on tmp_path, its repositories and two users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.domain import LinkedAccount, Platform, User
from storage.accounts import Accounts
from storage.db import Database
from storage.snapshots import Snapshots
from storage.users import Users
from tests.postgres import postgres_schema

NOW = 1_700_000_000.0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "liqwatch.db"


@pytest.fixture
async def sqlite_db(db_path: Path) -> AsyncIterator[Database]:
    """For what only SQLite has (pragmas, the WAL file, the process lock)."""
    async with Database.open(db_path) as database:
        yield database


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[Database]:
    """Every storage test that takes ``db`` runs on both backends (PostgreSQL: a fresh schema
    per test on LIQWATCH_TEST_POSTGRES_URL, skipped with the reason when no server answers)."""
    if request.param == "sqlite":
        async with Database.open(db_path) as database:
            yield database
        return
    async with postgres_schema() as url, Database.open(url) as database:
        yield database


@pytest.fixture
def users(db: Database) -> Users:
    return Users(db)


@pytest.fixture
def accounts(db: Database) -> Accounts:
    return Accounts(db)


@pytest.fixture
def snapshots(db: Database) -> Snapshots:
    return Snapshots(db)


@pytest.fixture
async def alice(users: Users) -> User:
    return await users.ensure(Platform.TELEGRAM, "1001", "alice", "1001", now=NOW)


@pytest.fixture
async def bob(users: Users) -> User:
    return await users.ensure(Platform.DISCORD, "2002", "bob", "dm-2002", now=NOW)


@pytest.fixture
async def alice_account(accounts: Accounts, alice: User) -> LinkedAccount:
    return await accounts.add(
        alice.id, "binanceusdm", "main", ciphertext=b"sealed-alice", key_id="k1", now=NOW
    )


@pytest.fixture
async def bob_account(accounts: Accounts, bob: User) -> LinkedAccount:
    return await accounts.add(bob.id, "hyperliquid", "hl", wallet_address="0xb0b", now=NOW)
