"""Alert episodes and their state machine: pending → firing → resolved, with for and hysteresis.

One live episode per (rule, account, key). The transitions only look at the rule, the value and
the time; who hears about it is decided afterwards (``engine.alerts.policy``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from engine.alerts.events import AlertStatus, Reason
from engine.alerts.rules import Op, Rule


@dataclass(frozen=True)
class Alert:
    """One episode of one rule on one subject of one account."""

    id: int
    rule_id: int
    account_id: int
    key: str
    status: AlertStatus
    #: First poll that breached (the pending clock starts here).
    since: float
    #: Consecutive breaching polls so far (for ``for N polls``).
    polls: int
    value: float
    worst: float
    fired_at: float | None = None
    resolved_at: float | None = None
    notified_value: float | None = None
    last_notified_at: float | None = None
    acked_at: float | None = None
    snoozed_until: float | None = None
    reason: Reason | None = None
    reason_at: float | None = None
    #: Why it resolved, when it is not "the value recovered" (position closed, rule paused).
    detail: str = ""

    @property
    def live(self) -> bool:
        return self.status is not AlertStatus.RESOLVED

    @property
    def firing(self) -> bool:
        return self.status is AlertStatus.FIRING

    @property
    def notified(self) -> bool:
        return self.last_notified_at is not None


def _worse(rule: Rule, a: float, b: float) -> float:
    """The worse of two values for this rule (NaN-aware)."""
    if math.isnan(a):
        return b
    if math.isnan(b):
        return a
    return min(a, b) if rule.spec.op is Op.BELOW else max(a, b)


def _due(rule: Rule, polls: int, since: float, at: float) -> bool:
    """Has the condition held long enough (``for``)?"""
    return polls >= rule.spec.for_polls and at - since >= rule.spec.for_s


def start(
    rule: Rule, *, alert_id: int, account_id: int, key: str, value: float, at: float
) -> Alert:
    """A first breach: pending, or firing at once when the rule has no ``for``."""
    alert = Alert(alert_id, rule.id, account_id, key, AlertStatus.PENDING, at, 1, value, value)
    return _fire(alert, at) if _due(rule, 1, at, at) else alert


def _fire(alert: Alert, at: float) -> Alert:
    return replace(alert, status=AlertStatus.FIRING, fired_at=at)


def step(rule: Rule, alert: Alert, *, value: float, at: float, poll: bool = True) -> Alert | None:
    """The next state of a live episode given this look's value; None drops a pending one.

    NaN (the value is unknown this poll) changes nothing but the timestamp of the reason. A
    look that is not a poll (a streamed mark) moves everything but the poll count.
    """
    if math.isnan(value):
        return alert
    worst = _worse(rule, alert.worst, value)
    if alert.status is AlertStatus.PENDING:
        if not rule.spec.breached(value):
            return None  # one wick: it never fired, nobody hears of it
        polls = alert.polls + int(poll)
        pending = replace(alert, polls=polls, value=value, worst=worst)
        return _fire(pending, at) if _due(rule, polls, alert.since, at) else pending
    if rule.spec.cleared(value):
        return resolve(replace(alert, value=value, worst=worst), at=at)
    return replace(alert, polls=alert.polls + int(poll), value=value, worst=worst)


def resolve(alert: Alert, *, at: float, detail: str = "") -> Alert:
    """Close a firing episode (the resolved notification is decided by the policy)."""
    return replace(alert, status=AlertStatus.RESOLVED, resolved_at=at, detail=detail)


def escalated(rule: Rule, alert: Alert, *, limit: float | None) -> bool:
    """Twice as close to the limit as when last notified (or twice as far past the threshold).

    With a limit (liquidation at 0 % distance, margin ratio 100 %) the gap to it halving is
    the danger doubling. Without one (leverage, PnL) the overshoot past the threshold doubling
    is, with a floor of 10 % of the threshold so noise around it does not count.
    """
    last = alert.notified_value
    # An infinite value (a margin ratio with no equity left) is as bad as it gets already:
    # its gap to the limit cannot halve again, and inf - inf must not read as "it did".
    if last is None or not math.isfinite(alert.value) or not math.isfinite(last):
        return False
    if limit is not None:
        # Notified at the limit itself (0 % from liquidation): nothing is closer; a gap of
        # 0 "halving" to 0 would escalate on every evaluation.
        gap = abs(limit - last)
        return gap > 0 and abs(limit - alert.value) <= gap / 2.0
    threshold = rule.spec.threshold
    past, before = abs(alert.value - threshold), abs(last - threshold)
    floor = 0.1 * abs(threshold)
    return past >= 2.0 * max(before, floor) and _worse(rule, alert.value, last) == alert.value
