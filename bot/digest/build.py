"""The exposure digest: where a set of accounts stands now and how it got there (24 h, 7 d).

Computed once here from the monitor's latest analyses, the stored snapshots and the alert log;
each platform only renders it (text, and charts from the same figures).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.digest.cashflows import AccountDay, Cashflow, cashflows, per_account
from bot.digest.figures import AccountLine, account_line, is_stale, usd_rates
from bot.digest.greeks import NetGreeks, net_greeks
from bot.digest.open_alerts import OpenAlert, open_alerts
from bot.digest.stored import last_snapshots, stored_view
from bot.render.views import AccountView, AdviceView, PositionView, account_view
from engine.alerts.rules import Kind, RuleSpec, Severity
from engine.analysis import Analysis
from engine.domain import AccountStatus, LinkedAccount
from storage import Database
from storage.alerts import Alerts
from storage.freshness import last_good
from storage.rules import Rules
from storage.snapshots import Snapshots

DAY_S = 86_400.0
#: How many positions the digest lists as closest to liquidation.
CLOSEST = 5


@dataclass(frozen=True)
class Exposure:
    underlying: str
    long_usd: float
    short_usd: float
    #: The part of long + short that comes from accounts whose figures are stale.
    stale_usd: float = 0.0

    @property
    def net_usd(self) -> float:
        return self.long_usd - self.short_usd


@dataclass(frozen=True)
class Closest:
    """A position near liquidation, with what would make it safe again and how loud the
    account's own liquidation-distance rules are about it (None: no rule breached)."""

    account: str
    symbol: str
    side: str
    mark: float | None
    liquidation: float | None
    distance_pct: float
    probability: float | None  # within horizon_hours
    advice: AdviceView | None
    horizon_hours: float
    severity: Severity | None
    #: The account's figures are old (its venue is failing): when they were read.
    stale_as_of: float | None = None


@dataclass(frozen=True)
class AlertStats:
    """Alerts that fired in the window and how fast people acknowledged them."""

    fired: int
    acknowledged: int
    unacknowledged: int
    median_ack_s: float | None


@dataclass(frozen=True)
class Point:
    """The accounts' summed equity and effective leverage at one moment (for the chart)."""

    at: float
    equity_usd: float
    leverage: float


@dataclass(frozen=True)
class Digest:
    at: float
    accounts: tuple[str, ...]
    equity_usd: float
    equity_24h_ago: float | None
    equity_7d_ago: float | None
    leverage: float
    leverage_24h_ago: float | None
    gross_usd: float
    net_usd: float
    exposure: tuple[Exposure, ...]
    closest: tuple[Closest, ...]
    alerts: AlertStats
    blind: tuple[str, ...]
    history: tuple[Point, ...]
    realised: Cashflow
    funding: Cashflow
    fees: Cashflow
    #: The thresholds (% from liquidation) of the accounts' enabled liquidation-distance rules.
    levels: tuple[float, ...] = ()
    #: One line per account, in the order given.
    lines: tuple[AccountLine, ...] = ()
    #: Each account's flows over the day (only the kinds read whole).
    days: tuple[AccountDay, ...] = ()
    #: USD per unit of each settle currency (dollars 1, coins from the accounts' positions).
    rates: tuple[tuple[str, float], ...] = ()
    open_alerts: tuple[OpenAlert, ...] = ()
    #: Net delta and vega per underlying and their change in 24 h (only with options held).
    greeks: tuple[NetGreeks, ...] = ()

    @property
    def stale(self) -> tuple[AccountLine, ...]:
        """Accounts whose old figures are in the totals."""
        return tuple(line for line in self.lines if line.stale)

    @property
    def empty(self) -> bool:
        return not self.accounts


