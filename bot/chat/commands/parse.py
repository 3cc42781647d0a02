"""The commands liqwatch's bots understand (one registry of specs), and the functions every
adapter and the conversation use on it: text → ``Command``, /help, usage lines.

Adding a command is one block (record, parser, spec) in ``accounts``, ``alerts`` or ``chats``
(listed in that module's ``SPECS``), and its handler in ``bot.chat.handlers``: the parser, /help,
Telegram's menu, Discord's slash commands and the permission checks all read the registry.
"""

from __future__ import annotations

from bot.chat.commands import accounts, alerts, chats
from bot.chat.commands.accounts import (
    Help,
    Link,
    ListAccounts,
    ShowPositions,
    ShowRisk,
    Start,
    Unlink,
    Watch,
)
from bot.chat.commands.alerts import (
    Ack,
    AddRule,
    AddSilence,
    ChangeRule,
    ExplainAlert,
    ListSilences,
    RemoveSilence,
    RuleAction,
    SetQuiet,
    ShowAlerts,
    Snooze,
)
from bot.chat.commands.chats import (
    CHARTS,
    Connect,
    DigestCommand,
    ListConnections,
    RemoveConnection,
    Share,
    ShowChart,
    ShowStatus,
    Unshare,
)
from bot.chat.commands.registry import Registry, command_word
from bot.chat.commands.spec import Access, Command, CommandSpec, Place
from bot.chat.commands.stress import ShowStressChart, ShowStressGrid, StressTest
from bot.chat.commands.words import CODE_ALPHABET, CODE_LENGTH, time_zone

__all__ = [
    "CHARTS",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "COMMANDS",
    "Access",
    "Ack",
    "AddRule",
    "AddSilence",
    "ChangeRule",
    "Command",
    "CommandSpec",
    "Connect",
    "DigestCommand",
    "ExplainAlert",
    "Help",
    "Link",
    "ListAccounts",
    "ListConnections",
    "ListSilences",
    "Place",
    "Registry",
    "RemoveConnection",
    "RemoveSilence",
    "RuleAction",
    "SetQuiet",
    "Share",
    "ShowAlerts",
    "ShowChart",
    "ShowPositions",
    "ShowRisk",
    "ShowStatus",
    "ShowStressChart",
    "ShowStressGrid",
    "Snooze",
    "Start",
    "StressTest",
    "Unlink",
    "Unshare",
    "Watch",
    "command_word",
    "help_text",
    "parse",
    "time_zone",
    "usage_line",
]

#: Every command, in the order /help and the menus list them.
COMMANDS = Registry([*accounts.SPECS, *alerts.SPECS, *chats.SPECS])


def parse(text: str) -> Command:
    """A chat message as a ``Command``; ``UserError`` (message + usage line) when it is not one.

    Accepts ``/cmd@BotName`` (Telegram groups), any case, extra spaces, and no slash (console).
    """
    return COMMANDS.parse(text)


def help_text(command: str | None = None) -> str:
    """Plain text for /help: every command with its summary, or one command in detail."""
    return COMMANDS.help_text(command)


def usage_line(command: str) -> str:
    """``Usage: …`` for one command, with its example when it has one."""
    return COMMANDS.usage_line(command)
