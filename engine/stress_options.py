"""Options under a shock, by full revaluation: Black-76 at the shocked underlying price and
volatility, at the snapshot's time (docs/stress.md#options).

A linear stress moves an option by its delta, which misses its convexity: a short straddle loses
on both sides of the money, and more when volatility rises. Here every option whose inputs are
known (underlying price, strike, expiry, call/put, mark IV and the snapshot's time) is re-priced
by ``engine.options.black76_price_usd``; the others fall back to their delta, with a note.

Every function broadcasts: a scenario axis (or two, spot × vol) in front of the option axis
prices a whole grid in one Black-76 pass (``engine.stress_grid``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from engine.model import ContractType, Positions
from engine.normalise.options import YEAR_S
from engine.options import black76_price_usd
from engine.types import BoolArray, FloatArray, IntArray

#: Notes name at most this many options; the rest are counted.
NAMED = 5


@dataclass(frozen=True)
class VolShock:
    """A volatility shock: relative, ``σ·(1 + value/100)`` ("vol +20%": every IV 20 % higher,
    so 50 % becomes 60 %), or in vol points, ``σ + value/100`` ("vol +20pt": 50 % becomes 70 %).
    """

    value: float
    points: bool = False

    @property
    def label(self) -> str:
        """As the chat writes it: ``vol +20%``, ``vol -5pt``."""
        return f"vol {self.value:+g}{'pt' if self.points else '%'}"

    def problem(self) -> str | None:
        """One sentence when the shock cannot apply to any volatility, else None."""
        if not math.isfinite(self.value):
            return "The vol shock must be a finite number."
        if not self.points and self.value < -100.0:
            return f"vol shock {self.value:g}% would make volatility negative."
        return None

    def apply(self, sigma: FloatArray) -> FloatArray:
        """σ after the shock; points below zero volatility are held at 0 (a caller notes it)."""
        if self.points:
            out: FloatArray = np.maximum(sigma + self.value / 100.0, 0.0)
            return out
        return np.asarray(sigma * (1.0 + self.value / 100.0), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class OptionBook:
    """The options a shock re-prices, and those it moves by delta instead.

    Arrays of the re-priced ones align with ``rows`` (their index in the positions); ``base``
    is the model's value of one long unit now, in the settle currency (a coin-settled option's
    USD price divided by the underlying's, since its premium is held in the coin).
    """

    rows: IntArray
    forward: FloatArray
    strike: FloatArray
    sigma: FloatArray
    years: FloatArray
    is_call: BoolArray
    coin: BoolArray
    units: FloatArray  # s·Q: signed coins of the underlying
    base: FloatArray
    #: Options moved by delta (their rows), and sentences saying why.
    fallback: IntArray
    notes: tuple[str, ...]

    def value(self, factor: FloatArray | float, sigma: FloatArray) -> FloatArray:
        """Value of one long unit (settle currency) at the underlying ``× factor`` and ``sigma``
        (both broadcast against the option axis, the last)."""
        return _value(
            self.forward * factor, self.strike, sigma, self.years, self.is_call, self.coin
        )

    def take(self, part: slice) -> OptionBook:
        """The re-priced options in ``part`` (views), for chunked passes over a large book."""
        return replace(
            self,
            rows=self.rows[part],
            forward=self.forward[part],
            strike=self.strike[part],
            sigma=self.sigma[part],
            years=self.years[part],
            is_call=self.is_call[part],
            coin=self.coin[part],
            units=self.units[part],
            base=self.base[part],
        )

    def change(self, factor: FloatArray | float, sigma: FloatArray) -> FloatArray:
        """Each position's PnL (settle currency) at ``factor`` and ``sigma``: s·Q·(V' − V)."""
        out: FloatArray = self.units * (self.value(factor, sigma) - self.base)
        return out


def _value(
    forward: FloatArray,
    strike: FloatArray,
    sigma: FloatArray,
    years: FloatArray,
    is_call: BoolArray,
    coin: BoolArray,
) -> FloatArray:
    """Black-76 value of one long unit in its settle currency: USD, or USD / U in the coin."""
    with np.errstate(divide="ignore", invalid="ignore"):
        usd = black76_price_usd(forward, strike, sigma, years, is_call=is_call)
        out: FloatArray = np.where(coin, usd / forward, usd)
    return out


def option_book(positions: Positions, taken_at: float) -> OptionBook:
    """Split the book's valid options into re-priceable ones and delta fallbacks."""
    option = positions.valid & (positions.kind == ContractType.OPTION)
    with np.errstate(invalid="ignore"):
        years = np.maximum(positions.expiry - taken_at, 0.0) / YEAR_S
        ready = (
            option
            & (positions.underlying_price > 0)
            & (positions.strike > 0)
            & (positions.mark_iv >= 0)
            & np.isfinite(years)
            & np.isfinite(positions.call)
        )
    rows = np.flatnonzero(ready)
    fallback = np.flatnonzero(option & ~ready)
    terms = (
        positions.underlying_price[rows],
        positions.strike[rows],
        positions.mark_iv[rows],
        years[rows],
        positions.call[rows] == 1.0,
        coin_settled(positions, rows),
    )
    return OptionBook(
        rows,
        *terms,
        units=positions.side[rows] * positions.qty[rows],
        base=_value(*terms),
        fallback=fallback,
        notes=(*_fallback_notes(positions, fallback, taken_at), *_expired(positions, rows, years)),
    )


