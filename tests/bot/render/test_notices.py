"""Console rendering of alert and ops notices."""

from __future__ import annotations

import io

from bot.console.channel import ConsoleChannel
from bot.delivery.channel import Outgoing
from bot.render.notices import duration, render
from engine.alerts.events import AlertStatus, NoticeKind, Reason
from engine.alerts.rules import Kind, Op, Severity
from engine.domain import Platform
from tests.fakes.notices import NOW, alert_notice, item, ops_notice


def test_a_firing_alert_names_severity_account_and_venue() -> None:
    """The header says how loud, and which account on which venue."""
    header = render(alert_notice()).splitlines()[0]
    assert header == "🔴 CRITICAL — main (binanceusdm)"


def test_a_liquidation_item_reads_as_one_line() -> None:
    """Distance, threshold, worst seen and how long it has fired, on one line."""
    line = render(alert_notice()).splitlines()[1].strip()
    assert line == (
        "CRITICAL #12 BTC/USDT:USDT long — liquidation 3.10% away (< 5%), worst 2.40%, firing 4m"
    )


def test_a_grouped_notice_has_one_line_per_item() -> None:
    """One message per account: every breaching position gets its own line."""
    notice = alert_notice(item(12), item(13, symbol="ETH/USDT:USDT", severity=Severity.WARNING))
    lines = render(notice).splitlines()
    assert len(lines) == 3
    assert lines[2].strip().startswith("WARNING #13 ETH/USDT:USDT long — ")


def test_a_resolved_item_says_how_long_it_lasted_and_the_worst() -> None:
    """Resolved: the duration of the episode and the worst value, under a resolved header."""
    resolved = item(
        12, status=AlertStatus.RESOLVED, reason=Reason.RESOLVED, value=8.0, duration_s=420.0
    )
    header, line = render(alert_notice(resolved)).splitlines()
    assert header == "✅ RESOLVED — main (binanceusdm)"
    assert line.strip() == (
        "RESOLVED #12 BTC/USDT:USDT long — liquidation 8.00% away (< 5%), worst 2.40%, lasted 7m"
    )


def test_acknowledged_and_reason_are_shown() -> None:
    """An acknowledged item is marked; a repeat or escalation says why it came again."""
    line = render(alert_notice(item(acknowledged=True, reason=Reason.ESCALATED))).splitlines()[1]
    assert "[acknowledged]" in line
    assert line.endswith(f"· {Reason.ESCALATED}")


def test_units_come_from_the_rule_kind() -> None:
    """Leverage in x, exposure in USD, an account-level alert says "account"."""
    lev = item(kind=Kind.LEVERAGE, op=Op.ABOVE, threshold=10, value=12.5, worst=13.0, symbol=None)
    exp = item(kind=Kind.EXPOSURE_ACCOUNT, op=Op.ABOVE, threshold=100_000, value=120_000.0)
    assert "account — effective leverage 12.5x (> 10x), worst 13.0x" in render(alert_notice(lev))
    assert "account exposure 120,000 USD (> 100,000 USD)" in render(alert_notice(exp))


def test_a_blind_account_reads_as_a_health_state() -> None:
    """State alerts have no number: they say monitoring cannot see the account."""
    blind = item(kind=Kind.BLIND, symbol=None, side=None, value=None, worst=None)
    line = render(alert_notice(blind)).splitlines()[1].strip()
    assert line.startswith("CRITICAL #12 account — monitoring cannot see this account")


def test_heartbeat_stalled_and_recovered() -> None:
    """Ops notices: still watching N accounts; monitor stalled for a while; polling again."""
    assert render(ops_notice()) == "💓 liqwatch is still watching 3 accounts"
    stalled = ops_notice(NoticeKind.STALLED, severity=Severity.CRITICAL, idle_s=300.0)
    assert render(stalled) == "🔴 CRITICAL — monitor has not completed a poll for 5m"
    recovered = render(ops_notice(NoticeKind.RECOVERED, accounts=1))
    assert recovered == "✅ RECOVERED — monitor is polling again, watching 1 account"


def test_durations_read_naturally() -> None:
    """Seconds, minutes, hours and minutes, days and hours."""
    assert [duration(s) for s in (45, 240, 7500, 97200)] == ["45s", "4m", "2h 5m", "1d 3h"]


async def test_the_console_channel_prints_and_numbers_messages() -> None:
    """It writes the rendering with a message id, and links a follow-up to earlier ids."""
    stream = io.StringIO()
    console = ConsoleChannel(stream)
    message = Outgoing(1, "k", Platform.CONSOLE, "console", Severity.CRITICAL, alert_notice(), 0)
    assert await console.send(message) == "console-1"
    follow = Outgoing(
        2, "k2", Platform.CONSOLE, "console", Severity.INFO, ops_notice(at=NOW), 0, ("console-1",)
    )
    assert await console.send(follow) == "console-2"
    text = stream.getvalue()
    assert "console-1] 🔴 CRITICAL — main (binanceusdm)" in text
    assert "(follows console-1)" in text
    assert console.min_interval_s("console") == 0.0
