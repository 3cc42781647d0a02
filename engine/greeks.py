"""Greeks per position and per underlying: options from their per-unit columns, perpetuals and
futures as delta only, so an underlying's net delta is the whole book's (docs/risk.md#greeks).

Every figure is signed by the position (a short call's delta is negative) and in stated units:
delta in coins of the underlying and in USD, gamma as the change of that coin delta per +1 USD
of the underlying and as the change of the USD delta for a +1 % move, vega in USD per vol
point, theta in USD per day. Coin collateral is not a position: a BTC balance backing inverse
contracts is not counted in BTC's delta (the venues' own ``delta_total`` leaves it out too).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.model import Account, ContractType, Positions, codes
from engine.types import BoolArray, FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class PositionGreeks:
    """Per position, signed by the position (short call: delta<0). NaN where unknown/invalid."""

    #: Coins of underlying: options s·Q·delta; linear perps/futures s·Q; inverse s·Q/U (Q is
    #: USD there), i.e. exposure_usd / U.
    delta_coin: FloatArray
    #: delta_coin · U.
    delta_usd: FloatArray
    #: Change of delta_coin per +1 USD of U (0 for non-options).
    gamma_coin: FloatArray
    #: Change of delta_usd for a +1 % move of U: gamma_coin·U·U/100.
    gamma_usd: FloatArray
    #: USD per +1 vol point (0 for non-options).
    vega_usd: FloatArray
    #: USD per day (0 for non-options).
    theta_usd: FloatArray


@dataclass(frozen=True)
class UnderlyingGreeks:
    """One underlying's sums over the positions that have each figure."""

    underlying: str
    #: U, USD per coin: the first option's underlying price, else a future's or swap's mark.
    price_usd: float
    delta_coin: float
    delta_usd: float
    gamma_coin: float
    gamma_usd: float
    vega_usd: float
    theta_usd: float
    #: Option positions counted (their delta known).
    options: int
    #: Positions on it lacking some figure (left out of that figure's sum; their diagnostics
    #: say which input was missing).
    unknown: int


#: ``PositionGreeks`` fields in declaration order (the sums ``by_underlying`` makes).
FIELDS = ("delta_coin", "delta_usd", "gamma_coin", "gamma_usd", "vega_usd", "theta_usd")


def underlying_usd(positions: Positions) -> FloatArray:
    """U per position in USD: an option's underlying price, an inverse contract's mark (a USD
    price), a linear contract's mark at its settle currency's USD rate."""
    kind = positions.kind
    return np.select(
        [kind == ContractType.OPTION, kind == ContractType.INVERSE],
        [positions.underlying_price, positions.mark],
        positions.mark * positions.settle_usd,
    )


def position_greeks(positions: Positions) -> PositionGreeks:
    """Each position's greeks in account units (see ``PositionGreeks``)."""
    price = underlying_usd(positions)
    signed = positions.side * positions.qty
    option = positions.kind == ContractType.OPTION
    inverse = positions.kind == ContractType.INVERSE
    with np.errstate(divide="ignore", invalid="ignore"):
        futures_delta = np.where(inverse, signed / price, signed)
        delta_coin = np.where(option, signed * positions.delta, futures_delta)
        gamma_coin = np.where(option, signed * positions.gamma, 0.0)
        vega = np.where(option, signed * positions.vega, 0.0)
        theta = np.where(option, signed * positions.theta, 0.0)
        usable = positions.valid & (price > 0)
        out = {
            "delta_coin": delta_coin,
            "delta_usd": delta_coin * price,
            "gamma_coin": gamma_coin,
            "gamma_usd": gamma_coin * price * price / 100.0,
            "vega_usd": vega,
            "theta_usd": theta,
        }
    return PositionGreeks(**{k: np.where(usable, v, np.nan) for k, v in out.items()})


def by_underlying(positions: Positions, greeks: PositionGreeks) -> tuple[UnderlyingGreeks, ...]:
    """Sums per underlying, in the order of ``positions.underlying.names`` (sorted), each over
    the positions that have that figure; NaN where the figure's only contributors lack it (every
    option on it lacks vega, say): a sum of 0 there would read as a flat book."""
    names, idx = codes(positions.underlying)
    if not names:
        return ()
    n = len(names)
    sums = {}
    lacking = np.zeros(len(idx), dtype=np.bool_)
    is_option = positions.kind == ContractType.OPTION
    for name in FIELDS:
        values = getattr(greeks, name)
        known = ~np.isnan(values)
        lacking |= ~known
        total = np.bincount(idx[known], weights=values[known], minlength=n)
        # Perpetuals and futures give gamma, vega and theta 0 by definition, not by reading.
        counted = known if name in ("delta_coin", "delta_usd") else known & is_option
        none_known = np.bincount(idx[counted], minlength=n) == 0
        some_lack = np.bincount(idx[~known], minlength=n) > 0
        sums[name] = np.where(none_known & some_lack, np.nan, total)
    option = is_option & ~np.isnan(greeks.delta_coin)
    options = np.bincount(idx[option], minlength=n)
    unknown = np.bincount(idx[lacking], minlength=n)
    prices = _prices(positions, idx, n)
    return tuple(
        UnderlyingGreeks(
            underlying=name,
            price_usd=float(prices[k]),
            options=int(options[k]),
            unknown=int(unknown[k]),
            **{field: float(sums[field][k]) for field in FIELDS},
        )
        for k, name in enumerate(names)
    )


