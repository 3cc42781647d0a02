"""Each venue as operators see it (`/status`, `liqwatch accounts list`): marks streaming live,
degraded to REST or off; the last tick's age; the REST budget used; polls a minute."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.render.notices import duration

#: A report older than this means the service that writes them is not running (it writes one
#: every 5 s: ``bot.monitor.venues.REPORT_S``).
SILENT_AFTER_S = 60.0


class Report(Protocol):
    """What is shown of one venue (``storage.venues.VenueReport`` is one)."""

    @property
    def venue(self) -> str: ...
    @property
    def stream(self) -> str: ...
    @property
    def last_tick_at(self) -> float | None: ...
    @property
    def symbols(self) -> int: ...
    @property
    def stale(self) -> int: ...
    @property
    def reconnects(self) -> int: ...
    @property
    def rest_per_min(self) -> float | None: ...
    @property
    def rest_limit_per_min(self) -> float | None: ...
    @property
    def rest_per_ip(self) -> bool | None: ...
    @property
    def polls_per_min(self) -> float: ...
    @property
    def accounts(self) -> int: ...
    @property
    def reported_at(self) -> float: ...


def age(seconds: float) -> str:
    """0.4s under ten seconds (a tick's age matters at that scale), else ``duration``."""
    return f"{max(seconds, 0.0):.1f}s" if seconds < 10 else duration(seconds)


def marks(report: Report, now: float) -> str:
    """``marks live, last tick 0.4s ago (3 symbols)``; degraded says what REST stands in for."""
    tick = (
        "no tick yet"
        if report.last_tick_at is None
        else f"last tick {age(now - report.last_tick_at)} ago"
    )
    if report.stream == "off":
        return "marks off (polls only)" if report.symbols == 0 else f"marks off, {tick}"
    followed = f"{report.symbols} symbol{'s' if report.symbols != 1 else ''}"
    if report.stream == "degraded":
        state = f"marks degraded ({report.stale} of {followed} read over REST)"
    else:
        state = f"marks live ({followed})"
    again = f", {report.reconnects} reconnect{'s' if report.reconnects != 1 else ''}"
    return f"{state}, {tick}" + (again if report.reconnects else "")


def budget(report: Report) -> str:
    """``REST 18% of the per-IP limit (216/1200 a minute), 40 polls a minute``."""
    polls = (
        f"{report.polls_per_min:.0f} poll{'s' if round(report.polls_per_min) != 1 else ''} a minute"
    )
    spent, limit = report.rest_per_min, report.rest_limit_per_min
    if spent is None or not limit:
        return f"REST not measured, {polls}"
    scope = "per-IP" if report.rest_per_ip else "per-key"
    share = 100.0 * spent / limit
    return f"REST {share:.0f}% of the {scope} limit ({spent:.0f}/{limit:.0f} a minute), {polls}"


def staleness(reports: Sequence[Report], now: float) -> str | None:
    """A warning when the newest report is too old to describe a running service."""
    if not reports:
        return None
    newest = max(r.reported_at for r in reports)
    if now - newest <= SILENT_AFTER_S:
        return None
    return (
        f"These are {duration(now - newest)} old: `liqwatch run` has not reported since "
        "(is it running?)"
    )


def lines(reports: Sequence[Report], now: float, *, accounts: bool) -> list[str]:
    """One line per venue; ``accounts`` adds how many accounts each watches (operators)."""
    out = []
    for report in reports:
        watched = f", {report.accounts} account{'s' if report.accounts != 1 else ''}"
        out.append(
            f"{report.venue}: {marks(report, now)}; {budget(report)}"
            + (watched if accounts else "")
        )
    return out


class Budget(Protocol):
    """A venue's REST budget (``bot.exchanges.BudgetState`` is one)."""

    @property
    def venue(self) -> str: ...
    @property
    def per_ip(self) -> bool: ...
    @property
    def limit_per_minute(self) -> float: ...
    @property
    def pace_per_minute(self) -> float: ...
    @property
    def paused_s(self) -> float: ...


def budget_state(state: Budget) -> str:
    """A venue's REST budget as `liqwatch run` prints it at start-up."""
    whose = "per IP, shared by its accounts" if state.per_ip else "per API key"
    paused = f"; paused {duration(state.paused_s)}" if state.paused_s > 0 else ""
    return (
        f"{state.venue}: REST budget {state.limit_per_minute:,.0f} a minute {whose}, paced "
        f"at {state.pace_per_minute:,.0f}{paused}"
    )
