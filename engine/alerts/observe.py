"""What the alert rules look at: one account's values, as numbers per subject and kind.

A subject is the account itself (key "") or one position (key "SYMBOL:side"). The per-position
values are sliced from the engine's arrays in one vectorised pass; only the (few) positions of
one account become Python objects, which is what alert rules and messages are about.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from engine.alerts.events import VENUE_PM
from engine.alerts.rules import Kind
from engine.analysis import Analysis
from engine.domain import AccountStatus, LinkedAccount
from engine.model import Account, ContractType, codes
from engine.portfolio import Portfolio, venue_pm_ratios
from engine.types import FloatArray

NAN = float("nan")


@dataclass(frozen=True)
class Subject:
    """One thing rules measure: the account (key ""), a position (key "SYMBOL:side") or an
    underlying (key "BTC": its greeks summed over every position on it)."""

    key: str
    values: Mapping[Kind, float]
    symbol: str | None = None
    base: str | None = None
    side: str | None = None
    #: A position's size in coins of ``base`` (an expiry notice names it).
    size: float | None = None
    #: Kinds whose value is not the engine's own maths: ``events.VENUE_PM`` for the margin
    #: ratio of a portfolio-margin account (the venue's figure, which no mark moves).
    basis: Mapping[Kind, str] = field(default_factory=dict)

    def value(self, kind: Kind) -> float:
        return self.values.get(kind, NAN)


@dataclass(frozen=True)
class Observation:
    """One poll's view of one account, successful or not.

    ``seen`` is False when the poll failed: position values are unknown, so position alerts
    keep their state (the blind/auth rules speak for the account instead).
    """

    account: LinkedAccount
    at: float
    status: AccountStatus
    seen: bool
    subjects: tuple[Subject, ...] = field(default=())
    #: From a poll (True) or a re-pricing at a streamed mark (False): ``for N polls`` counts
    #: polls only, so a burst of ticks never fires such a rule sooner than N polls would.
    poll: bool = True
    #: One subject per underlying held, for the greeks kinds (delta, gamma, vega).
    underlyings: tuple[Subject, ...] = field(default=())

    @property
    def account_subject(self) -> Subject:
        return self.subjects[0]

    @property
    def positions(self) -> tuple[Subject, ...]:
        return self.subjects[1:]


def position_key(symbol: str, side: str) -> str:
    return f"{symbol}:{side}"


def _health(status: AccountStatus) -> dict[Kind, float]:
    return {
        Kind.BLIND: 1.0 if status is AccountStatus.BLIND else 0.0,
        Kind.AUTH: 1.0 if status is AccountStatus.AUTH_FAILED else 0.0,
    }


def observe_failure(account: LinkedAccount, *, at: float, status: AccountStatus) -> Observation:
    """A failed poll: only the account's health is known."""
    return Observation(account, at, status, seen=False, subjects=(Subject("", _health(status)),))


def observe(
    analysis: Analysis,
    account: LinkedAccount,
    *,
    at: float,
    funding: Mapping[str, float] | None = None,
    poll: bool = True,
) -> Observation:
    """A successful poll (or, ``poll=False``, the last poll's positions re-priced at streamed
    marks): the account's totals and every valid position's values."""
    portfolio = analysis.portfolio
    margin, basis = margin_ratio(portfolio, analysis.snapshot.account)
    money = account_values(
        margin, float(portfolio.effective_leverage), float(portfolio.gross_exposure_usd)
    )
    totals = {**_health(AccountStatus.ACTIVE), **money}
    head = Subject("", totals, basis={Kind.MARGIN: basis} if basis else {})
    subjects = [head, *_positions(analysis, funding or {}, at)]
    return Observation(
        account,
        at,
        AccountStatus.ACTIVE,
        seen=True,
        subjects=tuple(subjects),
        poll=poll,
        underlyings=_underlyings(analysis),
    )


def margin_ratio(portfolio: Portfolio, account: Account) -> tuple[float, str]:
    """The margin ratio rules read (a fraction) and its basis.

    On portfolio margin (docs/risk.md#greeks) the venue computes maintenance from its own
    scenarios, which the engine's sum of position margins cannot rebuild: where the venue
    reports a pool's ratio, that is the figure, and the account's is its worst pool's (a pool
    the venue reports none for keeps the engine's pool ratio). ``VENUE_PM`` says so; other
    accounts keep the engine's account-wide maintenance / equity and an empty basis.
    """
    venue = venue_pm_ratios(account)
    if not venue:
        return float(portfolio.margin_ratio), ""
    own = {p: r for p, r in portfolio.pool_margin_ratio.items() if p not in venue and r == r}
    worst_venue, worst_own = max(venue.values()), max(own.values(), default=-math.inf)
    if worst_own > worst_venue:
        return float(worst_own), ""
    return float(worst_venue), VENUE_PM


