"""The words commands are made of, each checked on its own: ids, labels, time zones and
/connect codes; every refusal is one sentence followed by the command's usage line."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from bot.chat.commands.text import EXAMPLE, MISSING, USAGE
from bot.errors import UserError
from bot.exchanges.venues import TESTED
from engine.errors import GrammarError

#: The venues /link and /watch offer first (any ccxt venue with positions works too).
VENUES = TESTED

_ID = re.compile(r"#?(?P<n>[0-9]{1,12})")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_ALL = "all"
Args = list[str]


def usage_line(command: str) -> str:
    """``Usage: …`` for one command, with its example when it has one."""
    example = EXAMPLE.get(command)
    return f"Usage: {USAGE[command]}" + (f", e.g. {example}" if example else "")


def fail(command: str, problem: str) -> NoReturn:
    raise UserError(f"{problem}\n{usage_line(command)}")


def cut(text: str) -> str:
    """User text echoed in a reply, cut short: a pasted paragraph must not flood the chat."""
    return text if len(text) <= 32 else f"{text[:31]}…"


def quoted(text: str) -> str:
    return f"'{cut(text)}'"


def arity(command: str, args: Args, low: int, high: int) -> None:
    """Refuse missing and surplus words (never quoting them: /link's words are secrets)."""
    if len(args) < low:
        fail(command, MISSING.get(command, f"/{command} is missing an argument."))
    if len(args) > high:
        extra = "takes no arguments" if high == 0 else "got more than it takes"
        fail(command, f"/{command} {extra}.")


def number(command: str, word: str, what: str) -> int:
    match = _ID.fullmatch(word)
    if match is None or int(match["n"]) == 0:
        fail(command, f"{quoted(word)} is not {what} id: use a number like 12 or #12.")
    return int(match["n"])


def alert_target(command: str, word: str) -> int | None:
    """An alert id, or None for ``all``."""
    return None if word.lower() == _ALL else number(command, word, "an alert")


def account_label(command: str, word: str) -> str:
    if _LABEL.fullmatch(word) is None:
        fail(command, f"{quoted(word)} is not an account label (letters, digits, _ . -).")
    return word


@contextmanager
def grammar() -> Iterator[None]:
    """The engine's grammar errors become the user-facing kind, message unchanged."""
    try:
        yield
    except GrammarError as error:
        raise UserError(str(error)) from error


@functools.cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def time_zone(name: str) -> str | None:
    """The IANA zone ``name`` spells (in any case), or None.

    Only real zones count: ``ZoneInfo("America")`` tries to open tzdata's *folder* and fails
    with an OSError rather than saying "no such zone", so names are checked against the list.
    """
    return _zones().get(name.lower())


def zone(command: str, word: str) -> str:
    """The one time-zone check for every command that takes a zone (/quiet, /digest)."""
    found = time_zone(word)
    if found is None:
        fail(command, f"{quoted(word)} is not a time zone like Europe/Paris or UTC.")
    return found


#: Connect codes are Crockford base32 (no I, L, O or U to misread), 16 characters = 80 bits,
#: shown as XXXX-XXXX-XXXX-XXXX; typed in any case, I and L read as 1 and O as 0.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
_MISREAD = str.maketrans("ILO", "110")


def connect_code(words: Args) -> str | None:
    """The code in what was typed (dashes, spaces and case ignored), or None."""
    code = "".join(words).replace("-", "").upper().translate(_MISREAD)
    return code if _CODE.fullmatch(code) else None
