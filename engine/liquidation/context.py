"""Shared inputs of the formulas: legs, pool and group keys, cross totals of the other positions.

A formula describes position i's liquidation by two numbers besides its legs (see ``legs``):
``equity_out``, the equity that does not move with i's price (wallet, or margin balance without
the moving legs' uPnL, plus the uPnL of the pool's other positions), and ``maint_out``, the
maintenance that does not move with it (the pool's other positions). The moving legs are the
position itself, or in cross margin every leg of its symbol in its pool (a symbol has one mark:
Binance's hedge-mode LONG and SHORT legs share one liquidation price).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from engine.liquidation.legs import LegPlan, Legs, maint_at, upnl_at
from engine.liquidation.notes import Notes
from engine.model import MarginMode, codes
from engine.normalise import Snapshot
from engine.normalise.fields import pool_amount
from engine.types import BoolArray, FloatArray, IntArray

Terms = tuple[FloatArray, FloatArray]

#: Base-tier taker fee of perpetual swaps (OKX, BitMEX), when the account's fee tier is not known.
DEFAULT_TAKER_FEE = 0.0005


def taker_fee(snapshot: Snapshot, mask: BoolArray, notes: Notes) -> FloatArray:
    """The position's taker fee, or the default with a note (the estimate depends on it)."""
    fee = snapshot.positions.taker_fee
    notes.add(mask & np.isnan(fee), f"taker fee unknown: assumed {DEFAULT_TAKER_FEE:.2%}")
    return np.where(np.isnan(fee), DEFAULT_TAKER_FEE, fee)


@dataclass(frozen=True, eq=False)
class Context:
    """Everything a formula's terms read, evaluated at the marks in force (``mark``)."""

    snapshot: Snapshot
    mark: FloatArray
    legs: Legs
    #: Counted in its pool's cross totals: a readable cross-margin position.
    member: BoolArray
    pools: tuple[str, ...]
    pool: IntArray
    #: Legs that move together: (pool, symbol) for cross members, the position alone otherwise.
    group: IntArray
    upnl: FloatArray
    maint: FloatArray
    #: uPnL and maintenance at the snapshot's own marks (what the venue's totals reflect).
    upnl_ref: FloatArray
    maint_ref: FloatArray
    #: Every group is one position (one-way mode): a group's sum is the position's own value.
    singletons: bool = False

    def take(self, rows: IntArray) -> Context:
        """The positions at ``rows`` (copies); like ``rows``, for ``singletons`` contexts."""
        return replace(
            self,
            mark=self.mark[rows],
            legs=self.legs.take(rows),
            member=self.member[rows],
            pool=self.pool[rows],
            group=self.group[rows],
            upnl=self.upnl[rows],
            maint=self.maint[rows],
            upnl_ref=self.upnl_ref[rows],
            maint_ref=self.maint_ref[rows],
        )

    def rows(self, part: slice) -> Context:
        """The positions in ``part`` (views), for chunked per-position work. Group ids keep
        their account-wide values, so only ``singletons`` contexts may be split."""
        return replace(
            self,
            mark=self.mark[part],
            legs=self.legs.take(part),
            member=self.member[part],
            pool=self.pool[part],
            group=self.group[part],
            upnl=self.upnl[part],
            maint=self.maint[part],
            upnl_ref=self.upnl_ref[part],
            maint_ref=self.maint_ref[part],
        )


@dataclass(frozen=True)
class Rule:
    """A formula as two steps: plan its legs' brackets, then give its outside terms."""

    legs: Callable[[Snapshot, FloatArray, BoolArray, LegPlan, Notes], None]
    terms: Callable[[Context, BoolArray, Notes], Terms]


def venue_brackets(
    snapshot: Snapshot, entry: FloatArray, mask: BoolArray, plan: LegPlan, notes: Notes
) -> None:
    """Leg plan of formulas that use the venue's maintenance brackets as they are."""


def build_context(snapshot: Snapshot, mark: FloatArray, legs: Legs) -> Context:
    """Keys and at-mark totals for ``snapshot`` with its marks replaced by ``mark``."""
    p = snapshot.positions
    member = p.valid & (p.margin_mode == MarginMode.CROSS)
    pools, pool = codes(p.pool)
    symbols, symbol = codes(p.symbol)
    upnl, maint = upnl_at(legs, mark), maint_at(legs, mark)
    same = mark is p.mark
    group, singletons = _groups(member, pool, symbol, len(symbols))
    return Context(
        snapshot=snapshot,
        mark=mark,
        legs=legs,
        member=member,
        pools=pools,
        pool=pool,
        group=group,
        upnl=upnl,
        maint=maint,
        upnl_ref=upnl if same else upnl_at(legs, p.mark),
        maint_ref=maint if same else maint_at(legs, p.mark),
        singletons=singletons,
    )


