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

from engine.alerts.rules import Kind
from engine.analysis import Analysis
from engine.domain import AccountStatus, LinkedAccount
from engine.types import FloatArray

NAN = float("nan")


@dataclass(frozen=True)
class Subject:
    """One thing rules measure: the account (key "") or a position (key "SYMBOL:side")."""

    key: str
    values: Mapping[Kind, float]
    symbol: str | None = None
    base: str | None = None
    side: str | None = None

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
    money = account_values(
        float(portfolio.margin_ratio),
        float(portfolio.effective_leverage),
        float(portfolio.gross_exposure_usd),
    )
    totals = {**_health(AccountStatus.ACTIVE), **money}
    subjects = [Subject("", totals), *_positions(analysis, funding or {})]
    return Observation(
        account, at, AccountStatus.ACTIVE, seen=True, subjects=tuple(subjects), poll=poll
    )


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


def _positions(analysis: Analysis, funding: Mapping[str, float]) -> list[Subject]:
    pos = analysis.snapshot.positions
    columns = position_values(analysis, pos.mark)
    rows = np.flatnonzero(pos.valid)
    table = {kind: column[rows].tolist() for kind, column in columns.items()}
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
        out.append(Subject(key, values, symbol, pos.underlying[i], side))
    return out


def _finite(value: float) -> float:
    return value if math.isfinite(value) else NAN
