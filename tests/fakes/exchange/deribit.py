"""Deribit API v2 (JSON-RPC over HTTP) for the fake: instruments, positions, account summaries."""

from __future__ import annotations

import re
from typing import Any

from tests.engine.normalise.payloads import deribit as pd
from tests.fakes.exchange import deribit_ledger, options
from tests.fakes.exchange.base import NOW_MS, Lookup, Reply, Request, daily_closes, not_found

HOSTS = {"www.deribit.com": "deribit"}
OPTION_ID = pd.OPTION["id"]
#: The option's mark (in BTC) until a test sets one.
OPTION_MARK = 0.045
_KEY = re.compile(r"id=([^,]+)")


def default_positions(venue: str) -> Any:
    return [pd.deribit_raw(), pd.deribit_linear_short(), pd.deribit_option_short()]


def markets(venue: str) -> dict[str, str]:
    table = {symbol: market_id for market_id, symbol, _, _ in pd.DERIBIT_MARKETS}
    table |= {options.DERIBIT_SYMBOLS[k]: options.DERIBIT_IDS[k] for k in options.BOTH}
    return table | {pd.OPTION["symbol"]: OPTION_ID}


def remark(venue: str, positions: Any, market_id: str, price: float) -> Any:
    return [_mark(raw, price) if raw["instrument_name"] == market_id else raw for raw in positions]


def _mark(raw: dict[str, Any], price: float) -> dict[str, Any]:
    size, entry = float(raw["size"]), float(raw["average_price"])
    sign = 1.0 if raw["direction"] == "buy" else -1.0
    if raw["kind"] == "option":
        pnl = size * (price - entry)
    elif raw["instrument_name"] == "BTC-PERPETUAL":
        pnl = sign * abs(size) * (1 / entry - 1 / price)
    else:
        pnl = size * (price - entry)
    return raw | {"mark_price": price, "floating_profit_loss": pnl}


def _instrument(market_id: str, size: float) -> dict[str, Any]:
    linear = "_USDC" in market_id
    return {
        "instrument_name": market_id,
        "kind": "future",
        "settlement_period": "perpetual",
        "base_currency": "BTC",
        "counter_currency": "USDC" if linear else "USD",
        "quote_currency": "USDC" if linear else "USD",
        "settlement_currency": "USDC" if linear else "BTC",
        "instrument_type": "linear" if linear else "reversed",
        "contract_size": size,
        "tick_size": 0.5,
        "min_trade_amount": size,
        "is_active": True,
        "max_leverage": 50,
        "creation_timestamp": 1534242287000,
        "expiration_timestamp": 32503708800000,
        "maker_commission": 0.0,
        "taker_commission": 0.0005,
        "instrument_id": 124972,
    }


def _option() -> dict[str, Any]:
    return _instrument("BTC-PERPETUAL", 1.0) | {
        "instrument_name": OPTION_ID,
        "kind": "option",
        "settlement_period": "month",
        "quote_currency": "BTC",
        "settlement_currency": "BTC",
        "strike": 70000.0,
        "option_type": "call",
        "expiration_timestamp": pd.OPTION["expiry"],
        "min_trade_amount": 0.1,
    }


def _envelope(result: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "result": result,
        "usIn": NOW_MS * 1000,
        "usOut": NOW_MS * 1000 + 80,
        "usDiff": 80,
        "testnet": False,
    }


def _currencies() -> list[dict[str, Any]]:
    return [
        {
            "currency": code,
            "currency_long": code,
            "coin_type": "BITCOIN",
            "fee_precision": 4,
            "min_confirmations": 1,
            "withdrawal_fee": 0.0001,
        }
        for code in ("BTC", "USDC")
    ]


