"""Typed notification events the core emits and every channel renders.

The core never builds chat text (docs/architecture.md#house-style, rule 2). They travel
through the outbox as JSON (``to_payload`` / ``from_payload``), so a restart renders exactly
what was decided before the crash.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from engine.alerts.rules import Kind, Op, Severity


class Reason(StrEnum):
    """Why the pipeline did (or did not) notify: one stored line per decision."""

    PENDING = "pending: condition must hold longer (for)"
    FIRST = "first notification"
    REPEAT = "repeat interval elapsed"
    ESCALATED = "escalated: twice as close to the limit as when last notified"
    WAITING = "repeat interval not elapsed"
    ACKED = "acknowledged: repeats stopped"
    INHIBITED = "inhibited by a more severe or account-level alert"
    SNOOZED = "snoozed"
    SILENCED = "silenced by a matcher"
    QUIET = "held: quiet hours in every chat"
    RESOLVED = "resolved"
    RESOLVED_QUIET = "resolved without notice: it was never notified"
    NO_RECIPIENT = "no chat to deliver to"


#: Reasons that produce a message.
NOTIFYING = frozenset({Reason.FIRST, Reason.REPEAT, Reason.ESCALATED, Reason.RESOLVED})


class AlertStatus(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertItem:
    """One alert inside a grouped message (one line of it)."""

    alert_id: int
    rule_id: int
    kind: Kind
    op: Op
    threshold: float
    severity: Severity
    status: AlertStatus
    reason: Reason
    #: Position alerts: the market and side; None for account-level alerts.
    symbol: str | None
    side: str | None
    value: float | None
    worst: float | None
    since: float
    #: Resolved items: how long the alert fired.
    duration_s: float | None = None
    acknowledged: bool = False
    #: Position alerts: the size in coins of the underlying ``base`` (an expiry notice names
    #: the option it is about by symbol, side and size).
    size: float | None = None
    base: str | None = None
    #: Where ``value`` comes from when not from the engine's own maths: ``VENUE_PM`` for the
    #: venue's portfolio-margin ratio (docs/risk.md#greeks); "" otherwise.
    basis: str = ""


#: ``AlertItem.basis`` of a margin ratio that is the venue's own portfolio-margin ratio.
VENUE_PM = "venue_pm"


class NoticeKind(StrEnum):
    ALERT = "alert"
    HEARTBEAT = "heartbeat"
    STALLED = "stalled"
    RECOVERED = "recovered"
    DIGEST = "digest"
    #: A supervised task (notifier, a chat adapter, a scheduler job) crashed and is restarted.
    TASK_FAILED = "task_failed"
    #: The oldest due outbox row waited longer than the delivery limit (and when it clears).
    DELIVERY_STALLED = "delivery_stalled"
    DELIVERY_RECOVERED = "delivery_recovered"
    #: Something only the operator can fix (a proxy refusing us, the database failing).
    OPERATOR = "operator"
    #: Another chat identity joined a user with /connect (told to the user's other chats).
    CONNECTED = "connected"


@dataclass(frozen=True)
class AlertNotice:
    """One message per account per evaluation, listing every alert that must be told."""

    account_id: int
    account_label: str
    venue: str
    at: float
    severity: Severity
    items: tuple[AlertItem, ...]
    kind: NoticeKind = NoticeKind.ALERT

    @property
    def alert_ids(self) -> tuple[int, ...]:
        return tuple(item.alert_id for item in self.items)

    @property
    def resolved_only(self) -> bool:
        return all(item.status is AlertStatus.RESOLVED for item in self.items)


@dataclass(frozen=True)
class OpsNotice:
    """Operator messages: the heartbeat, the watchdogs' stalled / recovered alerts, crashed
    tasks and problems only the operator can fix."""

    kind: NoticeKind
    at: float
    severity: Severity
    accounts: int
    #: Seconds since the monitor last completed a poll, or the oldest due outbox row's age
    #: (None: never / unknown).
    idle_s: float | None = None
    #: What it is about: a task name, a venue ("binanceusdm"), "database".
    subject: str | None = None
    #: One plain sentence for the operator (never a secret: built from types and statuses).
    detail: str | None = None


@dataclass(frozen=True)
class Chart:
    """A rendered chart carried by a digest: a file name and the PNG, base64-encoded (the
    outbox stores JSON)."""

    name: str
    title: str
    png_base64: str


@dataclass(frozen=True)
class DigestNotice:
    """A scheduled (or missed) exposure digest for one chat: text and charts, rendered once."""

    subscription_id: int
    at: float
    title: str
    text: str
    charts: tuple[Chart, ...] = ()
    severity: Severity = Severity.INFO
    kind: NoticeKind = NoticeKind.DIGEST


@dataclass(frozen=True)
class ConnectNotice:
    """A chat identity joined a user with a /connect code: the user's other chats hear of it,
    so a join they did not make is noticed (and undone with /connect remove)."""

    at: float
    #: The identity that joined: its platform ("discord"), id there and display name.
    platform: str
    external_id: str
    name: str
    severity: Severity = Severity.WARNING
    kind: NoticeKind = NoticeKind.CONNECTED


Notice = AlertNotice | OpsNotice | DigestNotice | ConnectNotice


def _clean(value: Any) -> Any:
    """JSON has no NaN: store None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def to_payload(notice: Notice) -> dict[str, Any]:
    """A JSON-safe dict for the outbox."""
    raw = asdict(notice)
    if isinstance(notice, AlertNotice):
        raw["items"] = [{k: _clean(v) for k, v in item.items()} for item in raw["items"]]
    return {k: _clean(v) for k, v in raw.items()}


def _item(raw: dict[str, Any]) -> AlertItem:
    return AlertItem(
        **{
            **raw,
            "kind": Kind(raw["kind"]),
            "op": Op(raw["op"]),
            "severity": Severity(raw["severity"]),
            "status": AlertStatus(raw["status"]),
            "reason": Reason(raw["reason"]),
        }
    )


def from_payload(raw: dict[str, Any]) -> Notice:
    """The inverse of ``to_payload``; raises ``ValueError`` / ``KeyError`` on a foreign dict."""
    kind = NoticeKind(raw["kind"])
    severity = Severity(raw["severity"])
    if kind is NoticeKind.ALERT:
        items = tuple(_item(item) for item in raw["items"])
        return AlertNotice(**{**raw, "kind": kind, "severity": severity, "items": items})
    if kind is NoticeKind.DIGEST:
        charts = tuple(Chart(**chart) for chart in raw["charts"])
        return DigestNotice(**{**raw, "kind": kind, "severity": severity, "charts": charts})
    if kind is NoticeKind.CONNECTED:
        return ConnectNotice(**{**raw, "kind": kind, "severity": severity})
    return OpsNotice(**{**raw, "kind": kind, "severity": severity})
