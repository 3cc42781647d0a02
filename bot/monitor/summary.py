"""What a poll keeps over time: the engine's analysis reduced to a stored snapshot summary."""

from __future__ import annotations

import math

from engine.analysis import Analysis
from engine.domain import PositionSummary, SnapshotSummary
from engine.model import ContractType, MarginMode


def _opt(value: float) -> float | None:
    out = float(value)
    return out if math.isfinite(out) else None


def summarise(analysis: Analysis, *, account_id: int, taken_at: float) -> SnapshotSummary:
    """The account's totals and a few figures per position (digests and charts read these)."""
    pos = analysis.snapshot.positions
    portfolio = analysis.portfolio
    greeks = analysis.greeks
    positions = tuple(
        PositionSummary(
            symbol=pos.symbol[i],
            side="long" if pos.side[i] > 0 else "short",
            contracts=float(pos.contracts[i]),
            notional_usd=_opt(analysis.notional_usd[i]),
            mark_price=_opt(pos.mark[i]),
            liquidation_price=_opt(analysis.liquidation_price[i]),
            distance_pct=_opt(analysis.distance_pct[i]),
            margin_mode=MarginMode(int(pos.margin_mode[i])).name.lower(),
            underlying=pos.underlying[i],
            contract_type=ContractType(int(pos.kind[i])).name.lower(),
            delta_coin=_opt(greeks.delta_coin[i]),
            delta_usd=_opt(greeks.delta_usd[i]),
            vega_usd=_opt(greeks.vega_usd[i]),
        )
        for i in range(len(pos))
        if pos.valid[i]
    )
    return SnapshotSummary(
        account_id=account_id,
        taken_at=taken_at,
        equity_usd=_opt(portfolio.equity_usd),
        gross_exposure_usd=_opt(portfolio.gross_exposure_usd),
        net_exposure_usd=_opt(portfolio.net_exposure_usd),
        effective_leverage=_opt(portfolio.effective_leverage),
        margin_ratio=_opt(portfolio.margin_ratio),
        positions=positions,
    )


def holdings(summary: SnapshotSummary) -> tuple[tuple[str, str, float, str], ...]:
    """What a snapshot holds (symbol, side, size, margin mode): a change of it is always
    stored, whatever the snapshot cadence."""
    return tuple((p.symbol, p.side, p.contracts, p.margin_mode) for p in summary.positions)
