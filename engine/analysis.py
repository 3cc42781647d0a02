"""The engine's whole view of one account: every metric, computed once, vectorised."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engine import metrics
from engine.advice import DEFAULT_TARGET_PCT, Advice, advise
from engine.liquidation import Liquidation, compute
from engine.model import MarginMode, lookup
from engine.normalise import Snapshot
from engine.portfolio import Portfolio, build
from engine.probability import distance_sigma, hours_to_years, touch_probability
from engine.types import FloatArray

#: Venue and engine liquidation prices further apart than this (percent of mark) are reported.
DISAGREEMENT_PCT = 1.0


@dataclass(frozen=True, eq=False)
class Analysis:
    """Per-position arrays (aligned with ``snapshot.positions``) and the account's portfolio.

    ``liquidation_price`` is what alerts use: the venue's price, else the engine's own.
    ``margin_ratio`` per position is its isolated ratio, or its cross pool's ratio.
    """

    snapshot: Snapshot
    horizon_hours: float
    computed: Liquidation
    liquidation_price: FloatArray
    upnl: FloatArray
    notional: FloatArray
    notional_usd: FloatArray
    leverage: FloatArray
    roe: FloatArray
    maintenance: FloatArray
    margin_ratio: FloatArray
    distance_pct: FloatArray
    #: Venue LP distance minus engine LP distance, in percent of mark (NaN if either is absent).
    disagreement_pct: FloatArray
    sigma: FloatArray
    distance_sigma: FloatArray
    probability: FloatArray
    portfolio: Portfolio
    advice: Advice

    def diagnostics(self, i: int) -> tuple[str, ...]:
        """Normaliser and formula notes for position i, plus venue/engine disagreement."""
        positions = self.snapshot.positions
        notes = [*positions.diagnostics[i], *self.computed.notes[i]]
        gap = self.disagreement_pct[i]
        if abs(gap) > DISAGREEMENT_PCT:
            notes.append(
                f"venue liquidation price {positions.venue_liq[i]:.6g} differs from the engine's "
                f"{self.computed.price[i]:.6g} by {abs(gap):.2f}% of mark: stale data, "
                "multi-asset collateral or a missed tier"
            )
        return tuple(notes)


def analyse(
    snapshot: Snapshot,
    *,
    volatility: Mapping[str, float] | None = None,
    horizon_hours: float = 24.0,
    target_distance_pct: float = DEFAULT_TARGET_PCT,
) -> Analysis:
    """Compute every metric for ``snapshot``; ``volatility`` maps symbol or underlying → σ/yr."""
    positions = snapshot.positions
    valid = positions.valid
    computed = compute(snapshot)
    liq = np.where(np.isnan(positions.venue_liq), computed.price, positions.venue_liq)
    liq = np.where(valid, liq, np.nan)
    upnl = np.where(valid, metrics.unrealised_pnl(positions), np.nan)
    portfolio = build(positions, snapshot.account, upnl)
    sigma = _sigma(snapshot, volatility or {})
    years = hours_to_years(horizon_hours)
    return Analysis(
        snapshot=snapshot,
        horizon_hours=horizon_hours,
        computed=computed,
        liquidation_price=liq,
        upnl=upnl,
        notional=metrics.notional(positions),
        notional_usd=metrics.notional_usd(positions),
        leverage=metrics.leverage(positions),
        roe=metrics.roe(positions, upnl),
        maintenance=metrics.maintenance_margin(positions),
        margin_ratio=_margin_ratio(snapshot, portfolio, upnl),
        distance_pct=metrics.distance_pct(positions.mark, liq),
        sigma=sigma,
        distance_sigma=distance_sigma(positions.mark, liq, sigma, years),
        probability=touch_probability(positions.mark, liq, sigma, years),
        portfolio=portfolio,
        advice=advise(positions, liq, target_pct=target_distance_pct),
        disagreement_pct=metrics.distance_pct(positions.mark, positions.venue_liq)
        - metrics.distance_pct(positions.mark, computed.price),
    )


def _sigma(snapshot: Snapshot, volatility: Mapping[str, float]) -> FloatArray:
    """σ per position, looked up by symbol first, then by underlying (NaN when unknown)."""
    positions = snapshot.positions
    by_symbol = lookup(positions.symbol, volatility)
    return np.where(np.isnan(by_symbol), lookup(positions.underlying, volatility), by_symbol)


def _margin_ratio(snapshot: Snapshot, portfolio: Portfolio, upnl: FloatArray) -> FloatArray:
    positions = snapshot.positions
    pool_ratio = lookup(positions.pool, portfolio.pool_margin_ratio)
    isolated = metrics.isolated_margin_ratio(positions, upnl)
    return np.where(positions.margin_mode == MarginMode.ISOLATED, isolated, pool_ratio)
