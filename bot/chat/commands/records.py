"""The commands a chat message can carry: one frozen record per command, the parsers' output."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, TypeAlias

from engine.alerts.quiet import QuietHours
from engine.alerts.rules import RuleSpec


class CommandName(StrEnum):
    """The command words (what follows the ``/``)."""

    START = "start"
    HELP = "help"
    LINK = "link"
    WATCH = "watch"
    UNLINK = "unlink"
    ACCOUNTS = "accounts"
    POSITIONS = "positions"
    RISK = "risk"
    STRESS = "stress"
    ALERTS = "alerts"
    ALERT = "alert"
    ACK = "ack"
    SNOOZE = "snooze"
    QUIET = "quiet"
    WHY = "why"
    SILENCE = "silence"
    SHARE = "share"
    UNSHARE = "unshare"
    DIGEST = "digest"
    CONNECT = "connect"
    CHART = "chart"


class RuleAction(StrEnum):
    """What ``/alert rm|pause|resume <id>`` does to a stored rule."""

    RM = "rm"
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(frozen=True)
class Start:
    """Register and take the short tour; ``payload`` is a Telegram deep-link parameter."""

    name: ClassVar[CommandName] = CommandName.START
    payload: str | None = None


@dataclass(frozen=True)
class Help:
    """The command list, or one command's usage (``command`` without the slash)."""

    name: ClassVar[CommandName] = CommandName.HELP
    command: str | None = None


@dataclass(frozen=True)
class Link:
    """Link an exchange account with an API key; the secrets never show in ``repr``."""

    name: ClassVar[CommandName] = CommandName.LINK
    venue: str
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    passphrase: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Watch:
    """Watch a public wallet (no key) on a venue that exposes positions by address."""

    name: ClassVar[CommandName] = CommandName.WATCH
    venue: str
    address: str


@dataclass(frozen=True)
class Unlink:
    name: ClassVar[CommandName] = CommandName.UNLINK
    account: str


@dataclass(frozen=True)
class Accounts:
    name: ClassVar[CommandName] = CommandName.ACCOUNTS


@dataclass(frozen=True)
class Positions:
    """``account`` None: every account the chat may see."""

    name: ClassVar[CommandName] = CommandName.POSITIONS
    account: str | None = None


@dataclass(frozen=True)
class Risk:
    """``account`` None: the whole portfolio the chat may see."""

    name: ClassVar[CommandName] = CommandName.RISK
    account: str | None = None


@dataclass(frozen=True)
class Stress:
    """Shock ``asset`` (None: every underlying) by ``shock_pct`` (−10.0 is a 10 % drop)."""

    name: ClassVar[CommandName] = CommandName.STRESS
    asset: str | None
    shock_pct: float


@dataclass(frozen=True)
class Alerts:
    name: ClassVar[CommandName] = CommandName.ALERTS


@dataclass(frozen=True)
class AlertAdd:
    name: ClassVar[CommandName] = CommandName.ALERT
    spec: RuleSpec


@dataclass(frozen=True)
class AlertChange:
    name: ClassVar[CommandName] = CommandName.ALERT
    action: RuleAction
    rule_id: int


@dataclass(frozen=True)
class Ack:
    """``alert_id`` None: every firing alert of the chat."""

    name: ClassVar[CommandName] = CommandName.ACK
    alert_id: int | None


@dataclass(frozen=True)
class Snooze:
    """``alert_id`` None: every firing alert of the chat."""

    name: ClassVar[CommandName] = CommandName.SNOOZE
    alert_id: int | None
    duration_s: float


@dataclass(frozen=True)
class Quiet:
    """``hours`` None: ``/quiet off``."""

    name: ClassVar[CommandName] = CommandName.QUIET
    hours: QuietHours | None


@dataclass(frozen=True)
class Why:
    name: ClassVar[CommandName] = CommandName.WHY
    alert_id: int


@dataclass(frozen=True)
class Silence:
    """Mute alerts matching every ``(key, value)`` pair (see ``parse_matchers``) for a while."""

    name: ClassVar[CommandName] = CommandName.SILENCE
    matchers: tuple[tuple[str, str], ...]
    duration_s: float


@dataclass(frozen=True)
class SilenceList:
    name: ClassVar[CommandName] = CommandName.SILENCE


@dataclass(frozen=True)
class SilenceRm:
    name: ClassVar[CommandName] = CommandName.SILENCE
    silence_id: int


@dataclass(frozen=True)
class Share:
    """Show one of the caller's accounts in this group."""

    name: ClassVar[CommandName] = CommandName.SHARE
    account: str


@dataclass(frozen=True)
class Unshare:
    """Stop showing one of the caller's accounts in this group."""

    name: ClassVar[CommandName] = CommandName.UNSHARE
    account: str


@dataclass(frozen=True)
class ChartRequest:
    """/chart exposure|ladder|equity [account]: one chart now."""

    name: ClassVar[CommandName] = CommandName.CHART
    kind: str
    account: str | None = None


@dataclass(frozen=True)
class Connect:
    """Get a one-time code (no argument), or use one from the other platform: normalised
    (upper case, no dashes), and never shown in ``repr`` (it joins a chat to your user)."""

    name: ClassVar[CommandName] = CommandName.CONNECT
    code: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ConnectList:
    """The chats (platform identities) connected to the sender's user."""

    name: ClassVar[CommandName] = CommandName.CONNECT


@dataclass(frozen=True)
class ConnectRemove:
    """Detach one connected identity: a platform name, its id, or ``platform:id``."""

    name: ClassVar[CommandName] = CommandName.CONNECT
    identity: str


@dataclass(frozen=True)
class Digest:
    """/digest (show the subscription), now, subscribe … at HH:MM [zone], unsubscribe."""

    name: ClassVar[CommandName] = CommandName.DIGEST
    action: str = "show"
    accounts: tuple[str, ...] = ()
    at: str | None = None
    tz: str = "UTC"


Command: TypeAlias = (
    Start | Help | Link | Watch | Unlink | Accounts | Positions | Risk | Stress | Alerts
    | AlertAdd | AlertChange | Ack | Snooze | Quiet | Why | Silence | SilenceList | SilenceRm
    | Share | Unshare | Digest | Connect | ConnectList | ConnectRemove | ChartRequest
)  # fmt: skip