async def build(
    db: Database,
    accounts: Sequence[LinkedAccount],
    latest: Mapping[int, Analysis],
    *,
    now: float | None = None,
    history_days: float = 30.0,
) -> Digest:
    """The digest of these accounts (the caller decided who may see them)."""
    at = time.time() if now is None else now
    ids = [a.id for a in accounts]
    history = await _history(db, ids, since=at - history_days * DAY_S, until=at + 1)
    good = await last_good(db, ids)
    views = await _views(db, accounts, latest, good)
    stale = {a.id: good.get(a.id) for a, _ in views if is_stale(a, good.get(a.id), at)}
    rates = usd_rates(v for _, v in views)
    by_id = {a.id: v for a, v in views}
    rules = await _liq_rules(db, accounts)
    equity, gross, net = _totals([v for _, v in views])
    realised, funding, fees = await cashflows(db, accounts, since=at - DAY_S, until=at)
    return Digest(
        at=at,
        accounts=tuple(a.label for a in accounts),
        equity_usd=equity,
        equity_24h_ago=_at(history, at - DAY_S, "equity"),
        equity_7d_ago=_at(history, at - 7 * DAY_S, "equity"),
        leverage=gross / equity if equity > 0 else math.nan,
        leverage_24h_ago=_at(history, at - DAY_S, "leverage"),
        gross_usd=gross,
        net_usd=net,
        exposure=_exposure([(v, a.id in stale) for a, v in views]),
        closest=_closest(views, rules, stale),
        alerts=await _alerts(db, ids, since=at - DAY_S),
        blind=tuple(
            a.label
            for a in accounts
            if a.status in (AccountStatus.BLIND, AccountStatus.AUTH_FAILED)
        ),
        history=tuple(history),
        realised=realised,
        funding=funding,
        fees=fees,
        levels=tuple(sorted({spec.threshold for specs in rules.values() for spec in specs})),
        lines=tuple(
            account_line(a, by_id.get(a.id), as_of=good.get(a.id), now=at, rates=rates)
            for a in accounts
        ),
        days=tuple(await per_account(db, accounts, since=at - DAY_S, until=at)),
        rates=tuple(sorted(rates.items())),
        open_alerts=await open_alerts(db, accounts),
        greeks=await net_greeks(db, accounts, [v for _, v in views], at=at),
    )


async def _views(
    db: Database,
    accounts: Sequence[LinkedAccount],
    latest: Mapping[int, Analysis],
    good: dict[int, float],
) -> list[tuple[LinkedAccount, AccountView]]:
    """Each account's figures: the book's, else (a restart, its venue failing since) its last
    stored snapshot's, whose time then replaces its last good poll in ``good``."""
    views = [(a, account_view(latest[a.id], a.venue)) for a in accounts if a.id in latest]
    horizon = views[0][1].horizon_hours if views else 24.0
    missing = [a for a in accounts if a.id not in latest]
    stored = await last_snapshots(db, missing)
    for account in missing:
        if account.id in stored:
            snap = stored[account.id]
            views.append((account, stored_view(snap, account.venue, horizon_hours=horizon)))
            good[account.id] = snap.taken_at
    order = {a.id: n for n, a in enumerate(accounts)}
    return sorted(views, key=lambda pair: order[pair[0].id])


def _totals(views: Sequence[AccountView]) -> tuple[float, float, float]:
    """Equity, gross and net exposure in USD over the accounts (an unknown one counts 0)."""
    return (
        sum(v.equity_usd or 0.0 for v in views),
        sum(v.gross_exposure_usd or 0.0 for v in views),
        sum(v.net_exposure_usd or 0.0 for v in views),
    )


def _exposure(views: Sequence[tuple[AccountView, bool]]) -> tuple[Exposure, ...]:
    """Long and short USD per underlying over every account (gross ± net, halved), and how
    much of it is from stale accounts (each view comes with whether it is stale)."""
    long: dict[str, float] = {}
    short: dict[str, float] = {}
    old: dict[str, float] = {}
    for view, stale in views:
        for e in view.exposure:
            if e.gross_usd is not None and e.net_usd is not None:
                name = e.underlying
                long[name] = long.get(name, 0.0) + (e.gross_usd + e.net_usd) / 2
                short[name] = short.get(name, 0.0) + (e.gross_usd - e.net_usd) / 2
                old[name] = old.get(name, 0.0) + (e.gross_usd if stale else 0.0)
    rows = [Exposure(k, long[k], short[k], old[k]) for k in long]
    return tuple(sorted(rows, key=lambda e: -(e.long_usd + e.short_usd)))


