"""Typed views of the engine's greeks (docs/risk.md#greeks): per position, per underlying, and
an option's terms, for /risk, `liqwatch analyze` (text and --json) and the digest.

Units are in the field names as in ``bot.render.views``: ``_coin`` coins of the underlying,
``_usd`` US dollars. ``gamma_usd`` is the change of the USD delta for a +1 % move of the
underlying, ``vega_usd`` USD per +1 vol point, ``theta_usd`` USD per day. Every figure is
signed by the position (a short call's delta and vega are negative) and is a finite float or
None (unknown). Kept apart from ``views`` (which holds these on its views) so it stays small.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import SupportsFloat

from engine.analysis import Analysis
from engine.model import ContractType


def _finite(value: SupportsFloat) -> float | None:
    out = float(value)
    return out if math.isfinite(out) else None


@dataclass(frozen=True)
class PositionGreeksView:
    """One position's greeks in account units (a perpetual or future: delta only, the rest 0)."""

    delta_coin: float | None
    delta_usd: float | None
    gamma_usd: float | None
    vega_usd: float | None
    theta_usd: float | None
    #: Options: where the greeks came from, "venue" | "ccxt" | "engine"; None otherwise.
    source: str | None = None


@dataclass(frozen=True)
class OptionTermsView:
    """An option's contract terms (what the options table groups and sorts by)."""

    expiry: float | None  # POSIX seconds
    strike: float | None
    call: bool | None  # None: the venue data does not say
    #: Signed size in coins of the underlying (short: negative).
    size_coin: float | None


@dataclass(frozen=True)
class UnderlyingGreeksView:
    """One underlying's greeks summed over the account's positions on it."""

    underlying: str
    price_usd: float | None
    delta_coin: float | None
    delta_usd: float | None
    gamma_usd: float | None
    vega_usd: float | None
    theta_usd: float | None
    #: Option positions counted, and positions left out of some sum (a figure unknown).
    options: int
    unknown: int


def position_greeks_view(analysis: Analysis, i: int) -> PositionGreeksView:
    """Position ``i``'s greeks."""
    g = analysis.greeks
    source = analysis.snapshot.positions.greeks_source[i]
    return PositionGreeksView(
        delta_coin=_finite(g.delta_coin[i]),
        delta_usd=_finite(g.delta_usd[i]),
        gamma_usd=_finite(g.gamma_usd[i]),
        vega_usd=_finite(g.vega_usd[i]),
        theta_usd=_finite(g.theta_usd[i]),
        source=source or None,
    )


def option_terms_view(analysis: Analysis, i: int) -> OptionTermsView | None:
    """Position ``i``'s option terms; None when it is not an option."""
    pos = analysis.snapshot.positions
    if int(pos.kind[i]) != ContractType.OPTION:
        return None
    call = float(pos.call[i])
    return OptionTermsView(
        expiry=_finite(pos.expiry[i]),
        strike=_finite(pos.strike[i]),
        call=None if call != call else call > 0.5,
        size_coin=_finite(pos.side[i] * pos.qty[i]),
    )


def underlyings_view(analysis: Analysis) -> tuple[UnderlyingGreeksView, ...]:
    """Every underlying the account holds a position on, in the engine's (name) order."""
    return tuple(
        UnderlyingGreeksView(
            underlying=u.underlying,
            price_usd=_finite(u.price_usd),
            delta_coin=_finite(u.delta_coin),
            delta_usd=_finite(u.delta_usd),
            gamma_usd=_finite(u.gamma_usd),
            vega_usd=_finite(u.vega_usd),
            theta_usd=_finite(u.theta_usd),
            options=u.options,
            unknown=u.unknown,
        )
        for u in analysis.underlyings
    )
