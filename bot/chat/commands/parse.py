"""One parser per chat command, shared by Telegram, Discord and the console: text → ``Command``."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.chat.commands.records import (
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
from bot.chat.commands.text import EXAMPLE, RULE_HELP, SUMMARY, USAGE
from bot.chat.commands.words import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Args,
    account_label,
    alert_target,
    arity,
    connect_code,
    cut,
    fail,
    grammar,
    number,
    quoted,
    time_zone,
    usage_line,
    zone,
)
from bot.errors import UserError
from engine.alerts.grammar import (
    parse_digest_schedule,
    parse_duration,
    parse_matchers,
    parse_quiet,
    parse_rule,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_LENGTH",
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

_VENUE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,31}")
_ASSET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_PCT = re.compile(r"(?P<n>[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))%?")
_COMMAND = re.compile(r"\s*/?(?P<cmd>[^\s@/]+)(?:@\S*)?(?P<args>.*)", re.DOTALL)


def _start(args: Args, raw: str) -> Command:
    return Start(raw.strip() or None)


def _help(args: Args, raw: str) -> Command:
    # "/help alert add" asks about /alert: only the first word names the command.
    if not args:
        return Help()
    return Help(_known(args[0].lstrip("/").split("@")[0]))


def _known(word: str) -> str:
    name = word.lower()
    if name not in USAGE:
        fail("help", f"There is no /{cut(name)} command.")
    return name


def _link(args: Args, raw: str) -> Command:
    # Never quote an argument here: any of them may be a secret.
    arity("link", args, 3, 4)
    if _VENUE.fullmatch(args[0]) is None:
        fail("link", "The first word must be the venue, like binanceusdm or bybit.")
    return Link(args[0].lower(), args[1], args[2], args[3] if len(args) == 4 else None)


def _watch(args: Args, raw: str) -> Command:
    arity("watch", args, 2, 2)
    if _VENUE.fullmatch(args[0]) is None:
        fail("watch", f"{quoted(args[0])} is not a venue like hyperliquid.")
    return Watch(args[0].lower(), args[1])


def _no_args(command: str, build: Callable[[], Command]) -> Callable[[Args, str], Command]:
    def parse(args: Args, raw: str) -> Command:
        arity(command, args, 0, 0)
        return build()

    return parse


def _positions(args: Args, raw: str) -> Command:
    arity("positions", args, 0, 1)
    return Positions(account_label("positions", args[0]) if args else None)


def _risk(args: Args, raw: str) -> Command:
    arity("risk", args, 0, 1)
    return Risk(account_label("risk", args[0]) if args else None)


def _unlink(args: Args, raw: str) -> Command:
    arity("unlink", args, 1, 1)
    return Unlink(account_label("unlink", args[0]))


def _share(args: Args, raw: str) -> Command:
    arity("share", args, 1, 1)
    return Share(account_label("share", args[0]))


def _unshare(args: Args, raw: str) -> Command:
    arity("unshare", args, 1, 1)
    return Unshare(account_label("unshare", args[0]))


def _stress(args: Args, raw: str) -> Command:
    args = re.sub(r"\s+%", "%", raw).split()
    arity("stress", args, 1, 2)
    match = _PCT.fullmatch(args[-1])
    if match is None:
        fail("stress", f"{quoted(args[-1])} is not a price move like -10%.")
    shock_pct = float(match["n"])
    # −100 % puts every price at zero; beyond +1000 % is a typo rather than a scenario.
    if not -100.0 < shock_pct <= 1000.0 or shock_pct == 0.0:
        fail("stress", "The price move must be a non-zero percentage above -100 and up to 1000.")
    if len(args) == 1:
        return Stress(None, shock_pct)
    if _ASSET.fullmatch(args[0]) is None or not any(c.isalpha() for c in args[0]):
        fail("stress", f"{quoted(args[0])} is not an asset like BTC.")
    return Stress(args[0].upper(), shock_pct)


_ACTIONS = {
    "rm": RuleAction.RM,
    "remove": RuleAction.RM,
    "del": RuleAction.RM,
    "delete": RuleAction.RM,
    "pause": RuleAction.PAUSE,
    "resume": RuleAction.RESUME,
}


def _alert(args: Args, raw: str) -> Command:
    if not args:
        fail("alert", "Say what to do: add, rm, pause or resume.")
    verb = args[0].lower()
    if verb == "add":
        with grammar():
            return AlertAdd(parse_rule(raw.strip()[len(args[0]) :]))
    if verb in ("list", "ls"):
        arity("alert", args[1:], 0, 0)
        return Alerts()
    if verb not in _ACTIONS:
        fail("alert", f"{quoted(args[0])} is not something /alert does: add, rm, pause or resume.")
    arity("alert", args[1:], 1, 1)
    return AlertChange(_ACTIONS[verb], number("alert", args[1], "a rule"))


def _ack(args: Args, raw: str) -> Command:
    arity("ack", args, 1, 1)
    return Ack(alert_target("ack", args[0]))


def _snooze(args: Args, raw: str) -> Command:
    arity("snooze", args, 2, 2)
    target = alert_target("snooze", args[0])
    with grammar():
        return Snooze(target, parse_duration(args[1], usage=EXAMPLE["snooze"]))


_SCOPES = ("critical", "all")


def _quiet(args: Args, raw: str) -> Command:
    arity("quiet", args, 1, 5)
    if args[0].lower() == "off":
        arity("quiet", args, 1, 1)
        return Quiet(None)
    # The same split as the grammar's: the window (spaces around "-" allowed), then words.
    window, *rest = re.sub(r"\s*-\s*", "-", " ".join(args), count=1).split()
    zones = [i for i, word in enumerate(rest) if word.lower() not in _SCOPES]
    if zones:
        rest[zones[0]] = zone("quiet", rest[zones[0]])
    with grammar():
        return Quiet(parse_quiet(" ".join([window, *rest])))


def _why(args: Args, raw: str) -> Command:
    arity("why", args, 1, 1)
    return Why(number("why", args[0], "an alert"))


def _silence(args: Args, raw: str) -> Command:
    verb = args[0].lower() if args else "list"
    if verb in ("list", "ls"):
        arity("silence", args, 0, 1)
        return SilenceList()
    if verb in ("rm", "remove", "del", "delete"):
        arity("silence", args, 2, 2)
        return SilenceRm(number("silence", args[1], "a silence"))
    if "=" in args[-1]:
        fail("silence", "End the silence with how long it lasts, like 2h.")
    with grammar():
        matchers = parse_matchers(" ".join(args[:-1]))
        return Silence(tuple(matchers.items()), parse_duration(args[-1], usage=EXAMPLE["silence"]))


_IDENTITY = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_-]{0,63}")


def _connect(args: Args, raw: str) -> Command:
    if not args:
        return Connect()
    verb = args[0].lower()
    if verb in ("list", "ls"):
        arity("connect", args, 1, 1)
        return ConnectList()
    if verb in ("remove", "rm"):
        arity("connect", args, 2, 2)
        if _IDENTITY.fullmatch(args[1]) is None:
            fail("connect", f"{quoted(args[1])} is not a platform or an id from /connect list.")
        return ConnectRemove(args[1])
    code = connect_code(args)
    if code is None:
        # Never quoted: a mistyped code is still most of a code.
        fail("connect", "That is not a connect code: it has 16 letters and digits.")
    return Connect(code)


CHARTS = ("exposure", "ladder", "equity")


def _chart(args: Args, raw: str) -> Command:
    arity("chart", args, 1, 2)
    kind = args[0].lower()
    if kind not in CHARTS:
        fail("chart", f"{quoted(args[0])} is not a chart: exposure, ladder or equity.")
    return ChartRequest(kind, account_label("chart", args[1]) if len(args) == 2 else None)


def _digest(args: Args, raw: str) -> Command:
    if not args:
        return Digest()
    action = args[0].lower()
    if action in ("now", "unsubscribe"):
        arity("digest", args, 1, 1)
        return Digest(action)
    if action != "subscribe":
        fail("digest", f"{quoted(args[0])} is not now, subscribe or unsubscribe.")
    words = args[1:]
    lowered = [w.lower() for w in words]
    if "at" in lowered and len(words) == lowered.index("at") + 3:  # … at HH:MM <zone>
        words[-1] = zone("digest", words[-1])
    with grammar():
        labels, at, tz = parse_digest_schedule(words)
    return Digest("subscribe", tuple(account_label("digest", w) for w in labels), at, tz)


_PARSERS: dict[str, Callable[[Args, str], Command]] = {
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
        raise UserError(f"There is no /{cut(word)} command.\n{usage_line('help')}")
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
