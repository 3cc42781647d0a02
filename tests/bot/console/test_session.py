"""Chat commands through the console session: the real grammar, services and database."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.alerting.service import AlertService
from bot.chat.conversation import Conversation
from bot.console.session import ConsoleSession
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
from engine.alerts.evaluate import evaluate
from engine.alerts.observe import Observation, Subject, position_key
from engine.alerts.rules import Kind
from engine.domain import AccountStatus, Platform
from storage import Database
from storage.accounts import Accounts
from storage.alerts import Alerts
from storage.chats import Chats
from storage.rules import Rules
from storage.users import Users

BTC = "BTC/USDT:USDT"


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[ConsoleSession]:
    async with Database.open(str(tmp_path / "db.sqlite")) as db:
        user = await Users(db).ensure(Platform.CONSOLE, "me", "me", "console", now=time.time())
        await Accounts(db).add(user.id, "bybit", "main", wallet_address="demo:main", now=1.0)
        accounts = AccountService(db, None, Vault(Secret(generate_key())))  # type: ignore[arg-type]
        alerts, portfolio = AlertService(db), PortfolioService(accounts, {})
        conversation = Conversation(db, accounts, alerts, portfolio)
        yield ConsoleSession("console", conversation, user_id="me", user_name="me")


def _db(session: ConsoleSession) -> Database:
    return session.conversation.users._db


async def _owner(session: ConsoleSession) -> int:
    user = await Users(_db(session)).ensure(Platform.CONSOLE, session.user_id, "me", None, now=0)
    return user.id


async def _fire(session: ConsoleSession) -> int:
    """A critical liquidation alert on the session's account, through the real evaluator."""
    db, owner = _db(session), await _owner(session)
    account = (await session.conversation.accounts.list(owner))[0]
    subject = Subject(position_key(BTC, "long"), {Kind.LIQ: 3.0}, BTC, "BTC", "long")
    obs = Observation(account, time.time(), AccountStatus.ACTIVE, True, (Subject("", {}), subject))
    async with db.transaction() as tx:
        result = evaluate(
            obs,
            rules=await Rules(tx.db).in_scope(owner, account.id, tx=tx),
            alerts=[],
            chats=await Alerts(tx.db).recipients(owner, account.id, tx=tx),
            next_id=await Alerts(tx.db).next_id(tx=tx),
        )
        await Alerts(tx.db).apply(result, tx=tx)
    return next(a.id for a in result.alerts if a.firing and a.rule_id == 2)  # the critical


async def test_a_new_account_shows_its_default_rules(session: ConsoleSession) -> None:
    """/alerts lists the four defaults a new account is born with, and no live alert."""
    text = await session.handle("/alerts")
    assert "No alert is firing." in text
    assert text.count("(default)") == 4 and "liq<5% critical" in text


async def test_alert_add_stores_a_rule_and_lists_it(session: ConsoleSession) -> None:
    """/alert add liq<8% BTC critical on main → a new rule scoped to that account."""
    reply = await session.handle("/alert add liq<8% BTC critical on main")
    assert reply.startswith("Added rule 5:")
    assert "rule 5: liq<8% BTC critical" in await session.handle("/alerts")


async def test_bad_rule_gets_a_sentence_and_a_usage_line(session: ConsoleSession) -> None:
    """Garbage after /alert add is refused with a usage example, not a traceback."""
    reply = await session.handle("/alert add liq<<5")
    assert "Usage:" in reply and "Traceback" not in reply


async def test_rule_on_an_unknown_account_is_refused(session: ConsoleSession) -> None:
    """on <label> must name one of the user's accounts."""
    reply = await session.handle("/alert add liq<5% on nowhere")
    assert reply == 'You have no account labelled "nowhere" (see /accounts).'


async def test_pause_resume_and_remove_a_rule(session: ConsoleSession) -> None:
    """pause marks the rule paused in /alerts; rm makes it disappear."""
    await session.handle("/alert pause 1")
    assert "rule 1: liq<10% warning" in await session.handle("/alerts")
    assert "[paused]" in await session.handle("/alerts")
    await session.handle("/alert rm 1")
    assert "rule 1:" not in await session.handle("/alerts")
    assert await session.handle("/alert rm 1") == "You have no alert rule #1 (see /alerts)."


async def test_ack_and_why_answer_from_the_stored_decisions(session: ConsoleSession) -> None:
    """A firing alert can be acknowledged; /why shows its first-notification decision."""
    alert_id = await _fire(session)
    assert "acknowledged" not in await session.handle("/alerts")
    assert await session.handle(f"/ack {alert_id}") == f"Acknowledged #{alert_id}: no more repeats."
    assert "(acknowledged)" in await session.handle("/alerts")
    why = await session.handle(f"/why #{alert_id}")
    assert "first notification" in why and f"#{alert_id} CRITICAL firing" in why


async def test_another_users_alert_id_finds_nothing(
    session: ConsoleSession, tmp_path: Path
) -> None:
    """Alert ids are owner-checked: a stranger's /ack of a real id is refused."""
    alert_id = await _fire(session)
    stranger = ConsoleSession("x", session.conversation, user_id="stranger")
    assert (
        await stranger.handle(f"/ack {alert_id}") == f"You have no alert #{alert_id} (see /alerts)."
    )


async def test_snooze_all_creates_a_silence_for_everything(session: ConsoleSession) -> None:
    """/snooze all 1h snoozes live alerts and lists a catch-all silence."""
    alert_id = await _fire(session)
    reply = await session.handle("/snooze all 1h")
    assert reply.startswith("Snoozed #") and f"#{alert_id}" in reply and reply.endswith("1h.")
    assert "everything until" in await session.handle("/silence")


async def test_quiet_hours_are_stored_for_this_chat(session: ConsoleSession) -> None:
    """/quiet 22:00-07:00 Europe/Paris is kept on the console chat, /quiet off clears it."""
    reply = await session.handle("/quiet 22:00-07:00 Europe/Paris")
    assert reply == "Quiet hours 22:00-07:00 Europe/Paris (critical still goes through)."
    chats = Chats(_db(session))
    settings = await chats.get(Platform.CONSOLE, "console")
    assert settings.quiet is not None and settings.quiet.tz == "Europe/Paris"
    await session.handle("/quiet off")
    assert (await chats.get(Platform.CONSOLE, "console")).quiet is None


async def test_positions_before_the_first_poll_say_so(session: ConsoleSession) -> None:
    """/positions with no analysis yet says the account was not polled yet."""
    assert await session.handle("/positions") == "[main] not polled yet"
