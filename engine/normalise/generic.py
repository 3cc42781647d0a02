"""Reads ccxt's unified position and balance fields, the part every venue shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import Account, ContractType, MarginMode
from engine.normalise.fields import (
    STABLECOINS,
    first,
    liquidation_price,
    num,
    positive,
    side_sign,
    split_symbol,
    text,
)
from engine.normalise.row import NAN, Row

#: The note a row carries until a venue reader learns the margin mode from ``info``.
MODE_NOT_REPORTED = "margin mode not reported: assumed cross"


def read_position(position: Mapping[str, Any]) -> Row:
    """A row from ccxt's unified fields; venue readers refine it from ``info`` afterwards."""
    row = Row()
    symbol = position.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        row.note("position has no symbol")
        symbol = "?"
    base, _quote, settle, kind = split_symbol(symbol)
    row.symbol, row.underlying, row.settle, row.pool, row.kind = symbol, base, settle, settle, kind
    row.side, why = side_sign(position)
    if why:
        row.note(why)
    contracts = abs(num(position.get("contracts")))
    row.contracts = contracts
    size = positive(position.get("contractSize"))
    row.contract_size = size if size == size else 1.0
    row.qty = contracts * row.contract_size
    row.entry = positive(position.get("entryPrice"))
    row.mark = positive(position.get("markPrice"))
    row.venue_liq = liquidation_price(position.get("liquidationPrice"))
    row.leverage = positive(position.get("leverage"))
    row.venue_upnl = num(position.get("unrealizedPnl"))
    row.venue_maint_margin = positive(position.get("maintenanceMargin"))
    row.venue_initial_margin = positive(position.get("initialMargin"))
    row.mmr = positive(position.get("maintenanceMarginPercentage"))
    _read_margin_mode(position, row)
    row.settle_usd = 1.0 if settle in STABLECOINS else row.mark
    if kind == ContractType.OPTION:
        row.settle_usd = _option_settle_usd(position, settle)
    return row


def _read_margin_mode(position: Mapping[str, Any], row: Row) -> None:
    mode = (text(position.get("marginMode")) or text(position.get("marginType"))).lower()
    if mode == "isolated":
        row.margin_mode = int(MarginMode.ISOLATED)
        # ccxt's initialMargin is what was posted; its collateral often includes uPnL.
        wallet = first(position, "initialMargin", "collateral")
        row.isolated_wallet = positive(wallet)
    elif mode != "cross":
        row.note(MODE_NOT_REPORTED)


def set_margin_mode(row: Row, mode: MarginMode, wallet: float = NAN) -> None:
    """Set the margin mode a venue reader learnt; the isolated wallet only applies to isolated."""
    row.margin_mode = int(mode)
    row.isolated_wallet = wallet if mode == MarginMode.ISOLATED else NAN
    if MODE_NOT_REPORTED in row.diagnostics:
        row.diagnostics.remove(MODE_NOT_REPORTED)


def _option_settle_usd(position: Mapping[str, Any], settle: str) -> float:
    if settle in STABLECOINS:
        return 1.0
    info = position.get("info")
    index = num(info.get("index_price")) if isinstance(info, Mapping) else float("nan")
    return index


def read_account(venue: str, balance: Mapping[str, Any] | None) -> Account:
    """Per-currency totals from a unified ccxt balance (``total`` as margin balance)."""
    if not balance:
        return Account(venue=venue, diagnostics=("no balance given: account figures unknown",))
    total = balance.get("total")
    margin: dict[str, float] = {}
    if isinstance(total, Mapping):
        for currency, amount in total.items():
            value = num(amount)
            if value == value and text(currency):
                margin[text(currency)] = value
    return Account(venue=venue, margin_balance=margin)
