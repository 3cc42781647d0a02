"""One parser per chat command, shared by Telegram, Discord and the console: text → ``Command``."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from bot.command_text import EXAMPLE, MISSING, RULE_HELP, SUMMARY, USAGE
from bot.command_types import (
    Accounts,
    Ack,
    AlertAdd,
    AlertChange,
    Alerts,
    ChartRequest,
    Command,
    CommandName,
    Connect,
    ConnectList,
    ConnectRemove,
    Digest,
    Help,
    Link,
    Positions,
    Quiet,
    Risk,
    RuleAction,
    Share,
    Silence,
    SilenceList,
    SilenceRm,
    Snooze,
    Start,
    Stress,
    Unlink,
    Unshare,
    Watch,
    Why,
)
from bot.errors import UserError
from engine.alerts.grammar import (
    parse_digest_schedule,
    parse_duration,
    parse_matchers,
    parse_quiet,
    parse_rule,
)
from engine.errors import GrammarError

__all__ = [
    "EXAMPLE",
    "SUMMARY",
    "USAGE",
    "Accounts",
    "Ack",
    "AlertAdd",
    "AlertChange",
    "Alerts",
    "ChartRequest",
    "Command",
    "CommandName",
    "Connect",
    "ConnectList",
    "ConnectRemove",
    "Digest",
    "Help",
    "Link",
    "Positions",
    "Quiet",
    "Risk",
    "RuleAction",
    "Share",
    "Silence",
    "SilenceList",
    "SilenceRm",
    "Snooze",
    "Start",
    "Stress",
    "Unlink",
    "Unshare",
    "Watch",
    "Why",
    "command_word",
    "connect_code",
    "help_text",
    "parse",
    "time_zone",
    "usage_line",
]

_ID = re.compile(r"#?(?P<n>[0-9]{1,12})")
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
_VENUE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
_ASSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_PCT = re.compile(r"(?P<n>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))%?")
_COMMAND = re.compile(r"\s*/?(?P<cmd>[^\s@/]+)(?:@\S*)?(?P<args>.*)", re.DOTALL)
_ALL = "all"
_Args = list[str]


def usage_line(command: str) -> str:
    """``Usage: …`` for one command, with its example when it has one."""
    example = EXAMPLE.get(command)
    return f"Usage: {USAGE[command]}" + (f", e.g. {example}" if example else "")


def _fail(command: str, problem: str) -> NoReturn:
    raise UserError(f"{problem}\n{usage_line(command)}")


def _cut(text: str) -> str:
    """User text echoed in a reply, cut short: a pasted paragraph must not flood the chat."""
    return text if len(text) <= 32 else f"{text[:31]}…"


def _q(text: str) -> str:
    return f"'{_cut(text)}'"


def _arity(command: str, args: _Args, low: int, high: int) -> None:
    """Refuse missing and surplus words (never quoting them: /link's words are secrets)."""
    if len(args) < low:
        _fail(command, MISSING.get(command, f"/{command} is missing an argument."))
    if len(args) > high:
        extra = "takes no arguments" if high == 0 else "got more than it takes"
        _fail(command, f"/{command} {extra}.")


def _id(command: str, word: str, what: str) -> int:
    match = _ID.fullmatch(word)
    if match is None or int(match["n"]) == 0:
        _fail(command, f"{_q(word)} is not {what} id: use a number like 12 or #12.")
    return int(match["n"])


def _target(command: str, word: str) -> int | None:
    """An alert id, or None for ``all``."""
    return None if word.lower() == _ALL else _id(command, word, "an alert")


def _label(command: str, word: str) -> str:
    if _LABEL.fullmatch(word) is None:
        _fail(command, f"{_q(word)} is not an account label (letters, digits, _ . -).")
    return word


@contextmanager
def _grammar() -> Iterator[None]:
    """The engine's grammar errors become the user-facing kind, message unchanged."""
    try:
        yield
    except GrammarError as error:
        raise UserError(str(error)) from error


def _start(args: _Args, raw: str) -> Command:
    return Start(raw.strip() or None)


def _help(args: _Args, raw: str) -> Command:
    # "/help alert add" asks about /alert: only the first word names the command.
    if not args:
        return Help()
    return Help(_known(args[0].lstrip("/").split("@")[0]))


def _known(word: str) -> str:
    name = word.lower()
    if name not in USAGE:
        _fail("help", f"There is no /{_cut(name)} command.")
    return name


def _link(args: _Args, raw: str) -> Command:
    # Never quote an argument here: any of them may be a secret.
    _arity("link", args, 3, 4)
    if _VENUE.fullmatch(args[0]) is None:
        _fail("link", "The first word must be the venue, like binanceusdm or bybit.")
    return Link(args[0].lower(), args[1], args[2], args[3] if len(args) == 4 else None)


def _watch(args: _Args, raw: str) -> Command:
    _arity("watch", args, 2, 2)
    if _VENUE.fullmatch(args[0]) is None:
        _fail("watch", f"{_q(args[0])} is not a venue like hyperliquid.")
    return Watch(args[0].lower(), args[1])


def _no_args(command: str, build: Callable[[], Command]) -> Callable[[_Args, str], Command]:
    def parse(args: _Args, raw: str) -> Command:
        _arity(command, args, 0, 0)
        return build()

    return parse


def _positions(args: _Args, raw: str) -> Command:
    _arity("positions", args, 0, 1)
    return Positions(_label("positions", args[0]) if args else None)


def _risk(args: _Args, raw: str) -> Command:
    _arity("risk", args, 0, 1)
    return Risk(_label("risk", args[0]) if args else None)


def _unlink(args: _Args, raw: str) -> Command:
    _arity("unlink", args, 1, 1)
    return Unlink(_label("unlink", args[0]))


def _share(args: _Args, raw: str) -> Command:
    _arity("share", args, 1, 1)
    return Share(_label("share", args[0]))


def _unshare(args: _Args, raw: str) -> Command:
    _arity("unshare", args, 1, 1)
    return Unshare(_label("unshare", args[0]))


def _stress(args: _Args, raw: str) -> Command:
    args = re.sub(r"\s+%", "%", raw).split()
    _arity("stress", args, 1, 2)
    match = _PCT.fullmatch(args[-1])
    if match is None:
        _fail("stress", f"{_q(args[-1])} is not a price move like -10%.")
    shock_pct = float(match["n"])
    # −100 % puts every price at zero; beyond +1000 % is a typo rather than a scenario.
    if not -100.0 < shock_pct <= 1000.0 or shock_pct == 0.0:
        _fail("stress", "The price move must be a non-zero percentage above -100 and up to 1000.")
    if len(args) == 1:
        return Stress(None, shock_pct)
    if _ASSET.fullmatch(args[0]) is None or not any(c.isalpha() for c in args[0]):
        _fail("stress", f"{_q(args[0])} is not an asset like BTC.")
    return Stress(args[0].upper(), shock_pct)


_ACTIONS = {
    "rm": RuleAction.RM,
    "remove": RuleAction.RM,
    "del": RuleAction.RM,
    "delete": RuleAction.RM,
    "pause": RuleAction.PAUSE,
    "resume": RuleAction.RESUME,
}


def _alert(args: _Args, raw: str) -> Command:
    if not args:
        _fail("alert", "Say what to do: add, rm, pause or resume.")
    verb = args[0].lower()
    if verb == "add":
        with _grammar():
            return AlertAdd(parse_rule(raw.strip()[len(args[0]) :]))
    if verb in ("list", "ls"):
        _arity("alert", args[1:], 0, 0)
        return Alerts()
    if verb not in _ACTIONS:
        _fail("alert", f"{_q(args[0])} is not something /alert does: add, rm, pause or resume.")
    _arity("alert", args[1:], 1, 1)
    return AlertChange(_ACTIONS[verb], _id("alert", args[1], "a rule"))


def _ack(args: _Args, raw: str) -> Command:
    _arity("ack", args, 1, 1)
    return Ack(_target("ack", args[0]))


def _snooze(args: _Args, raw: str) -> Command:
    _arity("snooze", args, 2, 2)
    target = _target("snooze", args[0])
    with _grammar():
        return Snooze(target, parse_duration(args[1], usage=EXAMPLE["snooze"]))


@functools.cache
def _zones() -> dict[str, str]:
    return {zone.lower(): zone for zone in zoneinfo.available_timezones()}


def time_zone(name: str) -> str | None:
    """The IANA zone ``name`` spells (in any case), or None.

    Only real zones count: ``ZoneInfo("America")`` tries to open tzdata's *folder* and fails
    with an OSError rather than saying "no such zone", so names are checked against the list.
    """
    return _zones().get(name.lower())


def _zone(command: str, word: str) -> str:
    """The one time-zone check for every command that takes a zone (/quiet, /digest)."""
    zone = time_zone(word)
    if zone is None:
        _fail(command, f"{_q(word)} is not a time zone like Europe/Paris or UTC.")
    return zone


_SCOPES = ("critical", "all")


def _quiet(args: _Args, raw: str) -> Command:
    _arity("quiet", args, 1, 5)
    if args[0].lower() == "off":
        _arity("quiet", args, 1, 1)
        return Quiet(None)
    # The same split as the grammar's: the window (spaces around "-" allowed), then words.
    window, *rest = re.sub(r"\s*-\s*", "-", " ".join(args), count=1).split()
    zones = [i for i, word in enumerate(rest) if word.lower() not in _SCOPES]
    if zones:
        rest[zones[0]] = _zone("quiet", rest[zones[0]])
    with _grammar():
        return Quiet(parse_quiet(" ".join([window, *rest])))


def _why(args: _Args, raw: str) -> Command:
    _arity("why", args, 1, 1)
    return Why(_id("why", args[0], "an alert"))


def _silence(args: _Args, raw: str) -> Command:
    verb = args[0].lower() if args else "list"
    if verb in ("list", "ls"):
        _arity("silence", args, 0, 1)
        return SilenceList()
    if verb in ("rm", "remove", "del", "delete"):
        _arity("silence", args, 2, 2)
        return SilenceRm(_id("silence", args[1], "a silence"))
    if "=" in args[-1]:
        _fail("silence", "End the silence with how long it lasts, like 2h.")
    with _grammar():
        matchers = parse_matchers(" ".join(args[:-1]))
        return Silence(tuple(matchers.items()), parse_duration(args[-1], usage=EXAMPLE["silence"]))


#: Connect codes are Crockford base32 (no I, L, O or U to misread), 16 characters = 80 bits,
#: shown as XXXX-XXXX-XXXX-XXXX; typed in any case, I and L read as 1 and O as 0.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
_MISREAD = str.maketrans("ILO", "110")
_IDENTITY = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_-]{0,63}")


