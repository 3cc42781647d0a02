"""Hyperliquid's ``POST /info`` for the fake: perp metadata, and by address the clearinghouse
state, funding payments (``userFunding``) and closing fills (``userFills``, ``userFillsByTime``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from tests.engine.normalise.payloads import hyperliquid as ph
from tests.fakes.exchange.base import (
    Account,
    Flow,
    Lookup,
    Reply,
    Request,
    as_ms,
    decimal,
    not_found,
    numeric_id,
    select_flows,
)

HOSTS = {"api.hyperliquid.xyz": "hyperliquid"}
#: The perp universe in Hyperliquid's order (the asset id is the index: SOL is 5).
UNIVERSE = (
    ("BTC", 5, 40),
    ("ETH", 4, 25),
    ("ATOM", 2, 5),
    ("MATIC", 1, 20),
    ("DYDX", 1, 5),
    ("SOL", 2, 20),
)


def default_positions(venue: str) -> Any:
    return ph.ASSETS


def markets(venue: str) -> dict[str, str]:
    return {f"{coin}/USDC:USDC": coin for coin, _, _ in UNIVERSE}


def remark(venue: str, positions: Any, market_id: str, price: float) -> Any:
    return tuple(replace(a, mark=price) if a.coin == market_id else a for a in positions)


def _mark(coin: str) -> float:
    marks = {asset.coin: asset.mark for asset in ph.ASSETS}
    return marks.get(coin, 10.0)


def _meta() -> dict[str, Any]:
    universe = [
        {"name": coin, "szDecimals": decimals, "maxLeverage": leverage, "marginTableId": leverage}
        for coin, decimals, leverage in UNIVERSE
    ]
    return {"universe": universe, "marginTables": [], "collateralToken": 0}


#: The hourly funding rate every perp of the fake pays (``metaAndAssetCtxs``, ``userFunding``).
FUNDING_RATE = 0.0000125
#: At most this many entries per answer: 500 for time-range queries, 2000 fills.
MAX_FUNDING, MAX_FILLS = 500, 2000
#: The ``hash`` of every ``userFunding`` entry: a funding payment is no transaction, so
#: Hyperliquid sends zeros (and ccxt makes that the entry's id). Its time and coin tell
#: payments apart.
ZERO_HASH = "0x" + "0" * 64


def _context(coin: str, marks: Mapping[str, float]) -> dict[str, Any]:
    """The coin's asset context: ``markPx`` is the mark ``set_mark`` gave it, else (like every
    other price here) the default positions' mark."""
    mark = _mark(coin)
    return {
        "funding": decimal(FUNDING_RATE),
        "openInterest": "1000.5",
        "prevDayPx": f"{mark}",
        "dayNtlVlm": "1000000.0",
        "premium": "0.0001",
        "oraclePx": f"{mark}",
        "markPx": decimal(marks[coin]) if coin in marks else f"{mark}",
        "midPx": f"{mark}",
        "impactPxs": [f"{mark}", f"{mark}"],
        "dayBaseVlm": "100.0",
    }


def _empty_state() -> dict[str, Any]:
    return ph.clearinghouse_state(())


def _flows(body: dict[str, Any], lookup: Lookup, kind: str, timed: bool) -> list[Flow]:
    """The wallet's ``kind`` flows in the body's ``startTime``..``endTime`` (inclusive; the
    start is required when ``timed``, like Hyperliquid), oldest first; none for an unknown
    wallet. Raises ``ValueError`` for a body Hyperliquid would not deserialize."""
    start, end = as_ms(body.get("startTime")), as_ms(body.get("endTime"))
    if timed and start is None:
        raise ValueError("startTime is required")
    account: Account | None = lookup("hyperliquid", str(body.get("user", "")).lower())
    if account is None:
        return []
    return select_flows(account.flows, {kind}, markets("hyperliquid"), start, end)


def _user_funding(body: dict[str, Any], lookup: Lookup) -> list[dict[str, Any]]:
    """userFunding: the first 500 funding payments from ``startTime``, oldest first (every
    coin is paid at the same moment, and the bounds are inclusive: a next page starting at
    this one's newest time repeats the payments made then)."""
    flows = _flows(body, lookup, "funding", timed=True)[:MAX_FUNDING]
    return [_funding_entry(flow) for flow in flows]