def _summary(market_id: str, kind: str, marks: dict[str, float]) -> dict[str, Any]:
    """One book summary row: the mark ``set_mark`` gave the instrument, else its default."""
    default = OPTION_MARK if kind == "option" else daily_closes(market_id, 1)[0]
    mark = marks.get(market_id, default)
    linear = "_USDC" in market_id
    return {
        "instrument_name": market_id,
        "base_currency": "BTC",
        "quote_currency": "BTC" if kind == "option" else ("USDC" if linear else "USD"),
        "mark_price": mark,
        "mid_price": round(mark * 1.0001, 8),
        "last": round(mark * 1.0003, 8),
        "bid_price": round(mark * 0.9999, 8),
        "ask_price": round(mark * 1.0003, 8),
        "high": round(mark * 1.01, 8),
        "low": round(mark * 0.99, 8),
        "volume": 7871.02,
        "open_interest": 502097590.0,
        "estimated_delivery_price": mark,
        "creation_timestamp": NOW_MS,
    }


def _book_summary(request: Request) -> Reply:
    """public/get_book_summary_by_currency: every instrument of ``currency`` (of ``kind`` when
    it is sent); an unknown currency is JSON-RPC's invalid-params error."""
    currency, kind = request.query.get("currency"), request.query.get("kind")
    if currency != "BTC":
        error = {"message": "Invalid params", "code": -32602}
        return Reply({"jsonrpc": "2.0", "error": error, "testnet": False}, status=400)
    instruments = [(i, "future") for i, _, _, _ in pd.DERIBIT_MARKETS] + [(OPTION_ID, "option")]
    marks = dict(request.marks)
    rows = [_summary(i, k, marks) for i, k in instruments if kind in (None, k)]
    return Reply(_envelope(rows))


def _ticker(request: Request) -> Reply:
    """public/ticker of an option of ``options`` (greeks, mark IV); else JSON-RPC's error for
    an instrument Deribit does not list."""
    found = options.deribit_ticker(request)
    if found is None:
        error = {"message": "Invalid params", "data": {"param": "instrument_name"}, "code": -32602}
        return Reply({"jsonrpc": "2.0", "error": error, "testnet": False}, status=400)
    return Reply(_envelope(found))


PUBLIC = {
    "/api/v2/public/get_instruments": lambda: _envelope(
        [_instrument(i, size) for i, _, size, _ in pd.DERIBIT_MARKETS]
        + [_option(), *options.deribit_instruments()]
    ),
    "/api/v2/public/get_currencies": lambda: _envelope(_currencies()),
    "/api/v2/public/get_time": lambda: _envelope(NOW_MS),
}
PRIVATE = {
    "/api/v2/private/get_positions": lambda account: list(account.positions),
}
#: Private reads whose answer follows the request (an account's own summaries: ``extended``).
SERVED = {
    "/api/v2/private/get_account_summaries": lambda request, account: account.served(
        request, lambda: pd.deribit_balance()["info"]
    ),
}
#: The transaction log (tests/fakes/exchange/deribit_ledger.py), from the account's flows.
LEDGER = deribit_ledger.handlers(lambda: markets("deribit"), _envelope)


def handle(request: Request, lookup: Lookup) -> Reply:
    if request.path == "/api/v2/public/get_book_summary_by_currency":
        return _book_summary(request)
    if request.path in PUBLIC:
        return Reply(PUBLIC[request.path]())
    if request.path == "/api/v2/public/ticker":
        return _ticker(request)
    if request.path not in PRIVATE and request.path not in SERVED | LEDGER:
        return not_found(request)
    found = _KEY.search(request.headers.get("Authorization", ""))
    account = lookup("deribit", found.group(1)) if found else None
    if account is None:
        error = {"message": "unauthorized", "code": 13009}
        return Reply({"jsonrpc": "2.0", "error": error, "testnet": False}, status=400)
    if request.path in LEDGER:
        return LEDGER[request.path](request, account)
    if request.path in SERVED:
        return Reply(_envelope(SERVED[request.path](request, account)))
    return Reply(_envelope(PRIVATE[request.path](account)))
