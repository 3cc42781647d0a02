"""/risk in the console on an option book (issue 19): the same greeks block as Telegram, from
the real grammar, services and database, with the analysis the monitor would keep.

The book is the analyze test's short 5 BTC of the 90k put (Black-76 by hand in
``tests/bot/analysis/test_analyze_greeks._short_put``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.alerting.service import AlertService
from bot.analysis.snapshot import parse
from bot.chat.conversation import Conversation
from bot.console.session import ConsoleSession
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
from engine.analysis import Analysis, analyze
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.users import Users
from tests.bot.analysis.test_analyze_greeks import _put_file, _short_put


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[ConsoleSession]:
    async with Database.open(str(tmp_path / "db.sqlite")) as db:
        user = await Users(db).ensure(Platform.CONSOLE, "me", "me", "console", now=time.time())
        account = await Accounts(db).add(user.id, "bybit", "opts", wallet_address="x", now=1.0)
        analysis: Analysis = analyze(parse(_put_file()).snapshot)
        accounts = AccountService(db, None, Vault(Secret(generate_key())))  # type: ignore[arg-type]
        portfolio = PortfolioService(accounts, {account.id: analysis})
        conversation = Conversation(db, accounts, AlertService(db), portfolio)
        yield ConsoleSession("console", conversation, user_id="me", user_name="me")


async def test_risk_shows_the_put_greeks(session: ConsoleSession) -> None:
    text = await session.handle("/risk")
    hand = _short_put()
    assert text.startswith("[opts] bybit")
    assert f"BTC   Δ {hand['delta_coin']:+.3f} = {hand['delta_usd']:+,.0f} USD" in text
    assert (
        f"γ {hand['gamma_usd']:+,.2f} · vega {hand['vega_usd']:+,.2f} · "
        f"θ {hand['theta_usd']:+,.2f} · 1 option"
    ) in text
    assert "90,000 P    -5" in text and " BTC 27 Mar 2026 08:00 UTC" in text


async def test_positions_stay_as_they_were(session: ConsoleSession) -> None:
    """/positions is the positions list: the greeks are /risk's."""
    assert "Greeks per underlying" not in await session.handle("/positions")
