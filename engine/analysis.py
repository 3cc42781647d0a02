"""The engine's whole view of one account: every metric, computed once, vectorised."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from engine import metrics
from engine.advice import DEFAULT_TARGET_PCT, Advice, advise
from engine.greeks import PositionGreeks, UnderlyingGreeks, account_greeks, account_notes
from engine.liquidation import Liquidation, compute
from engine.model import ContractType, MarginMode, Positions, chunks, lookup
from engine.normalise import Snapshot
from engine.portfolio import Portfolio, build
from engine.probability import DEFAULT_TOUCH_MODEL, TouchModel, distance_and_touch, hours_to_years
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
    #: Signed USD exposure to the underlying: s·notional_usd, an option's delta equivalent.
    exposure_usd: FloatArray
    #: Unrealised PnL in USD: at the settle rate for options (their notional is the
    #: underlying's, not the premium's), at notional_usd / notional for the rest.
    upnl_usd: FloatArray
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
    #: Greeks per position and summed per underlying (docs/risk.md#greeks).
    greeks: PositionGreeks
    underlyings: tuple[UnderlyingGreeks, ...]
    #: How ``probability`` was modelled (docs/risk.md#probability).
    touch_model: TouchModel = DEFAULT_TOUCH_MODEL

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


def analyze(
    snapshot: Snapshot,
    *,
    volatility: Mapping[str, float] | None = None,
    horizon_hours: float = 24.0,
    target_distance_pct: float = DEFAULT_TARGET_PCT,
    touch_model: TouchModel = DEFAULT_TOUCH_MODEL,
) -> Analysis:
    """Compute every metric for ``snapshot``; ``volatility`` maps symbol or underlying → σ/yr.

    The account-wide steps (liquidation, portfolio) run first; the per-position metrics then
    run in chunks (see ``engine.model.chunks``) so a large book's temporaries stay in cache.
    """
    positions = snapshot.positions
    computed = compute(snapshot)
    upnl = np.where(positions.valid, metrics.unrealised_pnl(positions), np.nan)
    portfolio = build(positions, snapshot.account, upnl)
    sigma = position_sigma(snapshot, volatility or {})
    pool_ratio = lookup(positions.pool, portfolio.pool_margin_ratio)
    n = len(positions)
    out = {name: np.empty(n) for name in COLUMNS}
    advice = empty_advice(n, target_distance_pct)
    for part in chunks(n):
        columns, chunk_advice = position_metrics(
            positions.rows(part),
            computed.price[part],
            upnl[part],
            sigma[part],
            pool_ratio[part],
            horizon_hours=horizon_hours,
            target_pct=target_distance_pct,
            touch_model=touch_model,
        )
        for name, values in columns.items():
            out[name][part] = values
        put_advice(advice, part, chunk_advice)
    greeks, underlyings = account_greeks(positions)
    notes = account_notes(positions, greeks, snapshot.account)
    portfolio = replace(portfolio, diagnostics=(*portfolio.diagnostics, *notes))
    return Analysis(
        snapshot=snapshot,
        horizon_hours=horizon_hours,
        computed=computed,
        upnl=upnl,
        sigma=sigma,
        portfolio=portfolio,
        advice=advice,
        greeks=greeks,
        underlyings=underlyings,
        touch_model=touch_model,
        **out,
    )


#: Per-position ``Analysis`` fields computed chunk by chunk in ``position_metrics``.
COLUMNS = (
    "liquidation_price",
    "notional",
    "notional_usd",
    "exposure_usd",
    "upnl_usd",
    "leverage",
    "roe",
    "maintenance",
    "margin_ratio",
    "distance_pct",
    "disagreement_pct",
    "distance_sigma",
    "probability",
)


def position_metrics(
    positions: Positions,
    computed: FloatArray,
    upnl: FloatArray,
    sigma: FloatArray,
    pool_ratio: FloatArray,
    *,
    horizon_hours: float,
    target_pct: float,
    touch_model: TouchModel = DEFAULT_TOUCH_MODEL,
) -> tuple[dict[str, FloatArray], Advice]:
    """Every ``COLUMNS`` metric and the advice for one chunk of positions."""
    mark = positions.mark
    liq = np.where(np.isnan(positions.venue_liq), computed, positions.venue_liq)
    # A priced isolated position without a mark keeps its price; its distance stays NaN.
    liq = np.where(positions.priceable, liq, np.nan)
    years = float(hours_to_years(horizon_hours))
    in_sigma, probability = distance_and_touch(mark, liq, sigma, years, touch_model)
    isolated = positions.margin_mode == MarginMode.ISOLATED
    value = metrics.notional(positions)
    initial = metrics.initial_margin(positions, value=value)
    maintenance = metrics.maintenance_margin(positions, value=value)
    own_ratio = metrics.isolated_margin_ratio(positions, upnl, maintenance=maintenance)
    value_usd = metrics.notional_usd(positions)
    columns = {
        "liquidation_price": liq,
        "notional": value,
        "notional_usd": value_usd,
        "exposure_usd": metrics.exposure_usd(positions, value_usd=value_usd),
        "upnl_usd": upnl * _usd_rate(positions, value, value_usd),
        "leverage": metrics.leverage(positions, value=value, initial=initial),
        "roe": metrics.roe(positions, upnl, initial=initial),
        "maintenance": maintenance,
        "margin_ratio": np.where(isolated, own_ratio, pool_ratio),
        "distance_pct": metrics.distance_pct(mark, liq),
        "disagreement_pct": metrics.distance_pct(mark, positions.venue_liq)
        - metrics.distance_pct(mark, computed),
        "distance_sigma": in_sigma,
        # An unreadable position's risk is unknown, not zero ("no liquidation" is 0).
        "probability": np.where(positions.valid, probability, np.nan),
    }
    return columns, advise(positions, liq, target_pct=target_pct)


def _usd_rate(positions: Positions, value: FloatArray, value_usd: FloatArray) -> FloatArray:
    """USD per unit of a position's settle currency as its own metrics imply it."""
    with np.errstate(divide="ignore", invalid="ignore"):
        implied = value_usd / value
    option = positions.kind == ContractType.OPTION
    return np.where(option, positions.settle_usd, implied)


def empty_advice(n: int, target_pct: float) -> Advice:
    """Advice arrays of ``n`` positions to be filled chunk by chunk."""
    return Advice(
        target_pct=target_pct,
        needed=np.empty(n, dtype=np.bool_),
        target_price=np.empty(n),
        margin_to_add=np.empty(n),
        reduce_qty=np.empty(n),
        reduce_fraction=np.empty(n),
    )


def put_advice(advice: Advice, part: slice, chunk: Advice) -> None:
    """Copy one chunk's advice into ``advice`` at ``part``."""
    for name in ("needed", "target_price", "margin_to_add", "reduce_qty", "reduce_fraction"):
        getattr(advice, name)[part] = getattr(chunk, name)


def position_sigma(snapshot: Snapshot, volatility: Mapping[str, float]) -> FloatArray:
    """σ per position, looked up by symbol first, then by underlying (NaN when unknown)."""
    positions = snapshot.positions
    by_symbol = lookup(positions.symbol, volatility)
    return np.where(np.isnan(by_symbol), lookup(positions.underlying, volatility), by_symbol)
