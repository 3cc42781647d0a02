"""Text of an account and its positions, written once: the chat's /positions and /risk blocks,
and the liquidation price and advice sentence the analyze table and the digest use too."""

from __future__ import annotations

from bot.render import format as fmt
from bot.render.greeks import greeks_block
from bot.render.views import AccountView, AdviceView, PositionView

#: Option rows /risk lists (nearest expiries first; the rest counted): a book of hundreds of
#: options would otherwise fill screens of chat; `liqwatch analyze` lists them all.
MAX_OPTIONS = 20


def liquidation(p: PositionView) -> str:
    """The liquidation price, starred when it is the engine's own (the venue reported none)."""
    return fmt.price(p.liquidation_price) + ("*" if p.computed_only else "")


def advice(a: AdviceView) -> str:
    """The advice sentence: either action alone brings the position back to the target."""
    return (
        f"add {fmt.money(a.margin_to_add)} {a.margin_currency} margin or cut "
        f"{fmt.amount(a.reduce_contracts)} contracts ({fmt.fraction(a.reduce_fraction)}) "
        f"to reach {fmt.pct(a.target_distance_pct)}"
    )


def header(view: AccountView) -> list[str]:
    """Two short lines: what the account is worth, its exposure, leverage and margin ratio."""
    return [
        f"{view.exchange} · equity {fmt.money(view.equity_usd)} USD",
        f"gross {fmt.money(view.gross_exposure_usd)} · net "
        f"{fmt.money(view.net_exposure_usd, signed=True)} · lev "
        f"{fmt.ratio(view.effective_leverage)} · margin {fmt.fraction(view.margin_ratio)}",
    ]


def position_lines(p: PositionView, horizon_hours: float) -> list[str]:
    """Two short lines: size and entry, then mark, liquidation, distance, chance and uPnL."""
    chance = (
        ""
        if p.probability is None
        else f", P {fmt.probability(p.probability)} in {horizon_hours:g}h"
    )
    return [
        f"{p.symbol} {p.side or '?'} {fmt.amount(p.contracts)} "
        f"@ {fmt.price(p.entry_price)} · {fmt.ratio(p.leverage)}",
        f"  mark {fmt.price(p.mark_price)} liq {liquidation(p)} "
        f"({fmt.pct(p.distance_pct)} away{chance}) "
        f"uPnL {fmt.money(p.unrealized_pnl_settle, signed=True)}",
    ]


def positions_block(view: AccountView) -> list[str]:
    """/positions for one account: the header, then every position."""
    lines = header(view)
    if not view.positions:
        lines.append("no open positions")
    for p in view.positions:
        lines += position_lines(p, view.horizon_hours)
    return lines


def risk_block(view: AccountView, *, closest: int) -> list[str]:
    """/risk for one account: the header, exposure per underlying (largest first), and the
    positions nearest liquidation with what would restore a safe distance."""
    lines = header(view)
    if view.exposure:
        lines.append("exposure (gross / net USD):")
        ranked = sorted(view.exposure, key=lambda e: -(e.gross_usd or 0.0))
        lines += [
            f"  {e.underlying:<6} {fmt.money(e.gross_usd):>10} / "
            f"{fmt.money(e.net_usd, signed=True)}"
            for e in ranked
        ]
    lines += greeks_block(view, max_options=MAX_OPTIONS)
    near = view.closest(closest)
    if near:
        lines.append("closest to liquidation:")
    for p in near:
        lines += ["  " + line for line in position_lines(p, view.horizon_hours)]
        if p.advice is not None:
            lines.append(f"    {advice(p.advice)}")
    return lines