def coin_settled(positions: Positions, rows: IntArray) -> BoolArray:
    """Whether each option of ``rows`` settles in its own underlying (Deribit, OKX coin options):
    its premium, held in the coin, is worth USD price / U coins."""
    settle = np.asarray(positions.settle.names, dtype=object)[positions.settle.code[rows]]
    under = np.asarray(positions.underlying.names, dtype=object)[positions.underlying.code[rows]]
    return np.asarray(settle == under, dtype=np.bool_).reshape(len(rows))


def delta_move(positions: Positions, rows: IntArray, spot_pct: FloatArray) -> FloatArray:
    """The fallback: the PnL, in the settle currency, of options ``rows`` moved by their delta
    for an underlying move of ``spot_pct`` (broadcast in front of the option axis).

    USD-settled: ``s·Q·Δ·U·x``. Coin-settled: ``s·Q·Δ·x`` coins, since the venue's delta of a
    coin-settled option is premium-adjusted (docs/risk.md#option-exposure): it is the change of
    the option's value in coin, times U, per unit move of U. NaN-free: an unknown delta moves 0.
    """
    x = np.asarray(spot_pct, dtype=np.float64) / 100.0
    units = positions.side[rows] * positions.qty[rows] * positions.delta[rows]
    with np.errstate(invalid="ignore"):
        per_move = np.where(
            coin_settled(positions, rows),
            units,
            units * positions.underlying_price[rows] / positions.settle_usd[rows],
        )
    return np.nan_to_num(per_move * x)


def below_zero(book: OptionBook, shock: VolShock | None) -> str | None:
    """A note when a shock in points takes some option's volatility below zero (held at 0)."""
    if shock is None or not shock.points:
        return None
    under = int(np.count_nonzero(book.sigma + shock.value / 100.0 < 0.0))
    if not under:
        return None
    return (
        f"{shock.label} takes {under} option(s) below zero volatility: priced at 0 "
        "(intrinsic value)"
    )


def _expired(positions: Positions, rows: IntArray, years: FloatArray) -> tuple[str, ...]:
    """A note naming the re-priced options already expired at the snapshot's time: the venue
    settles them, and until it does they are worth their intrinsic value, which no vol moves."""
    gone = rows[years[rows] == 0.0]
    if not len(gone):
        return ()
    return (f"{_named([positions.symbol[i] for i in gone.tolist()])}: expired at the snapshot's "
            "time: valued at intrinsic, which no vol shock moves",)  # fmt: skip


def _named(symbols: list[str]) -> str:
    """At most ``NAMED`` symbols, then how many more."""
    more = f" and {len(symbols) - NAMED} more" if len(symbols) > NAMED else ""
    return ", ".join(symbols[:NAMED]) + more


def _fallback_notes(positions: Positions, rows: IntArray, taken_at: float) -> tuple[str, ...]:
    """Which options move by delta and why, one sentence per reason (at most ``NAMED`` named).

    A loop over the fallback options only: they are the few a venue gave no IV for.
    """
    if not len(rows):
        return ()
    reasons: dict[tuple[str, bool], list[str]] = {}
    for i in rows.tolist():
        key = (_lacking(positions, i, taken_at), positions.delta[i] == positions.delta[i])
        reasons.setdefault(key, []).append(positions.symbol[i])
    out = []
    for (lacking, has_delta), symbols in reasons.items():
        then = (
            "moved by its delta instead (no vol shock applies)"
            if has_delta
            else "and no delta either: left unmoved"
        )
        out.append(f"{_named(symbols)}: not re-priced ({lacking} unknown), {then}")
    return tuple(out)


def _lacking(positions: Positions, i: int, taken_at: float) -> str:
    """The inputs option ``i`` lacks for Black-76, in words."""
    gaps = [
        name
        for name, ok in (
            ("snapshot time", math.isfinite(taken_at)),
            ("underlying price", positions.underlying_price[i] > 0),
            ("strike", positions.strike[i] > 0),
            ("expiry", math.isfinite(positions.expiry[i])),
            ("call/put", math.isfinite(positions.call[i])),
            ("mark IV", positions.mark_iv[i] >= 0),
        )
        if not ok
    ]
    return ", ".join(gaps)
