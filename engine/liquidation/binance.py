"""Binance USDⓈ-M and COIN-M futures liquidation price (cross and isolated, one-way and hedge).

Source: Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures" (and its COIN-M
sibling "How to Calculate Liquidation Price of COIN-M Futures"). The maths is the shared solve
in ``engine.liquidation.solve``; here are the inputs each margin mode feeds it.
"""

from __future__ import annotations

from engine.liquidation.context import (
    Context,
    Rule,
    Terms,
    cross_wallet_terms,
    isolated_terms,
    venue_brackets,
)
from engine.liquidation.notes import Notes
from engine.types import BoolArray


def cross_terms(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """Cross: ``WB − TMM1 + UPNL1`` from the FAQ.

    WB is the pool's cross wallet balance (Multi-Assets mode: the USD total after haircuts,
    account key "USD"); TMM1 and UPNL1 are the maintenance and uPnL of the pool's other
    symbols. In hedge mode the symbol's LONG and SHORT legs move together (one LP, cumL + cumS).
    MMR and cum are the bracket at the liquidation notional Q·LP (USDⓈ-M) or Q/LP (COIN-M).
    """
    return cross_wallet_terms(ctx, mask, notes)


def isolated_terms_binance(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """Isolated: WB is the position's isolated wallet and TMM1 = UPNL1 = 0 (FAQ).

    In hedge mode each leg has its own isolated wallet and its own LP.
    """
    return isolated_terms(ctx, mask, notes)


CROSS = Rule(legs=venue_brackets, terms=cross_terms)
ISOLATED = Rule(legs=venue_brackets, terms=isolated_terms_binance)
