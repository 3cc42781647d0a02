"""An option's greeks per long unit: the venue's position figures, else ccxt's ``fetch_greeks``,
else Black-76 from the mark IV; and a note where a reported figure and Black-76 disagree
(docs/risk.md#greeks).

Units, per ONE LONG UNIT (one coin of the underlying): delta in coins, gamma per USD of the
underlying, vega in USD per vol point, theta in USD per day. A coin-settled option's delta is
premium-adjusted (Black-Scholes delta minus the premium in coin, Deribit's convention, which
its ``delta_total`` sums) except on venues in ``PLAIN_DELTA``, whose reported delta is the plain
Black-Scholes one (OKX ``deltaBS``); the engine's Black-76 follows the venue's convention so
that its figure and the venue's can be compared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from engine.normalise.fields import mapping, num
from engine.normalise.row import Row
from engine.options import YEAR_S, per_unit_greeks
from engine.types import FloatArray

#: The greeks columns, in the order the venues list them.
NAMES = ("delta", "gamma", "vega", "theta")

#: Venues whose coin-settled options report the plain Black-Scholes delta (OKX ``deltaBS``;
#: its price-adjusted ``deltaPA`` comes with coin-unit gamma/vega/theta and is never read).
PLAIN_DELTA = frozenset({"okx"})

#: Venues whose ccxt greeks are in coin units (OKX's unified fields are its ``PA`` ones): the
#: Black-Scholes figures are read from ``info`` instead.
CCXT_BS_FIELDS = {"okx": ("deltaBS", "gammaBS", "vegaBS", "thetaBS")}

#: A venue or ccxt delta further than this (coins per long unit) from Black-76's is noted.
DELTA_TOLERANCE = 0.02
#: Gamma, vega and theta further apart than this fraction of the larger are noted …
RELATIVE_TOLERANCE = 0.10
#: … unless the gap is below this fraction of the underlying's price (per-coin vega or theta
#: under 0.001 % of U) …
FLOOR_OF_PRICE = 1e-5
#: … or, for gamma, moves delta by under 0.001 coin for a move of U itself (gamma·U).
GAMMA_FLOOR = 1e-3
#: Deribit's theta is the smaller of one day's decay and what is left: within a day of expiry
#: it is not the per-day Black-76 theta, so theta is not compared there.
THETA_COMPARED_FROM_S = 86_400.0

NO_TIME = 'snapshot time unknown: option delta not computed (give "timestamp")'

_UNITS = {"delta": "coin", "gamma": "/USD", "vega": "USD/vol pt", "theta": "USD/day"}


def position_greeks(row: Row, info: Mapping[str, Any], fields: Sequence[str] = NAMES) -> None:
    """Store a venue's POSITION greeks (``fields`` of ``info`` naming delta, gamma, vega and
    theta, position totals signed by the position) per long unit; the delta's source is then
    "venue"."""
    for name, key in zip(NAMES, fields, strict=True):
        store_position_figure(row, name, num(info.get(key)))


def store_position_figure(row: Row, name: str, value: float) -> None:
    """One position total ``value`` of greek ``name`` stored per long unit."""
    if value == value and row.side == row.side and row.qty > 0:
        setattr(row, name, value / (row.side * row.qty))
        if name == "delta":
            row.greeks_source = "venue"


def premium_adjusted(row: Row, venue: str) -> bool:
    """Whether the option's delta is premium-adjusted: coin-settled, on a venue that reports
    it that way (see ``PLAIN_DELTA``)."""
    return row.settle == row.underlying and venue not in PLAIN_DELTA


def apply_ccxt(row: Row, greeks: Mapping[str, Any], venue: str) -> None:
    """ccxt's greeks of ONE contract (one coin) for whatever the position did not report;
    Deribit's ticker delta is plain Black-Scholes, so a coin-settled option's is adjusted by
    its premium in coin (the position's mark)."""
    bs_fields = CCXT_BS_FIELDS.get(venue)
    source = mapping(greeks.get("info")) if bs_fields else greeks
    fields = bs_fields or NAMES
    for name, key in zip(NAMES, fields, strict=True):
        value = num(source.get(key))
        if value != value or getattr(row, name) == getattr(row, name):
            continue
        if name == "delta":
            if premium_adjusted(row, venue):
                value -= row.mark
            row.greeks_source = "ccxt"
        setattr(row, name, value)


def fill_and_check(
    options: Sequence[Row], venue: str, taken_at: float, forwards: Sequence[float] = ()
) -> None:
    """Black-76 greeks for whatever neither the venue nor ccxt gave, and a note on a reported
    figure that disagrees with Black-76 beyond the tolerances (docs/risk.md#greeks).
    ``forwards`` (per option, NaN: unknown) price on each expiry's forward where ccxt gave
    one, not on the index a position carries: months out they differ by the basis."""
    if not options:
        return
    if not math.isfinite(taken_at):
        for row in options:
            if row.delta != row.delta:
                row.note(NO_TIME)
        return
    model = model_greeks(options, venue, taken_at, forwards)
    for i, row in enumerate(options):
        _fill_one(row, {name: float(model[name][i]) for name in NAMES}, taken_at)


def _fill_one(row: Row, model: Mapping[str, float], taken_at: float) -> None:
    """One option: its disagreements noted, then its missing greeks from the model."""
    reported = row.delta == row.delta
    gaps = [gap for name in NAMES if (gap := _gap(row, name, model[name], taken_at))]
    for name in NAMES:
        if getattr(row, name) != getattr(row, name):
            setattr(row, name, model[name])
    if row.delta != row.delta:
        row.note(_missing(row))
    elif not reported:
        row.greeks_source = "engine"
    if gaps:
        row.note(_disagreement(row, gaps))


def model_greeks(
    rows: Sequence[Row], venue: str, taken_at: float, forwards: Sequence[float] = ()
) -> dict[str, FloatArray]:
    """Black-76 delta, gamma, vega and theta per long unit of each row, in the columns' units
    and the venue's delta convention (NaN where an input is missing), on ``forwards`` where
    known, else on the row's underlying price."""
    price, strike, sigma, call, expiry = (
        np.array([getattr(r, name) for r in rows], dtype=np.float64)
        for name in ("underlying_price", "strike", "mark_iv", "call", "expiry")
    )
    given = np.asarray(forwards, dtype=np.float64) if len(forwards) else np.full(len(rows), np.nan)
    forward = np.where(np.isnan(given), price, given)
    years = np.maximum(expiry - taken_at, 0.0) / YEAR_S
    adjusted = np.array([premium_adjusted(r, venue) for r in rows], dtype=np.bool_)
    return per_unit_greeks(forward, strike, sigma, call, years, adjusted)


def _gap(row: Row, name: str, model: float, taken_at: float) -> str:
    """ "name reported vs model" when the row's reported figure and Black-76's disagree."""
    reported = float(getattr(row, name))
    if reported != reported or model != model:
        return ""
    gap = abs(reported - model)
    if name == "delta":
        beyond = gap > DELTA_TOLERANCE
    elif name == "theta" and row.expiry - taken_at < THETA_COMPARED_FROM_S:
        beyond = False
    else:
        price = row.underlying_price
        floor = GAMMA_FLOOR / price if name == "gamma" else FLOOR_OF_PRICE * price
        beyond = gap > RELATIVE_TOLERANCE * max(abs(reported), abs(model)) and gap > floor
    return f"{name} {reported:.4g} vs {model:.4g} {_UNITS[name]}" if beyond else ""


def _disagreement(row: Row, gaps: Sequence[str]) -> str:
    """The note for a reported figure that Black-76 at the mark IV does not reproduce."""
    return (
        f"{row.greeks_source or 'venue'} greeks per coin differ from Black-76 at mark IV "
        f"{row.mark_iv * 100:.1f}%: {'; '.join(gaps)} (stale figures, another forward or a "
        "unit mismatch)"
    )


def _missing(row: Row) -> str:
    """Which input the option's delta lacked, in a sentence that says what to give."""
    gaps = [
        name
        for name, value in (
            ("underlying price", row.underlying_price),
            ("strike", row.strike),
            ("expiry", row.expiry),
            ("call/put", row.call),
            ("mark IV (greeks)", row.mark_iv),
        )
        if value != value
    ]
    lacking = ", ".join(gaps) or "valid inputs"
    return f"option delta unknown (no venue delta; {lacking} missing): left out of exposure"
