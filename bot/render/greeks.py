"""Text of an account's greeks (docs/risk.md#greeks): the net figures per underlying and its
options grouped by underlying and expiry, then strike, in a table a phone shows whole.

Shown only when the book holds an option (``greeks_block``): a perpetuals-only book's net delta
in USD is the net exposure /risk already lists per underlying, and its gamma, vega and theta are
zero, so the block would repeat what is there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

from bot.render import format as fmt
from bot.render.greeks_view import OptionTermsView, PositionGreeksView, UnderlyingGreeksView
from bot.render.views import AccountView, PositionView

#: What the figures mean, said once above them (units: docs/risk.md#greeks).
UNITS = (
    "Δ net in coin and USD · γ USD per 1% move",
    "vega USD per vol point · θ USD per day",
)
#: The options table's column titles (the expiry heads its group).
_COLUMNS = ("strike", "size", "Δ coin", "γ", "vega", "θ")


def holds_options(view: AccountView) -> bool:
    return any(p.contract_type == "option" for p in view.positions)


def greeks_block(view: AccountView, *, max_options: int | None = None) -> list[str]:
    """The greeks per underlying and the options table, or nothing when the book holds no
    option; ``max_options`` caps the table's rows (nearest expiries kept, the rest counted)."""
    if not holds_options(view):
        return []
    return underlying_lines(view.greeks) + options_table(view, limit=max_options)


def coin(value: float | None) -> str:
    """A signed coin amount with four decimals under 1, fewer as it grows: +0.4500 · -12.35."""
    if value is None or not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    decimals = 4 if magnitude < 1 else 3 if magnitude < 10 else 2 if magnitude < 100 else 1
    text = f"{value:+,.{decimals}f}"
    return "0" if float(text.replace(",", "")) == 0 else text


def usd_short(value: float | None) -> str:
    """Signed USD in at most six characters for a table cell: +8.10 · -120 · +12.3k · -1.25M."""
    if value is None or not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 999_500:
        return f"{value / 1e6:+.2f}M"
    if magnitude >= 9_999.5:
        return f"{value / 1e3:+.1f}k"
    if magnitude >= 99.995:
        return f"{value:+,.0f}"
    return "0" if round(magnitude, 2) == 0 else f"{value:+.2f}"


def underlying_lines(found: Sequence[UnderlyingGreeksView]) -> list[str]:
    """Two lines per underlying: net delta in coin and USD, then gamma, vega and theta."""
    lines = ["Greeks per underlying:", *(f"  {u}" for u in UNITS)]
    for u in found:
        options = f" · {u.options} option{'' if u.options == 1 else 's'}" if u.options else ""
        lines += [
            f"  {u.underlying:<5} Δ {coin(u.delta_coin)} = "
            f"{fmt.money(u.delta_usd, signed=True)} USD",
            f"  {'':<5} γ {fmt.money(u.gamma_usd, signed=True)} · vega "
            f"{fmt.money(u.vega_usd, signed=True)} · θ {fmt.money(u.theta_usd, signed=True)}"
            + options,
        ]
        if u.unknown:
            many = "s'" if u.unknown > 1 else "'s"
            lines.append(f"  {'':<5} ({u.unknown} position{many} greeks unknown: left out)")
    return lines


def _expiry(at: float | None, now: float | None) -> str:
    if at is None:
        return "expiry unknown"
    text = datetime.fromtimestamp(at, UTC).strftime("%d %b %Y %H:%M UTC")
    if now is None:
        return text
    left = at - now
    if left <= 0:
        return f"{text}, expired"
    if left < 86_400:
        return f"{text}, in {left / 3600:.1f} h"
    return f"{text}, in {left / 86_400:.1f} d"


def _strike(terms: OptionTermsView) -> str:
    kind = "?" if terms.call is None else "C" if terms.call else "P"
    strike = "—" if terms.strike is None else f"{terms.strike:,g}"
    return f"{strike} {kind}"


def _row(terms: OptionTermsView, g: PositionGreeksView | None) -> tuple[str, ...]:
    g = g or PositionGreeksView(None, None, None, None, None)
    return (
        _strike(terms),
        "—" if terms.size_coin is None else f"{terms.size_coin:+g}",
        coin(g.delta_coin),
        usd_short(g.gamma_usd),
        usd_short(g.vega_usd),
        usd_short(g.theta_usd),
    )


def _order(p: PositionView) -> tuple[str, float, float, int]:
    terms = p.option or OptionTermsView(None, None, None, None)
    return (
        p.underlying,
        math.inf if terms.expiry is None else terms.expiry,
        math.inf if terms.strike is None else terms.strike,
        0 if terms.call else 1,
    )


def options_table(view: AccountView, *, limit: int | None = None) -> list[str]:
    """The options by underlying and expiry, then strike (calls before puts), one row each:
    strike and C/P, signed size in coins, then the position's Δ coin, γ, vega and θ in USD."""
    held = sorted((p for p in view.positions if p.option is not None), key=_order)
    if not held:
        return []
    shown = held if limit is None else held[:limit]
    rows = [_COLUMNS, *(_row(p.option, p.greeks) for p in shown if p.option is not None)]
    widths = [max(len(r[c]) for r in rows) for c in range(len(_COLUMNS))]

    def line(cells: tuple[str, ...]) -> str:
        # One space between the right-aligned figures keeps a row within a phone's width.
        return "  " + " ".join(
            cell.ljust(w + 1) if c == 0 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(cells, widths, strict=True))
        )

    lines = ["Options (per position, units as above):", line(_COLUMNS)]
    group: tuple[str, float | None] | None = None
    for p, cells in zip(shown, rows[1:], strict=True):
        assert p.option is not None  # only options were kept
        key = (p.underlying, p.option.expiry)
        if key != group:
            group = key
            lines.append(f" {p.underlying} {_expiry(p.option.expiry, view.taken_at)}")
        lines.append(line(cells))
    if len(held) > len(shown):
        lines.append(f"  … and {len(held) - len(shown)} more on later expiries")
    return lines
