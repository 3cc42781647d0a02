"""Number formatting shared by every renderer (replies, digest, analyze table, chart axes)."""

from __future__ import annotations

import math


def price(value: float | None) -> str:
    """Six significant figures, thousands separated: 61,234.5 · 2.3483 · 0.00012345."""
    if value is None or not math.isfinite(value):
        return "—"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.1f}" if magnitude < 100_000 else f"{value:,.0f}"
    if magnitude == 0:
        return "0"
    decimals = max(0, 5 - math.floor(math.log10(magnitude)))
    return f"{value:,.{decimals}f}"


def money(value: float | None, *, signed: bool = False) -> str:
    """Amounts: whole units from 10k up, cents below, significant figures under 1."""
    if value is None or not math.isfinite(value):
        return "—"
    sign = "+" if signed and value > 0 else ""
    magnitude = abs(value)
    if magnitude >= 10_000:
        return f"{sign}{value:,.0f}"
    if magnitude >= 1 or magnitude == 0:
        return f"{sign}{value:,.2f}"
    return f"{sign}{value:.4g}"


def amount(value: float | None) -> str:
    """A size in contracts or coins: up to six significant figures, no trailing zeros."""
    if value is None or not math.isfinite(value):
        return "—"
    if abs(value) >= 100_000:
        return f"{value:,.0f}"
    return f"{value:,.6g}" if abs(value) >= 1 else f"{value:.6g}"


def pct(value: float | None, *, signed: bool = False) -> str:
    """A percentage with precision where it matters: 0.42% · 4.2% · 42%."""
    if value is None or not math.isfinite(value):
        return "—"
    sign = "+" if signed and value > 0 else ""
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{sign}{value:,.0f}%"
    if magnitude >= 10:
        return f"{sign}{value:.1f}%"
    return f"{sign}{value:.2f}%"


def fraction(value: float | None) -> str:
    """A fraction (1 = 100 %) as a percentage: 0.0618 → 6.18%."""
    return pct(None if value is None else value * 100.0)


def ratio(value: float | None) -> str:
    """A leverage-style multiple: 3.2x."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.1f}x" if abs(value) < 100 else f"{value:,.0f}x"


def probability(value: float | None) -> str:
    """A probability in percent, with "<0.01%" instead of a misleading 0."""
    if value is None or not math.isfinite(value):
        return "—"
    if 0 < value < 0.0001:
        return "<0.01%"
    return pct(value * 100.0)


def usd_compact(value: float) -> str:
    """USD in three significant figures for chart axes: $950 · -$12.5k · $3.2M."""
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= limit:
            return f"{sign}${magnitude / limit:.3g}{suffix}"
    return f"{sign}${magnitude:.0f}"


def axis_pct(value: float) -> str:
    """A percentage tick on a chart axis, as short as its value: 5% · 2.5%."""
    return f"{value:g}%"


def axis_ratio(value: float) -> str:
    """A leverage tick on a chart axis, three significant figures: 3x · 2.75x."""
    return f"{value:.3g}x"
