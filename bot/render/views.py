"""Typed views of the engine's analysis: what every reply, table and report is rendered from.

Built once from an ``Analysis`` (or a ``Stress``). Every number is a finite float or None
(unknown), and a field's name carries its unit: ``_usd`` US dollars, ``_price`` quote currency
per unit, ``_pct`` percent, ``_settle`` the position's settle currency (``settle``); ratios,
probabilities and fractions are plain fractions (1 = 100 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import SupportsFloat

import numpy as np

from bot.render.greeks_view import (
    OptionTermsView,
    PositionGreeksView,
    UnderlyingGreeksView,
    option_terms_view,
    position_greeks_view,
    underlyings_view,
)
from engine.analysis import Analysis
from engine.model import FORMULAS, ContractType, Formula, MarginMode
from engine.stress import Stress


def finite(value: SupportsFloat) -> float | None:
    """A float, or None for NaN and the infinities (unknown: JSON has neither)."""
    out = float(value)
    return out if math.isfinite(out) else None


@dataclass(frozen=True)
class AdviceView:
    """What restores ``target_distance_pct``: add margin, or cut size (either is enough)."""

    target_distance_pct: float
    target_liquidation_price: float | None
    margin_to_add: float | None  # in margin_currency
    margin_currency: str
    reduce_contracts: float | None
    reduce_fraction: float | None  # of the position's size


@dataclass(frozen=True)
class PositionView:
    """One position as the engine sees it; ``liquidation_price`` is what alerts use."""

    symbol: str
    underlying: str
    side: str | None  # "long" | "short"; None when the venue data does not say
    contracts: float | None
    notional_settle: float | None
    entry_price: float | None
    mark_price: float | None
    leverage: float | None
    margin_mode: str
    unrealized_pnl_settle: float | None
    exchange_liquidation_price: float | None
    computed_liquidation_price: float | None
    liquidation_price: float | None
    liquidation_formula: str | None
    distance_pct: float | None
    probability: float | None  # of touching the liquidation price within the horizon
    diagnostics: tuple[str, ...]
    contract_type: str
    settle: str
    notional_usd: float | None
    roe_pct: float | None
    margin_ratio: float | None
    distance_sigma: float | None
    volatility: float | None  # annualised σ
    advice: AdviceView | None
    #: Signed USD exposure to the underlying (an option's delta equivalent).
    exposure_usd: float | None = None
    #: Options: the delta of one long unit the exposure used (the venue's or Black-76).
    delta: float | None = None
    #: Unrealised PnL in USD (the engine's rate: an option's settle rate, not its notional's).
    unrealized_pnl_usd: float | None = None
    #: Greeks in account units (docs/risk.md#greeks); None where not computed.
    greeks: PositionGreeksView | None = None
    #: An option's terms; None for every other position.
    option: OptionTermsView | None = None

    @property
    def computed_only(self) -> bool:
        """The liquidation price is the engine's own: the venue reported none."""
        return (
            self.exchange_liquidation_price is None and self.computed_liquidation_price is not None
        )


@dataclass(frozen=True)
class ExposureView:
    """One underlying's exposure over every position on it."""

    underlying: str
    gross_usd: float | None
    net_usd: float | None


@dataclass(frozen=True)
class AccountView:
    """One account: its figures in USD and its positions, as analyzed over ``horizon_hours``."""

    exchange: str
    horizon_hours: float
    equity_usd: float | None
    equity_by_currency: tuple[tuple[str, float | None], ...]
    gross_exposure_usd: float | None
    net_exposure_usd: float | None
    exposure: tuple[ExposureView, ...]
    effective_leverage: float | None
    maintenance_usd: float | None
    margin_ratio: float | None
    diagnostics: tuple[str, ...]
    positions: tuple[PositionView, ...]
    #: When the venue reported the snapshot, POSIX seconds (None: unknown).
    taken_at: float | None = None
    #: Greeks summed per underlying (docs/risk.md#greeks).
    greeks: tuple[UnderlyingGreeksView, ...] = ()

    def closest(self, limit: int | None = None) -> tuple[PositionView, ...]:
        """Positions with a known distance, nearest to liquidation first (ties keep order)."""
        known = [p for p in self.positions if p.distance_pct is not None]
        return tuple(sorted(known, key=lambda p: p.distance_pct or 0.0)[:limit])


@dataclass(frozen=True)
class LiquidatedView:
    """A position a shock liquidates, at the shocked mark and its re-solved price."""

    symbol: str
    side: str  # "long" | "short"
    shocked_mark_price: float | None
    liquidation_price: float | None


@dataclass(frozen=True)
class StressView:
    """What a price shock does to one account."""

    shock_pct: float
    underlying: str  # "all" when every underlying moves
    pnl_usd: float | None
    equity_before_usd: float | None
    equity_after_usd: float | None
    liquidated: tuple[LiquidatedView, ...]