def _closest(
    views: Sequence[tuple[LinkedAccount, AccountView]],
    rules: Mapping[int, Sequence[RuleSpec]],
    stale: Mapping[int, float | None],
) -> tuple[Closest, ...]:
    """The ``CLOSEST`` positions nearest liquidation over every account."""
    found: list[Closest] = []
    for account, view in views:
        for p in view.positions:
            if p.distance_pct is None:
                continue
            found.append(
                Closest(
                    account=account.label,
                    symbol=p.symbol,
                    side=p.side or "?",
                    mark=p.mark_price,
                    liquidation=p.liquidation_price,
                    distance_pct=p.distance_pct,
                    probability=p.probability,
                    advice=p.advice,
                    horizon_hours=view.horizon_hours,
                    severity=_severity(rules.get(account.id, ()), p, p.distance_pct),
                    # 0.0: stale with no known read time (still drawn and said as stale)
                    stale_as_of=(stale[account.id] or 0.0) if account.id in stale else None,
                )
            )
    return tuple(sorted(found, key=lambda c: c.distance_pct)[:CLOSEST])


async def _liq_rules(
    db: Database, accounts: Sequence[LinkedAccount]
) -> dict[int, tuple[RuleSpec, ...]]:
    """Per account, the enabled liquidation-distance rules that cover it (read per owner)."""
    owned = {}
    for owner in dict.fromkeys(a.owner_id for a in accounts):
        found = await Rules(db).list_for(owner)
        owned[owner] = [r for r in found if r.enabled and r.kind is Kind.LIQ]
    return {
        a.id: tuple(r.spec for r in owned[a.owner_id] if r.account_id in (None, a.id))
        for a in accounts
    }


def _severity(specs: Sequence[RuleSpec], p: PositionView, distance: float) -> Severity | None:
    """The loudest of these rules the position's distance breaches (as the evaluator matches
    symbols: the full symbol or its underlying; no symbols means every position)."""
    breached = [
        spec.severity
        for spec in specs
        if spec.breached(distance) and spec.covers(p.symbol, p.underlying)
    ]
    return max(breached, key=lambda s: s.rank, default=None)


async def _history(db: Database, ids: Sequence[int], *, since: float, until: float) -> list[Point]:
    """Summed equity and leverage per hour: each account's last snapshot of that hour."""
    hours: dict[int, list[tuple[float, float, float]]] = {}
    for row in await Snapshots(db).hourly(ids, since=since, until=until):
        if row.equity_usd is None:
            continue
        gross = row.gross_exposure_usd or 0.0
        hours.setdefault(row.hour, []).append((row.taken_at, row.equity_usd, gross))
    points = []
    for hour in sorted(hours):
        entries = hours[hour]
        equity = sum(e for _, e, _ in entries)
        gross = sum(g for _, _, g in entries)
        at = max(a for a, _, _ in entries)
        points.append(Point(at, equity, gross / equity if equity > 0 else math.nan))
    return points


def _at(history: Sequence[Point], when: float, field: str) -> float | None:
    """The value at the last point at or before ``when`` (None if history starts later)."""
    before = [p for p in history if p.at <= when]
    if not before:
        return None
    value = before[-1].equity_usd if field == "equity" else before[-1].leverage
    return value if math.isfinite(value) else None


async def _alerts(db: Database, ids: Sequence[int], *, since: float) -> AlertStats:
    fired = await Alerts(db).fired_since(ids, since)
    acked = [acked_at - fired_at for fired_at, acked_at in fired if acked_at is not None]
    return AlertStats(
        fired=len(fired),
        acknowledged=len(acked),
        unacknowledged=len(fired) - len(acked),
        median_ack_s=statistics.median(acked) if acked else None,
    )
