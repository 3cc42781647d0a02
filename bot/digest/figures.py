"""One line per account for the digest: its figures, how old they are, and USD prices.

A blind account (its venue failing) keeps its last good figures in the book: they still
count in the totals (dropping them would understate the risk), but each one is marked with
when it was read, and the digest says at the top that its totals hold stale figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.render.views import AccountView, PositionView
from engine.domain import AccountStatus, LinkedAccount

#: Figures older than this count as stale even while the account is not (yet) blind: the
#: slowest poll band reads every 5 min, so 15 min is three reads missed.
STALE_AFTER_S = 900.0
#: Settle currencies worth one US dollar for the digest's USD totals. A depeg of a few
#: basis points does not matter at the digest's rounding; anything else is priced from the
#: accounts' own positions (``usd_rates``) or left out of the USD total by name.
DOLLARS = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "USDE"})


@dataclass(frozen=True)
class Nearest:
    """An account's position closest to liquidation."""

    symbol: str
    side: str
    distance_pct: float


@dataclass(frozen=True)
class AccountLine:
    """One account as the digest shows it; figures are None where unknown."""

    label: str
    venue: str
    status: AccountStatus
    #: Whether the book holds figures for it at all (a paused account, or a blind one since a
    #: restart, has none).
    has_figures: bool
    equity_usd: float | None
    leverage: float | None
    upnl_usd: float | None
    margin_ratio: float | None
    nearest: Nearest | None
    #: When its figures were last read whole (None: never).
    as_of: float | None
    stale: bool


def is_stale(account: LinkedAccount, as_of: float | None, now: float) -> bool:
    """Its venue is failing (blind, key rejected) or its last good read is old: older than
    ``STALE_AFTER_S``, or three of its own poll intervals where it is polled more rarely."""
    if account.status in (AccountStatus.BLIND, AccountStatus.AUTH_FAILED):
        return True
    every_s = account.poll_every_s or account.poll_s or 0.0
    return as_of is not None and now - as_of > max(STALE_AFTER_S, 3 * every_s)


def account_line(
    account: LinkedAccount,
    view: AccountView | None,
    *,
    as_of: float | None,
    now: float,
    rates: Mapping[str, float],
) -> AccountLine:
    nearest = None if view is None else _nearest(view.positions)
    return AccountLine(
        label=account.label,
        venue=account.venue,
        status=account.status,
        has_figures=view is not None,
        equity_usd=None if view is None else view.equity_usd,
        leverage=None if view is None else view.effective_leverage,
        upnl_usd=None if view is None else upnl_usd(view.positions, rates),
        margin_ratio=None if view is None else view.margin_ratio,
        nearest=nearest,
        as_of=as_of,
        stale=view is not None and is_stale(account, as_of, now),
    )


def _nearest(positions: Iterable[PositionView]) -> Nearest | None:
    known = [p for p in positions if p.distance_pct is not None]
    if not known:
        return None
    p = min(known, key=lambda q: q.distance_pct or 0.0)
    return Nearest(p.symbol, p.side or "?", p.distance_pct or 0.0)


def usd_rates(views: Iterable[AccountView]) -> dict[str, float]:
    """USD per unit of each settle currency: 1 for dollars, else what the accounts' own
    positions imply (notional in USD over notional in the settle coin: the engine prices a
    coin-margined contract at its index/mark)."""
    rates = dict.fromkeys(DOLLARS, 1.0)
    for view in views:
        for p in view.positions:
            usd, settle = p.notional_usd, p.notional_settle
            if p.settle in rates or usd is None or settle is None or settle == 0:
                continue
            if p.contract_type == "option":  # its notional is the underlying's, not a rate
                continue
            rate = abs(usd / settle)
            if math.isfinite(rate) and rate > 0:
                rates[p.settle] = rate
    return rates


def upnl_usd(positions: Iterable[PositionView], rates: Mapping[str, float]) -> float | None:
    """Unrealised PnL in USD over positions: the engine's USD figure, else the settle amount
    at ``rates`` (None when a position's is unknown or unpriced)."""
    total = 0.0
    for p in positions:
        if p.unrealized_pnl_usd is not None:
            total += p.unrealized_pnl_usd
            continue
        rate = rates.get(p.settle)
        if p.unrealized_pnl_settle is None or rate is None:
            return None
        total += p.unrealized_pnl_settle * rate
    return total


def in_usd(
    amounts: Iterable[tuple[str, float]], rates: Mapping[str, float]
) -> tuple[float, tuple[str, ...]]:
    """The sum in USD of (currency, amount) pairs, and the currencies with no price."""
    total, unpriced = 0.0, list[str]()
    for currency, value in amounts:
        rate = rates.get(currency)
        if rate is None:
            unpriced.append(currency)
        else:
            total += value * rate
    return total, tuple(dict.fromkeys(unpriced))
