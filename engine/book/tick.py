"""A tick's marks written into the book: ``engine.reprice.with_marks`` for many accounts at once.

Each step is ``with_marks``'s own, element by element, with the per-account sums taken over
the view's accounts by their local key ids (a sum per key in row order, as ``with_marks``
takes it), so every account reads what ``with_marks`` of its snapshot would give.
"""

from __future__ import annotations

import numpy as np

from engine.book.view import View
from engine.liquidation.legs import Legs
from engine.model import ContractType
from engine.reprice import changes, moved_upnl
from engine.types import BoolArray, FloatArray, IntArray


def apply_marks(view: View, new: FloatArray) -> BoolArray:
    """Move the view's positions to ``new`` (per view row, NaN for none); which ones moved."""
    mark = view.col("mark")
    with np.errstate(invalid="ignore"):
        moved = np.asarray(view.col("valid") & np.isfinite(new) & (new > 0) & (new != mark))
    rows = np.flatnonzero(moved)
    if not len(rows):
        return moved
    old, now = mark[rows], new[rows]
    venue_upnl = view.col("venue_upnl")
    side, qty, kind, entry = (view.col(c)[rows] for c in ("side", "qty", "kind", "entry"))
    moved_pnl = moved_upnl(side, qty, kind, entry, old, now, venue_upnl[rows])
    d_upnl, d_maint = changes(view_legs(view, rows, venue_upnl[rows]), old, now, moved_pnl)
    _add_to("bal", "bal_l", view, rows, d_upnl)
    _add_to("mm", "mm_l", view, rows, d_maint)
    if view.col("cross")[rows].any():
        view.write("venue_liq", np.where(_pools_moved(view, moved), np.nan, view.col("venue_liq")))
    _coin_values(view, rows, now)
    view.write("venue_upnl", _put(venue_upnl, rows, moved_pnl))
    view.write("mark", _put(mark, rows, now))
    return moved


def _coin_values(view: View, rows: IntArray, now: FloatArray) -> None:
    """Settle-coin values and reported coin rates at the moved contracts' marks (most books
    move stablecoin-settled contracts of accounts that report no coin rate: nothing to do)."""
    settle_coin, moves = view.col("settle_coin"), view.slot("cur", "moves")
    if not (settle_coin.any() or moves.any()) or not view.col("pricing")[rows].any():
        return
    coin = _coin_marks(view, rows, now)
    view.write("settle_usd", _settle_usd(view, coin))
    reported = view.slot("cur", "reported")
    moved = moves & ~np.isnan(coin)
    view.store.space["cur"]["reported"][view.index["cur"]] = np.where(moved, coin, reported)


def view_legs(view: View, rows: IntArray | slice, venue_upnl: FloatArray) -> Legs:
    """The legs of the view's ``rows`` as their formulas planned them at the poll."""
    kind = view.col("kind")[rows]
    return Legs(
        side=view.col("side")[rows],
        qty=view.col("qty")[rows],
        entry=view.col("leg_entry")[rows],
        inverse=kind == ContractType.INVERSE,
        option=kind == ContractType.OPTION,
        tiers=view.store.tables.tiers(view.col("table_g")[rows]),
        fixed=view.col("leg_fixed")[rows],
        frozen_upnl=np.nan_to_num(venue_upnl),
    )


def _put(values: FloatArray, rows: IntArray, new: FloatArray) -> FloatArray:
    out = values.copy()
    out[rows] = new
    return out


def _add_to(space: str, key: str, view: View, rows: IntArray, delta: FloatArray) -> None:
    """Each balance key of the view moved by the sum of its counted moved positions' change."""
    local = view.local(space, view.col(key))[rows]
    use = view.col("counted")[rows] & (local >= 0)
    sums = np.bincount(local[use], weights=delta[use], minlength=view.size(space))
    index = view.index[space]
    view.store.space[space]["value"][index] = view.slot(space, "value") + sums


def _pools_moved(view: View, moved: BoolArray) -> BoolArray:
    """Cross positions of a pool holding a moved cross position."""
    cross = view.col("cross")
    pool = view.local("pool", view.col("pool_l"))
    hit = np.bincount(pool[moved & cross], minlength=view.size("pool")) > 0
    out: BoolArray = cross & hit[pool]
    return out


def _coin_marks(view: View, rows: IntArray, now: FloatArray) -> FloatArray:
    """Per currency key of the view, the new mark of the first moved position pricing it."""
    coin = np.full(view.size("cur"), np.nan)
    pricing = view.col("pricing")[rows]
    slots = view.local("cur", view.col("cur_und"))[rows][pricing][::-1]
    # Reversed assignment leaves the first pricing row of each coin in place.
    coin[slots] = now[pricing][::-1]
    return coin


def _settle_usd(view: View, coin: FloatArray) -> FloatArray:
    new = coin[view.local("cur", view.col("cur_set"))]
    settle_usd = view.col("settle_usd")
    return np.where(view.col("settle_coin") & ~np.isnan(new), new, settle_usd)
