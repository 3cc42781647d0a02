"""Plain-text replies to chat commands, shared by every adapter (pure: service records → text)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.accounts.portfolio import AccountView, StressView
from bot.accounts.service import Linked, short_address
from bot.alerting.service import AlertView, RuleView, Why
from bot.render import format as fmt
from bot.render.analysis import stress_text
from bot.render.report import report, stress_report
from engine.alerts.policy import Silence, span
from engine.alerts.quiet import QuietHours
from engine.alerts.rules import KINDS
from engine.domain import LinkedAccount


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
    lines = [f"#{a.id} {a.label} ({a.venue}) — {a.status}" for a in found]
    return "\n".join(lines)


def positions(views: Sequence[AccountView]) -> str:
    """Per account: a two-line header, then two short lines per position (fits a phone)."""
    blocks = []
    for view in views:
        title = f"[{view.account.label}]"
        if view.analysis is None:
            blocks.append(f"{title} not polled yet")
            continue
        doc = report(view.analysis, view.account.venue)
        lines = [f"{title} {line}" if i == 0 else line for i, line in enumerate(_header(doc))]
        if not doc["positions"]:
            lines.append("no open positions")
        for p in doc["positions"]:
            lines += _position_lines(p, doc["horizon_hours"])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _header(doc: dict[str, Any]) -> list[str]:
    acct = doc["account"]
    ratio = None if acct["margin_ratio"] is None else acct["margin_ratio"] * 100
    return [
        f"{doc['exchange']} · equity {fmt.money(acct['equity'])} USD",
        f"gross {fmt.money(acct['gross_exposure'])} · net "
        f"{fmt.money(acct['net_exposure'], signed=True)} · lev "
        f"{fmt.ratio(acct['effective_leverage'])} · margin {fmt.pct(ratio)}",
    ]


def _position_lines(p: dict[str, Any], horizon_h: float) -> list[str]:
    liq = fmt.price(p["liquidation_price"])
    if p["exchange_liquidation_price"] is None and p["computed_liquidation_price"] is not None:
        liq += "*"
    return [
        f"{p['symbol']} {p['side'] or '?'} {fmt.amount(p['contracts'])} "
        f"@ {fmt.price(p['entry_price'])} · {fmt.ratio(p['leverage'])}",
        f"  mark {fmt.price(p['mark_price'])} liq {liq} "
        f"({fmt.pct(p['distance_to_liquidation_pct'])} away"
        + (
            f", P {fmt.probability(p['liquidation_probability'])} in {horizon_h:g}h)"
            if p["liquidation_probability"] is not None
            else ")"
        )
        + f" uPnL {fmt.money(p['unrealized_pnl'], signed=True)}",
    ]


def risk(views: Sequence[AccountView], *, closest: int = 3) -> str:
    """The portfolio view: equity, exposure per asset, leverage, the nearest liquidations with
    their probability and what would restore a safe distance."""
    blocks = []
    for view in views:
        title = f"[{view.account.label}]"
        if view.analysis is None:
            blocks.append(f"{title} not polled yet")
            continue
        doc = report(view.analysis, view.account.venue)
        lines = [f"{title} {line}" if i == 0 else line for i, line in enumerate(_header(doc))]
        exposure = doc["account"]["exposure_by_underlying"]
        if exposure:
            lines.append("exposure (gross / net USD):")
            ranked = sorted(exposure.items(), key=lambda kv: -(kv[1]["gross"] or 0.0))
            lines += [
                f"  {name:<6} {fmt.money(e['gross']):>10} / {fmt.money(e['net'], signed=True)}"
                for name, e in ranked
            ]
        near = sorted(
            (p for p in doc["positions"] if p["distance_to_liquidation_pct"] is not None),
            key=lambda p: p["distance_to_liquidation_pct"],
        )[:closest]
        if near:
            lines.append("closest to liquidation:")
            for p in near:
                lines += ["  " + line for line in _position_lines(p, doc["horizon_hours"])]
                advice = p.get("advice")
                if advice:
                    lines.append(
                        f"    add {fmt.money(advice['margin_to_add'])} {advice['margin_currency']}"
                        f" or cut {fmt.pct(advice['reduce_fraction'] * 100)} to reach "
                        f"{fmt.pct(advice['target_distance_pct'])}"
                    )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def stress(views: Sequence[StressView]) -> str:
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
