"""The commands about a chat itself, each as its records, its parser and its spec: /share and
/unshare (what a group sees), /digest (its subscription), /connect (one person's chats on
several platforms), /chart and /status (how the venues of its accounts are watched)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.chat.commands.spec import (
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
from bot.chat.commands.stress import ShowStressChart, asset
from bot.chat.commands.words import connect_code, either, grammar, quoted
from engine.alerts.phrases import parse_digest_schedule

_ACCOUNT = Arg("account", "Account label", complete=Completion.ACCOUNTS)


@dataclass(frozen=True)
class Share(Command):
    """Show one of the caller's accounts in this group."""

    account: str


@dataclass(frozen=True)
class Unshare(Command):
    """Stop showing one of the caller's accounts in this group."""

    account: str


#: /share and /unshare: a group's admins, in the group.
_IN_GROUP = Access(
    place=Place.GROUP,
    admins_in_groups=True,
    elsewhere="/{name} works in a group: send it there to show (or stop showing) one of your "
    "accounts to its members.",
)

SHARE = CommandSpec(
    "share",
    "Show one of your accounts in this group (admins)",
    "/share <account>",
    lambda line: Share(line.label(line.arity(1, 1)[0])),
    {Share: _IN_GROUP},
    args=(_ACCOUNT,),
    missing="Say which of your accounts to share here, by its label.",
)
UNSHARE = CommandSpec(
    "unshare",
    "Stop showing one of your accounts in this group (admins)",
    "/unshare <account>",
    lambda line: Unshare(line.label(line.arity(1, 1)[0])),
    {Unshare: _IN_GROUP},
    args=(_ACCOUNT,),
    missing="Say which of your accounts to stop showing here, by its label.",
)


@dataclass(frozen=True)
class DigestCommand(Command):
    """/digest (show the subscription), now, subscribe … at HH:MM [zone], unsubscribe."""

    action: str = "show"
    accounts: tuple[str, ...] = ()
    at: str | None = None
    tz: str = "UTC"


def _digest(line: Line) -> Command:
    args = line.args
    if not args:
        return DigestCommand()
    action = args[0].lower()
    if action in ("now", "unsubscribe"):
        line.arity(1, 1)
        return DigestCommand(action)
    if action != "subscribe":
        line.fail(f"{quoted(args[0])} is not now, subscribe or unsubscribe.")
    words = args[1:]
    lowered = [w.lower() for w in words]
    if "at" in lowered and len(words) == lowered.index("at") + 3:  # … at HH:MM <zone>
        words[-1] = line.zone(words[-1])
    with grammar():
        labels, at, tz = parse_digest_schedule(words)
    return DigestCommand("subscribe", tuple(line.label(w) for w in labels), at, tz)


DIGEST = CommandSpec(
    "digest",
    "The daily exposure digest: now, or subscribe this chat at a time",
    "/digest [now | subscribe [accounts…] at HH:MM [zone] | unsubscribe]",
    _digest,
    # Anyone reads it; subscribing and unsubscribing a group is for its admins (and its
    # anonymous admins), which the digest commands check per action.
    {DigestCommand: READ},
    args=(
        Arg(
            "args",
            "now · subscribe [accounts] at 08:00 Europe/Paris · unsubscribe",
            required=False,
        ),
    ),
)


@dataclass(frozen=True)
class Connect(Command):
    """Get a one-time code (no argument), or use one from the other platform: normalised
    (upper case, no dashes), and never shown in ``repr`` (it joins a chat to your user)."""

    code: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ListConnections(Command):
    """The chats (platform identities) connected to the sender's user."""


@dataclass(frozen=True)
class RemoveConnection(Command):
    """Detach one connected identity: a platform name, its id, or ``platform:id``."""

    identity: str


_IDENTITY = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_-]{0,63}")


def _connect(line: Line) -> Command:
    args = line.args
    if not args:
        return Connect()
    verb = args[0].lower()
    if verb in ("list", "ls"):
        line.arity(1, 1)
        return ListConnections()
    if verb in ("remove", "rm"):
        line.arity(2, 2)
        if _IDENTITY.fullmatch(args[1]) is None:
            line.fail(f"{quoted(args[1])} is not a platform or an id from /connect list.")
        return RemoveConnection(args[1])
    code = connect_code(args)
    if code is None:
        # Never quoted: a mistyped code is still most of a code.
        line.fail("That is not a connect code: it has 16 letters and digits.")
    return Connect(code)


#: /connect joins, lists and detaches a person's chats: only in their private chat.
_PRIVATELY = Access(place=Place.PRIVATE, elsewhere="Send /connect to me in a private chat.")

CONNECT = CommandSpec(
    "connect",
    "Use the same accounts and alerts on Telegram and Discord",
    "/connect [code | list | remove <platform or id>]",
    _connect,
    {Connect: _PRIVATELY, ListConnections: _PRIVATELY, RemoveConnection: _PRIVATELY},
    args=(
        Arg("code", "The code /connect gave you on the other platform, or list", required=False),
    ),
    example="/connect ABCD-EFGH-JKMN-PQRS",
    missing="Say which chat to remove: telegram, discord, or an id from /connect list.",
)


#: The charts /chart draws (the digest draws the same three).
CHARTS = ("exposure", "ladder", "equity")


@dataclass(frozen=True)
class ShowChart(Command):
    """/chart exposure|ladder|equity [account]: one chart now."""

    kind: str
    account: str | None = None


def _chart(line: Line) -> Command:
    args = line.arity(1, 2)
    kind = line.choice(args[0], (*CHARTS, "stress"), "a chart")
    if kind == "stress":  # its word is an underlying, not an account
        return ShowStressChart(asset(line, args[1]) if len(args) == 2 else None)
    return ShowChart(kind, line.label(args[1]) if len(args) == 2 else None)


CHART = CommandSpec(
    "chart",
    "A chart now: exposure, liquidation ladder, 30-day equity or the stress grid",
    f"/chart {'|'.join(CHARTS)} [account] or /chart stress [asset]",
    _chart,
    {ShowChart: READ, ShowStressChart: READ},
    args=(
        Arg("kind", "Which chart", choices=(*CHARTS, "stress")),
        Arg(
            "account",
            "Account label (for stress: an asset, e.g. BTC)",
            required=False,
            complete=Completion.ACCOUNTS,
        ),
    ),
    missing=f"Say which chart: {either((*CHARTS, 'stress'))}.",
)


#: In menu order.
@dataclass(frozen=True)
class ShowStatus(Command):
    """How the venues of the accounts this chat sees are watched."""


STATUS = CommandSpec(
    "status",
    "Per venue: marks streaming live or not, last tick, REST budget, polls",
    "/status",
    without_args(ShowStatus),
    {ShowStatus: READ},
)

SPECS = (SHARE, UNSHARE, DIGEST, CONNECT, CHART, STATUS)
