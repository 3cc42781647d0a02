"""Per-position metrics: notional, PnL, leverage, ROE, maintenance and distance to liquidation.

Money amounts are in the settle currency unless a name ends in ``_usd``. The margin ratio is
the model's one convention, maintenance / margin balance (0 safe, 1 liquidation).
"""

from __future__ import annotations

import numpy as np

from engine.model import ContractType, Positions
from engine.types import BoolArray, FloatArray


def _is(positions: Positions, kind: ContractType) -> BoolArray:
    return np.asarray(positions.kind == kind)


def unrealised_pnl(positions: Positions, mark: FloatArray | None = None) -> FloatArray:
    """s·Q·(MP − EP) for linear (quote), s·Q·(1/EP − 1/MP) for inverse (coin).

    Options and positions without an entry price keep the venue's figure, which is all we have.
    """
    mp = positions.mark if mark is None else mark
    s, q, ep = positions.side, positions.qty, positions.entry
    with np.errstate(divide="ignore", invalid="ignore"):
        linear = s * q * (mp - ep)
        inverse = s * q * (1.0 / ep - 1.0 / mp)
    own = np.where(_is(positions, ContractType.INVERSE), inverse, linear)
    keep_venue = _is(positions, ContractType.OPTION) | np.isnan(own)
    return np.where(keep_venue, positions.venue_upnl, own)


def notional(positions: Positions, mark: FloatArray | None = None) -> FloatArray:
    """Position value in the settle currency: Q·MP (linear), Q/MP coin (inverse)."""
    mp = positions.mark if mark is None else mark
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            _is(positions, ContractType.INVERSE), positions.qty / mp, positions.qty * mp
        )


def notional_usd(positions: Positions) -> FloatArray:
    """Position value in USD: Q·MP·rate (linear), Q (inverse USD contracts), Q·underlying
    price (options: Q coins of the underlying, whatever the premium's currency).

    An option's mark is a premium, never the underlying's price, so it is not used here.
    """
    linear = positions.qty * positions.mark * positions.settle_usd
    option = positions.qty * positions.underlying_price
    return np.select(
        [_is(positions, ContractType.INVERSE), _is(positions, ContractType.OPTION)],
        [positions.qty, option],
        linear,
    )


def exposure_usd(positions: Positions, *, value_usd: FloatArray | None = None) -> FloatArray:
    """Signed USD exposure to the underlying: s·notional_usd for futures and swaps, and for an
    option its delta equivalent s·Q·delta·underlying price (docs/risk.md#option-exposure),
    so a short put, whose delta is negative, is long the underlying. NaN when unknown."""
    value = notional_usd(positions) if value_usd is None else value_usd
    option = positions.side * positions.qty * positions.delta * positions.underlying_price
    return np.where(_is(positions, ContractType.OPTION), option, positions.side * value)


def maintenance_margin(
    positions: Positions, mark: FloatArray | None = None, *, value: FloatArray | None = None
) -> FloatArray:
    """notional·MMR − maintenance amount, in settle currency, never below zero (``value``: the
    notional at ``mark``, when the caller has it)."""
    value = (notional(positions, mark) if value is None else value) * positions.mmr
    value = value - positions.maint_amount
    return np.maximum(value, 0.0)


def initial_margin(positions: Positions, *, value: FloatArray | None = None) -> FloatArray:
    """Margin posted for the position: isolated wallet, else the venue's, else notional/leverage."""
    implied = (notional(positions) if value is None else value) / positions.leverage
    venue = np.where(
        np.isnan(positions.venue_initial_margin), implied, positions.venue_initial_margin
    )
    return np.where(np.isnan(positions.isolated_wallet), venue, positions.isolated_wallet)


def leverage(
    positions: Positions, *, value: FloatArray | None = None, initial: FloatArray | None = None
) -> FloatArray:
    """The venue's leverage setting, or notional / initial margin when the venue omits it."""
    value = notional(positions) if value is None else value
    initial = initial_margin(positions, value=value) if initial is None else initial
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = value / initial
    return np.where(np.isnan(positions.leverage), derived, positions.leverage)


def roe(positions: Positions, upnl: FloatArray, *, initial: FloatArray | None = None) -> FloatArray:
    """Return on equity: unrealised PnL / initial margin (a fraction, not percent)."""
    initial = initial_margin(positions) if initial is None else initial
    with np.errstate(divide="ignore", invalid="ignore"):
        return upnl / initial


def isolated_margin_ratio(
    positions: Positions, upnl: FloatArray, *, maintenance: FloatArray | None = None
) -> FloatArray:
    """maintenance / (isolated wallet + uPnL); NaN for cross positions (see the account's)."""
    balance = positions.isolated_wallet + upnl
    maintenance = maintenance_margin(positions) if maintenance is None else maintenance
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = maintenance / balance
    return np.where(balance <= 0, np.inf, ratio)


def distance_pct(mark: FloatArray, liquidation: FloatArray) -> FloatArray:
    """|MP − LP| / MP × 100 (every venue liquidates on the mark); NaN when there is no LP."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.abs(mark - liquidation) / mark * 100.0


def breached(side: FloatArray, mark: FloatArray, liquidation: FloatArray) -> BoolArray:
    """True where the mark is already at or beyond the liquidation price."""
    with np.errstate(invalid="ignore"):
        return np.asarray(side * (mark - liquidation) <= 0) & ~np.isnan(liquidation)
