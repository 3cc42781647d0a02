"""Plain-text replies to chat commands, shared by every adapter (pure: service records → text)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bot.accounts.portfolio import AccountAnalysis
from bot.accounts.service import Linked, short_address
from bot.alerting.service import AlertView, RuleView, Why
from bot.render import cadence as cadence_text
from bot.render import format as fmt
from bot.render import positions as account_text
from bot.render import venues as venue_text
from bot.render.views import AccountView, account_view
from engine.alerts.policy import Silence, span
from engine.alerts.quiet import QuietHours
from engine.alerts.rules import KINDS
from engine.domain import LinkedAccount
from storage.venues import VenueReport


def clock(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S UTC")


def tour() -> str:
    """/start in a private chat: what liqwatch does and the three commands to begin with."""
    return (
        "liqwatch watches your leveraged positions and warns you before liquidation.\n"
        "1. Link a read-only API key: /link binanceusdm <apiKey> <secret> "
        "(I delete that message at once), or watch a wallet: /watch hyperliquid 0x…\n"
        "2. /positions and /risk show where you stand; /stress BTC -10% what a move would do.\n"
        "3. You get default alerts at 10% (warning) and 5% (critical) from liquidation; "
        "add your own with /alert add liq<8% BTC. /help lists everything."
    )


def group_tour() -> str:
    """/start in a group: how a team uses it."""
    return (
        "liqwatch is here. Members share accounts with this chat using /share <account> "
        "(admins only); everyone can then read /positions, /risk and /alerts, and the shared "
        "accounts' alerts arrive here. API keys are linked only in a private chat with me."
    )


def linked(result: Linked) -> str:
    """After /link or /watch: which account, under which label, and any key warnings."""
    account = result.account
    what = account.venue
    if account.wallet_address:
        what += f" wallet {short_address(account.wallet_address)}"
    lines = [
        f'Linked {what} as "{account.label}" (#{account.id}). '
        "The first poll comes within a minute: then try /positions."
    ]
    lines += [f"Warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def shared(found: Sequence[LinkedAccount]) -> str:
    """/accounts in a group: what its members shared with it."""
    lines = ["Shared with this chat:"]
    lines += [f"#{a.id} {a.label} ({a.venue}) — {a.status}" for a in found]
    return "\n".join(lines)


def group_alerts(live: Sequence[AlertView]) -> str:
    """/alerts in a group: the live alerts of the shared accounts (rules are per member)."""
    lines = ["Live alerts:" if live else "No alert is firing on the shared accounts."]
    lines += [f"  {alert_line(v)}" for v in live]
    lines.append("Rules belong to each member: /alerts in a private chat lists yours.")
    return "\n".join(lines)


def quiet(hours: QuietHours | None) -> str:
    if hours is None:
        return "Quiet hours off."
    critical = "critical still goes through" if hours.allow_critical else "all held"
    return f"Quiet hours {hours.start}-{hours.end} {hours.tz} ({critical})."


def accounts(found: Sequence[LinkedAccount]) -> str:
    if not found:
        return (
            "No linked accounts yet: /link <venue> <apiKey> <secret> or /watch <venue> <address>."
        )
    lines = []
    for a in found:
        lines.append(f"#{a.id} {a.label} ({a.venue}) — {a.status}")
        polled = cadence_text.line(a)
        if polled is not None:
            lines.append(f"  {polled}")
    return "\n".join(lines)


def positions(found: Sequence[AccountAnalysis]) -> str:
    """Per account: a two-line header, then two short lines per position (fits a phone)."""
    return _per_account(found, account_text.positions_block)


def risk(found: Sequence[AccountAnalysis], *, closest: int = 3) -> str:
    """The portfolio view: equity, exposure per asset, leverage, the nearest liquidations with
    their probability and what would restore a safe distance."""
    return _per_account(found, lambda view: account_text.risk_block(view, closest=closest))


def _per_account(
    found: Sequence[AccountAnalysis], block: Callable[[AccountView], list[str]]
) -> str:
    """One block per account, titled with its label ("not polled yet" before its first poll)."""
    blocks = []
    for item in found:
        title = f"[{item.account.label}]"
        if item.analysis is None:
            blocks.append(f"{title} not polled yet")
            continue
        first, *rest = block(account_view(item.analysis, item.account.venue))
        blocks.append("\n".join([f"{title} {first}", *rest]))
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


def alerts(rules: Sequence[RuleView], live: Sequence[AlertView]) -> str:
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


def silences(found: Sequence[Silence]) -> str:
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


def status(reports: Sequence[VenueReport], venues: Sequence[str], now: float) -> str:
    """/status: one line per venue of the accounts the chat sees, from the service's last
    report (a venue it has not reported yet says so)."""
    by_venue = {report.venue: report for report in reports}
    shown = [by_venue[v] for v in venues if v in by_venue]
    out = ["How your venues are watched:", *venue_text.lines(shown, now, accounts=False)]
    out += [f"{v}: no report yet (the service writes one every few seconds)" for v in venues
            if v not in by_venue]  # fmt: skip
    warning = venue_text.staleness(shown, now)
    return "\n".join([*out, warning] if warning else out)
