"""Migration 0014: an account's last good poll, kept by a trigger on the poll outcomes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.freshness import last_good
from storage.users import Users


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database.open(str(tmp_path / "db.sqlite")) as database:
        yield database


async def test_a_success_is_the_last_good_poll_and_failures_do_not_move_it(db: Database) -> None:
    """``last_polled_at`` moves with every poll; ``last_good`` only with the ones that worked,
    and a blind account keeps the time of its last good figures."""
    user = await Users(db).ensure(Platform.TELEGRAM, "1", "ann", "Ann", now=1.0)
    accounts = Accounts(db)
    account = await accounts.add(user.id, "hyperliquid", "hl", wallet_address="0x1", now=1.0)
    other = await accounts.add(user.id, "hyperliquid", "hl2", wallet_address="0x2", now=1.0)
    assert await last_good(db, [account.id, other.id]) == {}
    await accounts.record_poll_success(account.id, 100.0)
    await accounts.record_poll_success(account.id, 200.0)
    for at in (300.0, 400.0, 500.0):
        await accounts.record_poll_failure(account.id, at, "HTTP 503", blind_after=2)
    assert (await accounts.get(user.id, account.id)).last_polled_at == 500.0  # type: ignore[union-attr]
    assert await last_good(db, [account.id, other.id]) == {account.id: 200.0}
    await accounts.record_poll_success(account.id, 600.0)
    assert await last_good(db, [account.id]) == {account.id: 600.0}
