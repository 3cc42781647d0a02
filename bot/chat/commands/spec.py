"""One spec per chat command: its word, summary, usage, arguments (types, choices, what to
offer while typing), who may run each of its forms where, and its parser.

Everything a platform shows or checks is read from these: the parser, /help, Telegram's
command menu, Discord's slash commands and the conversation's permission checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NoReturn

from bot.chat.commands.words import Args, cut, either, id_number, is_label, quoted, time_zone
from bot.errors import UserError


class Command:
    """A parsed chat command: each command's records (its forms) derive from it."""

    __slots__ = ()


class Place(StrEnum):
    """Where a form of a command runs."""

    ANYWHERE = "anywhere"
    #: Only in a private chat with the bot.
    PRIVATE = "private"
    #: Only in a group (a Telegram group, a Discord guild channel).
    GROUP = "group"


@dataclass(frozen=True)
class Access:
    """Who may run one form of a command, and where."""

    place: Place = Place.ANYWHERE
    #: In a group only its admins may (the platform is asked when it matters).
    admins_in_groups: bool = False
    #: A chat posting as itself (an anonymous admin, a channel) may: the form reads what the
    #: chat sees or sets the chat's own settings, and acts for no person.
    as_chat: bool = False
    #: The refusal where ``place`` says it does not run (``{name}`` is the command word).
    elsewhere: str = ""

    def runs_in(self, *, private: bool) -> bool:
        """Whether the form runs in a private chat (``private``), or in a group."""
        return self.place is Place.ANYWHERE or (self.place is Place.PRIVATE) == private


#: Reads what the chat may see: anyone, anywhere, a chat posting as itself too.
READ = Access(as_chat=True)
#: Acts on the sender's own things (their alerts): any person, anywhere.
PERSONAL = Access()
#: Changes what a group watches or how it is alerted: only its admins, in a group.
ADMINS = Access(admins_in_groups=True)


class ArgType(StrEnum):
    """The type a platform with typed options gives an argument."""

    TEXT = "text"
    INTEGER = "integer"


class Completion(StrEnum):
    """What a platform may offer while an argument is typed (Discord's autocomplete)."""

    #: The sender's account labels.
    ACCOUNTS = "accounts"
    #: The ids of the sender's live alerts.
    ALERTS = "alerts"
    #: The venues /link and /watch know best.
    VENUES = "venues"


@dataclass(frozen=True)
class Arg:
    """One argument as a platform with typed options shows it (a Discord slash option),
    in the order the command's text takes it."""

    name: str
    description: str
    type: ArgType = ArgType.TEXT
    required: bool = True
    #: The only values it takes, offered as a list.
    choices: tuple[str, ...] = ()
    complete: Completion | None = None
    #: The word the text puts before the value (``vol`` in ``/stress BTC -10% vol +20%``): a
    #: platform with typed options writes it, so an optional value that is left out cannot
    #: make the next one read as it.
    keyword: str | None = None


@dataclass(frozen=True)
class Subcommand:
    """A verb a platform shows as a command of its own (Discord's ``/alert add``): its text
    is ``/<command> <verb> <args…>``."""

    name: str
    description: str
    args: tuple[Arg, ...] = ()


@dataclass(frozen=True, eq=False)
class CommandSpec:
    """One chat command: everything about it but what it does (the conversation's handler)."""

    #: The word after the slash.
    name: str
    #: One short line for /help and the command menus (Discord shows 100 characters).
    summary: str
    usage: str
    parse: Callable[[Line], Command]
    #: Each record the parser returns, with who may run it where.
    forms: Mapping[type[Command], Access]
    args: tuple[Arg, ...] = ()
    #: Verbs shown as commands of their own instead of ``args`` (Discord), if any.
    subcommands: tuple[Subcommand, ...] = ()
    #: A correct example where the usage line alone leaves room for doubt.
    example: str | None = None
    #: What to say when an argument is missing.
    missing: str | None = None
    #: More for ``/help <command>`` (the rule grammar for /alert).
    more: str | None = None
    #: Its message carries a secret (an API key): deleted at once wherever others can read
    #: it, and refused outside a private chat before it is even parsed.
    secret: bool = False

    def usage_line(self) -> str:
        """``Usage: …``, with the example when there is one."""
        return f"Usage: {self.usage}" + (f", e.g. {self.example}" if self.example else "")

    def help(self) -> str:
        """``/help <command>``: what it does and how to say it."""
        text = f"{self.summary}.\n{self.usage_line()}"
        return f"{text}\n{self.more}" if self.more else text


def without_args(record: Callable[[], Command]) -> Callable[[Line], Command]:
    """The parser of a command that takes no words."""

    def parse(line: Line) -> Command:
        line.arity(0, 0)
        return record()

    return parse


@dataclass(frozen=True)
class Line:
    """What followed a command word, and the checks its parser makes: every refusal is one
    sentence followed by the command's usage line."""

    spec: CommandSpec
    raw: str
    #: A command of the same registry by its word, or None (what /help may explain).
    lookup: Callable[[str], CommandSpec | None] = field(repr=False)

    @property
    def args(self) -> Args:
        return self.raw.split()

    def fail(self, problem: str) -> NoReturn:
        raise UserError(f"{problem}\n{self.spec.usage_line()}")

    def arity(self, low: int, high: int, args: Args | None = None) -> Args:
        """The words (``args``, else the line's), refusing missing and surplus ones without
        quoting them (/link's words are secrets)."""
        words = self.args if args is None else args
        name = self.spec.name
        if len(words) < low:
            self.fail(self.spec.missing or f"/{name} is missing an argument.")
        if len(words) > high:
            self.fail(f"/{name} {'takes no arguments' if high == 0 else 'got more than it takes'}.")
        return words

    def number(self, word: str, what: str) -> int:
        """An id (``12`` or ``#12``) of ``what`` ("an alert", "a rule")."""
        found = id_number(word)
        if found is None:
            self.fail(f"{quoted(word)} is not {what} id: use a number like 12 or #12.")
        return found

    def alert_target(self, word: str) -> int | None:
        """An alert id, or None for ``all``."""
        return None if word.lower() == "all" else self.number(word, "an alert")

    def label(self, word: str) -> str:
        if not is_label(word):
            self.fail(f"{quoted(word)} is not an account label (letters, digits, _ . -).")
        return word

    def zone(self, word: str) -> str:
        """The one time-zone check for every command that takes a zone (/quiet, /digest)."""
        found = time_zone(word)
        if found is None:
            self.fail(f"{quoted(word)} is not a time zone like Europe/Paris or UTC.")
        return found

    def choice(self, word: str, choices: tuple[str, ...], what: str) -> str:
        """One of ``choices`` (in any case), or a refusal listing them."""
        if word.lower() not in choices:
            self.fail(f"{quoted(word)} is not {what}: {either(choices)}.")
        return word.lower()

    def command(self, word: str) -> CommandSpec:
        """The command ``word`` names (with or without its slash), or a refusal."""
        name = word.lstrip("/").split("@")[0].lower()
        found = self.lookup(name)
        if found is None:
            self.fail(f"There is no /{cut(name)} command.")
        return found
