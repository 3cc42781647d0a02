"""Account-level view: equity, exposure per underlying, effective leverage, account margin ratio."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine import metrics
from engine.model import Account, ContractType, MarginMode, Positions, codes
from engine.normalise.fields import STABLECOINS, pool_amount
from engine.types import FloatArray


@dataclass(frozen=True, eq=False)
class Portfolio:
    """Totals in USD; per-underlying arrays align with ``underlyings``.

    ``margin_ratio`` is maintenance / equity over the whole account (0 safe, 1 liquidation);
    ``pool_margin_ratio`` the same per cross-margin pool, which is what cross positions share.
    """

    equity_usd: float
    equity_by_currency: Mapping[str, float]
    gross_exposure_usd: float
    net_exposure_usd: float
    underlyings: tuple[str, ...]
    gross_by_underlying: FloatArray
    net_by_underlying: FloatArray
    effective_leverage: float
    maintenance_usd: float
    margin_ratio: float
    pool_margin_ratio: Mapping[str, float]
    usd_rate: Mapping[str, float]
    diagnostics: tuple[str, ...]


def usd_rates(positions: Positions, account: Account) -> dict[str, float]:
    """USD per unit of every currency seen: stablecoins 1, the venue's rate, then a coin at a
    future's or swap's mark (never an option's: its mark is a premium), then at a position's
    settle rate (an index)."""
    seen = (*account.margin_balance, *positions.settle.names)
    rates = {c: 1.0 for c in seen if c in STABLECOINS}
    rates.update(account.usd_rate)
    pairs = (
        (positions.underlying, underlying_marks(positions)),
        (positions.settle, positions.settle_usd),
    )
    for labels, prices in pairs:
        names, idx = codes(labels)
        known = ~np.isnan(prices)
        first = np.full(len(names), np.nan)
        # Reversed assignment leaves the first known price of each label in place.
        first[idx[known][::-1]] = prices[known][::-1]
        for name, price in zip(names, first, strict=True):
            if name not in rates and price == price:
                rates[name] = float(price)
    return rates


def underlying_marks(positions: Positions) -> FloatArray:
    """Each position's mark as a USD price of its underlying; NaN for options, whose mark is a
    premium (Deribit's 0.03 BTC once priced BTC at 0.03 USD)."""
    option = positions.kind == ContractType.OPTION
    return np.where(option, np.nan, positions.mark)


def exposure(positions: Positions) -> tuple[tuple[str, ...], FloatArray, FloatArray]:
    """(underlyings, gross USD, net USD) per underlying; invalid positions and options of
    unknown delta count as zero. An option counts its delta equivalent."""
    names, idx = codes(positions.underlying)
    usd = metrics.exposure_usd(positions)
    usd = np.where(positions.valid & ~np.isnan(usd), usd, 0.0)
    gross = np.bincount(idx, weights=np.abs(usd), minlength=len(names))
    net = np.bincount(idx, weights=usd, minlength=len(names))
    return names, gross.astype(np.float64), net.astype(np.float64)


def pool_equity(positions: Positions, account: Account, upnl: FloatArray) -> dict[str, float]:
    """Equity per currency: the venue's margin balance, else wallet + uPnL of what it backs."""
    if account.margin_balance:
        return dict(account.margin_balance)
    isolated = positions.margin_mode == MarginMode.ISOLATED
    out: dict[str, float] = {}
    for pool, wallet in account.wallet_balance.items():
        in_pool = positions.pool.equals(pool)
        extra = np.nansum(np.where(in_pool, upnl, 0.0))
        extra += np.nansum(np.where(in_pool & isolated, positions.isolated_wallet, 0.0))
        out[pool] = wallet + float(extra)
    return out


def build(positions: Positions, account: Account, upnl: FloatArray) -> Portfolio:
    """The account's portfolio figures from its normalised positions and balance."""
    notes = list(account.diagnostics)
    rates = usd_rates(positions, account)
    equity_ccy = pool_equity(positions, account, upnl)
    equity_usd = usd_total(account.summed(equity_ccy), rates, notes)
    names, gross, net = exposure(positions)
    maint_usd = _maintenance_usd(positions, account, rates, notes)
    gross_total = float(gross.sum())
    return Portfolio(
        equity_usd=equity_usd,
        equity_by_currency=equity_ccy,
        gross_exposure_usd=gross_total,
        net_exposure_usd=float(net.sum()),
        underlyings=names,
        gross_by_underlying=gross,
        net_by_underlying=net,
        effective_leverage=ratio_of(gross_total, equity_usd),
        maintenance_usd=maint_usd,
        margin_ratio=ratio_of(maint_usd, equity_usd),
        pool_margin_ratio=_pool_ratios(positions, account, equity_ccy),
        usd_rate=rates,
        diagnostics=tuple(notes),
    )


def usd_total(amounts: Mapping[str, float], rates: Mapping[str, float], notes: list[str]) -> float:
    """Σ amount × USD rate; a currency without a rate is left out with a note."""
    if not amounts:
        notes.append("equity unknown: the snapshot has no balance")
        return math.nan
    total = 0.0
    for currency, amount in amounts.items():
        rate = rates.get(currency, math.nan)
        if rate != rate:
            notes.append(f"no USD price for {currency}: its balance is left out of equity")
            continue
        total += amount * rate
    return total


def _maintenance_usd(
    positions: Positions, account: Account, rates: Mapping[str, float], notes: list[str]
) -> float:
    """The venue's account maintenance when reported, else the sum of the positions' own."""
    if account.maintenance_margin:
        return usd_total(account.summed(account.maintenance_margin), rates, notes)
    own = metrics.maintenance_margin(positions) * positions.settle_usd
    return float(np.nansum(np.where(positions.valid, own, 0.0)))


def _pool_ratios(
    positions: Positions, account: Account, equity: Mapping[str, float]
) -> dict[str, float]:
    names, idx = codes(positions.pool)
    own = np.where(positions.valid, metrics.maintenance_margin(positions), 0.0)
    summed = np.bincount(idx, weights=np.nan_to_num(own), minlength=len(names))
    out: dict[str, float] = {}
    venue = venue_pm_ratios(account)
    for pool, maint in zip(names, summed, strict=True):
        reported = pool_amount(account.maintenance_margin, pool)
        own_or_reported = float(maint) if math.isnan(reported) else reported
        out[pool] = ratio_of(own_or_reported, pool_amount(equity, pool))
        # A stablecoin pool of a multi-asset "USD" portfolio-margin pool reads its ratio.
        on_pm = pool_amount(venue, pool)
        if on_pm == on_pm:
            out[pool] = on_pm
    return out


def venue_pm_ratios(account: Account) -> dict[str, float]:
    """The venue's own maintenance / equity ratio of each portfolio-margin pool that reports
    one: a portfolio-margin requirement comes from the venue's scenario risk, which the sum
    of positions' maintenance cannot rebuild (docs/risk.md#greeks)."""
    return {
        pool: float(ratio)
        for pool, ratio in account.venue_margin_ratio.items()
        if pool in account.portfolio_margin and ratio == ratio
    }


def ratio_of(numerator: float, denominator: float) -> float:
    """numerator / denominator; NaN when either is unknown, +inf when equity is at or below 0."""
    if denominator != denominator or numerator != numerator:
        return math.nan
    if denominator <= 0:
        return math.inf
    return numerator / denominator
