"""``engine.portfolio.build`` for every account of a view at once, per account and per key.

Each account's figures are its ``Portfolio``'s: equity per currency (the margin balance, else
wallet plus the pool's uPnL and isolated wallets), USD rates by ``usd_rates``' sources, gross
and net exposure per underlying, the reported or own maintenance, the account's and each
pool's margin ratio. Sums run per account and per key in row order (``np.bincount``), the
order ``engine.portfolio`` adds them in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import metrics
from engine.book.block import MARK, REPORTED, SETTLE, STABLE
from engine.book.view import View
from engine.model import Positions
from engine.types import FloatArray, IntArray


@dataclass(frozen=True, eq=False)
class Totals:
    """Per account of the view (``account_*``) and per key (``rate`` per currency, ``amount``
    per equity key, ``gross``/``net`` per underlying, ``pool_ratio`` per pool)."""

    equity_usd: FloatArray
    gross_usd: FloatArray
    net_usd: FloatArray
    effective_leverage: FloatArray
    maintenance_usd: FloatArray
    margin_ratio: FloatArray
    rate: FloatArray
    amount: FloatArray
    gross: FloatArray
    net: FloatArray
    pool_ratio: FloatArray


def account_totals(view: View, p: Positions, upnl: FloatArray, maint: FloatArray) -> Totals:
    """The view's accounts' portfolios; ``maint`` is ``metrics.maintenance_margin`` per row."""
    accounts = len(view.records)
    rate = _rates(view, p)
    amount = _equity(view, upnl)
    equity_usd = _usd(view, "eq", amount, rate)
    und = view.local("und", view.col("und_l"))
    usd = metrics.exposure_usd(p)
    usd = np.where(p.valid & ~np.isnan(usd), usd, 0.0)
    gross = _sum(und, np.abs(usd), view.size("und"))
    net = _sum(und, usd, view.size("und"))
    gross_usd = _sum(_owner(view, "und"), gross, accounts)
    maint_usd = _maintenance_usd(view, p, maint, rate)
    return Totals(
        equity_usd=equity_usd,
        gross_usd=gross_usd,
        net_usd=_sum(_owner(view, "und"), net, accounts),
        effective_leverage=ratio(gross_usd, equity_usd),
        maintenance_usd=maint_usd,
        margin_ratio=ratio(maint_usd, equity_usd),
        rate=rate,
        amount=amount,
        gross=gross,
        net=net,
        pool_ratio=_pool_ratios(view, p, maint, amount),
    )


def ratio(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    """``engine.portfolio.ratio_of`` per element: NaN if either is unknown, +inf at or below 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(denominator <= 0, np.inf, numerator / denominator)
    return np.where(np.isnan(numerator) | np.isnan(denominator), np.nan, out)


def _rates(view: View, p: Positions) -> FloatArray:
    """USD per unit of each currency key: 1, the reported rate, a row's mark or settle rate."""
    src = view.slot("cur", "src")
    row = view.slot("cur", "row")
    at = view.base["row"][_owner(view, "cur")] + row
    return np.select(
        [src == STABLE, src == REPORTED, src == MARK, src == SETTLE],
        [
            np.ones(len(src)),
            view.slot("cur", "reported"),
            _take(p.mark, at, row >= 0),
            _take(p.settle_usd, at, row >= 0),
        ],
        np.nan,
    )


def _equity(view: View, upnl: FloatArray) -> FloatArray:
    """Per equity key: the margin balance, or wallet + (pool uPnL + isolated wallets)."""
    owner = _owner(view, "eq")
    local = np.arange(view.size("eq")) - view.base["eq"][owner]
    from_balance = view.store.accounts["from_balance"][view.records][owner]
    balance = view.slot("bal", "value")
    at = view.base["bal"][owner] + local
    rows = view.local("eq", view.col("eq_l"))
    use = rows >= 0
    pnl = _sum(rows[use], _known(upnl[use]), view.size("eq"))
    wallet = view.slot("eq", "wallet") + (pnl + view.slot("eq", "isolated"))
    return np.where(from_balance, _take(balance, at, from_balance), wallet)


def _usd(view: View, space: str, amounts: FloatArray, rate: FloatArray) -> FloatArray:
    """Per account, Σ amount × rate over its keys of ``space`` whose currency has a rate;
    NaN for an account without any key (``usd_total``: equity unknown)."""
    cur = view.slot(space, "cur")
    key_rate = _take(rate, cur + _cur_base(view, space), cur >= 0)
    terms = np.where(np.isnan(key_rate), 0.0, amounts * key_rate)
    total = _sum(_owner(view, space), terms, len(view.records))
    return np.where(view.count[space] > 0, total, np.nan)


def _maintenance_usd(view: View, p: Positions, maint: FloatArray, rate: FloatArray) -> FloatArray:
    """The reported maintenance in USD, else the positions' own (``_maintenance_usd``)."""
    reported = _usd(view, "mm", view.slot("mm", "value"), rate)
    own = _known(np.where(p.valid, maint * p.settle_usd, 0.0))
    own_total = _sum(view.acc, own, len(view.records))
    by_venue = view.store.accounts["reported_maint"][view.records]
    return np.where(by_venue, reported, own_total)


def _pool_ratios(view: View, p: Positions, maint: FloatArray, amount: FloatArray) -> FloatArray:
    """Per pool: the reported maintenance of its key, else its positions' own, over its
    equity key's amount (``_pool_ratios``)."""
    pool = view.local("pool", view.col("pool_l"))
    own = _sum(pool, np.nan_to_num(np.where(p.valid, maint, 0.0)), view.size("pool"))
    reported = _keyed(view, "mm", view.slot("pool", "mm"), view.slot("mm", "value"))
    equity = _keyed(view, "eq", view.slot("pool", "eq"), amount)
    engine = ratio(np.where(np.isnan(reported), own, reported), equity)
    venue = view.slot("pool", "pm")
    return np.where(np.isnan(venue), engine, venue)


def _keyed(view: View, space: str, local: IntArray, values: FloatArray) -> FloatArray:
    """Per pool, the value of its key in ``space`` (NaN where it reads none)."""
    return _take(values, view.base[space][_owner(view, "pool")] + local, local >= 0)


def _take(values: FloatArray, at: IntArray, use: np.ndarray) -> FloatArray:
    """``values[at]`` where ``use``, NaN elsewhere (``at`` is only meaningful where used)."""
    out = np.full(len(at), np.nan)
    out[use] = values[at[use]]
    return out


def _owner(view: View, space: str) -> IntArray:
    """Per record of ``space`` in the view, its account's position."""
    return np.repeat(np.arange(len(view.records), dtype=np.int64), view.count[space])


def _cur_base(view: View, space: str) -> IntArray:
    return view.base["cur"][_owner(view, space)]


def _known(values: FloatArray) -> FloatArray:
    """NaN as 0, as ``np.nansum`` counts it (an infinity stays one)."""
    return np.where(np.isnan(values), 0.0, values)


def _sum(keys: IntArray, weights: FloatArray, size: int) -> FloatArray:
    return np.asarray(np.bincount(keys, weights=weights, minlength=size), dtype=np.float64)
