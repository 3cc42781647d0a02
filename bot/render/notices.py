"""Plain-text rendering of every notice, shared by every adapter (pure: notice → text)."""

from __future__ import annotations

from bot.render import format as fmt
from engine.alerts.events import (
    VENUE_PM,
    AlertItem,
    AlertNotice,
    AlertStatus,
    ConnectNotice,
    DigestNotice,
    Notice,
    NoticeKind,
    OpsNotice,
    Reason,
)
from engine.alerts.rules import KINDS, Kind, Severity

ICONS = {Severity.CRITICAL: "🔴", Severity.WARNING: "🟠", Severity.INFO: "🔵"}
RESOLVED_ICON = "✅"

#: What each kind measures, as the words before its value.
_LABELS = {
    Kind.LIQ: "liquidation",
    Kind.PROB: "liquidation probability",
    Kind.MARGIN: "margin ratio",
    Kind.LEVERAGE: "effective leverage",
    Kind.PNL: "unrealised PnL",
    Kind.ROE: "ROE",
    Kind.EXPOSURE: "exposure",
    Kind.EXPOSURE_ACCOUNT: "account exposure",
    Kind.PRICE: "mark price",
    Kind.FUNDING: "funding rate",
    Kind.BLIND: "monitoring cannot see this account (polls keep failing)",
    Kind.AUTH: "the venue rejected the API key: monitoring cannot see this account",
    Kind.DELTA: "net delta",
    Kind.GAMMA: "net gamma per 1% move",
    Kind.VEGA: "net vega per vol point",
    Kind.EXPIRY: "expires in",
}
#: Signed USD kinds: a net short's delta reads -61,200, a net long's +61,200.
_SIGNED = frozenset({Kind.PNL, Kind.DELTA, Kind.GAMMA, Kind.VEGA})
#: Reasons worth a word on the line: the first and the resolved ones say nothing new.
_QUIET_REASONS = {Reason.FIRST, Reason.RESOLVED}


def duration(seconds: float | None) -> str:
    """45s · 4m · 2h 5m · 1d 3h."""
    if seconds is None or seconds < 0:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        hours, mins = divmod(s // 60, 60)
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    days, hours = divmod(s // 3600, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def value(kind: Kind, number: float | None) -> str:
    """A measured value in its kind's unit, rounded for reading."""
    unit = KINDS[kind].unit
    if unit == "%":
        return fmt.pct(number)
    if unit == "x":
        return fmt.ratio(number)
    if unit == "USD":
        return f"{fmt.money(number, signed=kind in _SIGNED)} USD"
    if unit == "h":
        return duration(None if number is None else number * 3600.0)
    return fmt.price(number)


def threshold(kind: Kind, number: float) -> str:
    """A rule's threshold as the user typed it: 5% · 10x · 60,000 · -1,000 USD."""
    unit = KINDS[kind].unit
    text = f"{number:,g}"
    return f"{text} USD" if unit == "USD" else f"{text}{unit}"


def _subject(item: AlertItem) -> str:
    if item.symbol is None:
        return "account"
    subject = f"{item.symbol} {item.side}" if item.side else item.symbol
    if item.kind is Kind.EXPIRY and item.size is not None:
        subject += f" {fmt.amount(item.size)} {item.base or ''}".rstrip()
    return subject


def _condition(item: AlertItem) -> str:
    label = _LABELS[item.kind]
    if KINDS[item.kind].state:
        return label
    limit = f"({item.op} {threshold(item.kind, item.threshold)})"
    if item.kind is Kind.LIQ:
        return f"{label} {value(item.kind, item.value)} away {limit}"
    if item.basis == VENUE_PM:
        label += " (the venue's portfolio-margin ratio)"
    return f"{label} {value(item.kind, item.value)} {limit}"


def item_line(item: AlertItem, at: float) -> str:
    """One alert: what, how bad, worst seen, for how long; acked and why when it matters."""
    parts = [_condition(item)]
    state = KINDS[item.kind].state
    # An expiry's worst is always its latest value: time only runs one way.
    if not state and item.worst is not None and item.kind is not Kind.EXPIRY:
        parts.append(f"worst {value(item.kind, item.worst)}")
    if item.status is AlertStatus.RESOLVED:
        word = "RESOLVED"
        parts.append(f"lasted {duration(item.duration_s)}")
    else:
        word = item.severity.upper()
        parts.append(f"firing {duration(at - item.since)}")
    line = f"{word} #{item.alert_id} {_subject(item)} — {', '.join(parts)}"
    if item.acknowledged:
        line += " [acknowledged]"
    if item.reason not in _QUIET_REASONS:
        line += f" · {item.reason}"
    return line


def _alert(notice: AlertNotice) -> str:
    if notice.resolved_only:
        header = f"{RESOLVED_ICON} RESOLVED"
    else:
        header = f"{ICONS[notice.severity]} {notice.severity.upper()}"
    lines = [f"{header} — {notice.account_label} ({notice.venue})"]
    lines += [f"  {item_line(item, notice.at)}" for item in notice.items]
    return "\n".join(lines)


def _ops(notice: OpsNotice) -> str:
    watching = f"{notice.accounts} account{'' if notice.accounts == 1 else 's'}"
    head = f"{ICONS[notice.severity]} {notice.severity.upper()}"
    detail = f": {notice.detail}" if notice.detail else ""
    match notice.kind:
        case NoticeKind.HEARTBEAT:
            return f"💓 liqwatch is still watching {watching}"
        case NoticeKind.STALLED:
            since = (
                "has not completed a poll yet"
                if notice.idle_s is None
                else f"has not completed a poll for {duration(notice.idle_s)}"
            )
            return f"{head} — monitor {since}"
        case NoticeKind.RECOVERED:
            return f"{RESOLVED_ICON} RECOVERED — monitor is polling again, watching {watching}"
        case NoticeKind.DELIVERY_STALLED:
            return (
                f"{head} — delivery stalled: a message has waited {duration(notice.idle_s)} "
                f"to be sent{detail}"
            )
        case NoticeKind.DELIVERY_RECOVERED:
            return f"{RESOLVED_ICON} RECOVERED — messages are being delivered again"
        case NoticeKind.TASK_FAILED:
            return f"{head} — {notice.subject or 'a task'} crashed{detail}"
        case NoticeKind.OPERATOR:
            return f"{head} — {notice.subject or 'liqwatch'}{detail}"
        case _:
            return f"{head} {notice.kind}: watching {watching}"


def _connected(notice: ConnectNotice) -> str:
    platform = notice.platform.capitalize()
    return (
        f"🔗 {platform} chat connected to your liqwatch user\n"
        f"{notice.name} ({notice.platform} id {notice.external_id}) now sees your accounts and "
        "gets your alerts.\n"
        f"Not you? Send /connect remove {notice.platform} here, and /connect list to check."
    )


def render(notice: Notice) -> str:
    """The console text of any notice."""
    if isinstance(notice, AlertNotice):
        return _alert(notice)
    if isinstance(notice, ConnectNotice):
        return _connected(notice)
    if isinstance(notice, DigestNotice):
        charts = "".join(f"\n[chart: {c.title}]" for c in notice.charts)
        return f"📊 {notice.title}\n{notice.text}{charts}"
    return _ops(notice)
