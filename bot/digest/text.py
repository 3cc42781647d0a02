"""The digest as plain text (pure): a header in the chat's time zone, then the desk's view.

Order: what may be wrong with the figures (stale accounts), the totals, one line per account,
the day's PnL, the alerts still open, the positions nearest liquidation, exposure, the day's
alert statistics and the flows per currency (realised PnL, funding, trading fees).
"""

from __future__ import annotations

import math
from datetime import datetime, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.digest.build import Digest
from bot.digest.cashflows import TRANSFER, Cashflow
from bot.digest.figures import in_usd
from bot.digest.greeks import lines as greeks_lines
from bot.digest.tables import account_lines, age, as_of, clock, pnl_lines, usd0
from bot.render import format as fmt
from bot.render.notices import duration
from bot.render.positions import advice
from bot.render.symbols import short_symbol

NOTHING = (
    "Nothing to report: no account here yet. Link one in a private chat (/link, /watch), "
    "or a member shares one with this chat (/share <account>)."
)
MAX_OPEN_LISTED = 8


def _change(now: float, before: float | None) -> str:
    if before is None or not math.isfinite(now) or before == 0:
        return "n/a"
    return fmt.pct((now - before) / abs(before) * 100, signed=True)


def header(digest: Digest, *, title: str = "Digest", tz: str = "UTC") -> str:
    """ "Daily digest · 3 accounts · Mon 07 Dec 08:00 CET", in the chat's time zone."""
    when = datetime.fromtimestamp(digest.at, ZoneInfo(tz)).strftime("%a %d %b %H:%M %Z")
    count = len(digest.accounts)
    return f"{title} · {count} account{'' if count == 1 else 's'} · {when}"


def body(digest: Digest, *, tz: str = "UTC") -> str:
    """Everything under the header."""
    if digest.empty:
        return NOTHING
    zone = ZoneInfo(tz)
    lines = _stale_lines(digest, zone) + _totals(digest)
    lines += account_lines(digest, zone) + pnl_lines(digest)
    lines += _open_lines(digest, zone) + _closest_lines(digest, zone) + _exposure_lines(digest)
    lines += greeks_lines(digest.greeks)
    stats = digest.alerts
    median = f" (median {duration(stats.median_ack_s)})" if stats.median_ack_s is not None else ""
    lines.append(
        f"Alerts, last 24 h: {stats.fired} fired · {stats.acknowledged} acknowledged{median} · "
        f"{stats.unacknowledged} unacknowledged"
    )
    if digest.blind:
        lines.append(f"Blind (polls failing): {', '.join(digest.blind)}")
    lines += cashflow_lines(digest.realised, digest.funding, digest.fees)
    return "\n".join(lines)


def text(digest: Digest, *, title: str = "Digest", tz: str = "UTC") -> str:
    """The header and the body, as one text (the console, and /digest where nothing queues)."""
    if digest.empty:
        return NOTHING
    return f"{header(digest, title=title, tz=tz)}\n{body(digest, tz=tz)}"


def _stale_lines(digest: Digest, tz: tzinfo) -> list[str]:
    stale = digest.stale
    if not stale:
        return []
    named = ", ".join(f"{s.label} ({as_of(s.as_of, digest.at, tz)})" for s in stale)
    return [f"⚠ Totals include stale figures: {named}"]


def _totals(digest: Digest) -> list[str]:
    return [
        f"Equity {fmt.money(digest.equity_usd)} USD · 24h {_equity_change(digest)} · 7d "
        f"{_change(digest.equity_usd, digest.equity_7d_ago)}",
        f"Leverage {fmt.ratio(digest.leverage)} (24h ago {fmt.ratio(digest.leverage_24h_ago)})"
        f" · gross {fmt.money(digest.gross_usd)} · net {fmt.money(digest.net_usd, signed=True)}",
    ]


def _equity_change(digest: Digest) -> str:
    """The 24 h change in USD net of deposits and withdrawals where the ledger read them all;
    otherwise the raw change, said to be so."""
    before = digest.equity_24h_ago
    if before is None or not math.isfinite(digest.equity_usd):
        return "n/a"
    change = digest.equity_usd - before
    read = [d for d in digest.days if TRANSFER in d.flows]
    if digest.days and len(read) == len(digest.days):
        moved, unpriced = in_usd(
            (pair for d in read for pair in d.flows[TRANSFER]), dict(digest.rates)
        )
        if not unpriced:
            return f"{fmt.money(change - moved, signed=True)} USD net of transfers"
    pct = _change(digest.equity_usd, before)
    return f"{fmt.money(change, signed=True)} USD ({pct}, transfers not read)"


