"""A shock's outcome as views, text and the `--json` "stress" object: equity after it, who it
liquidates, each pool's margin ratio after it (the venue's on portfolio margin), the vol shock
and how options were priced (docs/stress.md).

Pure: built from an engine ``Stress`` and its ``Analysis``; every number a finite float or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.render import format as fmt
from bot.render.report import stress_document
from bot.render.views import StressView, finite, stress_view
from engine.analysis import Analysis
from engine.model import ContractType
from engine.stress import Stress
from engine.stress_options import VolShock


@dataclass(frozen=True)
class PoolView:
    """One margin pool before and after the shock, money in the pool's currency.

    ``source`` "venue": portfolio margin, the venue's maintenance held while the equity takes
    the shock; "engine": the venue's maintenance moved by the engine's own brackets.
    """

    pool: str
    source: str
    equity_before: float | None
    equity_after: float | None
    maintenance_after: float | None
    margin_ratio_before: float | None
    #: None when unknown, or when the equity after is at or below 0 (``wiped``).
    margin_ratio_after: float | None
    wiped: bool


@dataclass(frozen=True)
class ShockView:
    """What a spot and vol shock does to one account (``base``: the spot shock's outcome)."""

    base: StressView
    vol_shock: VolShock | None
    option_pnl_usd: float | None
    options_repriced: int
    options_by_delta: int
    pools: tuple[PoolView, ...]
    notes: tuple[str, ...]


def shock_view(stress: Stress, analysis: Analysis) -> ShockView:
    """The shock's outcome for the account ``analysis`` describes."""
    positions = analysis.snapshot.positions
    option = positions.valid & (positions.kind == ContractType.OPTION)
    repriced = 0 if stress.repriced is None else int(np.count_nonzero(stress.repriced))
    return ShockView(
        base=stress_view(stress, analysis),
        vol_shock=stress.vol_shock,
        option_pnl_usd=finite(stress.option_pnl_usd) if option.any() else None,
        options_repriced=repriced,
        options_by_delta=int(np.count_nonzero(option)) - repriced,
        pools=tuple(
            PoolView(
                pool=p.pool,
                source=p.source,
                equity_before=finite(p.equity_before),
                equity_after=finite(p.equity_after),
                maintenance_after=finite(p.maintenance_after),
                margin_ratio_before=finite(p.margin_ratio_before),
                margin_ratio_after=finite(p.margin_ratio_after),
                wiped=bool(p.equity_after <= 0),
            )
            for p in stress.pools
        ),
        notes=stress.notes,
    )


def headline(shock_pct: float, underlying: str, vol: VolShock | None) -> str:
    """``Stress BTC -10.00%, vol +20%`` (``all`` when every underlying moves)."""
    what = f"Stress {underlying} {fmt.pct(shock_pct, signed=True)}"
    return what + (f", {vol.label}" if vol is not None else "")


def shock_text(view: ShockView) -> str:
    """A few short lines (phone width): the shock, PnL, equity before and after, each pool's
    margin ratio after, who is liquidated, and how options were priced."""
    base = view.base
    pnl = f"PnL {fmt.money(base.pnl_usd, signed=True)} USD"
    if view.option_pnl_usd is not None:
        pnl += f" (options {fmt.money(view.option_pnl_usd, signed=True)})"
    lines = [
        headline(base.shock_pct, base.underlying, view.vol_shock),
        pnl,
        f"equity {fmt.money(base.equity_before_usd)} → {fmt.money(base.equity_after_usd)} USD",
        *(pool_line(p) for p in view.pools),
    ]
    if not base.liquidated:
        lines.append("no position is liquidated")
    for hit in base.liquidated:
        lines.append(
            f"LIQUIDATED {hit.symbol} {hit.side} (mark {fmt.price(hit.shocked_mark_price)}, "
            f"liq {fmt.price(hit.liquidation_price)})"
        )
    if view.options_repriced:
        lines.append(f"{view.options_repriced} option(s) re-priced in full (Black-76)")
    lines += [f"note: {n}" for n in view.notes]
    return "\n".join(lines)


def pool_line(p: PoolView) -> str:
    """``margin USDC 12.0% → 18.5% (the venue's, portfolio margin)``."""
    after = "equity gone" if p.wiped else fmt.fraction(p.margin_ratio_after)
    whose = " (the venue's, portfolio margin)" if p.source == "venue" else ""
    return f"margin {p.pool} {fmt.fraction(p.margin_ratio_before)} → {after}{whose}"


def shock_document(view: ShockView) -> dict[str, Any]:
    """The `stress` object of the `--json` document: the contract's keys first, then the vol
    shock, the options' share and each pool's margin ratio after the shock."""
    vol = view.vol_shock
    return stress_document(view.base) | {
        "vol_shock": None if vol is None else vol_document(vol),
        "option_pnl": view.option_pnl_usd,
        "options_repriced": view.options_repriced,
        "options_by_delta": view.options_by_delta,
        "pools": [pool_document(p) for p in view.pools],
        "notes": list(view.notes),
    }


def vol_document(vol: VolShock) -> dict[str, Any]:
    """``{"value": 20, "unit": "pct"|"pt", "label": "vol +20%"}``."""
    return {"value": vol.value, "unit": "pt" if vol.points else "pct", "label": vol.label}


def pool_document(p: PoolView) -> dict[str, Any]:
    return {
        "pool": p.pool,
        "source": p.source,
        "equity_before": p.equity_before,
        "equity_after": p.equity_after,
        "maintenance_after": p.maintenance_after,
        "margin_ratio_before": p.margin_ratio_before,
        "margin_ratio_after": p.margin_ratio_after,
    }
