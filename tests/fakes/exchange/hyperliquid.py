"""Hyperliquid's ``POST /info`` for the fake: perp metadata and clearinghouse state by address."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.engine.normalise.payloads import hyperliquid as ph
from tests.fakes.exchange.base import Lookup, Reply, Request, not_found

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


def _context(coin: str) -> dict[str, Any]:
    mark = _mark(coin)
    return {
        "funding": "0.0000125",
        "openInterest": "1000.5",
        "prevDayPx": f"{mark}",
        "dayNtlVlm": "1000000.0",
        "premium": "0.0001",
        "oraclePx": f"{mark}",
        "markPx": f"{mark}",
        "midPx": f"{mark}",
        "impactPxs": [f"{mark}", f"{mark}"],
        "dayBaseVlm": "100.0",
    }


def _empty_state() -> dict[str, Any]:
    return ph.clearinghouse_state(())


def _info(request: Request, lookup: Lookup) -> Any:
    body = request.json()
    kind = body.get("type")
    if kind == "meta":
        return _meta()
    if kind == "metaAndAssetCtxs":
        return [_meta(), [_context(coin) for coin, _, _ in UNIVERSE]]
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
