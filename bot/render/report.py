"""The engine's view of one account as plain data: the `liqwatch analyze --json` contract."""

from __future__ import annotations

from typing import Any

from bot.render.greeks_report import GREEKS_UNITS, greeks_report, position_greeks_report
from bot.render.views import (
    AccountView,
    AdviceView,
    PositionView,
    StressView,
    account_view,
    stress_view,
)
from engine.analysis import Analysis
from engine.stress import Stress

#: Named once so every consumer knows which way the ratio points.
MARGIN_RATIO_CONVENTION = "maintenance margin / margin balance (0 = safe, 1 = liquidation)"


def report(analysis: Analysis, exchange: str) -> dict[str, Any]:
    """The whole `--json` document."""
    return document(account_view(analysis, exchange))


def document(view: AccountView) -> dict[str, Any]:
    """The `--json` document of an account view (the contract's keys, in the contract's order)."""
    return {
        "exchange": view.exchange,
        "horizon_hours": view.horizon_hours,
        "timestamp": None if view.taken_at is None else round(view.taken_at * 1000.0),
        "account": account_report(view),
        "positions": [position_report(p) for p in view.positions],
        "greeks": greeks_report(view.greeks),
        "greeks_units": GREEKS_UNITS,
    }


def account_report(view: AccountView) -> dict[str, Any]:
    """Account-level figures in USD."""
    return {
        "equity": view.equity_usd,
        "equity_by_currency": dict(view.equity_by_currency),
        "gross_exposure": view.gross_exposure_usd,
        "net_exposure": view.net_exposure_usd,
        "exposure_by_underlying": {
            e.underlying: {"gross": e.gross_usd, "net": e.net_usd} for e in view.exposure
        },
        "effective_leverage": view.effective_leverage,
        "maintenance_margin": view.maintenance_usd,
        "margin_ratio": view.margin_ratio,
        "margin_ratio_convention": MARGIN_RATIO_CONVENTION,
        "currency": "USD",
        "diagnostics": list(view.diagnostics),
    }


def position_report(p: PositionView) -> dict[str, Any]:
    """One position: the contract fields first, then the extra metrics."""
    return {
        "symbol": p.symbol,
        "side": p.side,
        "contracts": p.contracts,
        "notional": p.notional_settle,
        "entry_price": p.entry_price,
        "mark_price": p.mark_price,
        "leverage": p.leverage,
        "margin_mode": p.margin_mode,
        "unrealized_pnl": p.unrealized_pnl_settle,
        "exchange_liquidation_price": p.exchange_liquidation_price,
        "computed_liquidation_price": p.computed_liquidation_price,
        "liquidation_price": p.liquidation_price,
        "liquidation_formula": p.liquidation_formula,
        "distance_to_liquidation_pct": p.distance_pct,
        "liquidation_probability": p.probability,
        "diagnostics": list(p.diagnostics),
        "contract_type": p.contract_type,
        "settle": p.settle,
        "notional_usd": p.notional_usd,
        "roe_pct": p.roe_pct,
        "margin_ratio": p.margin_ratio,
        "distance_to_liquidation_sigma": p.distance_sigma,
        "volatility": p.volatility,
        "advice": None if p.advice is None else advice_report(p.advice),
        "exposure_usd": p.exposure_usd,
        "delta": p.delta,
        **position_greeks_report(p.greeks),
    }


def advice_report(advice: AdviceView) -> dict[str, Any]:
    """The margin to add or the contracts to cut that restore the target distance."""
    return {
        "target_distance_pct": advice.target_distance_pct,
        "target_liquidation_price": advice.target_liquidation_price,
        "margin_to_add": advice.margin_to_add,
        "margin_currency": advice.margin_currency,
        "reduce_contracts": advice.reduce_contracts,
        "reduce_fraction": advice.reduce_fraction,
    }


def stress_report(stress: Stress, analysis: Analysis) -> dict[str, Any]:
    """What a price shock does: equity after and which positions it liquidates."""
    return stress_document(stress_view(stress, analysis))


def stress_document(view: StressView) -> dict[str, Any]:
    """The `stress` object of the `--json` document."""
    return {
        "shock_pct": view.shock_pct,
        "underlying": view.underlying,
        "pnl": view.pnl_usd,
        "equity_before": view.equity_before_usd,
        "equity_after": view.equity_after_usd,
        "liquidated": [
            {
                "symbol": hit.symbol,
                "side": hit.side,
                "shocked_mark_price": hit.shocked_mark_price,
                "liquidation_price": hit.liquidation_price,
            }
            for hit in view.liquidated
        ],
    }
