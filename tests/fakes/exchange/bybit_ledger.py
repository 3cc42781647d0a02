"""Bybit's trade executions for the fake: one per commission flow, its ``execFee`` what was paid.

``v5/execution/list`` with ``execType`` Trade (what ccxt's ``fetch_my_trades`` asks for) lists
them; without ``execType`` they come with the funding executions. A trade here opens a long at
the market's price: ``execFee`` is minus the flow (positive when paid, a maker rebate negative)
and ``feeRate`` the fee over the traded value.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.exchange.base import Flow, daily_closes, decimal

#: The execution types each ``execType`` asks for, by the flow kinds that make them.
KINDS = {"Funding": {"funding"}, "Trade": {"commission"}, None: {"funding", "commission"}}


def trade_row(flow: Flow, market_id: str) -> dict[str, Any]:
    """One Trade execution of ``flow`` (a commission) on ``market_id``."""
    price, fee = daily_closes(market_id, 1)[0], -flow.amount
    inverse = market_id.endswith("USD")
    qty = 100.0 if inverse else 1.0
    value = qty / price if inverse else qty * price
    return {
        "symbol": market_id,
        "orderType": "Market",
        "underlyingPrice": "",
        "orderLinkId": "",
        "orderId": f"order-{flow.ref}",
        "stopOrderType": "UNKNOWN",
        "execTime": str(flow.at_ms),
        "feeCurrency": "",
        "createType": "CreateByUser",
        "feeRate": decimal(round(fee / value, 10)),
        "tradeIv": "",
        "blockTradeId": "",
        "markPrice": decimal(price),
        "execPrice": decimal(price),
        "markIv": "",
        "orderQty": decimal(qty),
        "orderPrice": decimal(price),
        "execValue": decimal(round(value, 8)),
        "closedSize": "0",
        "execType": "Trade",
        "seq": str(flow.at_ms),
        "side": "Buy",
        "indexPrice": "",
        "leavesQty": "0",
        "isMaker": fee < 0,
        "execFee": decimal(fee),
        "execId": flow.ref,
        "marketUnit": "",
        "execQty": decimal(qty),
    }
