"""/stress and /chart stress answered: a shock per account, the spot × vol grid per account as
a phone-width table, and the grid of everything the chat may see as a heat map (docs/stress.md).

Pure text and rendering over the portfolio service's results: which accounts are shown is the
caller's (the one visibility rule), what a shock does is the engine's.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

from bot.accounts.portfolio import AccountGrid, AccountStress
from bot.chat.context import Reply
from bot.digest.chart_stress import stress_png
from bot.digest.charts import render
from bot.render.stress import shock_text, shock_view
from bot.render.stress_grid import grid_text, grid_view, summed
from engine.alerts.events import Chart


def shocks(found: Sequence[AccountStress]) -> str:
    """Per account: the shock's PnL, equity before and after, pools, who gets liquidated."""
    return "\n\n".join(
        f"[{item.account.label}] {shock_text(shock_view(item.result, item.analysis))}"
        for item in found
    )


def grids(found: Sequence[AccountGrid]) -> str:
    """Per account: the grid of equity changes under its title."""
    return "\n\n".join(
        f"[{item.account.label}] {grid_text(grid_view(item.grid))}" for item in found
    )


def chart_title(found: Sequence[AccountGrid]) -> str:
    """``Stress BTC: equity change, USD (2 accounts)``."""
    underlying = found[0].grid.underlying or "all"
    which = found[0].account.label if len(found) == 1 else f"{len(found)} accounts"
    return f"Stress {underlying}: equity change, USD ({which})"


async def chart(found: Sequence[AccountGrid]) -> Reply:
    """The accounts' grids summed into one heat map, rendered off the event loop."""
    title = chart_title(found)
    view = summed([grid_view(item.grid) for item in found])
    png = await render(stress_png, view, title=title)
    image = Chart("stress.png", title, base64.b64encode(png).decode("ascii"))
    return Reply(title, images=(image,))
