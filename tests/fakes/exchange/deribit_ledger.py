"""Deribit's ``private/get_transaction_log`` for the fake, built from an account's flows.

The log is per ``currency`` (required, like ``start_timestamp`` and ``end_timestamp``, both
inclusive), newest first, ``count`` entries a page (100 by default, at most 250), and the
``continuation`` of a page is the id of the next (older) entry, null on the last page. ``query``
keeps one entry type ("settlement", "delivery", "trade").

Entries from the flows of the account's markets in that currency (an option's is its settle
coin), shaped as Deribit's docs show them:

- the realised and funding flows of a future or perpetual at one millisecond are one daily
  ``settlement``: ``change`` = ``cashflow`` = their sum (the session's PnL, funding included),
  ``total_interest_pl`` = ``interest_pl`` = the funding, ``session_rpl`` the realised part and
  ``session_upl`` 0;
- the realised flow of an option is its ``delivery``, which takes a commission flow of that
  option at the same millisecond as its fee: ``commission`` = minus that flow, ``change`` = the
  realised flow net of it;
- any other commission flow is a ``trade`` of its market: ``commission`` = minus the flow,
  ``change`` = ``cashflow`` = the flow (a future's trade moves only its fee).

An entry's id is the numeric id of its first flow's ref (``base.numeric_id``): a test finds
an entry by the flow it gave.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from tests.fakes.exchange.base import (
    Account,
    Flow,
    Reply,
    Request,
    as_ms,
    bounded,
    numeric_id,
)

CURRENCIES = ("BTC", "ETH", "USDC", "USDT", "EURR")
TYPES = ("settlement", "delivery", "trade")


def _invalid(name: str) -> Reply:
    error = {"message": "Invalid params", "data": {"reason": "wrong format", "param": name},
             "code": -32602}  # fmt: skip
    return Reply({"jsonrpc": "2.0", "error": error, "testnet": False}, status=400)


def settle(symbol: str) -> str:
    """The currency a unified Deribit symbol settles in ("BTC/USD:BTC-250627-70000-C": BTC)."""
    return symbol.rpartition(":")[2].split("-")[0]


def _option(symbol: str) -> bool:
    return symbol.endswith(("-C", "-P"))


def _base(flow: Flow, market_id: str, kind: str, entry_id: int) -> dict[str, Any]:
    return {
        "username": "liqwatch",
        "user_seq": entry_id,
        "user_id": 7,
        "type": kind,
        "trade_id": None,
        "timestamp": flow.at_ms,
        "side": "-",
        "price": None,
        "position": None,
        "order_id": None,
        "interest_pl": None,
        "instrument_name": market_id,
        "info": {},
        "id": entry_id,
        "equity": 3.0,
        "currency": settle(flow.symbol),
        "commission": 0,
        "change": 0.0,
        "cashflow": 0.0,
        "balance": 3.0,
    }


def _settlement(flows: list[Flow], market_id: str, entry_id: int) -> dict[str, Any]:
    realised = sum(f.amount for f in flows if f.kind == "realised")
    funding = sum(f.amount for f in flows if f.kind == "funding")
    change = realised + funding
    return _base(flows[0], market_id, "settlement", entry_id) | {
        "side": "long",
        "total_interest_pl": funding,
        "interest_pl": funding,
        "session_rpl": change,
        "session_upl": 0.0,
        "price_currency": "USD",
        "price": 60000.0,
        "position": 1000,
        "info": {"settlement_price": 60000.0, "floating_pl": 0.0},
        "commission": None,
        "change": change,
        "cashflow": change,
        "amount": 1000,
    }


def _delivery(flows: list[Flow], market_id: str, entry_id: int) -> dict[str, Any]:
    realised = sum(f.amount for f in flows if f.kind == "realised")
    commission = -sum(f.amount for f in flows if f.kind == "commission")
    return _base(flows[0], market_id, "delivery", entry_id) | {
        "side": "close sell",
        "price": 70500.0,
        "price_currency": "USD",
        "index_price": 70500.0,
        "settlement_price": 70500.0,
        "position": 0,
        "commission": commission,
        "change": realised - commission,
        "cashflow": realised - commission,
        "amount": 1.0,
    }


def _trade(flow: Flow, market_id: str, entry_id: int) -> dict[str, Any]:
    return _base(flow, market_id, "trade", entry_id) | {
        "side": "open buy",
        "trade_id": str(entry_id // 2),
        "order_id": str(entry_id // 3),
        "user_role": "taker",
        "fee_role": "taker",
        "price": 60000.0,
        "price_currency": "USD",
        "mark_price": 60000.0,
        "position": 1000,
        "interest_pl": 0,
        "profit_as_cashflow": False,
        "info": "Source: api",
        "commission": -flow.amount,
        "change": flow.amount,
        "cashflow": flow.amount,
        "amount": 1000,
    }


def entries(flows: Iterable[Flow], ids: dict[str, str]) -> list[dict[str, Any]]:
    """The log entries of ``flows`` (module docstring), newest first."""
    groups: dict[tuple[str, int], list[Flow]] = {}
    for flow in flows:
        if flow.symbol in ids and flow.kind in ("realised", "funding", "commission"):
            groups.setdefault((flow.symbol, flow.at_ms), []).append(flow)
    out: list[dict[str, Any]] = []
    for (symbol, _), group in groups.items():
        market_id = ids[symbol]
        pnl = [f for f in group if f.kind != "commission"]
        fees = [f for f in group if f.kind == "commission"]
        if _option(symbol) and any(f.kind == "realised" for f in group):
            out.append(_delivery(group, market_id, numeric_id(group[0].ref)))
            fees = []
        elif pnl:
            out.append(_settlement(pnl, market_id, numeric_id(pnl[0].ref)))
        out += [_trade(f, market_id, numeric_id(f.ref)) for f in fees]
    return sorted(out, key=lambda e: (e["timestamp"], e["id"]), reverse=True)


def _log(
    request: Request, account: Account, ids: dict[str, str], envelope: Callable[[Any], Any]
) -> Reply:
    q = request.query
    currency = q.get("currency")
    if currency not in CURRENCIES:
        return _invalid("currency")
    try:
        start, end = as_ms(q.get("start_timestamp")), as_ms(q.get("end_timestamp"))
        after = as_ms(q.get("continuation"))
    except ValueError:
        return _invalid("start_timestamp")
    if start is None or end is None:
        return _invalid("start_timestamp" if start is None else "end_timestamp")
    wanted = q.get("query")
    logs = [
        e
        for e in entries(account.flows, ids)
        if e["currency"] == currency
        and start <= e["timestamp"] <= end
        and wanted in (None, e["type"])
    ]
    if after is not None:  # the page continues at the entry the last one named
        ids_in_order = [e["id"] for e in logs]
        logs = logs[ids_in_order.index(after) :] if after in ids_in_order else []
    count = bounded(q.get("count"), 100, 250)
    page, rest = logs[:count], logs[count:]
    result = {"logs": page, "continuation": rest[0]["id"] if rest else None}
    return Reply(envelope(result))


def handlers(
    ids: Callable[[], dict[str, str]], envelope: Callable[[Any], Any]
) -> dict[str, Callable[[Request, Account], Reply]]:
    """The private routes this module serves; ``ids`` gives unified symbol → instrument, and
    ``envelope`` wraps a JSON-RPC result as the fake's Deribit does."""
    return {
        "/api/v2/private/get_transaction_log": lambda request, account: _log(
            request, account, ids(), envelope
        ),
    }
