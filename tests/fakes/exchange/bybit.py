"""Bybit v5 (Unified Trading Account) for the fake: instruments, risk limits, positions, wallet,
funding executions and closed PnL."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from tests.engine.normalise.payloads import bybit as pb
from tests.fakes.exchange import bybit_ledger, options
from tests.fakes.exchange.base import (
    DAY_MS,
    NOW_MS,
    TODAY_MS,
    Account,
    Flow,
    Lookup,
    Reply,
    Request,
    as_ms,
    bounded,
    candle_limit,
    daily_closes,
    decimal,
    funding_rate,
    not_found,
    select_flows,
)

HOSTS = {"api.bybit.com": "bybit"}
READ_ONLY = {"readOnly": 1, "permissions": {"ContractTrade": [], "Spot": [], "Wallet": []}}


def default_positions(venue: str) -> Any:
    return [pb.bybit_raw(), pb.bybit_isolated_short(), pb.bybit_inverse_long()]


def markets(venue: str) -> dict[str, str]:
    table = {options.BYBIT_SYMBOLS[k]: options.BYBIT_IDS[k] for k in options.BOTH}
    return table | {symbol: market_id for market_id, symbol, _, _ in pb.BYBIT_MARKETS}


def remark(venue: str, positions: Any, market_id: str, price: float) -> Any:
    return [_mark(raw, price) if raw["symbol"] == market_id else raw for raw in positions]


def _inverse(market_id: str) -> bool:
    return market_id.endswith("USD")


def _mark(raw: dict[str, Any], price: float) -> dict[str, Any]:
    size, entry = float(raw["size"]), float(raw["avgPrice"])
    sign = 1.0 if raw["side"] == "Buy" else -1.0
    if _inverse(raw["symbol"]):
        upnl = sign * size * (1 / entry - 1 / price)
    else:
        upnl = sign * size * (price - entry)
    return raw | {"markPrice": f"{price:g}", "unrealisedPnl": f"{upnl:.8f}"}


def _instrument(market_id: str, symbol: str) -> dict[str, Any]:
    base, quote = symbol.split("/")[0], symbol.split("/")[1].split(":")[0]
    inverse = _inverse(market_id)
    return {
        "symbol": market_id,
        "contractType": "InversePerpetual" if inverse else "LinearPerpetual",
        "status": "Trading",
        "baseCoin": base,
        "quoteCoin": quote,
        "settleCoin": base if inverse else quote,
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
        "lotSizeFilter": {
            "maxOrderQty": "1190.000",
            "minOrderQty": "1" if inverse else "0.001",
            "qtyStep": "1" if inverse else "0.001",
            "minNotionalValue": "5",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "copyTrading": "both",
    }


def _envelope(result: Any) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": NOW_MS}


def _instruments(request: Request) -> dict[str, Any]:
    category = request.query.get("category", "linear")
    prelaunch = request.query.get("status") == "PreLaunch"
    if category == "option":
        return _list(category, [] if prelaunch else options.bybit_instruments(request))
    rows = [
        _instrument(i, s)
        for i, s, _, _ in pb.BYBIT_MARKETS
        if not prelaunch and _inverse(i) == (category == "inverse")
    ]
    return _envelope({"category": category, "list": rows, "nextPageCursor": ""})


def _risk_limit(request: Request) -> dict[str, Any]:
    symbol = request.query.get("symbol", "BTCUSDT")
    rows = [
        {
            "id": n + 1,
            "symbol": symbol,
            "riskLimitValue": f"{cap}",
            "maintenanceMargin": f"{mmr}",
            "initialMargin": f"{2 * mmr}",
            "isLowestRisk": int(n == 0),
            "maxLeverage": f"{lev:.2f}",
            "mmDeduction": f"{deduction}",
        }
        for n, (cap, mmr, lev, deduction) in enumerate(
            [(2000000, 0.005, 100, 0), (2600000, 0.0055, 90.9, 1000), (3200000, 0.006, 83.3, 2300)]
        )
    ]
    return _envelope({"category": request.query.get("category", "linear"), "list": rows})


def _positions(request: Request, positions: list[dict[str, Any]]) -> dict[str, Any]:
    category = request.query.get("category", "linear")
    settle = request.query.get("settleCoin")
    rows = [
        raw
        for raw in positions
        if options.bybit_is_option(raw["symbol"]) == (category == "option")
        and _inverse(raw["symbol"]) == (category == "inverse")
        and (settle is None or raw["symbol"].endswith(settle))
    ]
    return _envelope({"category": category, "list": rows, "nextPageCursor": ""})


def _query_api(permissions: dict[str, Any]) -> dict[str, Any]:
    return _envelope(
        {
            "id": "13770661",
            "note": "liqwatch",
            "apiKey": "hidden",
            "secret": "",
            "ips": ["*"],
            "type": 1,
            "unified": 0,
            "uta": 1,
            "userID": 24600000,
            "isMaster": True,
            **READ_ONLY,
            **permissions,
        }
    )


def _in_category(request: Request) -> list[str]:
    """Market ids of the request's category (linear by default), narrowed to ``symbol``."""
    category = request.query.get("category", "linear")
    wanted = request.query.get("symbol")
    return [
        i
        for i, _, _, _ in pb.BYBIT_MARKETS
        if _inverse(i) == (category == "inverse") and wanted in (None, i)
    ]


