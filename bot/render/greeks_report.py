"""The greeks in the `liqwatch analyze --json` document (docs/risk.md#greeks): five figures and
their source per position, and the sums per underlying at the top level. Units are in the
names (``_coin`` coins of the underlying, ``_usd`` US dollars) and said once in
``GREEKS_UNITS``; null is unknown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.render.greeks_view import PositionGreeksView, UnderlyingGreeksView

#: Named once so every consumer reads the figures the same way.
GREEKS_UNITS = (
    "signed by the position; delta_coin: coins of the underlying; delta_usd: USD; "
    "gamma_usd: change of delta_usd for a +1% move of the underlying; "
    "vega_usd: USD per +1 volatility point; theta_usd: USD per day"
)


def position_greeks_report(g: PositionGreeksView | None) -> dict[str, Any]:
    """One position's greeks (a perpetual or future: delta, and 0 for the others)."""
    g = g or PositionGreeksView(None, None, None, None, None)
    return {
        "delta_coin": g.delta_coin,
        "delta_usd": g.delta_usd,
        "gamma_usd": g.gamma_usd,
        "vega_usd": g.vega_usd,
        "theta_usd": g.theta_usd,
        "greeks_source": g.source,
    }


def greeks_report(found: Sequence[UnderlyingGreeksView]) -> dict[str, Any]:
    """The top-level "greeks" object: underlying → its sums over the account's positions."""
    return {
        u.underlying: {
            "price_usd": u.price_usd,
            "delta_coin": u.delta_coin,
            "delta_usd": u.delta_usd,
            "gamma_usd": u.gamma_usd,
            "vega_usd": u.vega_usd,
            "theta_usd": u.theta_usd,
            "options": u.options,
            "unknown": u.unknown,
        }
        for u in found
    }
