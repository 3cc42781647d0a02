"""The engine's view of one account as plain data: the `liqwatch analyze --json` contract."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from engine.analysis import Analysis
from engine.model import FORMULAS, ContractType, Formula, MarginMode
from engine.stress import Stress

#: Named once so every consumer knows which way the ratio points.
MARGIN_RATIO_CONVENTION = "maintenance margin / margin balance (0 = safe, 1 = liquidation)"


def _num(value: Any) -> float | None:
    """JSON-safe float: NaN becomes null, infinities become null too (JSON has none)."""
    out = float(value)
    return out if math.isfinite(out) else None


def account_report(analysis: Analysis) -> dict[str, Any]:
    """Account-level figures in USD."""
    p = analysis.portfolio
    return {
        "equity": _num(p.equity_usd),
        "equity_by_currency": {k: _num(v) for k, v in p.equity_by_currency.items()},
        "gross_exposure": _num(p.gross_exposure_usd),
        "net_exposure": _num(p.net_exposure_usd),
        "exposure_by_underlying": {
            name: {"gross": _num(g), "net": _num(n)}
            for name, g, n in zip(
                p.underlyings, p.gross_by_underlying, p.net_by_underlying, strict=True
            )
        },
        "effective_leverage": _num(p.effective_leverage),
        "maintenance_margin": _num(p.maintenance_usd),
        "margin_ratio": _num(p.margin_ratio),
        "margin_ratio_convention": MARGIN_RATIO_CONVENTION,
        "currency": "USD",
        "diagnostics": list(p.diagnostics),
    }


def position_report(analysis: Analysis, i: int) -> dict[str, Any]:
    """One position: the contract fields first, then the extra metrics."""
    pos = analysis.snapshot.positions
    formula = FORMULAS[int(analysis.computed.formula[i])]
    return {
        "symbol": pos.symbol[i],
        "side": "long" if pos.side[i] > 0 else "short" if pos.side[i] < 0 else None,
        "contracts": _num(pos.contracts[i]),
        "notional": _num(analysis.notional[i]),
        "entry_price": _num(pos.entry[i]),
        "mark_price": _num(pos.mark[i]),
        "leverage": _num(analysis.leverage[i]),
        "margin_mode": MarginMode(int(pos.margin_mode[i])).name.lower(),
        "unrealized_pnl": _num(analysis.upnl[i]),
        "exchange_liquidation_price": _num(pos.venue_liq[i]),
        "computed_liquidation_price": _num(analysis.computed.price[i]),
        "liquidation_price": _num(analysis.liquidation_price[i]),
        "liquidation_formula": None if formula == Formula.NONE else formula.value,
        "distance_to_liquidation_pct": _num(analysis.distance_pct[i]),
        "liquidation_probability": _num(analysis.probability[i]),
        "diagnostics": list(analysis.diagnostics(i)),
        "contract_type": ContractType(int(pos.kind[i])).name.lower(),
        "settle": pos.settle[i],
        "notional_usd": _num(analysis.notional_usd[i]),
        "roe_pct": _num(analysis.roe[i] * 100.0),
        "margin_ratio": _num(analysis.margin_ratio[i]),
        "distance_to_liquidation_sigma": _num(analysis.distance_sigma[i]),
        "volatility": _num(analysis.sigma[i]),
        "advice": _advice(analysis, i),
    }


def _advice(analysis: Analysis, i: int) -> dict[str, Any] | None:
    advice = analysis.advice
    if not advice.needed[i]:
        return None
    pos = analysis.snapshot.positions
    size = pos.contract_size[i]
    return {
        "target_distance_pct": advice.target_pct,
        "target_liquidation_price": _num(advice.target_price[i]),
        "margin_to_add": _num(advice.margin_to_add[i]),
        "margin_currency": pos.settle[i],
        "reduce_contracts": _num(advice.reduce_qty[i] / size),
        "reduce_fraction": _num(advice.reduce_fraction[i]),
    }


def report(analysis: Analysis, exchange: str) -> dict[str, Any]:
    """The whole `--json` document."""
    return {
        "exchange": exchange,
        "horizon_hours": analysis.horizon_hours,
        "account": account_report(analysis),
        "positions": [
            position_report(analysis, i) for i in range(len(analysis.snapshot.positions))
        ],
    }


def stress_report(stress: Stress, analysis: Analysis) -> dict[str, Any]:
    """What a price shock does: equity after and which positions it liquidates."""
    pos = analysis.snapshot.positions
    hit = np.flatnonzero(stress.liquidated)
    return {
        "shock_pct": stress.shock_pct,
        "underlying": stress.underlying or "all",
        "pnl": _num(stress.pnl_usd),
        "equity_before": _num(stress.equity_usd_before),
        "equity_after": _num(stress.equity_usd_after),
        "liquidated": [
            {
                "symbol": pos.symbol[int(i)],
                "side": "long" if pos.side[int(i)] > 0 else "short",
                "shocked_mark_price": _num(stress.mark[int(i)]),
                "liquidation_price": _num(stress.liquidation_price[int(i)]),
            }
            for i in hit
        ],
    }
