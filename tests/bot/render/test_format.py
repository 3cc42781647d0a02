"""The one number formatter: prices, money, percentages and the charts' axis ticks."""

from __future__ import annotations

import pytest

from bot.render import format as fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [(64_250.4, "64,250.4"), (142.0, "142.000"), (0.0000123, "0.0000123000"), (None, "—")],
)
def test_a_price_keeps_six_significant_figures(value: float | None, text: str) -> None:
    """BTC and PEPE alike: enough digits to tell the mark from the liquidation price."""
    assert fmt.price(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(0.0618, "6.18%"), (0.563025, "56.3%"), (1.5, "150%"), (None, "—")]
)
def test_a_fraction_reads_as_a_percentage(value: float | None, text: str) -> None:
    """Margin ratios and shares are fractions (1 = 100 %), shown with pct's precision."""
    assert fmt.fraction(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(1_250_000, "$1.25M"), (-250_000, "-$250k"), (950, "$950"), (0, "$0"), (3.2e9, "$3.2B")],
)
def test_compact_usd_for_chart_axes(value: float, text: str) -> None:
    """Three significant figures and a suffix: short enough for a tick label."""
    assert fmt.usd_compact(value) == text


def test_axis_ticks_are_as_short_as_their_value() -> None:
    """Percent ticks keep only the digits they need; leverage ticks three figures and an x."""
    assert [fmt.axis_pct(v) for v in (0.0, 2.5, 10.0)] == ["0%", "2.5%", "10%"]
    assert [fmt.axis_ratio(v) for v in (3.0, 2.75, 12.34)] == ["3x", "2.75x", "12.3x"]
