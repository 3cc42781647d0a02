"""OKX v5 for the fake: instruments, position tiers, positions, balance and key permissions."""

from __future__ import annotations

from typing import Any

from tests.engine.normalise.payloads import okx as po
from tests.fakes.exchange import okx_ledger, options
from tests.fakes.exchange.base import (
    NOW_MS,
    Account,
    Lookup,
    Reply,
    Request,
    daily_closes,
    decimal,
    not_found,
)

HOSTS = {"www.okx.com": "okx"}
CONTRACT = {market_id: size for market_id, _, size, _ in po.OKX_MARKETS}


def default_positions(venue: str) -> Any:
    return [po.okx_raw(), po.okx_isolated_short(), po.okx_inverse_long()]


def markets(venue: str) -> dict[str, str]:
    table = {options.OKX_SYMBOLS[k]: options.OKX_IDS[k] for k in options.BOTH}
    return table | {symbol: market_id for market_id, symbol, _, _ in po.OKX_MARKETS}


def remark(venue: str, positions: Any, market_id: str, price: float) -> Any:
    return [_mark(raw, price) if raw["instId"] == market_id else raw for raw in positions]


def _inverse(market_id: str) -> bool:
    return market_id.split("-")[1] == "USD"


def _mark(raw: dict[str, Any], price: float) -> dict[str, Any]:
    contracts, entry = float(raw["pos"]), float(raw["avgPx"])
    if raw["posSide"] == "short":
        contracts = -contracts
    face = CONTRACT[raw["instId"]]
    if _inverse(raw["instId"]):
        upnl = contracts * face * (1 / entry - 1 / price)
        notional = abs(contracts) * face
    else:
        upnl = contracts * face * (price - entry)
        notional = abs(contracts) * face * price
    return raw | {"markPx": f"{price:g}", "upl": f"{upnl:.8f}", "notionalUsd": f"{notional:.2f}"}


def _instrument(market_id: str, face: float) -> dict[str, Any]:
    base, quote = market_id.split("-")[:2]
    inverse = _inverse(market_id)
    return {
        "instType": "SWAP",
        "instId": market_id,
        "instFamily": f"{base}-{quote}",
        "uly": f"{base}-{quote}",
        "baseCcy": "",
        "quoteCcy": "",
        "settleCcy": base if inverse else quote,
        "ctVal": f"{face:g}",
        "ctMult": "1",
        "ctValCcy": quote if inverse else base,
        "ctType": "inverse" if inverse else "linear",
        "optType": "",
        "stk": "",
        "listTime": "1611916828000",
        "expTime": "",
        "lever": "100",
        "tickSz": "0.1",
        "lotSz": "1",
        "minSz": "1",
        "maxLmtSz": "100000000",
        "maxMktSz": "10000",
        "state": "live",
        "alias": "",
        "category": "1",
    }


def _envelope(data: list[Any]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


def _instruments(request: Request) -> dict[str, Any]:
    if request.query.get("instType") == "OPTION":
        return _envelope(options.okx_instruments(request))
    if request.query.get("instType") != "SWAP":
        return _envelope([])
    return _envelope([_instrument(i, size) for i, _, size, _ in po.OKX_MARKETS])


def _tiers(request: Request) -> dict[str, Any]:
    family = request.query.get("instFamily", "BTC-USDT")
    rows = [
        {
            "instFamily": family,
            "uly": family,
            "instId": "",
            "tier": f"{n + 1}",
            "minSz": f"{low}",
            "maxSz": f"{high}",
            "mmr": f"{mmr}",
            "imr": f"{2 * mmr}",
            "maxLever": f"{lev}",
            "optMgnFactor": "0",
            "quoteMaxLoan": "",
            "baseMaxLoan": "",
        }
        for n, (low, high, mmr, lev) in enumerate([(0, 2000, 0.004, 125), (2000, 5000, 0.005, 100)])
    ]
    return _envelope(rows)


def _positions(request: Request, positions: list[dict[str, Any]]) -> dict[str, Any]:
    kind = request.query.get("instType")
    return _envelope([raw for raw in positions if kind is None or raw["instType"] == kind])


def _config(account: Account) -> dict[str, Any]:
    """account/config: the key's permissions and the account's mode (``acctLv``: "2" single-
    currency margin by default, "4" portfolio margin) as ``Account.settings`` gives them."""
    row = {
        "uid": "44705892343619584",
        "acctLv": "2",
        "posMode": "net_mode",
        "autoLoan": False,
        "greeksType": "PA",
        "level": "Lv1",
        "perm": "read_only",
        "ip": "",
        "label": "liqwatch",
    }
    return _envelope([row | account.permissions | account.settings])


def _mark_price(request: Request) -> dict[str, Any]:
    """public/mark-price: the marks of ``instType``'s instruments (narrowed to ``instId``):
    the one ``set_mark`` gave an instrument, else its last close. The fake lists swaps only."""
    if request.query.get("instType") not in ("SWAP", "FUTURES", "MARGIN", "OPTION"):
        return {"code": "51000", "msg": "Parameter instType error", "data": []}
    wanted = request.query.get("instId")
    rows = [
        {
            "instType": "SWAP",
            "instId": market_id,
            "markPx": decimal(request.marks.get(market_id, daily_closes(market_id, 1)[0])),
            "ts": str(NOW_MS),
        }
        for market_id, _, _, _ in po.OKX_MARKETS
        if request.query["instType"] == "SWAP" and wanted in (None, market_id)
    ]
    return _envelope(rows)


PUBLIC = {
    "/api/v5/public/mark-price": _mark_price,
    "/api/v5/public/instruments": _instruments,
    "/api/v5/public/position-tiers": _tiers,
    "/api/v5/public/time": lambda request: _envelope([{"ts": str(NOW_MS)}]),
    "/api/v5/public/opt-summary": lambda request: _envelope(options.okx_opt_summary(request)),
}
PRIVATE = {
    "/api/v5/account/positions": lambda request, account: _positions(
        request, list(account.positions)
    ),
    "/api/v5/account/balance": lambda request, account: account.served(
        request, lambda: po.okx_balance()["info"]
    ),
    "/api/v5/account/config": lambda request, account: _config(account),
    **okx_ledger.PRIVATE,  # bills and positions history
}


def error(code: str, message: str) -> Reply:
    return Reply({"code": code, "msg": message, "data": []}, status=401)


def handle(request: Request, lookup: Lookup) -> Reply:
    if request.path in PUBLIC:
        return Reply(PUBLIC[request.path](request))
    if request.path not in PRIVATE:
        return not_found(request)
    key = request.headers.get("OK-ACCESS-KEY", "")
    if not key:
        return error("50103", "Request header OK-ACCESS-KEY cannot be empty.")
    account = lookup("okx", key)
    if account is None:
        return error("50111", "Invalid OK-ACCESS-KEY.")
    if request.headers.get("OK-ACCESS-PASSPHRASE") != account.passphrase:
        return error("50105", "Invalid OK-ACCESS-PASSPHRASE.")
    return Reply(PRIVATE[request.path](request, account))
