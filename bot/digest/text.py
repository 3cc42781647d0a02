"""The digest as plain text (pure): one screen on a phone, numbers rounded per magnitude."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from bot.digest.build import Digest
from bot.digest.cashflows import Cashflow
from bot.render import format as fmt
from bot.render.notices import duration
from bot.render.positions import advice

NOTHING = (
    "Nothing to report: no account here yet. Link one in a private chat (/link, /watch), "
    "or a member shares one with this chat (/share <account>)."
)


def _change(now: float, before: float | None) -> str:
    if before is None or not math.isfinite(now) or before == 0:
        return "n/a"
    return fmt.pct((now - before) / abs(before) * 100, signed=True)


def text(digest: Digest) -> str:
    """Totals with their change, exposure per underlying, nearest liquidations, alerts."""
    if digest.empty:
        return NOTHING
    when = datetime.fromtimestamp(digest.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    count = len(digest.accounts)
    lines = [
        f"Digest · {count} account{'' if count == 1 else 's'} · {when}",
        f"Equity {fmt.money(digest.equity_usd)} USD (24h "
        f"{_change(digest.equity_usd, digest.equity_24h_ago)} · 7d "
        f"{_change(digest.equity_usd, digest.equity_7d_ago)})",
        f"Leverage {fmt.ratio(digest.leverage)} (24h ago {fmt.ratio(digest.leverage_24h_ago)})"
        f" · gross {fmt.money(digest.gross_usd)} · net {fmt.money(digest.net_usd, signed=True)}",
    ]
    lines += _exposure_lines(digest) + _closest_lines(digest)
    stats = digest.alerts
    median = f" (median {duration(stats.median_ack_s)})" if stats.median_ack_s is not None else ""
    lines.append(
        f"Alerts, last 24 h: {stats.fired} fired · {stats.acknowledged} acknowledged{median} · "
        f"{stats.unacknowledged} unacknowledged"
    )
    if digest.blind:
        lines.append(f"Blind (polls failing): {', '.join(digest.blind)}")
    lines += cashflow_lines(digest.realised, digest.funding)
    return "\n".join(lines)


def _exposure_lines(digest: Digest) -> list[str]:
    if not digest.exposure:
        return []
    return ["Exposure (long / short / net USD):"] + [
        f"  {e.underlying:<6} {fmt.money(e.long_usd)} / {fmt.money(e.short_usd)} / "
        f"{fmt.money(e.net_usd, signed=True)}"
        for e in digest.exposure[:8]
    ]


def _closest_lines(digest: Digest) -> list[str]:
    """The positions nearest liquidation, each with the advice that makes it safe again."""
    lines = ["Closest to liquidation:"] if digest.closest else []
    for c in digest.closest:
        chance = (
            ""
            if c.probability is None
            else f", P {fmt.probability(c.probability)} in {c.horizon_hours:g}h"
        )
        lines.append(
            f"  {c.account} {c.symbol} {c.side} {fmt.pct(c.distance_pct)} away"
            f" (mark {fmt.price(c.mark)}, liq {fmt.price(c.liquidation)}{chance})"
        )
        if c.advice is not None:
            lines.append(f"    {advice(c.advice)}")
    return lines


def cashflow_lines(realised: Cashflow, funding: Cashflow) -> list[str]:
    """Realised PnL and funding per currency, and the accounts left out with the reason."""
    left = ", ".join(dict.fromkeys(realised.missing + funding.missing))
    if not realised.reported and not funding.reported:
        return [f"Realised PnL and funding, 24 h: not available for {left}"]
    lines = []
    for flow, title in ((realised, "Realised PnL"), (funding, "Funding")):
        if not flow.reported:
            lines.append(f"{title}, 24 h: not available")
            continue
        parts = [_flow_amount(flow.kind, currency, value) for currency, value in flow.totals]
        lines.append(f"{title}, 24 h: {' · '.join(parts) or 'none'}")
    if left:
        lines.append(f"  not included: {left}")
    return lines


def _flow_amount(kind: str, currency: str, value: float) -> str:
    """Funding reads as paid or received (its sign is easy to misread); PnL keeps its sign."""
    if kind == "funding":
        verb = "paid" if value < 0 else "received"
        return f"{verb} {fmt.money(abs(value))} {currency}"
    return f"{fmt.money(value, signed=True)} {currency}"
