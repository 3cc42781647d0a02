"""Views built by hand with readable defaults, for the renderer tests (no engine involved)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.render.views import AccountView, AdviceView, ExposureView, PositionView

#: Restores 15 % from liquidation: add 2,534.40 USDT, or close 112.605 of 200 contracts.
ADVICE = AdviceView(
    target_distance_pct=15.0,
    target_liquidation_price=120.7,
    margin_to_add=2534.4,
    margin_currency="USDT",
    reduce_contracts=112.605,
    reduce_fraction=0.563025,
)


def position(**overrides: Any) -> PositionView:
    """An isolated SOL long: 200 @ 150, mark 142, liquidation 133.5 (5.99 % away), advised."""
    base = PositionView(
        symbol="SOL/USDT:USDT",
        underlying="SOL",
        side="long",
        contracts=200.0,
        notional_settle=28_400.0,
        entry_price=150.0,
        mark_price=142.0,
        leverage=10.0,
        margin_mode="isolated",
        unrealized_pnl_settle=-1_600.0,
        exchange_liquidation_price=133.5,
        computed_liquidation_price=133.5,
        liquidation_price=133.5,
        liquidation_formula="binance-usdm-isolated",
        distance_pct=(142.0 - 133.5) / 142.0 * 100,
        probability=0.221,
        diagnostics=(),
        contract_type="linear",
        settle="USDT",
        notional_usd=28_400.0,
        roe_pct=-56.3,
        margin_ratio=0.08,
        distance_sigma=1.2,
        volatility=0.95,
        advice=ADVICE,
    )
    return replace(base, **overrides)


#: A BTC long far from liquidation: 0.5 @ 60,000, mark 62,000, liquidation 41,750 (32.7 %).
BTC = position(
    symbol="BTC/USDT:USDT",
    underlying="BTC",
    contracts=0.5,
    notional_settle=31_000.0,
    entry_price=60_000.0,
    mark_price=62_000.0,
    unrealized_pnl_settle=1_000.0,
    exchange_liquidation_price=41_750.0,
    computed_liquidation_price=41_750.0,
    liquidation_price=41_750.0,
    liquidation_formula="binance-usdm-cross",
    distance_pct=(62_000.0 - 41_750.0) / 62_000.0 * 100,
    probability=1e-40,
    advice=None,
)


def account(*positions: PositionView, **overrides: Any) -> AccountView:
    """A Binance account worth 12,542 USD holding ``positions`` (SOL and BTC by default)."""
    held = positions or (position(), BTC)
    base = AccountView(
        exchange="binanceusdm",
        horizon_hours=24,
        equity_usd=12_542.0,
        equity_by_currency=(("USDT", 12_542.0),),
        gross_exposure_usd=59_400.0,
        net_exposure_usd=59_400.0,
        exposure=(ExposureView("SOL", 28_400.0, 28_400.0), ExposureView("BTC", 31_000.0, 31_000.0)),
        effective_leverage=59_400.0 / 12_542.0,
        maintenance_usd=775.0,
        margin_ratio=0.0618,
        diagnostics=(),
        positions=held,
    )
    return replace(base, **overrides)