def _open_lines(digest: Digest, tz: tzinfo) -> list[str]:
    found = digest.open_alerts
    if not found:
        return ["Open alerts: none"]
    lines = [f"Open alerts ({len(found)}):"]
    for a in found[:MAX_OPEN_LISTED]:
        what = f"{short_symbol(a.symbol)} {a.side}" if a.symbol else "account"
        since = f"since {clock(a.since, tz)} ({age(digest.at - a.since)})"
        lines.append(f"  {a.severity.value:<8} {a.account} {what} {a.kind.value} {since}")
    if len(found) > MAX_OPEN_LISTED:
        lines.append(f"  … and {len(found) - MAX_OPEN_LISTED} more (/alerts)")
    return lines


def _exposure_lines(digest: Digest) -> list[str]:
    if not digest.exposure:
        return []
    return ["Exposure, USD    long    short      net"] + [
        f"  {e.underlying:<6} {usd0(e.long_usd):>8} {usd0(e.short_usd):>8} "
        f"{usd0(e.net_usd, signed=True):>8}{' (part stale)' if e.stale_usd > 0 else ''}"
        for e in digest.exposure[:8]
    ]


def _closest_lines(digest: Digest, tz: tzinfo) -> list[str]:
    """The positions nearest liquidation, each with the advice that makes it safe again."""
    lines = ["Closest to liquidation:"] if digest.closest else []
    for c in digest.closest:
        chance = (
            ""
            if c.probability is None
            else f", P {fmt.probability(c.probability)} in {c.horizon_hours:g}h"
        )
        lines.append(
            f"  {c.account} {short_symbol(c.symbol)} {c.side} {fmt.pct(c.distance_pct)} away"
            f" (mark {fmt.price(c.mark)}, liq {fmt.price(c.liquidation)}{chance})"
        )
        if c.stale_as_of is not None:
            lines.append(f"    stale: {as_of(c.stale_as_of, digest.at, tz)}")
        if c.advice is not None:
            lines.append(f"    {advice(c.advice)}")
    return lines


#: Each day kind's line title (``cashflows.DAY_KINDS``).
FLOW_TITLES = {"realised": "Realised PnL", "funding": "Funding", "fee": "Fees"}


def cashflow_lines(realised: Cashflow, funding: Cashflow, fees: Cashflow) -> list[str]:
    """Realised PnL, funding and trading fees per currency, and the accounts left out of
    them with the reason (one line for all three where the same accounts are left out)."""
    flows = (realised, funding, fees)
    if not any(flow.reported for flow in flows):
        left = ", ".join(dict.fromkeys(m for flow in flows for m in flow.missing))
        return [f"Realised PnL, funding and fees, 24 h: not available for {left}"]
    lines = []
    for flow in flows:
        title = FLOW_TITLES[flow.kind]
        if not flow.reported:
            lines.append(f"{title}, 24 h: not available")
            continue
        parts = [_flow_amount(flow.kind, currency, value) for currency, value in flow.totals]
        lines.append(f"{title}, 24 h: {' · '.join(parts) or 'none'}")
    return lines + _left_out(flows)


def _left_out(flows: tuple[Cashflow, ...]) -> list[str]:
    """The accounts left out: once where every kind leaves out the same, else per set of
    kinds leaving out the same ("  not in funding and fees: bybit-0 (not read yet)")."""
    if len({flow.missing for flow in flows}) == 1:
        missing = flows[0].missing
        return [f"  not included: {', '.join(missing)}"] if missing else []
    kinds: dict[tuple[str, ...], list[str]] = {}
    for flow in flows:
        if flow.missing:
            title = FLOW_TITLES[flow.kind]
            kinds.setdefault(flow.missing, []).append(title[0].lower() + title[1:])
    return [f"  not in {' and '.join(titles)}: {', '.join(m)}" for m, titles in kinds.items()]


def _flow_amount(kind: str, currency: str, value: float) -> str:
    """Funding and fees read as paid or received (their sign is easy to misread: a fee is
    received as a maker rebate); PnL keeps its sign."""
    if kind in ("funding", "fee"):
        verb = "paid" if value < 0 else "received"
        return f"{verb} {_money(abs(value))} {currency}"
    return f"{_money(value, signed=True)} {currency}"


def _money(value: float, *, signed: bool = False) -> str:
    """``fmt.money``, but a coin amount under 1 in plain decimals (0.00002, never 2e-05)."""
    shown = fmt.money(value, signed=signed)
    if "e" not in shown:
        return shown
    plain = format(Decimal(f"{value:.4g}"), "f")
    return f"+{plain}" if signed and value > 0 else plain
