"""The stress heat map (/chart stress): a phone-sized PNG whose cells carry the grid's amounts,
starred and outlined where the shock liquidates, and a picture even with nothing to show."""

from __future__ import annotations

import io

from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

from bot.digest.chart_stress import LIQUIDATES, stress_figure, stress_png
from tests.bot.render.test_stress_render import WIDE, _grid


def test_a_phone_sized_png() -> None:
    image = Image.open(io.BytesIO(stress_png(WIDE, title="Stress BTC")))
    assert image.format == "PNG" and image.size == (900, 600)


def test_cells_carry_amounts_and_liquidations_are_outlined() -> None:
    """Every cell's compact amount is written in it; the four liquidating cells are starred
    and outlined; the largest rise is the top row."""
    fig = stress_figure(WIDE, title="Stress BTC")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts if isinstance(t, Text)]
    for label in ("-123k*", "-100k*", "+2.5k", "0", "-7", "+1.0B*", "—"):
        assert label in labels
    outlines = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
    assert len(outlines) == 4
    assert all(p.get_edgecolor() == to_rgba(LIQUIDATES) for p in outlines)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["+20%", "0%", "-20%"]


def test_nothing_to_show_still_draws() -> None:
    """A grid without one known amount is a picture saying so, not an error."""
    blank = _grid([[None] * 3] * 3, [[False] * 3] * 3)
    fig = stress_figure(blank, title="Stress BTC")
    assert "Nothing to show" in [t.get_text() for t in fig.axes[0].texts]
    assert stress_png(blank, title="Stress BTC")[:8] == b"\x89PNG\r\n\x1a\n"
