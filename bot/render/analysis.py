"""Plain-text tables for the terminal, rendered from the report dicts (no engine types here)."""

from __future__ import annotations

from typing import Any

from bot.render import format as fmt

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


def account_header(report: dict[str, Any]) -> list[str]:
    """Two lines: what the account is worth and how leveraged it is."""
    acct = report["account"]
    return [
        f"{report['exchange']} — equity {fmt.money(acct['equity'])} USD · "
        f"gross {fmt.money(acct['gross_exposure'])} · "
        f"net {fmt.money(acct['net_exposure'], signed=True)}",
        f"effective leverage {fmt.ratio(acct['effective_leverage'])} · margin ratio "
        f"{fmt.pct(None if acct['margin_ratio'] is None else acct['margin_ratio'] * 100)} "
        "(maintenance / margin balance; liquidation at 100%)",
    ]


def _position_row(p: dict[str, Any]) -> tuple[str, ...]:
    formula = p["liquidation_formula"]
    liq = fmt.price(p["liquidation_price"])
    if p["exchange_liquidation_price"] is None and p["computed_liquidation_price"] is not None:
        liq += "*"
    return (
        p["symbol"],
        p["side"] or "?",
        fmt.amount(p["contracts"]),
        fmt.price(p["entry_price"]),
        fmt.price(p["mark_price"]),
        liq if formula or p["liquidation_price"] is not None else "none",
        fmt.pct(p["distance_to_liquidation_pct"]),
        fmt.probability(p["liquidation_probability"]),
        fmt.ratio(p["leverage"]),
        fmt.money(p["unrealized_pnl"], signed=True),
    )


def analysis_text(report: dict[str, Any]) -> str:
    """The readable view of `liqwatch analyze`: header, position table, advice, diagnostics."""
    lines = [*account_header(report), ""]
    positions = report["positions"]
    if not positions:
        lines.append("no open positions")
    else:
        lines += _table([_COLUMNS, *(_position_row(p) for p in positions)])
        if any(
            p["liquidation_price"] is not None and p["exchange_liquidation_price"] is None
            for p in positions
        ):
            lines.append("* computed by liqwatch (the venue reported none)")
    lines += _advice_lines(positions) + _diagnostic_lines(report)
    return "\n".join(lines)


def _advice_lines(positions: list[dict[str, Any]]) -> list[str]:
    out = []
    for p in positions:
        advice = p.get("advice")
        if advice:
            distance = fmt.pct(p["distance_to_liquidation_pct"])
            margin = f"{fmt.money(advice['margin_to_add'])} {advice['margin_currency']}"
            cut = fmt.amount(advice["reduce_contracts"])
            share = fmt.pct(advice["reduce_fraction"] * 100)
            out.append(
                f"{p['symbol']} {p['side']}: {distance} from liquidation — add {margin} margin "
                f"or cut {cut} contracts ({share}) to get back to "
                f"{fmt.pct(advice['target_distance_pct'])}"
            )
    return ["", "Advice:", *out] if out else []


def _diagnostic_lines(report: dict[str, Any]) -> list[str]:
    out = [f"account: {d}" for d in report["account"]["diagnostics"]]
    out += [f"{p['symbol']}: {d}" for p in report["positions"] for d in p["diagnostics"]]
    return ["", "Notes:", *out] if out else []


def stress_text(stress: dict[str, Any]) -> str:
    """One paragraph: the shock, equity before and after, and who gets liquidated."""
    lines = [
        f"Stress {fmt.pct(stress['shock_pct'], signed=True)} on {stress['underlying']}: "
        f"PnL {fmt.money(stress['pnl'], signed=True)} USD, "
        f"equity {fmt.money(stress['equity_before'])} → {fmt.money(stress['equity_after'])} USD"
    ]
    if not stress["liquidated"]:
        lines.append("no position is liquidated")
    for hit in stress["liquidated"]:
        lines.append(
            f"  LIQUIDATED {hit['symbol']} {hit['side']} "
            f"(mark {fmt.price(hit['shocked_mark_price'])}, "
            f"liquidation {fmt.price(hit['liquidation_price'])})"
        )
    return "\n".join(lines)
