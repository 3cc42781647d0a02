"""A view priced: each account's liquidation equations re-solved at the current marks, every
per-position metric and the accounts' portfolios — what ``analyze`` computes, for many at once.

The equations are ``engine.liquidation``'s (docs/risk.md#liquidation-price-per-venue): a
cross member's outside terms are its formula's at the poll without the other members
(``Block``'s ``eq_const``/``mm_const``) plus, as ``context.others`` sums them, the other
members' uPnL and maintenance at current marks; the solve, the bracket fixed point and the
range checks are ``engine.liquidation.solve`` and ``in_range`` themselves, and the metrics
``engine.analysis.position_metrics``, chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from engine import metrics
from engine.advice import Advice
from engine.analysis import COLUMNS, empty_advice, position_metrics, put_advice
from engine.book.tick import view_legs
from engine.book.totals import Totals, account_totals
from engine.book.view import View
from engine.liquidation import in_range
from engine.liquidation.context import Context, group_sum
from engine.liquidation.legs import Legs, maint_at, upnl_at
from engine.liquidation.solve import solve
from engine.model import Account, Labels, Positions, chunks
from engine.normalise import Snapshot
from engine.normalise.row import build
from engine.probability import TouchModel
from engine.tiers import build_tiers
from engine.types import BoolArray, FloatArray

_NONE = build("book", [])
#: The context's snapshot is read by the formulas' terms only, which the book ran at the poll.
_NO_SNAPSHOT = Snapshot(_NONE, Account("book"), build_tiers(_NONE, None))
#: The ``Positions`` columns a tick changes.
DYNAMIC = ("mark", "venue_upnl", "venue_liq", "settle_usd")


@dataclass(frozen=True, eq=False)
class Priced:
    """Per view row: the engine's price, its notes' masks, every ``Analysis`` column and the
    moved position state; per account and key: the portfolios (``totals``)."""

    price: FloatArray
    formula: np.ndarray
    past: BoolArray
    none: BoolArray
    unsettled: BoolArray
    upnl: FloatArray
    sigma: FloatArray
    columns: dict[str, FloatArray]
    advice: Advice
    state: dict[str, FloatArray]
    #: The accounts' moved figures per key: margin balance, maintenance, reported USD rate.
    slots: dict[str, FloatArray]
    totals: Totals


def price_view(
    view: View, *, horizon_hours: float, target_pct: float, touch_model: TouchModel
) -> Priced:
    """Every figure of every account in ``view`` at the book's current marks."""
    p = view_positions(view)
    legs = view_legs(view, slice(None), p.venue_upnl)
    ctx, equity, maint = _equations(view, p, legs)
    active = view.col("active")
    solution = solve(ctx, equity, maint, active)
    price, past, none, unsettled = in_range(ctx, equity, maint, active, solution)
    upnl = np.where(p.valid, metrics.unrealised_pnl(p), np.nan)
    totals = account_totals(view, p, upnl, metrics.maintenance_margin(p))
    pool_ratio = totals.pool_ratio[view.local("pool", view.col("pool_l"))]
    sigma = view.col("sigma")
    columns, advice = _metrics(
        p, price, upnl, sigma, pool_ratio, horizon_hours, target_pct, touch_model
    )
    return Priced(
        price=price,
        formula=view.col("formula"),
        past=past,
        none=none,
        unsettled=unsettled,
        upnl=upnl,
        sigma=sigma,
        columns=columns,
        advice=advice,
        state={name: np.array(getattr(p, name)) for name in DYNAMIC},
        slots={
            "bal": np.array(view.slot("bal", "value")),
            "mm": np.array(view.slot("mm", "value")),
            "cur": np.array(view.slot("cur", "reported")),
        },
        totals=totals,
    )


def _metrics(
    p: Positions,
    price: FloatArray,
    upnl: FloatArray,
    sigma: FloatArray,
    pool_ratio: FloatArray,
    horizon_hours: float,
    target_pct: float,
    touch_model: TouchModel,
) -> tuple[dict[str, FloatArray], Advice]:
    """``engine.analysis.position_metrics`` chunk by chunk, as ``analyze`` runs it."""
    n = len(price)
    columns = {name: np.empty(n) for name in COLUMNS}
    advice = empty_advice(n, target_pct)
    for part in chunks(n):
        chunk, chunk_advice = position_metrics(
            p.rows(part),
            price[part],
            upnl[part],
            sigma[part],
            pool_ratio[part],
            horizon_hours=horizon_hours,
            target_pct=target_pct,
            touch_model=touch_model,
        )
        for name, values in chunk.items():
            columns[name][part] = values
        put_advice(advice, part, chunk_advice)
    return columns, advice


def view_positions(view: View) -> Positions:
    """The view's rows as ``Positions`` (labels left empty: the metrics read numbers only)."""
    no_labels = Labels((), np.zeros(view.rows, dtype=np.int64))
    columns = {
        f.name: view.col(f.name)
        for f in fields(Positions)
        if f.name
        not in ("venue", "symbol", "underlying", "settle", "pool", "greeks_source", "diagnostics")
    }
    return Positions(
        venue="",
        symbol=no_labels,
        underlying=no_labels,
        settle=no_labels,
        pool=no_labels,
        greeks_source=no_labels,
        diagnostics=(),
        **columns,
    )


def _equations(view: View, p: Positions, legs: Legs) -> tuple[Context, FloatArray, FloatArray]:
    """The context at current marks and each equation's outside terms."""
    hedged = bool(view.store.accounts["hedged"][view.records].any())
    member = view.col("member")
    upnl, maint = upnl_at(legs, p.mark), maint_at(legs, p.mark)
    ctx = Context(
        snapshot=_NO_SNAPSHOT,
        mark=p.mark,
        legs=legs,
        member=member,
        pools=(),
        pool=view.local("pool", view.col("pool_l")),
        group=view.base["row"][view.acc] + view.col("group_l"),
        upnl=upnl,
        maint=maint,
        upnl_ref=upnl,
        maint_ref=maint,
        singletons=not hedged,
    )
    pools = view.size("pool")
    eq_const, mm_const = view.col("eq_const"), view.col("mm_const")
    equity = np.where(member, eq_const + _others(ctx, upnl, pools), eq_const)
    outside = np.where(member, mm_const + _others(ctx, maint, pools), mm_const)
    return ctx, equity, outside


def _others(ctx: Context, values: FloatArray, pools: int) -> FloatArray:
    """``engine.liquidation.context.others`` over many pools: the sum over each member's pool
    outside its group, an unknown value counted as 0."""
    clean = np.where(ctx.member & ~np.isfinite(values), 0.0, values)
    weights = np.where(ctx.member, clean, 0.0)
    total = np.bincount(ctx.pool, weights=weights, minlength=pools)[ctx.pool]
    return np.asarray(total - group_sum(ctx, clean, ctx.member), dtype=np.float64)