def connect_code(words: _Args) -> str | None:
    """The code in what was typed (dashes, spaces and case ignored), or None."""
    code = "".join(words).replace("-", "").upper().translate(_MISREAD)
    return code if _CODE.fullmatch(code) else None


def _connect(args: _Args, raw: str) -> Command:
    if not args:
        return Connect()
    verb = args[0].lower()
    if verb in ("list", "ls"):
        _arity("connect", args, 1, 1)
        return ConnectList()
    if verb in ("remove", "rm"):
        _arity("connect", args, 2, 2)
        if _IDENTITY.fullmatch(args[1]) is None:
            _fail("connect", f"{_q(args[1])} is not a platform or an id from /connect list.")
        return ConnectRemove(args[1])
    code = connect_code(args)
    if code is None:
        # Never quoted: a mistyped code is still most of a code.
        _fail("connect", "That is not a connect code: it has 16 letters and digits.")
    return Connect(code)


CHARTS = ("exposure", "ladder", "equity")


def _chart(args: _Args, raw: str) -> Command:
    _arity("chart", args, 1, 2)
    kind = args[0].lower()
    if kind not in CHARTS:
        _fail("chart", f"{_q(args[0])} is not a chart: exposure, ladder or equity.")
    return ChartRequest(kind, _label("chart", args[1]) if len(args) == 2 else None)


