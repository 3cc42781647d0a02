"""A snapshot as it would read at new marks: what a streamed mark moves, and what it cannot."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from engine.liquidation import planned_legs
from engine.liquidation.legs import Legs, maint_at, upnl_at
from engine.liquidation.notes import Notes
from engine.model import ContractType, Labels, MarginMode, Positions, codes, lookup
from engine.normalise import Snapshot
from engine.normalise.fields import STABLECOINS, split_symbol
from engine.types import BoolArray, FloatArray, IntArray

#: Venues whose reader stores a margin balance (and maintenance) that counts every position of
#: the asset, isolated ones too: Binance's asset ``marginBalance = walletBalance +
#: unrealizedProfit`` and ``maintMargin`` (fapi/dapi ``account``). Their formulas read the cross
#: wallet, never the margin balance, so only the account's equity and ratio see it. Elsewhere
#: the balance the engine reads is the pool's cross equity (OKX ``eq − isoEq``, Hyperliquid
#: ``crossMarginSummary``, what ``cross_equity_terms`` takes it for): an isolated position's PnL
#: stays with the position (its wallet plus its own uPnL, which ``analyze`` re-prices).
ISOLATED_IN_BALANCE = frozenset({"binance", "binanceusdm", "binancecoinm"})


def with_marks(snapshot: Snapshot, marks: Mapping[str, float]) -> Snapshot:
    """``snapshot`` as it would read if each symbol in ``marks`` (unified symbol → mark) were
    at that mark, with nothing invented: every field that moves is moved by the venue's own
    arithmetic, every field that cannot be known without a poll stays as polled.

    A position **moves** when it is readable (``valid``), its symbol is in ``marks`` with a
    positive finite mark, and that mark differs from its own; nothing else moves, so
    ``with_marks(s, {})`` and ``with_marks(s, <the poll's own marks>)`` return ``s`` itself.

    What moves (docs/risk.md#notation for units):

    - ``mark`` of each moved position.
    - ``venue_upnl`` of each moved position that had one: ``s·Q·(MP − EP)`` (linear, quote) or
      ``s·Q·(1/EP − 1/MP)`` (inverse, coin) from its entry; without an entry, shifted by the
      same formula between the old and the new mark (the entry the venue's figure implies,
      ``engine.liquidation.legs.effective_entry``); an option by ``s·Q·ΔMP``, its premium's
      move. An option whose own symbol did not move keeps the venue's figure (the engine does
      not re-price options from their underlying).
    - ``Account.margin_balance`` and ``maintenance_margin`` of each pool (the key
      ``engine.normalise.fields.pool_amount`` reads, "USD" for a multi-asset total): by the
      change of uPnL and of maintenance (at the formula's brackets, ``legs``) of the positions
      the balance counts, the pool's cross positions (and, on ``ISOLATED_IN_BALANCE`` venues,
      the isolated ones). So each cross formula's outside terms (``WB``, ``margin balance −
      pool uPnL``, Hyperliquid's maintenance beyond our legs) stay what the poll gave, and the
      engine's re-solve equals ``compute(snapshot, mark=…)``.
    - ``venue_liq`` is **dropped** (NaN) for every cross position of a pool with a moved
      position: it depends on the other positions' marks, and the engine re-solves it
      (docs/risk.md#venue-vs-engine). Bybit cross positions, which have no formula
      (docs/risk.md#bybit-cross), then have no price until the next poll. An isolated
      position's venue price is **kept**: it depends on entry, margin and maintenance, not on
      the mark (docs/risk.md#none-sentinels).
    - A coin's USD value where a moved contract prices it (linear or inverse, not an option,
      quoted in a stablecoin; the first such position in row order): ``settle_usd`` of the
      positions settled in that coin (where it was known) and the venue-reported
      ``Account.usd_rate`` of that coin (Bybit ``usdValue/equity``, OKX ``eqUsd/eq``). A coin
      without a reported rate follows its positions' marks (``engine.portfolio.usd_rates``).

    What stays as polled: sizes, entries, isolated wallets, leverage, the maintenance rate
    and amount of the poll's bracket (advice holds them too, docs/risk.md#advice), the venue's
    per-position maintenance and initial margin (the engine reads the former only for
    options), wallet balances, tiers, diagnostics. A position the poll could not read stays
    unread. Limitation: on BitMEX and Bybit, whose balances also count isolated PnL, the
    account's equity does not follow the isolated positions between polls.

    The bot calls it per account on each tick with the venue's new marks, then ``analyze``
    with the poll's σ and horizon; a next tick starts from the returned snapshot, a poll
    replaces it. ``engine.book.Book`` does the same for many accounts at once.
    """
    p = snapshot.positions
    new = lookup(p.symbol, marks)
    with np.errstate(invalid="ignore"):
        moved = p.valid & np.isfinite(new) & (new > 0) & (new != p.mark)
    if not moved.any():
        return snapshot
    mark = np.where(moved, new, p.mark)
    upnl = moved_upnl(p.side, p.qty, p.kind, p.entry, p.mark, mark, p.venue_upnl)
    venue_upnl = np.where(moved, upnl, p.venue_upnl)
    _formula, _used, legs = planned_legs(snapshot, Notes(len(p)))
    d_upnl, d_maint = changes(legs, p.mark, mark, venue_upnl)
    counted = balance_counts(p)
    coin = _coin_marks(p, mark, moved)
    positions = replace(
        p,
        mark=mark,
        venue_upnl=venue_upnl,
        venue_liq=np.where(_pools_moved(p, moved), np.nan, p.venue_liq),
        settle_usd=_settle_usd(p, coin),
    )
    account = snapshot.account
    account = replace(
        account,
        margin_balance=_moved_by(account.margin_balance, p.pool, d_upnl, counted),
        maintenance_margin=_moved_by(account.maintenance_margin, p.pool, d_maint, counted),
        usd_rate={c: coin.get(c, r) if is_coin(c) else r for c, r in account.usd_rate.items()},
    )
    return Snapshot(positions, account, snapshot.tiers, snapshot.taken_at)


def moved_upnl(
    side: FloatArray,
    qty: FloatArray,
    kind: IntArray,
    entry: FloatArray,
    old: FloatArray,
    new: FloatArray,
    venue_upnl: FloatArray,
) -> FloatArray:
    """The venue's uPnL of positions moved from ``old`` to ``new`` (NaN where it had none):
    from the entry (linear, inverse), else shifted by the move (no entry, or an option)."""
    s, q = side, qty
    inverse = kind == ContractType.INVERSE
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.where(inverse, s * q * (1.0 / entry - 1.0 / new), s * q * (new - entry))
        shift = np.where(inverse, s * q * (1.0 / old - 1.0 / new), s * q * (new - old))
    from_entry = (kind != ContractType.OPTION) & np.isfinite(entry)
    recomputed = np.where(from_entry, own, venue_upnl + shift)
    return np.where(np.isnan(venue_upnl), venue_upnl, recomputed)


def changes(
    legs: Legs, old: FloatArray, new: FloatArray, venue_upnl: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per position, the change of uPnL and maintenance as the formulas count them (an unknown
    value counts as 0, as ``cross_equity_terms`` does), 0.0 exactly where nothing moved;
    ``venue_upnl`` is the moved one (an option's uPnL is the venue's)."""
    moved_legs = replace(legs, frozen_upnl=np.nan_to_num(venue_upnl))
    d_upnl = np.nan_to_num(upnl_at(moved_legs, new)) - np.nan_to_num(upnl_at(legs, old))
    d_maint = np.nan_to_num(maint_at(legs, new)) - np.nan_to_num(maint_at(legs, old))
    return d_upnl, d_maint


def balance_counts(p: Positions) -> BoolArray:
    """Positions whose uPnL and maintenance the pool's reported balance counts: readable cross
    positions, and on ``ISOLATED_IN_BALANCE`` venues the readable isolated ones too."""
    if p.venue in ISOLATED_IN_BALANCE:
        return p.valid.copy()
    return np.asarray(p.valid & (p.margin_mode == MarginMode.CROSS))


def balance_key(figures: Mapping[str, float], pool: str) -> str | None:
    """The key of ``figures`` a pool's amount is read from (``pool_amount``'s rule), if any."""
    if pool in figures:
        return pool
    if pool in STABLECOINS and "USD" in figures:
        return "USD"
    return None


def _moved_by(
    figures: Mapping[str, float], pool: Labels, delta: FloatArray, counted: BoolArray
) -> dict[str, float]:
    """``figures`` with each key moved by the sum of ``delta`` over the counted positions whose
    pool reads it (summed per key in position order, so a book summing the same rows agrees)."""
    out = dict(figures)
    keys = list(out)
    by_pool = np.array(
        [-1 if (hit := balance_key(out, name)) is None else keys.index(hit) for name in pool.names],
        dtype=np.int64,
    )
    key = by_pool[pool.code] if len(by_pool) else np.zeros(0, dtype=np.int64)
    use = counted & (key >= 0)
    sums = np.bincount(key[use], weights=delta[use], minlength=len(keys))
    for k, name in enumerate(keys):
        out[name] = out[name] + float(sums[k])
    return out


def _pools_moved(p: Positions, moved: BoolArray) -> BoolArray:
    """Cross positions whose pool holds a moved cross position (their price depends on it)."""
    cross = p.margin_mode == MarginMode.CROSS
    names, code = codes(p.pool)
    hit = np.bincount(code[moved & cross], minlength=len(names)) > 0
    return np.asarray(cross & hit[code])


def usd_quoted(symbols: tuple[str, ...]) -> BoolArray:
    """Per symbol, whether its quote is a stablecoin: a future or swap on it prices its base
    coin in USD (an option's mark is a premium, so the caller leaves options out)."""
    return np.array([split_symbol(s)[1] in STABLECOINS for s in symbols], dtype=np.bool_)


def is_coin(currency: str) -> bool:
    """Not a stablecoin: its USD value moves with a mark."""
    return currency not in STABLECOINS


def _coin_marks(p: Positions, mark: FloatArray, moved: BoolArray) -> dict[str, float]:
    """Coin → its new USD mark, from the first moved position (row order) that prices it."""
    names, code = codes(p.symbol)
    pricing = moved & usd_quoted(names)[code] & (p.kind != ContractType.OPTION)
    coins, coin = codes(p.underlying)
    first = np.full(len(coins), np.nan)
    rows: IntArray = np.flatnonzero(pricing)[::-1]
    # Reversed assignment leaves the first pricing row of each coin in place.
    first[coin[rows]] = mark[rows]
    return {c: float(v) for c, v in zip(coins, first, strict=True) if not math.isnan(v)}


def _settle_usd(p: Positions, coin: Mapping[str, float]) -> FloatArray:
    """USD per unit of each position's settle coin, moved where the coin's mark is known."""
    names, code = codes(p.settle)
    price = np.array([coin.get(n, math.nan) if is_coin(n) else math.nan for n in names])
    new = price[code] if len(price) else np.zeros(0)
    return np.where(np.isfinite(p.settle_usd) & ~np.isnan(new), new, p.settle_usd)
