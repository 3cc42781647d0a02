"""One registry of command specs: a throw-away command written as a spec and a handler only is
parsed, explained by /help, listed in Telegram's menu, registered as a Discord slash command
with its typed options, and answered by the conversation with its access checked."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.accounts.portfolio import PortfolioService
from bot.accounts.service import AccountService
from bot.alerting.service import AlertService
from bot.chat.commands.chats import CHARTS
from bot.chat.commands.parse import COMMANDS, Help, Registry
from bot.chat.commands.spec import ADMINS, Arg, ArgType, Command, CommandSpec, Line
from bot.chat.context import ChatContext, Reply
from bot.chat.conversation import Conversation
from bot.chat.handlers import HANDLERS, Ask
from bot.digest import jobs
from bot.discord.adapter import DiscordAdapter, register
from bot.security.vault import Vault, generate_key
from bot.settings import Secret
from bot.telegram.adapter import menu
from engine.domain import Platform
from storage import Database
from storage.users import Users


# --- the throw-away command: its record, parser and spec, then its handler ------------------
@dataclass(frozen=True)
class Ping(Command):
    """/ping [times]: the bot answers pong."""

    times: int = 1


def _ping(line: Line) -> Command:
    args = line.arity(0, 1)
    return Ping(line.number(args[0], "a") if args else 1)


PING = CommandSpec(
    "ping",
    "Check that the bot answers",
    "/ping [times]",
    _ping,
    {Ping: ADMINS},
    args=(Arg("times", "How many pongs", type=ArgType.INTEGER, required=False),),
    example="/ping 3",
)


async def pong(ask: Ask, command: Ping) -> Reply:
    return Reply(" ".join(["pong"] * command.times))


REGISTRY = Registry([*COMMANDS, PING])
HANDLED = HANDLERS.copy()
HANDLED.on(Ping)(pong)


# ---------------------------------------------------------------------------------------------
def test_the_new_command_is_parsed_and_refused_with_its_usage() -> None:
    """The registry's parser knows /ping and refuses it as it refuses any command."""
    assert REGISTRY.parse("/ping@LiqwatchBot 3") == Ping(3)
    assert REGISTRY.parse("ping") == Ping(1)
    with pytest.raises(Exception, match=r"Usage: /ping \[times\], e.g. /ping 3"):
        REGISTRY.parse("/ping many")
    with pytest.raises(Exception, match="There is no /ping command"):
        COMMANDS.parse("/ping")  # the shipped registry does not have it


def test_the_new_command_is_in_help() -> None:
    """/help lists it (last, as registered) and /help ping explains it."""
    assert REGISTRY.help_text().splitlines()[-2] == "/ping [times] — Check that the bot answers"
    assert REGISTRY.parse("/help /ping") == Help("ping")
    assert REGISTRY.help_text("ping") == (
        "Check that the bot answers.\nUsage: /ping [times], e.g. /ping 3"
    )


def test_the_new_command_is_in_telegrams_menu() -> None:
    """setMyCommands gets every command of the registry, /ping with its summary."""
    listed = {(c.command, c.description) for c in menu(REGISTRY)}
    assert ("ping", "Check that the bot answers") in listed
    assert len(listed) == len(COMMANDS) + 1


async def test_the_new_command_is_a_discord_slash_command_with_a_typed_option() -> None:
    """The tree holds /ping with an optional integer option described by the spec, and the
    slash command runs as the text of the shared grammar."""
    adapter = DiscordAdapter("token", "http://127.0.0.1:9/api/v10", commands=REGISTRY)
    slash = adapter.tree.get_command("ping")
    assert slash is not None
    shown = slash.to_dict(adapter.tree)
    assert shown["description"] == "Check that the bot answers"
    assert shown["options"] == [
        {"type": 4, "name": "times", "description": "How many pongs", "required": False}
    ]
    ran: list[str] = []

    async def run(interaction: Any, text: str) -> None:
        ran.append(text)

    own = app_commands.CommandTree(discord.Client(intents=discord.Intents.none()))
    register(own, [PING], run, adapter.completions())
    command = own.get_command("ping")
    assert command is not None
    await command.callback(object(), times=3)  # type: ignore[call-arg, union-attr]
    await command.callback(object())  # type: ignore[call-arg, union-attr]
    assert ran == ["/ping 3", "/ping"]


@pytest.fixture
async def conversation(tmp_path: Path) -> AsyncIterator[Conversation]:
    async with Database.open(str(tmp_path / "db.sqlite")) as db:
        await Users(db).ensure(Platform.TELEGRAM, "1", "Ann", "1", now=time.time())
        accounts = AccountService(db, None, Vault(Secret(generate_key())))  # type: ignore[arg-type]
        yield Conversation(
            db, accounts, AlertService(db), PortfolioService(accounts, {}),
            commands=REGISTRY, handlers=HANDLED,
        )  # fmt: skip


def _ctx(chat: str, *, admin: bool) -> ChatContext:
    async def is_admin() -> bool:
        return admin

    return ChatContext(Platform.TELEGRAM, "1", "Ann", chat, chat == "1", None, is_admin)


async def test_the_conversation_answers_it_with_its_access_checked(
    conversation: Conversation,
) -> None:
    """The spec says admins only in groups: a member is refused by name, an admin and a
    private chat are answered by the handler."""
    assert (await conversation.handle(_ctx("1", admin=False), "/ping 2")).text == "pong pong"
    refused = await conversation.handle(_ctx("-100", admin=False), "/ping")
    assert refused.text == "Only this chat's admins can use /ping here."
    assert (await conversation.handle(_ctx("-100", admin=True), "/ping")).text == "pong"


def test_every_shipped_form_has_exactly_one_handler() -> None:
    """A command whose handler was forgotten fails here, not in a chat."""
    assert HANDLERS.forms() == COMMANDS.forms()


def test_the_chart_kinds_are_the_ones_the_digest_draws() -> None:
    """/chart offers exactly the charts the digest jobs can render."""
    assert set(CHARTS) == set(jobs.CHARTS)