def _groups(
    member: BoolArray, pool: IntArray, symbol: IntArray, symbols: int
) -> tuple[IntArray, bool]:
    """Group ids, and whether every group is one position: cross members sharing (pool, symbol)
    share one; everyone else is alone.

    Usually no two members share a key (one-way mode) and each position is its own group,
    which needs no sort; hedge pairs take the general path.
    """
    n = len(member)
    key = pool * symbols + symbol
    if not np.any(np.bincount(key[member]) > 1):
        return np.arange(n, dtype=np.int64), True
    key = np.where(member, key, (int(pool.max(initial=0)) + 1) * symbols + np.arange(n))
    inverse = np.unique(key, return_inverse=True)[1]
    return np.asarray(inverse, dtype=np.int64).reshape(n), False


def weighted_count(keys: IntArray, weights: FloatArray, size: int) -> FloatArray:
    """``np.bincount`` with weights, typed: the sum of ``weights`` per key in ``0..size-1``."""
    return np.asarray(np.bincount(keys, weights=weights, minlength=size), dtype=np.float64)


def group_sum(ctx: Context, values: FloatArray, mask: BoolArray) -> FloatArray:
    """Per position, the sum of ``values`` over the masked legs of its group."""
    weights = np.where(mask, values, 0.0)
    if ctx.singletons:
        # A one-position group's sum is its own value; adding 0.0 turns -0.0 into the 0.0 that
        # bincount's sum from zero gives, so both paths agree to the bit.
        weights += 0.0
        return weights
    return weighted_count(ctx.group, weights, len(values))[ctx.group]


def pool_total(ctx: Context, values: FloatArray) -> FloatArray:
    """Per position, the sum of ``values`` over its pool's cross members."""
    weights = np.where(ctx.member, values, 0.0)
    return weighted_count(ctx.pool, weights, len(ctx.pools))[ctx.pool]


def others(
    ctx: Context, values: FloatArray, notes: Notes, mask: BoolArray, what: str
) -> FloatArray:
    """Per position, the sum over the pool's cross members outside its group (TMM1, UPNL1).

    A member whose value is unknown counts as 0, with a note on the positions it affects,
    rather than hiding the whole pool.
    """
    unknown = ctx.member & ~np.isfinite(values)
    if not unknown.any():
        # The usual case: nothing to clean and nobody to warn, so skip four full-size passes.
        return pool_total(ctx, values) - group_sum(ctx, values, ctx.member)
    clean = np.where(unknown, 0.0, values)
    outside = pool_total(ctx, clean) - group_sum(ctx, clean, ctx.member)
    hidden = pool_total(ctx, unknown.astype(np.float64)) - group_sum(
        ctx, unknown.astype(np.float64), ctx.member
    )
    notes.add(mask & (hidden > 0), f"another cross position's {what} is unknown: counted as 0")
    return outside


def pool_figure(ctx: Context, figures: Mapping[str, float]) -> FloatArray:
    """Per position, an account figure of its pool; stablecoin pools fall back to ``"USD"``.

    The "USD" key holds a venue's multi-asset total (Binance Multi-Assets mode). A coin pool
    never falls back to it: the units would be wrong.
    """
    per_pool = np.array([pool_amount(figures, name) for name in ctx.pools], dtype=np.float64)
    return per_pool[ctx.pool] if len(per_pool) else np.zeros(0)


def isolated_terms(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """Isolated: the position's own wallet (without uPnL) and nothing else."""
    wallet = ctx.snapshot.positions.isolated_wallet
    notes.add(mask & np.isnan(wallet), "isolated position without its isolated wallet (margin)")
    return wallet.copy(), np.zeros(len(wallet))


def cross_wallet_terms(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """Cross, from the wallet: ``WB + UPNL1`` and ``TMM1`` (Binance FAQ notation)."""
    wallet = pool_figure(ctx, ctx.snapshot.account.wallet_balance)
    notes.add(
        mask & np.isnan(wallet),
        "cross position: needs the account's cross wallet balance, not in the balance",
    )
    upnl1 = others(ctx, ctx.upnl, notes, mask, "unrealised PnL")
    tmm1 = others(ctx, ctx.maint, notes, mask, "maintenance margin")
    return wallet + upnl1, tmm1


def cross_equity_terms(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """Cross, from the margin balance: the pool's equity without its moving legs' uPnL.

    ``margin balance − Σ pool uPnL (at the snapshot marks) + Σ others' uPnL (at ``mark``)``, so a
    shocked mark re-prices the other positions; the wallet balance stands in when the venue
    gave no margin balance (wallet + uPnL is the margin balance).
    """
    account = ctx.snapshot.account
    balance = pool_figure(ctx, account.margin_balance)
    wallet_like = balance - pool_total(ctx, np.nan_to_num(ctx.upnl_ref))
    wallet_like = np.where(np.isnan(balance), pool_figure(ctx, account.wallet_balance), wallet_like)
    notes.add(
        mask & np.isnan(wallet_like),
        "cross position: needs the pool's margin balance or wallet balance, not in the balance",
    )
    upnl1 = others(ctx, ctx.upnl, notes, mask, "unrealised PnL")
    tmm1 = others(ctx, ctx.maint, notes, mask, "maintenance margin")
    return wallet_like + upnl1, tmm1