def _side(value: float) -> str | None:
    return "long" if value > 0 else "short" if value < 0 else None


def account_view(analysis: Analysis, exchange: str) -> AccountView:
    """The account and every position of ``analysis``."""
    p = analysis.portfolio
    exposure = zip(p.underlyings, p.gross_by_underlying, p.net_by_underlying, strict=True)
    return AccountView(
        exchange=exchange,
        horizon_hours=analysis.horizon_hours,
        equity_usd=finite(p.equity_usd),
        equity_by_currency=tuple((k, finite(v)) for k, v in p.equity_by_currency.items()),
        gross_exposure_usd=finite(p.gross_exposure_usd),
        net_exposure_usd=finite(p.net_exposure_usd),
        exposure=tuple(ExposureView(name, finite(g), finite(n)) for name, g, n in exposure),
        effective_leverage=finite(p.effective_leverage),
        maintenance_usd=finite(p.maintenance_usd),
        margin_ratio=finite(p.margin_ratio),
        diagnostics=tuple(p.diagnostics),
        positions=tuple(
            position_view(analysis, i) for i in range(len(analysis.snapshot.positions))
        ),
        taken_at=finite(analysis.snapshot.taken_at),
        greeks=underlyings_view(analysis),
    )


def position_view(analysis: Analysis, i: int) -> PositionView:
    """Position ``i`` of ``analysis``."""
    pos = analysis.snapshot.positions
    formula = FORMULAS[int(analysis.computed.formula[i])]
    return PositionView(
        symbol=pos.symbol[i],
        underlying=pos.underlying[i],
        side=_side(pos.side[i]),
        contracts=finite(pos.contracts[i]),
        notional_settle=finite(analysis.notional[i]),
        entry_price=finite(pos.entry[i]),
        mark_price=finite(pos.mark[i]),
        leverage=finite(analysis.leverage[i]),
        margin_mode=MarginMode(int(pos.margin_mode[i])).name.lower(),
        unrealized_pnl_settle=finite(analysis.upnl[i]),
        exchange_liquidation_price=finite(pos.venue_liq[i]),
        computed_liquidation_price=finite(analysis.computed.price[i]),
        liquidation_price=finite(analysis.liquidation_price[i]),
        liquidation_formula=None if formula == Formula.NONE else formula.value,
        distance_pct=finite(analysis.distance_pct[i]),
        probability=finite(analysis.probability[i]),
        diagnostics=tuple(analysis.diagnostics(i)),
        contract_type=ContractType(int(pos.kind[i])).name.lower(),
        settle=pos.settle[i],
        notional_usd=finite(analysis.notional_usd[i]),
        roe_pct=finite(analysis.roe[i] * 100.0),
        margin_ratio=finite(analysis.margin_ratio[i]),
        distance_sigma=finite(analysis.distance_sigma[i]),
        volatility=finite(analysis.sigma[i]),
        advice=_advice(analysis, i),
        exposure_usd=finite(analysis.exposure_usd[i]),
        delta=finite(pos.delta[i]),
        unrealized_pnl_usd=finite(analysis.upnl_usd[i]),
        greeks=position_greeks_view(analysis, i),
        option=option_terms_view(analysis, i),
    )


def _advice(analysis: Analysis, i: int) -> AdviceView | None:
    advice = analysis.advice
    if not advice.needed[i]:
        return None
    pos = analysis.snapshot.positions
    return AdviceView(
        target_distance_pct=advice.target_pct,
        target_liquidation_price=finite(advice.target_price[i]),
        margin_to_add=finite(advice.margin_to_add[i]),
        margin_currency=pos.settle[i],
        reduce_contracts=finite(advice.reduce_qty[i] / pos.contract_size[i]),
        reduce_fraction=finite(advice.reduce_fraction[i]),
    )


def stress_view(stress: Stress, analysis: Analysis) -> StressView:
    """The shock's outcome for the account ``analysis`` describes."""
    pos = analysis.snapshot.positions
    return StressView(
        shock_pct=stress.shock_pct,
        underlying=stress.underlying or "all",
        pnl_usd=finite(stress.pnl_usd),
        equity_before_usd=finite(stress.equity_usd_before),
        equity_after_usd=finite(stress.equity_usd_after),
        liquidated=tuple(
            LiquidatedView(
                symbol=pos.symbol[i],
                side="long" if pos.side[i] > 0 else "short",
                shocked_mark_price=finite(stress.mark[i]),
                liquidation_price=finite(stress.liquidation_price[i]),
            )
            for i in (int(j) for j in np.flatnonzero(stress.liquidated))
        ),
    )
