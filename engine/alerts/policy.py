"""Who hears about an alert, and why: inhibition, silences, snooze, ack, repeat and escalation.

Each firing or freshly resolved episode gets exactly one ``Reason`` per evaluation (a named
stage with a stored reason: docs/architecture.md#house-style, rule 4), so "why (not) alerted?"
has a one-line answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from engine.alerts.events import NOTIFYING, AlertStatus, Reason
from engine.alerts.rules import KINDS, Rule, Severity
from engine.alerts.state import Alert, escalated


def _repeats() -> dict[Severity, float]:
    return {Severity.CRITICAL: 300.0, Severity.WARNING: 3600.0, Severity.INFO: 14400.0}


@dataclass(frozen=True)
class Policy:
    """Repeat interval per severity while an alert keeps firing unacknowledged."""

    repeat_s: Mapping[Severity, float] = field(default_factory=_repeats)


@dataclass(frozen=True)
class Silence:
    """Mute every alert whose labels equal all the matchers, between two times."""

    id: int
    owner_id: int
    matchers: Mapping[str, str]
    starts_at: float
    ends_at: float

    def active(self, at: float) -> bool:
        return self.starts_at <= at < self.ends_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Case-insensitive equality per matcher; ``symbol`` also matches the base (BTC)."""
        for key, want in self.matchers.items():
            got = {labels.get(key, "").lower()}
            if key == "symbol":
                got.add(labels.get("base", "").lower())
            if want.lower() not in got:
                return False
        return True


def labels(rule: Rule, alert: Alert, *, account: str, base: str | None) -> dict[str, str]:
    """What silences match on (Alertmanager's label set for one alert)."""
    symbol = alert.key.rsplit(":", 1)[0] if alert.key else ""
    return {
        "kind": rule.kind.value,
        "severity": rule.severity.value,
        "account": account,
        "rule": str(rule.id),
        "symbol": symbol,
        "base": base or "",
    }


def inhibited(firing: Sequence[tuple[Rule, Alert]]) -> dict[int, int]:
    """alert id → id of the alert that inhibits it.

    A firing alert suppresses lower-severity ones on the same subject (critical over warning
    for one position), and a firing account-level alert suppresses the account's position
    alerts of no higher severity — health states (blind, auth) suppress them all, since the
    positions cannot be seen.
    """
    out: dict[int, int] = {}
    for rule, alert in firing:
        for other_rule, other in firing:
            if other.id == alert.id:
                continue
            if _suppresses(other_rule, other, rule, alert):
                out[alert.id] = other.id
                break
    return out


def _suppresses(rule: Rule, alert: Alert, victim_rule: Rule, victim: Alert) -> bool:
    if alert.key == victim.key:
        return rule.severity.rank > victim_rule.severity.rank
    if alert.key != "" or victim.key == "":
        return False
    return KINDS[rule.kind].state or rule.severity.rank >= victim_rule.severity.rank


@dataclass(frozen=True)
class Verdict:
    """The policy's answer for one episode in one evaluation."""

    reason: Reason
    detail: str = ""

    @property
    def notifies(self) -> bool:
        return self.reason in NOTIFYING


def decide(
    rule: Rule,
    alert: Alert,
    *,
    at: float,
    inhibitor: int | None,
    silence: Silence | None,
    policy: Policy,
) -> Verdict:
    """The one reason this episode is (not) notified now."""
    if alert.status is AlertStatus.PENDING:
        return Verdict(Reason.PENDING, _pending_detail(rule, alert, at))
    if alert.status is AlertStatus.RESOLVED:
        if alert.notified:
            return Verdict(Reason.RESOLVED, alert.detail)
        return Verdict(Reason.RESOLVED_QUIET, alert.detail)
    return _firing(rule, alert, at=at, inhibitor=inhibitor, silence=silence, policy=policy)


def _firing(
    rule: Rule,
    alert: Alert,
    *,
    at: float,
    inhibitor: int | None,
    silence: Silence | None,
    policy: Policy,
) -> Verdict:
    if inhibitor is not None:
        return Verdict(Reason.INHIBITED, f"by alert #{inhibitor}")
    if silence is not None:
        return Verdict(Reason.SILENCED, f"silence #{silence.id} until {_ts(silence.ends_at)}")
    if alert.snoozed_until is not None and at < alert.snoozed_until:
        return Verdict(Reason.SNOOZED, f"until {_ts(alert.snoozed_until)}")
    if not alert.notified:
        return Verdict(Reason.FIRST)
    if escalated(rule, alert, limit=KINDS[rule.kind].limit):
        return Verdict(Reason.ESCALATED, f"from {alert.notified_value:.4g} to {alert.value:.4g}")
    if alert.acked_at is not None:
        return Verdict(Reason.ACKED, f"at {_ts(alert.acked_at)}")
    every = policy.repeat_s[rule.severity]
    assert alert.last_notified_at is not None
    if at - alert.last_notified_at >= every:
        return Verdict(Reason.REPEAT, f"{rule.severity} repeats every {span(every)}")
    return Verdict(
        Reason.WAITING,
        f"{rule.severity} repeats every {span(every)}; next at "
        f"{_ts(alert.last_notified_at + every)}",
    )


def _pending_detail(rule: Rule, alert: Alert, at: float) -> str:
    spec = rule.spec
    parts = []
    if spec.for_polls > 1:
        parts.append(f"{alert.polls}/{spec.for_polls} polls")
    if spec.for_s > 0:
        parts.append(f"{span(at - alert.since)}/{span(spec.for_s)}")
    return ", ".join(parts)


def span(seconds: float) -> str:
    """90 → "1m30s", 3600 → "1h"."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    mins, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return text + (f"{secs}s" if secs or not text else "")


def _ts(at: float) -> str:
    """A time in a stored reason: UTC HH:MM (messages render local times from raw values)."""
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M UTC")
