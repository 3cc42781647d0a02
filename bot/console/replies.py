"""Plain-text replies to chat commands for the console (pure: service records → text)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import format as fmt
from bot.alerting import AlertView, RuleView, Why
from bot.console.render import analysis_text, stress_text
from bot.portfolio import AccountView, StressView
from bot.report import report, stress_report
from engine.alerts.policy import Silence, span
from engine.alerts.rules import KINDS
from engine.domain import LinkedAccount


def clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S UTC")


def accounts(found: list[LinkedAccount]) -> str:
    if not found:
        return (
            "No linked accounts yet: /link <venue> <apiKey> <secret> or /watch <venue> <address>."
        )
    lines = [f"#{a.id} {a.label} ({a.venue}) — {a.status}" for a in found]
    return "\n".join(lines)


def positions(views: list[AccountView]) -> str:
    blocks = []
    for view in views:
        title = f"[{view.account.label}]"
        if view.analysis is None:
            blocks.append(f"{title} not polled yet")
            continue
        blocks.append(f"{title} {analysis_text(report(view.analysis, view.account.venue))}")
    return "\n\n".join(blocks)


def stress(views: list[StressView]) -> str:
    blocks = []
    for view in views:
        text = stress_text(stress_report(view.result, view.analysis))
        blocks.append(f"[{view.account.label}] {text}")
    return "\n\n".join(blocks)


def _value(view: AlertView) -> str:
    unit = KINDS[view.rule.rule.kind].unit
    value = view.alert.value
    return "n/a" if value != value else f"{fmt.amount(value)}{unit}"


def alert_line(view: AlertView) -> str:
    alert, rule = view.alert, view.rule.rule
    subject = alert.key.replace(":long", " long").replace(":short", " short") or "account"
    flags = " (acknowledged)" if alert.acked_at is not None else ""
    return (
        f"#{alert.id} {rule.severity.upper()} {alert.status} — {view.rule.text} — "
        f"{view.account.label} {subject}: now {_value(view)}{flags}"
    )


def alerts(rules: list[RuleView], live: list[AlertView]) -> str:
    lines = ["Live alerts:" if live else "No alert is firing."]
    lines += [f"  {alert_line(v)}" for v in live]
    lines.append("Rules (rm/pause/resume by number):")
    for view in rules:
        state = "" if view.rule.enabled else " [paused]"
        default = " (default)" if view.rule.default else ""
        scope = f" on {view.account}" if view.account and " on " not in view.text else ""
        lines.append(f"  rule {view.rule.id}: {view.text}{scope}{default}{state}")
    return "\n".join(lines)


def why(answer: Why) -> str:
    view = answer.view
    alert = view.alert
    lines = [alert_line(view), f"  since {clock(alert.fired_at or alert.since)}"]
    if alert.worst == alert.worst:
        lines[-1] += f", worst {fmt.amount(alert.worst)}{KINDS[view.rule.rule.kind].unit}"
    for decision in answer.decisions:
        detail = f" ({decision.detail})" if decision.detail else ""
        lines.append(f"  {clock(decision.at)}: {decision.reason}{detail}")
    return "\n".join(lines)


def silences(found: list[Silence]) -> str:
    if not found:
        return "No active silence."
    return "\n".join(
        f"silence {s.id}: "
        + (" ".join(f"{k}={v}" for k, v in s.matchers.items()) or "everything")
        + f" until {clock(s.ends_at)}"
        for s in found
    )


def acked(ids: list[int]) -> str:
    return "Acknowledged " + ", ".join(f"#{i}" for i in ids) + ": no more repeats."


def snoozed(ids: list[int], duration_s: float) -> str:
    target = ", ".join(f"#{i}" for i in ids) or "new alerts"
    return f"Snoozed {target} for {span(duration_s)}."