def _error(code: int, message: str) -> dict[str, Any]:
    return {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": NOW_MS}


def _kline(request: Request) -> dict[str, Any]:
    """v5/market/kline: daily rows NEWEST first, every field a string, like Bybit."""
    found = _in_category(request)
    if "symbol" not in request.query or not found or request.query.get("interval") != "D":
        return _error(10001, "params error: symbol or interval invalid")
    closes = daily_closes(found[0], candle_limit(request, 200))
    first = TODAY_MS - (len(closes) - 1) * DAY_MS
    rows = [
        [str(first + n * DAY_MS), *[f"{c}"] * 4, "1000", f"{1000 * c}"]
        for n, c in enumerate(closes)
    ]
    category = request.query.get("category", "linear")
    return _envelope({"category": category, "symbol": found[0], "list": rows[::-1]})


def _ticker(market_id: str, marks: Mapping[str, float]) -> dict[str, Any]:
    """One v5 ticker: the mark ``set_mark`` gave the market, else (like every other price
    here) its last close."""
    price = f"{daily_closes(market_id, 1)[0]}"
    return {
        "symbol": market_id,
        "lastPrice": price,
        "markPrice": decimal(marks[market_id]) if market_id in marks else price,
        "indexPrice": price,
        "prevPrice24h": price,
        "price24hPcnt": "0",
        "highPrice24h": price,
        "lowPrice24h": price,
        "volume24h": "1000",
        "turnover24h": "1000000",
        "openInterest": "100",
        "fundingRate": f"{funding_rate(market_id):.8f}",
        "nextFundingTime": str(TODAY_MS + DAY_MS),
        "bid1Price": price,
        "ask1Price": price,
    }


def _tickers(request: Request) -> dict[str, Any]:
    """v5/market/tickers: linear and inverse tickers carry the current funding rate."""
    category = request.query.get("category", "linear")
    if category == "option":
        return _list(category, options.bybit_tickers(request))
    tickers = [_ticker(i, request.marks) for i in _in_category(request)]
    return _envelope({"category": category, "list": tickers})


def _flow_page(
    request: Request, account: Account, kinds: set[str]
) -> tuple[str, list[tuple[Flow, str]]] | dict[str, Any]:
    """The category and the page of the account's ``kinds`` flows it asks for, NEWEST first
    like Bybit, each with its market id; or Bybit's error for a bad request.

    ``startTime``/``endTime`` are inclusive; the page size is ``limit`` (Bybit's name) or
    ``size`` (what ccxt's fetch_funding_history sends), 50 by default and at most 100. Not
    modelled: Bybit's 7-day limit on the window and its default of the last 7 days; the
    ``nextPageCursor`` is always empty.
    """
    category = request.query.get("category")
    if category not in ("linear", "inverse", "spot", "option"):
        return _error(10001, "params error: Category is invalid")
    try:
        start, end = as_ms(request.query.get("startTime")), as_ms(request.query.get("endTime"))
    except ValueError:
        return _error(10001, "params error: startTime or endTime invalid")
    held = _in_category(request) if category in ("linear", "inverse") else []  # no spot here
    ids = {s: i for s, i in markets("").items() if i in held}
    chosen = select_flows(account.flows, kinds, ids, start, end)[::-1]
    size = request.query.get("limit", request.query.get("size"))
    return category, [(flow, ids[flow.symbol]) for flow in chosen[: bounded(size, 50, 100)]]


def _list(category: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return _envelope({"category": category, "list": rows, "nextPageCursor": ""})


def _executions(request: Request, account: Account) -> dict[str, Any]:
    """v5/execution/list: the account's funding settlements (``execType`` Funding) and trades
    (Trade, ``bybit_ledger``), both without ``execType``; ``execFee`` is what the trader PAID
    (minus the flow's amount), like Bybit."""
    kinds = bybit_ledger.KINDS.get(request.query.get("execType"), set())
    page = _flow_page(request, account, kinds)
    if isinstance(page, dict):
        return page
    category, flows = page
    rows = [
        (_funding_row if f.kind == "funding" else bybit_ledger.trade_row)(f, market_id)
        for f, market_id in flows
    ]
    return _list(category, rows)


def _funding_row(flow: Flow, market_id: str) -> dict[str, Any]:
    """One funding execution, its size and side consistent with the fee and the funding rate
    (longs pay a positive rate); the fee is exactly ``-flow.amount``."""
    price, rate, fee = daily_closes(market_id, 1)[0], funding_rate(market_id), -flow.amount
    value = abs(fee / rate)  # the position's value, in the settle coin
    qty = value * price if _inverse(market_id) else value / price
    return {
        "symbol": market_id,
        "orderType": "UNKNOWN",
        "underlyingPrice": "",
        "orderLinkId": "",
        "orderId": f"funding-{flow.ref}",
        "stopOrderType": "UNKNOWN",
        "execTime": str(flow.at_ms),
        "feeCurrency": "",
        "createType": "",
        "feeRate": decimal(rate),
        "tradeIv": "",
        "blockTradeId": "",
        "markPrice": decimal(price),
        "execPrice": decimal(price),
        "markIv": "",
        "orderQty": "0",
        "orderPrice": "0",
        "execValue": decimal(round(value, 8)),
        "closedSize": "0",
        "execType": "Funding",
        "seq": str(flow.at_ms),
        "side": "Buy" if fee * rate >= 0 else "Sell",
        "indexPrice": "",
        "leavesQty": "0",
        "isMaker": False,
        "execFee": decimal(fee),
        "execId": flow.ref,
        "marketUnit": "",
        "execQty": decimal(round(qty, 3)),
    }


def _closed_pnl(request: Request, account: Account) -> dict[str, Any]:
    """v5/position/closed-pnl: one closed long per realised flow, ``closedPnl`` = its amount,
    ``updatedTime`` = its time and ``orderId`` = its ref."""
    page = _flow_page(request, account, {"realised"})
    if isinstance(page, dict):
        return page
    category, flows = page
    return _list(category, [_closed_row(flow, market_id) for flow, market_id in flows])


def _closed_row(flow: Flow, market_id: str) -> dict[str, Any]:
    """A long closed at the market's price, sized so its entry price stays positive."""
    exit_price, pnl = daily_closes(market_id, 1)[0], flow.amount
    if _inverse(market_id):  # qty in USD contracts, PnL in coin: qty·(1/entry − 1/exit)
        qty = max(1.0, float(math.ceil(2 * abs(pnl) * exit_price)))
        entry = 1 / (1 / exit_price + pnl / qty)
        entry_value, exit_value = qty / entry, qty / exit_price
    else:
        qty = round(max(1.0, 2 * abs(pnl) / exit_price), 3)
        entry = exit_price - pnl / qty
        entry_value, exit_value = qty * entry, qty * exit_price
    return {
        "symbol": market_id,
        "orderId": flow.ref,
        "side": "Sell",
        "qty": decimal(qty),
        "orderPrice": decimal(exit_price),
        "orderType": "Market",
        "execType": "Trade",
        "closedSize": decimal(qty),
        "cumEntryValue": decimal(round(entry_value, 8)),
        "avgEntryPrice": decimal(round(entry, 8)),
        "cumExitValue": decimal(round(exit_value, 8)),
        "avgExitPrice": decimal(exit_price),
        "closedPnl": decimal(pnl),
        "fillCount": "1",
        "leverage": "10",
        "createdTime": str(flow.at_ms),
        "updatedTime": str(flow.at_ms),
    }


def _account_info(request: Request, account: Account) -> dict[str, Any]:
    """v5/account/info: a unified account (status 6) whose ``marginMode`` is
    "REGULAR_MARGIN" unless ``Account.settings`` says otherwise ("PORTFOLIO_MARGIN")."""
    info = {"unifiedMarginStatus": 6, "marginMode": "REGULAR_MARGIN", "isMasterTrader": False}
    return _envelope(info | account.settings)


PUBLIC: dict[str, Callable[[Request], dict[str, Any]]] = {
    "/v5/market/kline": _kline,
    "/v5/market/tickers": _tickers,
    "/v5/market/instruments-info": _instruments,
    "/v5/market/risk-limit": _risk_limit,
    "/v5/market/time": lambda request: _envelope({"timeSecond": str(NOW_MS // 1000)}),
}
PRIVATE: dict[str, Callable[[Request, Account], dict[str, Any]]] = {
    "/v5/position/list": lambda request, account: _positions(request, list(account.positions)),
    "/v5/account/wallet-balance": lambda request, account: account.served(
        request, lambda: pb.bybit_balance()["info"]
    ),
    "/v5/account/info": _account_info,
    "/v5/user/query-api": lambda request, account: _query_api(account.permissions),
    "/v5/execution/list": _executions,
    "/v5/position/closed-pnl": _closed_pnl,
}


def handle(request: Request, lookup: Lookup) -> Reply:
    if request.path in PUBLIC:
        return Reply(PUBLIC[request.path](request))
    if request.path not in PRIVATE:
        return not_found(request)
    key = request.headers.get("X-BAPI-API-KEY", "")
    account = lookup("bybit", key) if key else None
    if account is None:
        body = {
            "retCode": 10003,
            "retMsg": "API key is invalid.",
            "result": {},
            "retExtInfo": {},
            "time": NOW_MS,
        }
        return Reply(body, status=401)
    return Reply(PRIVATE[request.path](request, account))