def _funding_entry(flow: Flow) -> dict[str, Any]:
    """``usdc`` is the flow's amount; ``szi`` is the position that pays it at the fake's rate
    (longs pay a positive rate); the hash is zeros whatever the flow's ref, like Hyperliquid."""
    coin = markets("hyperliquid")[flow.symbol]
    szi = -flow.amount / (_mark(coin) * FUNDING_RATE)
    delta = {
        "type": "funding",
        "coin": coin,
        "usdc": decimal(flow.amount),
        "szi": decimal(round(szi, 5)),
        "fundingRate": decimal(FUNDING_RATE),
        "nSamples": None,
    }
    return {"time": flow.at_ms, "hash": ZERO_HASH, "delta": delta}


def _fills(body: dict[str, Any], lookup: Lookup, timed: bool) -> list[Flow]:
    """A closing fill per realised flow and an opening one per commission (its fee), by time."""
    both = _flows(body, lookup, "realised", timed) + _flows(body, lookup, "commission", timed)
    return sorted(both, key=lambda f: (f.at_ms, f.ref))


def _user_fills(body: dict[str, Any], lookup: Lookup) -> list[dict[str, Any]]:
    """userFills: the 2000 most recent fills, oldest first."""
    return [_fill(flow) for flow in _fills(body, lookup, timed=False)[-MAX_FILLS:]]


def _user_fills_by_time(body: dict[str, Any], lookup: Lookup) -> list[dict[str, Any]]:
    """userFillsByTime: the first 2000 fills from ``startTime``, oldest first."""
    return [_fill(flow) for flow in _fills(body, lookup, timed=True)[:MAX_FILLS]]


def _fill(flow: Flow) -> dict[str, Any]:
    """A taker fill at the mark, ``hash`` its ref and ``tid`` its ref when the ref is a number:
    closing a long with ``closedPnl`` a realised flow's amount, or opening one whose ``fee``
    (what was paid: positive) is a commission flow's."""
    fee = -flow.amount if flow.kind == "commission" else 0.0
    coin = markets("hyperliquid")[flow.symbol]
    price = _mark(coin)
    size = decimal(round(max(1.0, 2 * abs(flow.amount) / price), 5))
    return {
        "coin": coin,
        "px": decimal(price),
        "sz": size,
        "side": "A",
        "time": flow.at_ms,
        "startPosition": size,
        "dir": "Open Long" if flow.kind == "commission" else "Close Long",
        "closedPnl": "0.0" if flow.kind == "commission" else decimal(flow.amount),
        "hash": flow.ref,
        "oid": numeric_id(flow.ref) // 2,
        "crossed": True,
        "fee": decimal(fee),
        "tid": numeric_id(flow.ref),
        "feeToken": "USDC",
    }


#: ``POST /info`` types that read a wallet's history.
HISTORY: dict[str, Callable[[dict[str, Any], Lookup], list[dict[str, Any]]]] = {
    "userFunding": _user_funding,
    "userFills": _user_fills,
    "userFillsByTime": _user_fills_by_time,
}


def _info(request: Request, lookup: Lookup) -> Any:
    body = request.json()
    kind = body.get("type")
    if kind in HISTORY:
        return HISTORY[kind](body, lookup)
    if kind == "meta":
        return _meta()
    if kind == "metaAndAssetCtxs":
        return [_meta(), [_context(coin, request.marks) for coin, _, _ in UNIVERSE]]
    if kind == "spotMeta":
        return {"universe": [], "tokens": []}
    if kind == "clearinghouseState":
        account = lookup("hyperliquid", str(body.get("user", "")).lower())
        return ph.clearinghouse_state(tuple(account.positions)) if account else _empty_state()
    return None


def handle(request: Request, lookup: Lookup) -> Reply:
    if request.method != "POST" or request.path != "/info":
        return not_found(request)
    try:
        result = _info(request, lookup)
    except ValueError:
        result = None
    if result is None:
        return Reply(
            None, status=422, raw="Failed to deserialize the JSON body into the target type"
        )
    return Reply(result)
