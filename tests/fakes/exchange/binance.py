"""Binance USDⓈ-M (fapi), COIN-M (dapi) and the key-permission endpoint (sapi) for the fake."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from tests.engine.normalise.payloads import binance as pb
from tests.fakes.exchange import history
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
    ref_number,
    select_flows,
)

HOSTS = {
    "fapi.binance.com": "binanceusdm",
    "dapi.binance.com": "binancecoinm",
    "api.binance.com": "binance",
}
COINM_CONTRACT = 100.0
READ_ONLY = {
    "ipRestrict": False,
    "createTime": 1698645219000,
    "enableReading": True,
    "enableWithdrawals": False,
    "enableInternalTransfer": False,
    "enableMargin": False,
    "enableFutures": False,
    "permitsUniversalTransfer": False,
    "enableVanillaOptions": False,
    "enableFixApiTrade": False,
    "enableFixReadOnly": True,
    "enableSpotAndMarginTrading": False,
    "enablePortfolioMarginTrading": False,
}


def default_positions(venue: str) -> Any:
    return pb.LEGS if venue == "binanceusdm" else [pb.coinm_raw()]


def markets(venue: str) -> dict[str, str]:
    table = pb.USDM_MARKETS if venue == "binanceusdm" else pb.COINM_MARKETS
    return {symbol: market_id for market_id, symbol, _, _ in table}


def remark(venue: str, positions: Any, market_id: str, price: float) -> Any:
    """A new mark for ``market_id``: USDⓈ-M legs are re-derived whole, COIN-M rows patched."""
    if venue == "binanceusdm":
        return tuple(
            replace(leg, mark=price) if leg.symbol == market_id else leg for leg in positions
        )
    return [_coinm_mark(raw, price) if raw["symbol"] == market_id else raw for raw in positions]


def _coinm_mark(raw: dict[str, Any], price: float) -> dict[str, Any]:
    amount, entry = float(raw["positionAmt"]), float(raw["entryPrice"])
    upnl = amount * COINM_CONTRACT * (1 / entry - 1 / price)
    return raw | {
        "markPrice": f"{price:.8f}",
        "unRealizedProfit": f"{upnl:.8f}",
        "notionalValue": f"{amount * COINM_CONTRACT / price:.8f}",
    }


def _symbol(market_id: str, symbol: str, contract: float, inverse: bool) -> dict[str, Any]:
    base, quote = symbol.split("/")[0], symbol.split("/")[1].split(":")[0]
    return {
        "symbol": market_id,
        "pair": market_id.split("_")[0],
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        ("contractStatus" if inverse else "status"): "TRADING",
        "baseAsset": base,
        "quoteAsset": quote,
        "marginAsset": base if inverse else quote,
        "pricePrecision": 2,
        "quantityPrecision": 0 if inverse else 3,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "contractSize": contract if inverse else None,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.10",
                "maxPrice": "4529764",
                "tickSize": "0.10",
            },
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
            {"filterType": "MIN_NOTIONAL", "notional": "100"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def _exchange_info(venue: str) -> dict[str, Any]:
    inverse = venue == "binancecoinm"
    table = pb.COINM_MARKETS if inverse else pb.USDM_MARKETS
    return {
        "timezone": "UTC",
        "serverTime": NOW_MS,
        "rateLimits": [],
        "exchangeFilters": [],
        "assets": [],
        "symbols": [_symbol(i, s, c, inverse) for i, s, c, _ in table],
    }


def _coinm_brackets() -> list[dict[str, Any]]:
    rows = [(0, 5, 0.004, 0.0, 125), (5, 10, 0.005, 0.005, 100), (10, 20, 0.01, 0.055, 50)]
    brackets = [
        {
            "bracket": n + 1,
            "initialLeverage": lev,
            "qtyCap": cap,
            "qtyFloor": floor,
            "maintMarginRatio": mmr,
            "cum": cum,
        }
        for n, (floor, cap, mmr, cum, lev) in enumerate(rows)
    ]
    return [{"symbol": "BTCUSD_PERP", "notionalCoef": 1.0, "brackets": brackets}]


def _coinm_account(positions: list[dict[str, Any]]) -> dict[str, Any]:
    upnl = sum(float(p["unRealizedProfit"]) for p in positions)
    wallet = 0.5
    asset = {
        "asset": "BTC",
        "walletBalance": f"{wallet:.8f}",
        "unrealizedProfit": f"{upnl:.8f}",
        "marginBalance": f"{wallet + upnl:.8f}",
        "maintMargin": "0.00064516",
        "initialMargin": "0.03225806",
        "positionInitialMargin": "0.03225806",
        "openOrderInitialMargin": "0.00000000",
        "maxWithdrawAmount": f"{wallet - 0.03333333:.8f}",
        "crossWalletBalance": f"{wallet - 0.03333333:.8f}",
        "crossUnPnl": "0.00000000",
        "availableBalance": f"{wallet - 0.03333333:.8f}",
        "updateTime": NOW_MS,
    }
    return {
        "assets": [asset],
        "positions": [],
        "canDeposit": True,
        "canTrade": True,
        "canWithdraw": True,
        "feeTier": 0,
        "updateTime": NOW_MS,
    }


def _ticker(market_id: str, price: float) -> dict[str, Any]:
    return {
        "symbol": market_id,
        "lastPrice": f"{price}",
        "openPrice": f"{price}",
        "highPrice": f"{price}",
        "lowPrice": f"{price}",
        "volume": "1000",
        "quoteVolume": f"{1000 * price}",
        "openTime": NOW_MS - 86400000,
        "closeTime": NOW_MS,
    }


def _usdm_ids() -> set[str]:
    return {market_id for market_id, _, _, _ in pb.USDM_MARKETS}


def _klines(request: Request) -> Reply:
    """GET fapi/v1/klines: daily rows oldest first, like Binance (open time, OHLCV, …); with a
    ``startTime``, the deterministic history from then (``history.bars``)."""
    market_id = request.query.get("symbol", "")
    if market_id not in _usdm_ids():
        return error(-1121, "Invalid symbol.", 400)
    if "startTime" in request.query:
        return _history(request, market_id)
    if request.query.get("interval") != "1d":
        return error(-1121, "Invalid symbol.", 400)
    closes = daily_closes(market_id, candle_limit(request, 500, 1500))
    first = TODAY_MS - (len(closes) - 1) * DAY_MS
    return Reply([_kline_row(first + n * DAY_MS, c) for n, c in enumerate(closes)])


def _history(request: Request, market_id: str) -> Reply:
    """Up to ``limit`` (default 500, at most 1500) bars from ``startTime`` to ``endTime``."""
    tf_ms = history.INTERVALS_MS.get(request.query.get("interval", ""))
    if tf_ms is None:
        return error(-1120, "Invalid interval.", 400)
    try:
        start = int(request.query["startTime"])
        end = as_ms(request.query.get("endTime"))
    except ValueError:
        return error(-1100, "Illegal characters found in a parameter.", 400)
    rows = history.bars(
        market_id, tf_ms, start, end, candle_limit(request, 500, 1500), request.missing_candles
    )
    return Reply([_ohlcv_row(tf_ms, *row) for row in rows])


def _mark_klines(request: Request) -> Reply:
    """GET fapi/v1/markPriceKlines: the history of a series of its own (zero volume)."""
    market_id = request.query.get("symbol", "")
    if market_id not in _usdm_ids() or "startTime" not in request.query:
        return error(-1121, "Invalid symbol.", 400)
    reply = _history(request, market_id + "-mark")
    return (
        Reply([[*row[:5], "0", *row[6:]] for row in reply.body]) if reply.status == 200 else reply
    )


def _ohlcv_row(tf_ms: int, open_ms: int, *ohlcv: float) -> list[Any]:
    o, h, lo, c, v = ohlcv
    taker = [f"{v / 2}", f"{v / 2 * c}", "0"]
    return [
        open_ms,
        f"{o}",
        f"{h}",
        f"{lo}",
        f"{c}",
        f"{v}",
        open_ms + tf_ms - 1,
        f"{v * c}",
        10,
        *taker,
    ]


def _kline_row(open_ms: int, close: float) -> list[Any]:
    price, volume = f"{close}", 1000.0
    ohlc = [price, price, price, price]
    taker = [f"{volume / 2}", f"{volume / 2 * close}", "0"]
    return [open_ms, *ohlc, f"{volume}", open_ms + DAY_MS - 1, f"{volume * close}", 100, *taker]


def _premium(market_id: str, marks: Mapping[str, float]) -> dict[str, Any]:
    """One premiumIndex row: the mark ``set_mark`` gave the market, else its last close."""
    price = f"{daily_closes(market_id, 1)[0]}"
    mark = decimal(marks[market_id]) if market_id in marks else price
    return {
        "symbol": market_id,
        "markPrice": mark,
        "indexPrice": price,
        "estimatedSettlePrice": price,
        "lastFundingRate": f"{funding_rate(market_id):.8f}",
        "interestRate": "0.00010000",
        "nextFundingTime": TODAY_MS + DAY_MS,
        "time": NOW_MS,
    }


def _premium_index(request: Request) -> Reply:
    """GET fapi/v1/premiumIndex: one object for ``symbol``, else a list of every market."""
    market_id = request.query.get("symbol")
    if market_id is None:
        return Reply([_premium(i, request.marks) for i in sorted(_usdm_ids())])
    if market_id not in _usdm_ids():
        return error(-1121, "Invalid symbol.", 400)
    return Reply(_premium(market_id, request.marks))


def _coinm_premium_index(request: Request) -> Reply:
    """GET dapi/v1/premiumIndex: always a list (of ``symbol``, of ``pair``'s contracts, or of
    every market), each row with its ``pair``."""
    symbol, pair = request.query.get("symbol"), request.query.get("pair")
    ids = [
        market_id
        for market_id, _, _, _ in pb.COINM_MARKETS
        if symbol in (None, market_id) and pair in (None, market_id.split("_")[0])
    ]
    if symbol is not None and not ids:
        return error(-1121, "Invalid symbol.", 400)
    rows = [_premium(i, request.marks) | {"pair": i.split("_")[0]} for i in ids]
    return Reply(rows)


#: Binance's ``incomeType`` of each flow kind the fake keeps.
INCOME_TYPES = {
    "FUNDING_FEE": "funding",
    "REALIZED_PNL": "realised",
    "COMMISSION": "commission",
    "TRANSFER": "transfer",
}
INCOME_TYPE_OF = {kind: income_type for income_type, kind in INCOME_TYPES.items()}


def _income(request: Request, account: Account) -> Reply:
    """GET fapi/v1/income, dapi/v1/income: the account's funding fees, realised PnL and
    commissions of the venue's markets, oldest first (only ``incomeType``'s when it is sent);
    ``startTime``/``endTime`` inclusive, so a page starting at the last one's newest time
    repeats the rows at that time; ``limit`` 100 (≤ 1000). A ``tranId`` is unique per income
    type only: a trade's REALIZED_PNL and COMMISSION rows may share one.

    Not modelled: the real venue answers only the last 7 days when neither time is sent, keeps
    3 months, and has more income types (INSURANCE_CLEAR, WELCOME_BONUS, …).
    """
    ids = markets(request.venue)
    wanted = request.query.get("symbol")
    if wanted is not None and wanted not in ids.values():
        return error(-1121, "Invalid symbol.", 400)
    income_type = request.query.get("incomeType")
    if income_type is None:
        kinds = set(INCOME_TYPES.values())
    else:
        kinds = {INCOME_TYPES[income_type]} if income_type in INCOME_TYPES else set()
    try:
        start, end = as_ms(request.query.get("startTime")), as_ms(request.query.get("endTime"))
    except ValueError:
        return error(-1100, "Illegal characters found in a parameter.", 400)
    symbols = [s for s, i in ids.items() if wanted in (None, i)]
    flows = select_flows(account.flows, kinds, symbols, start, end)
    limit = bounded(request.query.get("limit"), 100, 1000)
    # From startTime on, the first page; without it, the latest records (still oldest first).
    page = flows[:limit] if start is not None else flows[-limit:]
    return Reply([_income_row(flow, ids[flow.symbol]) for flow in page])


def _income_row(flow: Flow, market_id: str) -> dict[str, Any]:
    number = ref_number(flow.ref)
    return {
        "symbol": "" if flow.kind == "transfer" else market_id,  # a transfer names no market
        "incomeType": INCOME_TYPE_OF[flow.kind],
        "income": decimal(flow.amount),
        "asset": flow.settle,
        "info": "",
        "time": flow.at_ms,
        "tranId": flow.ref if number is None else number,
        "tradeId": "",
    }


#: Public routes that read the query.
QUERIED: dict[str, Callable[[Request], Reply]] = {
    "/fapi/v1/klines": _klines,
    "/fapi/v1/markPriceKlines": _mark_klines,
    "/fapi/v1/premiumIndex": _premium_index,
    "/dapi/v1/premiumIndex": _coinm_premium_index,
}
PUBLIC: dict[str, Callable[[], Any]] = {
    "/fapi/v1/exchangeInfo": lambda: _exchange_info("binanceusdm"),
    "/dapi/v1/exchangeInfo": lambda: _exchange_info("binancecoinm"),
    "/fapi/v1/ticker/24hr": lambda: [_ticker(leg.symbol, leg.mark) for leg in pb.LEGS],
    "/fapi/v1/time": lambda: {"serverTime": NOW_MS},
}
PRIVATE: dict[str, Callable[[Account], Any]] = {
    "/fapi/v1/leverageBracket": lambda account: pb.raw_brackets(),
    "/fapi/v3/positionRisk": lambda account: pb.raw_positions(tuple(account.positions)),
    "/fapi/v3/account": lambda account: pb.raw_account(tuple(account.positions)),
    "/dapi/v2/leverageBracket": lambda account: _coinm_brackets(),
    "/dapi/v1/positionRisk": lambda account: list(account.positions),
    "/dapi/v1/account": lambda account: _coinm_account(list(account.positions)),
    "/sapi/v1/account/apiRestrictions": lambda account: READ_ONLY | account.permissions,
}
#: Private routes that read the query.
PRIVATE_QUERIED: dict[str, Callable[[Request, Account], Reply]] = {
    "/fapi/v1/income": _income,
    "/dapi/v1/income": _income,
}


def error(code: int, message: str, status: int = 401) -> Reply:
    return Reply({"code": code, "msg": message}, status=status)


#: The user-data stream's listen key (USER_STREAM security: the API key, no signature).
LISTEN_KEY_PATHS = ("/fapi/v1/listenKey", "/dapi/v1/listenKey")


def listen_key(api_key: str) -> str:
    """The one listen key of ``api_key`` (64 characters, like Binance's): a POST while one is
    open returns the same key, and the stream fake finds the account from it."""
    return hashlib.sha256(f"listen:{api_key}".encode()).hexdigest()


def _listen_key(request: Request, lookup: Lookup) -> Reply:
    """POST opens (or returns) the key, PUT keeps it alive, DELETE closes it."""
    key = request.headers.get("X-MBX-APIKEY")
    if not key:
        return error(-2014, "API-key format invalid.")
    account = lookup(request.venue, key)
    if account is None:
        return error(-2015, "Invalid API-key, IP, or permissions for action.")
    if request.method == "POST":
        return Reply({"listenKey": listen_key(account.key)})
    return Reply({})


def handle(request: Request, lookup: Lookup) -> Reply:
    if request.path in LISTEN_KEY_PATHS:
        return _listen_key(request, lookup)
    if request.path in QUERIED:
        return QUERIED[request.path](request)
    if request.path in PUBLIC:
        return Reply(PUBLIC[request.path]())
    if request.path not in PRIVATE and request.path not in PRIVATE_QUERIED:
        return not_found(request)
    account = _authenticated(request, lookup)
    if isinstance(account, Reply):
        return account
    if request.path in PRIVATE_QUERIED:
        return PRIVATE_QUERIED[request.path](request, account)
    return Reply(PRIVATE[request.path](account))


def _authenticated(request: Request, lookup: Lookup) -> Account | Reply:
    """The live account of a signed request's key, or Binance's error for it."""
    key = request.headers.get("X-MBX-APIKEY")
    if not key:
        return error(-2014, "API-key format invalid.")
    if "signature" not in request.query or "timestamp" not in request.query:
        return error(-1102, "Mandatory parameter 'signature' was not sent.", 400)
    account = lookup(request.venue, key)
    if account is None:
        return error(-2015, "Invalid API-key, IP, or permissions for action.")
    return account
