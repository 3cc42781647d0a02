"""Plain-text tables for the terminal (`liqwatch analyze`), rendered from the account view."""

from __future__ import annotations

from bot.render import format as fmt
from bot.render.greeks import greeks_block
from bot.render.positions import advice, liquidation
from bot.render.views import AccountView, PositionView

_COLUMNS = ("SYMBOL", "SIDE", "SIZE", "ENTRY", "MARK", "LIQ", "DIST", "P(liq)", "LEV", "uPnL")


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(w) if c < 2 else cell.rjust(w)
            for c, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def account_header(view: AccountView) -> list[str]:
    """Two lines: what the account is worth and how leveraged it is."""
    return [
        f"{view.exchange} — equity {fmt.money(view.equity_usd)} USD · "
        f"gross {fmt.money(view.gross_exposure_usd)} · "
        f"net {fmt.money(view.net_exposure_usd, signed=True)}",
        f"effective leverage {fmt.ratio(view.effective_leverage)} · margin ratio "
        f"{fmt.fraction(view.margin_ratio)} (maintenance / margin balance; liquidation at 100%)",
    ]


def _position_row(p: PositionView) -> tuple[str, ...]:
    priced = p.liquidation_formula or p.liquidation_price is not None
    return (
        p.symbol,
        p.side or "?",
        fmt.amount(p.contracts),
        fmt.price(p.entry_price),
        fmt.price(p.mark_price),
        liquidation(p) if priced else "none",
        fmt.pct(p.distance_pct),
        fmt.probability(p.probability),
        fmt.ratio(p.leverage),
        fmt.money(p.unrealized_pnl_settle, signed=True),
    )


def analysis_text(view: AccountView) -> str:
    """The readable view of `liqwatch analyze`: header, position table, advice, diagnostics."""
    lines = [*account_header(view), ""]
    if not view.positions:
        lines.append("no open positions")
    else:
        lines += _table([_COLUMNS, *(_position_row(p) for p in view.positions)])
        if any(
            p.liquidation_price is not None and p.exchange_liquidation_price is None
            for p in view.positions
        ):
            lines.append("* computed by liqwatch (the venue reported none)")
        greeks = greeks_block(view)
        lines += ["", *greeks] if greeks else []
    lines += _advice_lines(view.positions) + _diagnostic_lines(view)
    return "\n".join(lines)


def _advice_lines(positions: tuple[PositionView, ...]) -> list[str]:
    out = [
        f"{p.symbol} {p.side or '?'}: {fmt.pct(p.distance_pct)} from liquidation — "
        + advice(p.advice)
        for p in positions
        if p.advice is not None
    ]
    return ["", "Advice:", *out] if out else []


def _diagnostic_lines(view: AccountView) -> list[str]:
    out = [f"account: {d}" for d in view.diagnostics]
    out += [f"{p.symbol}: {d}" for p in view.positions for d in p.diagnostics]
    return ["", "Notes:", *out] if out else []
