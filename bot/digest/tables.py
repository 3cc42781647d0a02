"""The digest's two tables (pure): one line per account, and the day's PnL per account.

Each column has one number format whatever the magnitude (whole dollars, one decimal for
multiples and percentages, cents for the day's flows), right-aligned, so a column reads down
on a phone; a missing figure is "—", and a kind the ledger has not read is "n/r".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, tzinfo

from bot.digest.build import Digest
from bot.digest.cashflows import DAY_KINDS, AccountDay
from bot.digest.figures import AccountLine, in_usd
from bot.render.symbols import short_symbol
from engine.domain import AccountStatus

DASH = "—"
NOT_READ = "n/r"
#: Names longer than this are cut: the figures after them must stay in their columns.
NAME_MAX = 24
TITLES = {"realised": "realised", "funding": "funding", "fee": "fees"}


def _cut(name: str, width: int) -> str:
    return name if len(name) <= width else f"{name[: width - 1]}…"


def usd0(value: float | None, *, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:+,.0f}" if signed else f"{value:,.0f}"


def usd2(value: float | None) -> str:
    return DASH if value is None or not math.isfinite(value) else f"{value:+,.2f}"


def times(value: float | None) -> str:
    return DASH if value is None or not math.isfinite(value) else f"{value:.1f}x"


def pct1(value: float | None) -> str:
    return DASH if value is None or not math.isfinite(value) else f"{value:.1f}%"


def clock(at: float, tz: tzinfo) -> str:
    return datetime.fromtimestamp(at, tz).strftime("%H:%M")


def age(seconds: float) -> str:
    """How old, as a desk says it: 12 min · 3 h · 2 d."""
    if seconds < 3600:
        return f"{max(0, int(seconds // 60))} min"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86_400:.0f} d"


def as_of(at: float | None, now: float, tz: tzinfo) -> str:
    """ "as of 09:12, 3 h old" (the date too when it was not today)."""
    if at is None or at <= 0:
        return "as of: never read"
    when = datetime.fromtimestamp(at, tz)
    shown = when.strftime("%H:%M") if now - at < 86_400 else when.strftime("%d %b %H:%M")
    return f"as of {shown}, {age(now - at)} old"


def account_lines(digest: Digest, tz: tzinfo) -> list[str]:
    """Label and venue, then equity, leverage, unrealised PnL, margin ratio, nearest position."""
    if not digest.lines:
        return []
    width = min(NAME_MAX, max(len(f"{line.label} {line.venue}") for line in digest.lines))
    head = f"{'Accounts':<{width}} {'equity':>8} {'lev':>5} {'uPnL':>7} {'MR':>6}  closest"
    out = [head]
    for line in digest.lines:
        name = _cut(f"{line.label} {line.venue}", width)
        out.append(f"{name:<{width}} {_figures(line)}{_note(line, digest.at, tz)}")
    return out


def _figures(line: AccountLine) -> str:
    if not line.has_figures:
        why = "paused" if line.status is AccountStatus.PAUSED else "no figures yet"
        return f"{why:>29}"
    margin = None if line.margin_ratio is None else line.margin_ratio * 100
    near = DASH
    if line.nearest is not None:
        side = line.nearest.side[:1].upper()
        near = f"{short_symbol(line.nearest.symbol)} {side} {pct1(line.nearest.distance_pct)}"
    return (
        f"{usd0(line.equity_usd):>8} {times(line.leverage):>5} "
        f"{usd0(line.upnl_usd, signed=True):>7} {pct1(margin):>6}  {near}"
    )


def _note(line: AccountLine, now: float, tz: tzinfo) -> str:
    if line.stale:
        return f"\n{'':<4}stale: {as_of(line.as_of, now, tz)}"
    if line.status in (AccountStatus.BLIND, AccountStatus.AUTH_FAILED):
        return f"\n{'':<4}polls failing, {as_of(line.as_of, now, tz)}"
    return ""


def pnl_lines(digest: Digest) -> list[str]:
    """Realised, funding and fees per account and in total, in USD, with unrealised now."""
    if not digest.days:
        return []
    rates = dict(digest.rates)
    upnl = {line.label: line.upnl_usd for line in digest.lines}
    title = "PnL 24h USD"
    width = max(len(title), min(NAME_MAX, max(len(day.label) for day in digest.days)))
    cols = [TITLES[k] for k in DAY_KINDS]
    out = [f"{title:<{width}} " + " ".join(f"{c:>9}" for c in cols) + f" {'uPnL':>9}"]
    sums = dict.fromkeys(DAY_KINDS, 0.0)
    unpriced: list[str] = []
    for day in digest.days:
        cells = []
        for kind in DAY_KINDS:
            value, missing = _kind_usd(day, kind, rates)
            unpriced += missing
            sums[kind] += value or 0.0
            cells.append(NOT_READ if kind not in day.flows else usd2(value))
        label = _cut(day.label, width)
        row = " ".join(f"{c:>9}" for c in cells)
        out.append(f"{label:<{width}} {row} {usd2(upnl.get(day.label)):>9}")
    out.append(_total_row(digest, sums, width))
    out.append(_day_total(digest, sums))
    if any(k not in d.flows for d in digest.days for k in DAY_KINDS):
        out.append("  n/r: not read by the ledger for that account (not supported, or not yet)")
    if unpriced:
        out.append(f"  not in USD totals (no price): {', '.join(dict.fromkeys(unpriced))}")
    return out


def _kind_usd(
    day: AccountDay, kind: str, rates: Mapping[str, float]
) -> tuple[float | None, tuple[str, ...]]:
    if kind not in day.flows:
        return None, ()
    return in_usd(day.flows[kind], rates)


def _total_row(digest: Digest, sums: Mapping[str, float], width: int) -> str:
    upnl = upnl_total(digest)
    cells = " ".join(
        f"{usd2(sums[k]) if any(k in d.flows for d in digest.days) else NOT_READ:>9}"
        for k in DAY_KINDS
    )
    return f"{'total':<{width}} {cells} {usd2(upnl):>9}"


def upnl_total(digest: Digest) -> float | None:
    """Unrealised PnL in USD over the accounts with figures (None if one is unknown)."""
    known = [line.upnl_usd for line in digest.lines if line.has_figures]
    return None if any(v is None for v in known) else sum(v or 0.0 for v in known)


def _day_total(digest: Digest, sums: Mapping[str, float]) -> str:
    """One USD figure for the day: the flows read plus the unrealised PnL now."""
    day = sum(sums.values())
    upnl = upnl_total(digest)
    total = None if upnl is None else day + upnl
    return f"Day in USD: {usd2(day)} booked · {usd2(upnl)} open · {usd2(total)} in all"
