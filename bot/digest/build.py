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

from bot.digest.cashflows import Cashflow, cashflows
from bot.render import format as fmt
from bot.render.report import report
from engine.analysis import Analysis
from engine.domain import AccountStatus, LinkedAccount
from storage import Database
from storage.alerts import Alerts
from storage.snapshots import Snapshots

DAY_S = 86_400.0
#: How many positions the digest lists as closest to liquidation.
CLOSEST = 5


@dataclass(frozen=True)
class Exposure:
    underlying: str
    long_usd: float
    short_usd: float

    @property
    def net_usd(self) -> float:
        return self.long_usd - self.short_usd


@dataclass(frozen=True)
class Closest:
    """A position near liquidation, with what would make it safe again."""

    account: str
    symbol: str
    side: str
    mark: float | None
    liquidation: float | None
    distance_pct: float
    probability: float | None
    advice: str | None


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
    analyses = [(a, latest[a.id]) for a in accounts if a.id in latest]
    equity = sum(_finite(x.portfolio.equity_usd) for _, x in analyses)
    gross = sum(_finite(x.portfolio.gross_exposure_usd) for _, x in analyses)
    net = sum(_finite(x.portfolio.net_exposure_usd) for _, x in analyses)
    realised, funding = await cashflows(db, accounts, since=at - DAY_S, until=at)
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
        exposure=_exposure([x for _, x in analyses]),
        closest=_closest(analyses),
        alerts=await _alerts(db, ids, since=at - DAY_S),
        blind=tuple(
            a.label
            for a in accounts
            if a.status in (AccountStatus.BLIND, AccountStatus.AUTH_FAILED)
        ),
        history=tuple(history),
        realised=realised,
        funding=funding,
    )


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0


def _exposure(analyses: Sequence[Analysis]) -> tuple[Exposure, ...]:
    long: dict[str, float] = {}
    short: dict[str, float] = {}
    for analysis in analyses:
        p = analysis.portfolio
        for name, g, n in zip(
            p.underlyings, p.gross_by_underlying, p.net_by_underlying, strict=True
        ):
            if math.isfinite(g) and math.isfinite(n):
                long[name] = long.get(name, 0.0) + (g + n) / 2
                short[name] = short.get(name, 0.0) + (g - n) / 2
    rows = [Exposure(k, long[k], short[k]) for k in long]
    return tuple(sorted(rows, key=lambda e: -(e.long_usd + e.short_usd)))


def _closest(analyses: Sequence[tuple[LinkedAccount, Analysis]]) -> tuple[Closest, ...]:
    found: list[Closest] = []
    for account, analysis in analyses:
        for p in report(analysis, account.venue)["positions"]:
            distance = p["distance_to_liquidation_pct"]
            if distance is None:
                continue
            advice = p.get("advice")
            found.append(
                Closest(
                    account=account.label,
                    symbol=p["symbol"],
                    side=p["side"] or "?",
                    mark=p["mark_price"],
                    liquidation=p["liquidation_price"],
                    distance_pct=float(distance),
                    probability=p["liquidation_probability"],
                    advice=_advice(advice) if advice else None,
                )
            )
    return tuple(sorted(found, key=lambda c: c.distance_pct)[:CLOSEST])


def _advice(advice: dict[str, object]) -> str:
    margin = advice.get("margin_to_add")
    fraction = advice.get("reduce_fraction")
    target = advice.get("target_distance_pct")
    return (
        f"add {fmt.money(margin if isinstance(margin, float) else None)} "
        f"{advice.get('margin_currency')} or cut "
        f"{fmt.pct(fraction * 100 if isinstance(fraction, float) else None)} to reach "
        f"{fmt.pct(target if isinstance(target, float) else None)}"
    )


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
