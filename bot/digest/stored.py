"""Figures for accounts the live book has none of: their last stored snapshot, as a view.

After a restart the book fills as accounts are polled; an account whose venue is failing is
never polled successfully, so without this it would drop out of the totals and the ladder —
exactly the blind account a desk must not forget. Its last stored snapshot (equity, exposure,
each position's distance to liquidation) stands in, marked with the time it was taken.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.render.greeks_view import PositionGreeksView
from bot.render.views import AccountView, ExposureView, PositionView
from engine.domain import AccountSnapshot, AccountStatus, LinkedAccount, PositionSummary
from storage import Database
from storage.snapshots import Snapshots


async def last_snapshots(
    db: Database, accounts: Sequence[LinkedAccount]
) -> dict[int, AccountSnapshot]:
    """Account id → its newest stored snapshot, for accounts not paused that have one."""
    found = {}
    for account in accounts:
        if account.status is AccountStatus.PAUSED:
            continue  # paused by its owner: not watched, so not counted
        snapshot = await Snapshots(db).latest(account.owner_id, account.id)
        if snapshot is not None:
            found[account.id] = snapshot
    return found


def stored_view(snapshot: AccountSnapshot, venue: str, *, horizon_hours: float) -> AccountView:
    """The snapshot as the view the digest reads (what it does not keep is unknown: None)."""
    positions = tuple(_position(p) for p in snapshot.positions)
    return AccountView(
        exchange=venue,
        horizon_hours=horizon_hours,
        equity_usd=snapshot.equity_usd,
        equity_by_currency=(),
        gross_exposure_usd=snapshot.gross_exposure_usd,
        net_exposure_usd=snapshot.net_exposure_usd,
        exposure=_exposure(positions),
        effective_leverage=snapshot.effective_leverage,
        maintenance_usd=None,
        margin_ratio=snapshot.margin_ratio,
        diagnostics=(),
        positions=positions,
    )


def _position(p: PositionSummary) -> PositionView:
    base = p.symbol.split("/")[0]
    settle = p.symbol.partition(":")[2].partition("-")[0] or base
    # Only what the snapshot kept: gamma and theta unknown (None), as is all of it in older rows.
    greeks = PositionGreeksView(p.delta_coin, p.delta_usd, None, p.vega_usd, None)
    return PositionView(
        symbol=p.symbol, underlying=p.underlying or base, side=p.side, contracts=p.contracts,
        notional_settle=None, entry_price=None, mark_price=p.mark_price, leverage=None,
        margin_mode=p.margin_mode, unrealized_pnl_settle=None, exchange_liquidation_price=None,
        computed_liquidation_price=None, liquidation_price=p.liquidation_price,
        liquidation_formula=None, distance_pct=p.distance_pct, probability=None, diagnostics=(),
        contract_type=p.contract_type, settle=settle, notional_usd=p.notional_usd, roe_pct=None,
        margin_ratio=None, distance_sigma=None, volatility=None, advice=None, greeks=greeks,
    )  # fmt: skip


def _exposure(positions: Sequence[PositionView]) -> tuple[ExposureView, ...]:
    """Gross and net USD per underlying from the positions' notionals and sides."""
    gross: dict[str, float] = {}
    net: dict[str, float] = {}
    for p in positions:
        if p.notional_usd is None:
            continue
        size = abs(p.notional_usd)
        gross[p.underlying] = gross.get(p.underlying, 0.0) + size
        net[p.underlying] = net.get(p.underlying, 0.0) + (size if p.side == "long" else -size)
    return tuple(ExposureView(name, gross[name], net[name]) for name in gross)
