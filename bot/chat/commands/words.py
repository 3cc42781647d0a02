"""The words commands are made of, each checked on its own: ids, labels, time zones and
/connect codes, and how user text is quoted back (cut short)."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from bot.errors import UserError
from bot.exchanges.venues import TESTED
from engine.errors import GrammarError

#: The venues /link and /watch offer first (any ccxt venue with positions works too).
VENUES = TESTED

_ID = re.compile(r"#?(?P<n>[0-9]{1,12})")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
Args = list[str]


def cut(text: str) -> str:
    """User text echoed in a reply, cut short: a pasted paragraph must not flood the chat."""
    return text if len(text) <= 32 else f"{text[:31]}…"


def quoted(text: str) -> str:
    return f"'{cut(text)}'"


def either(words: Sequence[str]) -> str:
    """``a, b or c``: the choices a sentence offers."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def id_number(word: str) -> int | None:
    """``12`` or ``#12`` (as /alerts lists them) as a number; None for anything else or 0."""
    match = _ID.fullmatch(word)
    return None if match is None or int(match["n"]) == 0 else int(match["n"])


def is_label(word: str) -> bool:
    """Whether ``word`` can be an account label (letters, digits, ``_ . -``, up to 32)."""
    return _LABEL.fullmatch(word) is not None


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
