"""The alert commands, each as its records, its parser and its spec: /alerts, /alert, /ack,
/snooze, /quiet, /why and /silence. Rules, durations, quiet hours and matchers are the
engine's grammar (``engine.alerts.grammar``): these parsers hand their words to it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.alerting.service import RuleAction
from bot.chat.commands.spec import (
    ADMINS,
    PERSONAL,
    READ,
    Access,
    Arg,
    ArgType,
    Command,
    CommandSpec,
    Completion,
    Line,
    Subcommand,
    without_args,
)
from bot.chat.commands.words import grammar, quoted
from engine.alerts.grammar import parse_rule
from engine.alerts.phrases import parse_duration, parse_matchers, parse_quiet
from engine.alerts.quiet import QuietHours
from engine.alerts.rules import RuleSpec

__all__ = ["RuleAction"]


def _alert_id() -> Arg:
    return Arg("alert", "Alert id, or all", complete=Completion.ALERTS)


@dataclass(frozen=True)
class ShowAlerts(Command):
    """The sender's rules and live alerts (a group: the shared accounts' live alerts)."""


ALERTS = CommandSpec(
    "alerts",
    "List your alert rules and firing alerts",
    "/alerts",
    without_args(ShowAlerts),
    {ShowAlerts: READ},
)


@dataclass(frozen=True)
class AddRule(Command):
    spec: RuleSpec


@dataclass(frozen=True)
class ChangeRule(Command):
    action: RuleAction
    rule_id: int


_ACTIONS = {
    "rm": RuleAction.RM,
    "remove": RuleAction.RM,
    "del": RuleAction.RM,
    "delete": RuleAction.RM,
    "pause": RuleAction.PAUSE,
    "resume": RuleAction.RESUME,
}


def _alert(line: Line) -> Command:
    args = line.args
    if not args:
        line.fail("Say what to do: add, rm, pause or resume.")
    verb = args[0].lower()
    if verb == "add":
        with grammar():
            return AddRule(parse_rule(line.raw.strip()[len(args[0]) :]))
    if verb in ("list", "ls"):
        line.arity(0, 0, args[1:])
        return ShowAlerts()
    if verb not in _ACTIONS:
        line.fail(f"{quoted(args[0])} is not something /alert does: add, rm, pause or resume.")
    (rule,) = line.arity(1, 1, args[1:])
    return ChangeRule(_ACTIONS[verb], line.number(rule, "a rule"))


RULE_HELP = (
    "Rules: <kind><op><threshold> [symbols] [info|warning|critical] [for N|for 90s] "
    "[clear <level>] [on <account>].\n"
    "Kinds: liq, prob, margin, roe, funding (%); leverage (x); pnl, exposure, "
    "account_exposure, price (USD, k/m allowed); delta, gamma, vega (USD per underlying, "
    "signed; gamma per 1% move, vega per vol point); expiry (time left on a held option: "
    "24h, 90m, 2d); blind and auth take no comparison.\n"
    "Examples: liq<5% BTC critical · margin>80% · price<60000 BTC/USDT:USDT · "
    "pnl<-500 for 3 · delta<-50k BTC · expiry<24h · blind on main"
)
_RULE_ID = (Arg("rule_id", "The rule's number, as /alerts lists it", type=ArgType.INTEGER),)

ALERT = CommandSpec(
    "alert",
    "Add, remove, pause or resume an alert rule",
    "/alert add <rule> | /alert rm|pause|resume <rule id>",
    _alert,
    {AddRule: ADMINS, ChangeRule: ADMINS, ShowAlerts: READ},
    subcommands=(
        Subcommand(
            "add",
            "Add a rule, e.g. liq<5% BTC critical",
            (Arg("rule", "The rule, e.g. liq<5% BTC critical"),),
        ),
        *(Subcommand(a.value, f"{a} an alert rule by its number", _RULE_ID) for a in RuleAction),
    ),
    example="/alert add liq<5% BTC critical",
    missing="Say which rule: its id, like 12.",
    more=RULE_HELP,
)


@dataclass(frozen=True)
class Ack(Command):
    """``alert_id`` None: every firing alert of the chat."""

    alert_id: int | None


ACK = CommandSpec(
    "ack",
    "Acknowledge an alert: no more repeats",
    "/ack <alert id|all>",
    lambda line: Ack(line.alert_target(line.arity(1, 1)[0])),
    {Ack: PERSONAL},
    args=(_alert_id(),),
    example="/ack 12",
    missing="Say which alert to acknowledge: its id, like 12, or all.",
)


@dataclass(frozen=True)
class Snooze(Command):
    """``alert_id`` None: every firing alert of the chat."""

    alert_id: int | None
    duration_s: float


def _snooze(line: Line) -> Command:
    alert, duration = line.arity(2, 2)
    target = line.alert_target(alert)
    with grammar():
        return Snooze(target, parse_duration(duration, usage=line.spec.example or line.spec.usage))


SNOOZE = CommandSpec(
    "snooze",
    "Snooze an alert (or all) for a while",
    "/snooze <alert id|all> <duration>",
    _snooze,
    {Snooze: ADMINS},
    args=(_alert_id(), Arg("duration", "How long, e.g. 1h or 30m")),
    example="/snooze 12 1h",
    missing="Say which alert to snooze (its id, or all) and for how long.",
)


@dataclass(frozen=True)
class SetQuiet(Command):
    """``hours`` None: ``/quiet off``."""

    hours: QuietHours | None


_SCOPES = ("critical", "all")


def _quiet(line: Line) -> Command:
    args = line.arity(1, 5)
    if args[0].lower() == "off":
        line.arity(1, 1)
        return SetQuiet(None)
    # The same split as the grammar's: the window (spaces around "-" allowed), then words.
    window, *rest = re.sub(r"\s*-\s*", "-", " ".join(args), count=1).split()
    zones = [i for i, word in enumerate(rest) if word.lower() not in _SCOPES]
    if zones:
        rest[zones[0]] = line.zone(rest[zones[0]])
    with grammar():
        return SetQuiet(parse_quiet(" ".join([window, *rest])))


QUIET = CommandSpec(
    "quiet",
    "Set quiet hours for this chat",
    "/quiet <from>-<to> [time zone] [critical|all] | /quiet off",
    _quiet,
    # A group's anonymous admin may set the group's own quiet hours.
    {SetQuiet: Access(admins_in_groups=True, as_chat=True)},
    args=(Arg("window", "e.g. 22:00-07:00 Europe/Paris, or off"),),
    example="/quiet 22:00-07:00 Europe/Paris",
    missing="Give the quiet window, like 22:00-07:00, or off.",
)


@dataclass(frozen=True)
class ExplainAlert(Command):
    alert_id: int


WHY = CommandSpec(
    "why",
    "Why an alert was (or was not) sent",
    "/why <alert id>",
    lambda line: ExplainAlert(line.number(line.arity(1, 1)[0], "an alert")),
    {ExplainAlert: PERSONAL},
    args=(Arg("alert", "Alert id", complete=Completion.ALERTS),),
    example="/why 12",
    missing="Say which alert: its id, like 12.",
)


@dataclass(frozen=True)
class AddSilence(Command):
    """Mute alerts matching every ``(key, value)`` pair (see ``parse_matchers``) for a while."""

    matchers: tuple[tuple[str, str], ...]
    duration_s: float


@dataclass(frozen=True)
class ListSilences(Command):
    pass


@dataclass(frozen=True)
class RemoveSilence(Command):
    silence_id: int


def _silence(line: Line) -> Command:
    args = line.args
    verb = args[0].lower() if args else "list"
    if verb in ("list", "ls"):
        line.arity(0, 1)
        return ListSilences()
    if verb in ("rm", "remove", "del", "delete"):
        line.arity(2, 2)
        return RemoveSilence(line.number(args[1], "a silence"))
    if "=" in args[-1]:
        line.fail("End the silence with how long it lasts, like 2h.")
    with grammar():
        matchers = parse_matchers(" ".join(args[:-1]))
        duration = parse_duration(args[-1], usage=line.spec.example or line.spec.usage)
        return AddSilence(tuple(matchers.items()), duration)


SILENCE = CommandSpec(
    "silence",
    "Silence alerts matching kind, symbol, account…",
    "/silence <matchers…> <duration> | /silence | /silence rm <id>",
    _silence,
    {AddSilence: ADMINS, ListSilences: PERSONAL, RemoveSilence: ADMINS},
    args=(Arg("args", "e.g. kind=liq symbol=BTC 2h · rm 3 · empty to list", required=False),),
    example="/silence kind=liq symbol=BTC 2h",
    missing="Say which silence: its id, like 3.",
)


#: In menu order.
SPECS = (ALERTS, ALERT, ACK, SNOOZE, QUIET, WHY, SILENCE)
