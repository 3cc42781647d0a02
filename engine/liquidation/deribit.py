"""Deribit inverse futures and perpetuals: account-level (cross) liquidation estimate.

Source: Deribit knowledge base "Liquidations" / "Margin requirements (futures)" and the API's
``estimated_liquidation_price``. For one inverse position with equity E (coin):
``LP = N·(MMR + s)/(E + s·N/EP)``. E here is the currency's margin balance WITHOUT the position's
own uPnL (the formula adds ``s·N/EP − s·N/LP`` itself; counting it twice would be wrong) less the
other positions' maintenance in that currency. MMR grows with size: with tiers the solve is the
same bracket fixed point as Binance's.
"""

from __future__ import annotations

from engine.liquidation.context import Context, Rule, Terms, cross_equity_terms, venue_brackets
from engine.liquidation.notes import Notes
from engine.types import BoolArray


def terms(ctx: Context, mask: BoolArray, notes: Notes) -> Terms:
    """``E = equity − own uPnL`` (as ``equity_out``) and the others' maintenance."""
    return cross_equity_terms(ctx, mask, notes)


INVERSE = Rule(legs=venue_brackets, terms=terms)
