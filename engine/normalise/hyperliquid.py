"""Hyperliquid raw fields: the ``clearinghouseState`` of a wallet (positions and margin summary)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.model import Account, MarginMode
from engine.normalise.fields import (
    NAN,
    items,
    liquidation_price,
    mapping,
    num,
    positive,
    put,
    text,
)
from engine.normalise.generic import set_margin_mode
from engine.normalise.row import Row

#: Every Hyperliquid perpetual margins and settles in USDC.
SETTLE = "USDC"


class HyperliquidReader:
    """Reads one ``assetPositions`` entry (ccxt's ``info``: ``{"type", "position": {...}}``).

    Hyperliquid docs "Margining" and "Liquidations": ``szi`` is the signed size in coins,
    ``positionValue`` = |szi| × mark, maintenance margin is half the initial margin at max
    leverage (``MMR = 1 / (2 · maxLeverage)``), an isolated position's ``marginUsed`` includes
    its unrealised PnL.
    """

    def refine(self, position: Mapping[str, Any], info: Mapping[str, Any], row: Row) -> None:
        """Overlay ccxt's unified view with the raw position entry."""
        entry = mapping(info.get("position"))
        if not entry:
            row.note("no Hyperliquid position entry in info")
            return
        row.settle = row.pool = SETTLE
        row.settle_usd = 1.0
        _size(entry, row)
        _leverage(entry, row)
        upnl = num(entry.get("unrealizedPnl"))
        if upnl == upnl:
            row.venue_upnl = upnl
        _margin(entry, row)
        row.venue_liq = liquidation_price(entry.get("liquidationPx"))

    def account(self, venue: str, balance: Mapping[str, Any] | None) -> Account:
        """Cross account value and maintenance in USDC (isolated margin sits with positions)."""
        info = mapping(mapping(balance).get("info"))
        cross = mapping(info.get("crossMarginSummary"))
        margin: dict[str, float] = {}
        maint: dict[str, float] = {}
        put(margin, SETTLE, cross.get("accountValue"))
        put(maint, SETTLE, info.get("crossMaintenanceMarginUsed"))
        notes: list[str] = []
        if SETTLE not in margin:
            notes.append("no crossMarginSummary.accountValue: cross account value unknown")
        if SETTLE not in maint:
            notes.append("no crossMaintenanceMarginUsed: cross maintenance unknown")
        wallet: dict[str, float] = {}
        if SETTLE in margin:
            wallet[SETTLE] = margin[SETTLE] - _cross_upnl(info.get("assetPositions"))
        return Account(
            venue=venue,
            wallet_balance=wallet,
            margin_balance=margin,
            maintenance_margin=maint,
            usd_rate={SETTLE: 1.0},
            diagnostics=tuple(notes),
        )


def _size(entry: Mapping[str, Any], row: Row) -> None:
    szi = num(entry.get("szi"))
    if szi == szi and szi != 0:
        row.side = 1.0 if szi > 0 else -1.0
        row.contracts = row.qty = abs(szi)
        row.contract_size = 1.0
    value = positive(entry.get("positionValue"))
    if value == value and row.qty > 0:
        row.mark = value / row.qty
    entry_px = positive(entry.get("entryPx"))
    if entry_px == entry_px:
        row.entry = entry_px


def _leverage(entry: Mapping[str, Any], row: Row) -> None:
    setting = mapping(entry.get("leverage"))
    value = positive(setting.get("value"))
    if value == value:
        row.leverage = value
    max_leverage = positive(entry.get("maxLeverage"))
    row.max_leverage = max_leverage
    row.maint_amount = 0.0
    if max_leverage == max_leverage:
        row.mmr = 1.0 / (2.0 * max_leverage)
    else:
        row.mmr = NAN
        row.note("maxLeverage not reported: maintenance margin rate unknown")


def _margin(entry: Mapping[str, Any], row: Row) -> None:
    mode = text(mapping(entry.get("leverage")).get("type")).lower()
    used = num(entry.get("marginUsed"))
    value = positive(entry.get("positionValue"))
    row.venue_maint_margin = value * row.mmr if value == value else NAN
    if mode == "isolated":
        upnl = row.venue_upnl if row.venue_upnl == row.venue_upnl else 0.0
        # marginUsed includes the position's unrealised PnL; the wallet excludes it.
        wallet = used - upnl if used == used else NAN
        if wallet != wallet:
            row.note("isolated position without marginUsed: margin unknown")
        set_margin_mode(row, MarginMode.ISOLATED, wallet)
        row.venue_initial_margin = wallet
    else:
        if mode != "cross":
            row.note("leverage type not reported: assumed cross")
        set_margin_mode(row, MarginMode.CROSS)
        row.venue_initial_margin = used if used > 0 else NAN
        if row.leverage != row.leverage and used > 0 and value == value:
            row.leverage = value / used
            row.note("leverage not reported: derived from positionValue / marginUsed")


def _cross_upnl(asset_positions: Any) -> float:
    """Unrealised PnL of the cross positions (the wallet is account value minus it)."""
    total = 0.0
    for item in items(asset_positions):
        entry = mapping(mapping(item).get("position"))
        if text(mapping(entry.get("leverage")).get("type")).lower() == "isolated":
            continue
        upnl = num(entry.get("unrealizedPnl"))
        total += upnl if upnl == upnl else 0.0
    return total


READER = HyperliquidReader()
