"""/connect over a real database: 80-bit codes typed in any case, wrong codes limited per
chat, a join told to the user's other chats, and /connect list and remove."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.alerting.service import AlertService
from bot.chat.context import ChatContext
from bot.chat.conversation import Conversation
from bot.render.notices import render
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
from engine.alerts.events import from_payload
from engine.domain import Platform
from storage import Database
from storage.accounts import Accounts
from storage.alerts import Alerts
from storage.users import Users
from tests.fakes.clock import NOW, FakeClock

GROUPED = re.compile(r"/connect ((?:[0-9A-HJKMNP-TV-Z]{4}-){3}[0-9A-HJKMNP-TV-Z]{4}) ")
TELEGRAM = ChatContext(Platform.TELEGRAM, "1", "Ann", "1", True)
DISCORD = ChatContext(Platform.DISCORD, "55", "ann", "900", True)


@dataclass
class Env:
    db: Database
    conversation: Conversation
    ann: int
    clock: FakeClock
    wakes: list[None]

    async def say(self, ctx: ChatContext, text: str) -> str:
        return (await self.conversation.handle(ctx, text)).text

    async def code(self) -> str:
        """A fresh code from Ann's Telegram chat, as shown to her."""
        match = GROUPED.search(await self.say(TELEGRAM, "/connect"))
        assert match is not None
        return match[1]


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    clock, wakes = FakeClock(NOW), []
    async with Database.open(str(tmp_path / "db.sqlite")) as db:
        ann = await Users(db).ensure(Platform.TELEGRAM, "1", "Ann", "1", now=NOW)
        await Accounts(db).add(ann.id, "bybit", "main", wallet_address="x", now=NOW)
        accounts = AccountService(db, None, Vault(Secret(generate_key())))  # type: ignore[arg-type]
        conversation = Conversation(
            db, accounts, AlertService(db), PortfolioService(accounts, {}),
            clock=clock, wake=lambda: wakes.append(None),
        )  # fmt: skip
        yield Env(db, conversation, ann.id, clock, wakes)


async def test_a_code_is_80_bits_grouped_and_read_in_any_case(env: Env) -> None:
    """XXXX-XXXX-XXXX-XXXX of Crockford base32 (16 × 5 bits), new every time, accepted in
    lower case and without its dashes."""
    first, second = await env.code(), await env.code()
    assert first != second
    typed = second.lower().replace("-", " ")
    assert (await env.say(DISCORD, f"/connect {typed}")).startswith("Connected")
    assert "#1 main (bybit)" in await env.say(DISCORD, "/accounts")


async def test_wrong_codes_are_limited_and_the_answer_says_when(env: Env) -> None:
    """Five wrong codes in an hour, then even the right one is refused with the time to try
    again; an hour after the first wrong one, a right code works."""
    for left in (4, 3, 2, 1, 0):
        wrong = await env.say(DISCORD, "/connect 0000-0000-0000-0000")
        assert wrong.startswith("That code is unknown or expired") and f"({left} more" in wrong
        env.clock.advance(60)
    refused = await env.say(DISCORD, f"/connect {await env.code()}")
    assert (
        refused == "Too many wrong codes from this chat: try again after 23:13:20 UTC (in 55 min)."
    )
    env.clock.now = NOW + 3600
    assert (await env.say(DISCORD, f"/connect {await env.code()}")).startswith("Connected")


async def test_a_join_is_told_to_the_other_chats_and_wakes_the_notifier(env: Env) -> None:
    """Ann's Telegram chat gets a message through the outbox naming the Discord chat that
    joined and how to undo it; the joining chat gets none."""
    await env.say(DISCORD, f"/connect {await env.code()}")
    rows = await env.db.fetchall("SELECT platform, chat_id, payload_json FROM outbox")
    assert [(r["platform"], r["chat_id"]) for r in rows] == [("telegram", "1")]
    text = render(from_payload(json.loads(rows[0]["payload_json"])))
    assert text.startswith("🔗 Discord chat connected to your liqwatch user")
    assert "ann (discord id 55)" in text and "/connect remove discord" in text
    assert env.wakes == [None]


async def test_connect_list_shows_every_chat_of_the_user(env: Env) -> None:
    """One line per identity, the one asking marked."""
    await env.say(DISCORD, f"/connect {await env.code()}")
    listed = await env.say(DISCORD, "/connect list")
    assert set(listed.splitlines()[1:3]) == {"  telegram:1", "  discord:55 — this chat"}


async def test_connect_remove_disconnects_another_chat_never_this_one(env: Env) -> None:
    """From Telegram, "telegram" is the chat in use and is refused; "discord" goes, and the
    Discord chat no longer sees Ann's accounts nor gets her alerts."""
    await env.say(DISCORD, f"/connect {await env.code()}")
    itself = await env.say(TELEGRAM, "/connect remove telegram")
    assert itself.startswith("That is the chat you are using")
    assert (await env.say(TELEGRAM, "/connect remove slack")).startswith("None of your chats")
    gone = await env.say(TELEGRAM, "/connect remove discord")
    assert gone.startswith("Disconnected discord:55")
    assert (await env.say(DISCORD, "/accounts")).startswith("No linked accounts yet")
    async with env.db.transaction() as tx:
        chats = await Alerts(tx.db).recipients(env.ann, None, tx=tx)
    assert [(c.platform, c.chat_id) for c in chats] == [(Platform.TELEGRAM, "1")]


async def test_a_wrong_code_is_never_echoed(env: Env) -> None:
    """A mistyped code is most of a code: the answer does not quote it."""
    answer = await env.say(DISCORD, "/connect QQQQ-WWWW-EEEE-RRRU")
    assert "That is not a connect code" in answer and "QQQQ" not in answer
