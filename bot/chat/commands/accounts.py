"""The account commands, each as its record, its parser and its spec: /start, /help, /link,
/watch, /unlink, /accounts, /positions and /risk (/stress is ``stress``'s, listed here in menu
order)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.chat.commands.spec import (
    ADMINS,
    READ,
    Access,
    Arg,
    Command,
    CommandSpec,
    Completion,
    Line,
    Place,
    without_args,
)
from bot.chat.commands.stress import STRESS
from bot.chat.commands.words import quoted

_VENUE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")


def _account(required: bool = True) -> Arg:
    return Arg("account", "Account label", required=required, complete=Completion.ACCOUNTS)


def _venue() -> Arg:
    return Arg("venue", "ccxt id, e.g. binanceusdm", complete=Completion.VENUES)


@dataclass(frozen=True)
class Start(Command):
    """Register and take the short tour; ``payload`` is a Telegram deep-link parameter."""

    payload: str | None = None


START = CommandSpec(
    "start",
    "Register and take the short tour",
    "/start",
    lambda line: Start(line.raw.strip() or None),
    {Start: READ},
)


@dataclass(frozen=True)
class Help(Command):
    """The command list, or one command's usage (``command`` without the slash)."""

    command: str | None = None


def _help(line: Line) -> Command:
    # "/help alert add" asks about /alert: only the first word names the command.
    return Help(line.command(line.args[0]).name) if line.args else Help()


HELP = CommandSpec(
    "help",
    "List the commands, or explain one",
    "/help [command]",
    _help,
    {Help: READ},
    args=(Arg("command", "A command to explain", required=False),),
)


@dataclass(frozen=True)
class Link(Command):
    """Link an exchange account with an API key; the secrets never show in ``repr``."""

    venue: str
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)


def _link(line: Line) -> Command:
    # Never quote an argument here: any of them may be a secret.
    args = line.arity(3, 4)
    if _VENUE.fullmatch(args[0]) is None:
        line.fail("The first word must be the venue, like binanceusdm or bybit.")
    return Link(args[0].lower(), args[1], args[2], args[3] if len(args) == 4 else None)


#: Where /link goes instead of a group: a key is never taken where others can read it.
LINK_PRIVATELY = "Send /link to me in a private chat: I only take API keys there."

LINK = CommandSpec(
    "link",
    "Link an exchange account with a read-only API key (private chat only)",
    "/link <venue> <apiKey> <secret> [passphrase]",
    _link,
    {Link: Access(place=Place.PRIVATE, elsewhere=LINK_PRIVATELY)},
    args=(
        _venue(),
        Arg("api_key", "Read-only API key"),
        Arg("secret", "Its secret"),
        Arg("passphrase", "Its passphrase, if the venue has one (OKX)", required=False),
    ),
    example="/link binanceusdm <apiKey> <secret>",
    missing="Give the venue, the API key and its secret (and passphrase if the venue has one).",
    secret=True,
)


@dataclass(frozen=True)
class Watch(Command):
    """Watch a public wallet (no key) on a venue that exposes positions by address."""

    venue: str
    address: str


def _watch(line: Line) -> Command:
    venue, address = line.arity(2, 2)
    if _VENUE.fullmatch(venue) is None:
        line.fail(f"{quoted(venue)} is not a venue like hyperliquid.")
    return Watch(venue.lower(), address)


WATCH = CommandSpec(
    "watch",
    "Watch a public wallet address",
    "/watch <venue> <wallet address>",
    _watch,
    {Watch: ADMINS},
    args=(_venue(), Arg("address", "The wallet address, 0x…")),
    example="/watch hyperliquid 0x1234…abcd",
    missing="Give the venue and the wallet address to watch.",
)


@dataclass(frozen=True)
class Unlink(Command):
    account: str


UNLINK = CommandSpec(
    "unlink",
    "Stop watching an account",
    "/unlink <account>",
    lambda line: Unlink(line.label(line.arity(1, 1)[0])),
    {Unlink: ADMINS},
    args=(_account(),),
    missing="Say which account to unlink, by its label.",
)


@dataclass(frozen=True)
class ListAccounts(Command):
    """The accounts this chat may see."""


ACCOUNTS = CommandSpec(
    "accounts",
    "List your linked accounts",
    "/accounts",
    without_args(ListAccounts),
    {ListAccounts: READ},
)


@dataclass(frozen=True)
class ShowPositions(Command):
    """``account`` None: every account the chat may see."""

    account: str | None = None


def _optional_account(line: Line) -> str | None:
    args = line.arity(0, 1)
    return line.label(args[0]) if args else None


POSITIONS = CommandSpec(
    "positions",
    "Open positions with distance to liquidation",
    "/positions [account]",
    lambda line: ShowPositions(_optional_account(line)),
    {ShowPositions: READ},
    args=(_account(required=False),),
)


@dataclass(frozen=True)
class ShowRisk(Command):
    """``account`` None: the whole portfolio the chat may see."""

    account: str | None = None


RISK = CommandSpec(
    "risk",
    "Portfolio risk: equity, exposure, leverage, closest liquidations",
    "/risk [account]",
    lambda line: ShowRisk(_optional_account(line)),
    {ShowRisk: READ},
    args=(_account(required=False),),
)


#: In menu order.
SPECS = (START, HELP, LINK, WATCH, UNLINK, ACCOUNTS, POSITIONS, RISK, STRESS)