class Priced(Protocol):
    """The engine's per-position columns rules read (an ``Analysis``, or a re-priced book's
    ``engine.book.Repriced`` for many accounts at once)."""

    @property
    def distance_pct(self) -> FloatArray: ...
    @property
    def probability(self) -> FloatArray: ...
    @property
    def upnl(self) -> FloatArray: ...
    @property
    def roe(self) -> FloatArray: ...
    @property
    def upnl_usd(self) -> FloatArray: ...
    @property
    def notional_usd(self) -> FloatArray: ...


def position_values(priced: Priced, mark: FloatArray) -> dict[Kind, FloatArray]:
    """Every per-position kind as one array, in the kind's unit (one formula for the rules'
    observation and for the streamed marks' screen, ``engine.alerts.screen``)."""
    return {
        Kind.LIQ: priced.distance_pct,
        Kind.PROB: priced.probability * 100.0,
        Kind.PNL: priced.upnl_usd,
        Kind.ROE: priced.roe * 100.0,
        Kind.EXPOSURE: priced.notional_usd,
        Kind.PRICE: mark,
    }


def account_values(
    margin_ratio: float | FloatArray,
    effective_leverage: float | FloatArray,
    gross_exposure_usd: float | FloatArray,
) -> dict[Kind, Any]:
    """The account-level kinds, in their units (one account's floats, or arrays of many)."""
    return {
        Kind.MARGIN: margin_ratio * 100.0,
        Kind.LEVERAGE: effective_leverage,
        Kind.EXPOSURE_ACCOUNT: gross_exposure_usd,
    }


def hours_to_expiry(analysis: Analysis, at: float) -> FloatArray:
    """Per position, hours from ``at`` to its expiry: held options only (a size above 0), NaN
    for an option of unknown expiry, -inf for everything else — an option past its expiry is
    no longer held (the venue settles it), so it leaves the expiry rules' subjects."""
    pos = analysis.snapshot.positions
    held = (pos.kind == ContractType.OPTION) & (np.nan_to_num(pos.qty) > 0)
    with np.errstate(invalid="ignore"):
        hours = (pos.expiry - at) / 3600.0
        hours = np.where(hours > 0, hours, -np.inf)
    return np.where(held, np.where(np.isnan(pos.expiry), np.nan, hours), -np.inf)


def _positions(analysis: Analysis, funding: Mapping[str, float], at: float) -> list[Subject]:
    pos = analysis.snapshot.positions
    columns = position_values(analysis, pos.mark)
    rows = np.flatnonzero(pos.valid)
    table = {kind: column[rows].tolist() for kind, column in columns.items()}
    expiry = hours_to_expiry(analysis, at)[rows].tolist()
    sizes = pos.qty[rows].tolist()
    out: list[Subject] = []
    seen: set[str] = set()
    for j, i in enumerate(rows.tolist()):
        symbol, side = pos.symbol[i], "long" if pos.side[i] > 0 else "short"
        key = position_key(symbol, side)
        if key in seen:  # e.g. an isolated and a cross leg of one market on OKX
            key = f"{key}:{pos.margin_mode[i]}"
        first, n = key, 2
        while key in seen:  # a third leg (sub-positions the venue lists apart): one key each
            key, n = f"{first}:{n}", n + 1
        seen.add(key)
        values = {kind: _finite(table[kind][j]) for kind in table}
        values[Kind.FUNDING] = _finite(funding.get(symbol, NAN) * 100.0)
        if expiry[j] != -math.inf:  # a held option (its expiry may be unknown: NaN)
            values[Kind.EXPIRY] = expiry[j]
        out.append(Subject(key, values, symbol, pos.underlying[i], side, sizes[j]))
    return out


#: The underlying kinds and the ``engine.greeks.PositionGreeks`` figure each one sums.
GREEK_FIGURES = {Kind.DELTA: "delta_usd", Kind.GAMMA: "gamma_usd", Kind.VEGA: "vega_usd"}


def _underlyings(analysis: Analysis) -> tuple[Subject, ...]:
    """One subject per underlying: its net delta, gamma (per 1 % move) and vega in USD, from
    ``Analysis.underlyings``. A figure some position on the underlying lacks (a poll could not
    read the position, or an option without greeks or mark IV) is unknown (NaN), like any
    unknown value: a partial sum could be off either way, so it neither fires nor clears."""
    names, idx = codes(analysis.snapshot.positions.underlying)
    lacking = {
        kind: np.bincount(
            idx, weights=np.isnan(getattr(analysis.greeks, figure)), minlength=len(names)
        )
        for kind, figure in GREEK_FIGURES.items()
    }
    sums = {u.underlying: u for u in analysis.underlyings}
    out = []
    for k, name in enumerate(names):
        found = sums.get(name)
        if not name or found is None:  # no underlying name: nothing a rule could scope to
            continue
        values = {
            kind: NAN if lacking[kind][k] else _finite(getattr(found, figure))
            for kind, figure in GREEK_FIGURES.items()
        }
        out.append(Subject(name, values, name, name))
    return tuple(out)


def _finite(value: float) -> float:
    return value if math.isfinite(value) else NAN
