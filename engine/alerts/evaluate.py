"""One evaluation of one account: transitions, then the policy, then fan-out — all pure.

The caller (the monitor's alert stage) loads rules, live alerts, silences and chats inside the
poll's transaction, calls ``evaluate`` and writes back everything it returns in that same
transaction, so alert state and outbox rows can never disagree after a crash.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from engine.alerts.events import AlertItem, AlertStatus, Reason
from engine.alerts.fanout import FanOut, Message, fan_out
from engine.alerts.observe import Observation, Subject
from engine.alerts.policy import Policy, Silence, Verdict, decide, inhibited, labels
from engine.alerts.quiet import ChatSettings
from engine.alerts.rules import KINDS, Kind, Rule
from engine.alerts.state import Alert, resolve, start, step


@dataclass(frozen=True)
class Decision:
    """One line of an alert's history: what the pipeline decided and why."""

    alert_id: int
    at: float
    reason: Reason
    detail: str = ""


@dataclass(frozen=True)
class Evaluation:
    """Everything to write back: alerts to upsert, pending ones to drop, the log, messages."""

    alerts: tuple[Alert, ...] = ()
    dropped: tuple[int, ...] = ()
    decisions: tuple[Decision, ...] = ()
    messages: tuple[Message, ...] = ()


@dataclass
class _Pass:
    """Working state of one evaluation."""

    observation: Observation
    rules: dict[int, Rule]
    next_id: Iterator[int]
    alerts: dict[tuple[int, str], Alert] = field(default_factory=dict)
    dropped: list[int] = field(default_factory=list)
    subjects: dict[str, Subject] = field(default_factory=dict)
    #: Some chat could receive a message (else notifying verdicts become NO_RECIPIENT).
    reachable: bool = False


def in_scope(rule: Rule, observation: Observation) -> bool:
    account = observation.account
    return (
        rule.enabled and rule.owner_id == account.owner_id and rule.account_id in (None, account.id)
    )


def subjects_of(rule: Rule, observation: Observation) -> tuple[Subject, ...]:
    info = KINDS[rule.kind]
    if info.account_level:
        return (observation.account_subject,)
    pool = observation.underlyings if info.underlying_level else observation.positions
    if rule.kind is Kind.EXPIRY:
        # Only held options carry an expiry: one expired (or any other position) is not a
        # subject, so a live expiry alert on it resolves (``_orphan``).
        pool = tuple(s for s in pool if Kind.EXPIRY in s.values)
    return tuple(s for s in pool if rule.spec.covers(s.symbol, s.base))


def _transition(run: _Pass, live: dict[tuple[int, str], Alert]) -> None:
    """Move every (rule, subject) one step; close what lost its rule or its position."""
    obs = run.observation
    for rule in run.rules.values():
        for subject in subjects_of(rule, obs):
            run.subjects[subject.key] = subject
            value = subject.value(rule.kind)
            current = live.pop((rule.id, subject.key), None)
            if current is not None:
                nxt = step(rule, current, value=value, at=obs.at, poll=obs.poll)
                if nxt is None:
                    run.dropped.append(current.id)
                else:
                    run.alerts[(rule.id, subject.key)] = nxt
            elif rule.spec.breached(value):
                alert = start(
                    rule,
                    alert_id=next(run.next_id),
                    account_id=obs.account.id,
                    key=subject.key,
                    value=value,
                    at=obs.at,
                )
                run.alerts[(rule.id, subject.key)] = alert
    for slot, alert in live.items():
        _orphan(run, slot, alert)


def _orphan(run: _Pass, slot: tuple[int, str], alert: Alert) -> None:
    """A live episode nothing measured this poll."""
    if alert.rule_id not in run.rules:
        detail = "rule paused or removed"
    elif run.observation.seen and alert.key:
        listed = any(s.key == alert.key for s in run.observation.positions)
        detail = "option expired" if listed else "position closed"
    else:
        run.alerts[slot] = alert  # the poll failed: keep the state, we cannot see
        return
    if alert.firing:
        run.alerts[slot] = resolve(alert, at=run.observation.at, detail=detail)
    else:
        run.dropped.append(alert.id)


def evaluate(
    observation: Observation,
    *,
    rules: Sequence[Rule],
    alerts: Sequence[Alert],
    silences: Sequence[Silence] = (),
    chats: Sequence[ChatSettings] = (),
    next_id: int,
    policy: Policy | None = None,
) -> Evaluation:
    """Evaluate one account's poll. ``alerts`` are its live episodes; ids start at ``next_id``."""
    every = {r.id: r for r in rules}
    run = _Pass(
        observation,
        {r.id: r for r in rules if in_scope(r, observation)},
        itertools.count(next_id),
        reachable=any(c.blocked_at is None for c in chats),
    )
    _transition(run, {(a.rule_id, a.key): a for a in alerts if a.live})
    current = list(run.alerts.values())
    firing = [(every[a.rule_id], a) for a in current if a.firing and a.rule_id in every]
    blockers = inhibited(firing)
    verdicts = {
        a.id: _verdict(run, a, every, blockers, silences, policy or Policy())
        for a in current
        if a.rule_id in every
    }
    items = [
        _item(run, a, every[a.rule_id], verdicts[a.id])
        for a in current
        if a.id in verdicts and verdicts[a.id].notifies
    ]
    out = fan_out(items, account=observation.account, at=observation.at, chats=chats)
    return _finish(run, current, verdicts, out, alerts)


