"""/stress, /stress grid and /chart stress answered by the shared Conversation, as the console
asks them (Telegram's end-to-end test is tests/bot/telegram/test_stress_telegram.py): the
account's latest analysis is a short straddle (tests/engine/test_stress_options.py)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.alerting.service import AlertService
from bot.chat.context import ChatContext
from bot.chat.conversation import Conversation
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
from engine.analysis import analyze
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.users import Users
from tests.engine.test_stress_options import _straddle


async def _yes() -> bool:
    return True


CONSOLE = ChatContext(Platform.CONSOLE, "1", "ann", "1", True, None, _yes)


@pytest.fixture
async def conversation(tmp_path: Path) -> AsyncIterator[Conversation]:
    async with Database.open(str(tmp_path / "db.sqlite")) as db:
        ann = await Users(db).ensure(Platform.CONSOLE, "1", "Ann", "1", now=time.time())
        account = await Accounts(db).add(ann.id, "bybit", "desk", wallet_address="x", now=1.0)
        accounts = AccountService(db, None, Vault(Secret(generate_key())))  # type: ignore[arg-type]
        latest = {account.id: analyze(_straddle())}
        yield Conversation(db, accounts, AlertService(db), PortfolioService(accounts, latest))


async def test_a_shock_with_vol(conversation: Conversation) -> None:
    reply = await conversation.handle(CONSOLE, "/stress BTC -10% vol +20%")
    assert reply.table
    assert reply.text.splitlines()[0] == "[desk] Stress BTC -10.0%, vol +20%"
    assert "2 option(s) re-priced in full (Black-76)" in reply.text


async def test_the_grid_and_its_chart(conversation: Conversation) -> None:
    grid = await conversation.handle(CONSOLE, "/stress grid")
    assert grid.text.startswith("[desk] Stress grid all: equity change, USD")
    chart = await conversation.handle(CONSOLE, "/chart stress BTC")
    (image,) = chart.images
    assert (image.name, image.title) == ("stress.png", "Stress BTC: equity change, USD (desk)")
    assert chart.text == image.title


async def test_an_asset_the_account_does_not_hold(conversation: Conversation) -> None:
    """One sentence, as /stress always answered."""
    reply = await conversation.handle(CONSOLE, "/stress grid ETH")
    assert reply.text == "None of these accounts has any ETH position yet."
    assert not reply.images