def _digest(args: _Args, raw: str) -> Command:
    if not args:
        return Digest()
    action = args[0].lower()
    if action in ("now", "unsubscribe"):
        _arity("digest", args, 1, 1)
        return Digest(action)
    if action != "subscribe":
        _fail("digest", f"{_q(args[0])} is not now, subscribe or unsubscribe.")
    words = args[1:]
    lowered = [w.lower() for w in words]
    if "at" in lowered and len(words) == lowered.index("at") + 3:  # … at HH:MM <zone>
        words[-1] = _zone("digest", words[-1])
    with _grammar():
        labels, at, tz = parse_digest_schedule(words)
    return Digest("subscribe", tuple(_label("digest", w) for w in labels), at, tz)


_PARSERS: dict[str, Callable[[_Args, str], Command]] = {
    "start": _start,
    "help": _help,
    "link": _link,
    "watch": _watch,
    "unlink": _unlink,
    "accounts": _no_args("accounts", Accounts),
    "positions": _positions,
    "risk": _risk,
    "stress": _stress,
    "alerts": _no_args("alerts", Alerts),
    "alert": _alert,
    "ack": _ack,
    "snooze": _snooze,
    "quiet": _quiet,
    "why": _why,
    "silence": _silence,
    "share": _share,
    "unshare": _unshare,
    "digest": _digest,
    "connect": _connect,
    "chart": _chart,
}


def parse(text: str) -> Command:
    """A chat message as a ``Command``; ``UserError`` (message + usage line) when it is not one.

    Accepts ``/cmd@BotName`` (Telegram groups), any case, extra spaces, and no slash (console).
    """
    match = _COMMAND.fullmatch(text)
    if match is None:
        raise UserError(f"Send a command, like /positions.\n{usage_line('help')}")
    word = match["cmd"].lower()
    if word not in _PARSERS:
        raise UserError(f"There is no /{_cut(word)} command.\n{usage_line('help')}")
    raw = match["args"]
    return _PARSERS[word](raw.split(), raw)


def command_word(text: str) -> str | None:
    """The command a message names (``link`` for ``/link@Bot …``), lower-case; None if none.

    For what must be decided before parsing: a /link is handled as one even when malformed.
    """
    match = _COMMAND.fullmatch(text)
    return None if match is None else match["cmd"].lower()


def help_text(command: str | None = None) -> str:
    """Plain text for /help: every command with its summary, or one command in detail."""
    if command is None:
        lines = [f"{USAGE[name]} — {SUMMARY[name]}" for name in USAGE]
        return "Commands:\n" + "\n".join(lines) + "\nSend /help <command> for details."
    name = _known(command.lstrip("/"))
    text = f"{SUMMARY[name]}.\n{usage_line(name)}"
    return f"{text}\n{RULE_HELP}" if name == "alert" else text