def _prices(positions: Positions, idx: IntArray, n: int) -> FloatArray:
    """U per underlying: the first option's underlying price, else the first other mark."""
    price = underlying_usd(positions)
    option = positions.kind == ContractType.OPTION
    out = np.full(n, np.nan)
    for chosen in (option, ~option):
        known = chosen & (price > 0) & np.isnan(out[idx])
        # Reversed assignment leaves the first known price of each underlying in place.
        out[idx[known][::-1]] = price[known][::-1]
    return out


def account_greeks(positions: Positions) -> tuple[PositionGreeks, tuple[UnderlyingGreeks, ...]]:
    """Both views at once, as ``Analysis`` carries them."""
    greeks = position_greeks(positions)
    return greeks, by_underlying(positions, greeks)


#: Deribit's portfolio figure → (the PositionGreeks field it sums, options only).
VENUE_FIGURES = {
    "delta_total": ("delta_coin", False),
    "options_delta": ("delta_coin", True),
    "options_gamma": ("gamma_coin", True),
    "options_vega": ("vega_usd", True),
    "options_theta": ("theta_usd", True),
}

#: A portfolio delta further than this many coins per coin of options held (at least one)
#: from the positions' sum is noted, as for one position (docs/risk.md#greeks) …
PORTFOLIO_DELTA_TOLERANCE = 0.02
#: … gamma, vega and theta further apart than this fraction of the larger.
PORTFOLIO_RELATIVE_TOLERANCE = 0.10


def account_notes(
    positions: Positions, greeks: PositionGreeks, account: Account
) -> tuple[str, ...]:
    """Account diagnostics of the greeks: which pools' margin ratio is the venue's own
    (portfolio margin), and every venue portfolio figure (Deribit's, per settle currency) the
    positions' own greeks do not sum to within the tolerances."""
    notes = [_pm_note(account, pool) for pool in sorted(account.portfolio_margin)]
    for currency, figures in sorted(account.venue_greeks.items()):
        for key, reported in figures.items():
            note = _compare(positions, greeks, currency, key, float(reported))
            if note:
                notes.append(note)
    return tuple(notes)


def _pm_note(account: Account, pool: str) -> str:
    ratio = account.venue_margin_ratio.get(pool, math.nan)
    if ratio == ratio:
        return (
            f"{pool} is on portfolio margin: its margin ratio is the venue's own "
            f"maintenance / equity, {ratio * 100:.1f}%"
        )
    return (
        f"{pool} is on portfolio margin but the venue reports no ratio: the margin ratio "
        "shown sums maintenance the venue computes by scenarios"
    )


def _compare(
    positions: Positions, greeks: PositionGreeks, currency: str, key: str, reported: float
) -> str:
    """The note for one venue figure (``name`` or ``name:index``) the positions settled in
    ``currency`` do not reproduce; "" when they do or cannot be summed."""
    name, _, index = key.partition(":")
    if name not in VENUE_FIGURES:
        return ""
    column, options_only = VENUE_FIGURES[name]
    chosen = positions.valid & positions.settle.equals(currency)
    if options_only:
        chosen &= positions.kind == ContractType.OPTION
    if index:
        chosen &= positions.underlying.equals(index.split("_")[0].upper())
    # Coins (delta, gamma) of different underlyings do not add up: compare per index only.
    in_coins = column in ("delta_coin", "gamma_coin")
    if not index and in_coins and len(set(positions.underlying.code[chosen].tolist())) > 1:
        return ""
    values = getattr(greeks, column)[chosen]
    if not len(values) or np.isnan(values).any():
        return ""
    summed = float(values.sum())
    if not _differs(name, reported, summed, positions.qty[chosen & _is_option(positions)]):
        return ""
    where = f"{currency} {index}".strip()
    return (
        f"venue {key} {reported:.6g} for {where} differs from the positions' own "
        f"{summed:.6g} ({_FIGURE_UNITS[column]}): stale figures, positions not read or "
        "another convention"
    )


def _is_option(positions: Positions) -> BoolArray:
    return np.asarray(positions.kind == ContractType.OPTION)


def _differs(name: str, reported: float, summed: float, option_qty: FloatArray) -> bool:
    gap = abs(reported - summed)
    if name in ("delta_total", "options_delta"):
        return gap > PORTFOLIO_DELTA_TOLERANCE * max(1.0, float(np.nansum(option_qty)))
    return gap > PORTFOLIO_RELATIVE_TOLERANCE * max(abs(reported), abs(summed)) and gap > 1e-12


_FIGURE_UNITS = {
    "delta_coin": "coins",
    "gamma_coin": "coins per USD",
    "vega_usd": "USD per vol point",
    "theta_usd": "USD per day",
}