def _verdict(
    run: _Pass,
    alert: Alert,
    rules: dict[int, Rule],
    blockers: dict[int, int],
    silences: Sequence[Silence],
    policy: Policy,
) -> Verdict:
    rule = rules[alert.rule_id]
    subject = run.subjects.get(alert.key)
    tags = labels(
        rule, alert, account=run.observation.account.label, base=subject.base if subject else None
    )
    at = run.observation.at
    silence = next((s for s in silences if s.active(at) and s.matches(tags)), None)
    return decide(
        rule, alert, at=at, inhibitor=blockers.get(alert.id), silence=silence, policy=policy
    )


def _item(run: _Pass, alert: Alert, rule: Rule, verdict: Verdict) -> AlertItem:
    subject = run.subjects.get(alert.key)
    symbol, side = split_key(alert.key)
    resolved = alert.status is AlertStatus.RESOLVED
    duration = (alert.resolved_at or 0.0) - (alert.fired_at or alert.since) if resolved else None
    return AlertItem(
        alert_id=alert.id,
        rule_id=rule.id,
        kind=rule.kind,
        op=rule.spec.op,
        threshold=rule.spec.threshold,
        severity=rule.severity,
        status=alert.status,
        reason=verdict.reason,
        symbol=subject.symbol if subject and subject.symbol else symbol,
        side=subject.side if subject and subject.side else side,
        value=alert.value,
        worst=alert.worst,
        since=alert.fired_at or alert.since,
        duration_s=duration,
        acknowledged=alert.acked_at is not None,
        size=subject.size if subject else None,
        base=subject.base if subject else None,
        basis=subject.basis.get(rule.kind, "") if subject else "",
    )


def split_key(key: str) -> tuple[str | None, str | None]:
    """ "BTC/USDT:USDT:long" → ("BTC/USDT:USDT", "long"); "" → (None, None)."""
    for side in ("long", "short"):
        marker = f":{side}"
        if marker in key:
            head, _, _ = key.rpartition(marker)
            return head, side
    return (key or None), None


def _finish(
    run: _Pass,
    current: list[Alert],
    verdicts: dict[int, Verdict],
    out: FanOut,
    before: Sequence[Alert],
) -> Evaluation:
    """Stamp reasons and notification marks; log a decision when something changed."""
    at = run.observation.at
    previous = {a.id: a for a in before}
    written: list[Alert] = []
    decisions: list[Decision] = []
    for alert in current:
        verdict = verdicts.get(alert.id, Verdict(Reason.RESOLVED_QUIET, alert.detail))
        verdict = _held(verdict, delivered=alert.id in out.delivered, reachable=run.reachable)
        updated = replace(alert, reason=verdict.reason, reason_at=at)
        if verdict.notifies and alert.id in out.delivered:
            updated = replace(updated, last_notified_at=at, notified_value=alert.value)
        old = previous.get(alert.id)
        if (
            old is None
            or old.reason != verdict.reason
            or verdict.notifies
            or old.status != alert.status
        ):
            decisions.append(Decision(alert.id, at, verdict.reason, verdict.detail))
        written.append(updated)
    return Evaluation(tuple(written), tuple(run.dropped), tuple(decisions), out.messages)


def _held(verdict: Verdict, *, delivered: bool, reachable: bool) -> Verdict:
    """A notifying verdict that reached no chat: say whether quiet hours or no chat at all."""
    if not verdict.notifies or delivered:
        return verdict
    if verdict.reason is Reason.RESOLVED:
        return Verdict(Reason.RESOLVED_QUIET, "quiet hours or no reachable chat")
    return Verdict(Reason.QUIET if reachable else Reason.NO_RECIPIENT, verdict.detail)


def live_after(live: Sequence[Alert], result: Evaluation) -> list[Alert]:
    """The live episodes once ``result`` is written: what the next evaluation starts from.
    The alert stage writes ``result`` and reads this back from its database; a backtest keeps
    it in memory. One function, so a replay cannot drift from the live pipeline."""
    episodes = {alert.id: alert for alert in live}
    episodes.update((alert.id, alert) for alert in result.alerts)
    for gone in result.dropped:
        episodes.pop(gone, None)
    return [alert for alert in episodes.values() if alert.live]


def material(evaluation: Evaluation, before: Sequence[Alert]) -> bool:
    """Whether an evaluation changes what anyone is or will be told: an episode started,
    dropped, fired, resolved or notified, or a message to send. A streamed mark that only moves
    a firing alert's value changes nothing material (the next poll records the value), so the
    caller can skip writing it: ticks come four times a second."""
    if evaluation.messages or evaluation.dropped:
        return True
    old = {a.id: a for a in before}
    for alert in evaluation.alerts:
        prior = old.get(alert.id)
        if prior is None or (prior.status, prior.last_notified_at, prior.fired_at) != (
            alert.status,
            alert.last_notified_at,
            alert.fired_at,
        ):
            return True
    return False


def breaches(observation: Observation, rules: Sequence[Rule]) -> bool:
    """Whether any enabled rule in scope is breached by what ``observation`` saw: cheap, so a
    stream of marks can skip the full evaluation for accounts nowhere near a threshold (an
    account with live alerts needs the full one anyway: it may resolve or escalate)."""
    return any(
        rule.spec.breached(subject.value(rule.kind))
        for rule in rules
        if in_scope(rule, observation)
        for subject in subjects_of(rule, observation)
    )
