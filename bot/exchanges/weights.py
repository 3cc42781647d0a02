"""Each per-IP venue's published REST limit and the weight of every call liqwatch makes there,
in one table: what the shared budget (``budget.py``) charges and paces against.

ccxt's own costs are a venue's weights in ccxt's units (60,000 / ``rateLimit`` a minute), and
for the calls liqwatch makes they are not always the published ones: ccxt 4.5 charges Binance's
``/fapi/v3/positionRisk`` and ``/fapi/v3/account`` 1 where Binance weighs them 5, and every
Hyperliquid info read but the light ones 10 where Hyperliquid counts 20; ccxt also counts
Binance USDⓈ-M as 1,200 a minute where Binance allows 2,400. Paced on ccxt's numbers, 300
Binance accounts sent Binance 3,400 weight a minute (tests/bot/monitor/test_budget_scale.py).
So for the venues below the budget counts in the venue's own weight against its own limit;
every other venue (limits per key: Bybit, OKX, Deribit) keeps ccxt's costs and limit.

docs/polling.md shows this table; tests/bot/exchanges/test_weights.py holds the ``ccxt_cost``
column to ccxt's api definitions (a ccxt upgrade that changes a cost fails it, and this
table is looked at again) and the document to this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limit:
    """A venue's published request-weight limit a minute, shared by every key on one IP."""

    venue: str
    per_minute: float
    source: str


@dataclass(frozen=True)
class Call:
    """One request liqwatch makes: what it reads, the venue's endpoint, how ccxt names it
    (api group, method, path; Hyperliquid's info ``kind``), the published weight and ccxt's
    cost of the request as liqwatch sends it."""

    venue: str
    reads: str
    endpoint: str
    api: str
    method: str
    path: str
    weight: float
    ccxt_cost: float
    kind: str | None = None
    #: How liqwatch calls it (what ccxt's cost may depend on: a limit, a symbol or none).
    params: Mapping[str, Any] | None = None
    #: What the weight does not say (extra weight a venue adds per item returned).
    note: str = ""


_BINANCE = "developers.binance.com, derivatives, each endpoint's Request Weight"
_HL = "Hyperliquid docs, API, Rate limits and user limits"
#: Per-IP limits a minute (Binance: "Rate limits on Binance Futures" FAQ, 2,400 per IP by
#: default for USDⓈ-M and COIN-M alike; Hyperliquid: 1,200 per IP).
LIMITS: dict[str, Limit] = {
    limit.venue: limit
    for limit in (
        Limit("binanceusdm", 2400.0, "Binance FAQ: Rate limits on Binance Futures"),
        Limit("binancecoinm", 2400.0, "Binance FAQ: Rate limits on Binance Futures"),
        Limit("hyperliquid", 1200.0, _HL),
    )
}
_CANDLES = {"interval": "1d", "limit": 31}
_PER_20 = "+1 per 20 entries returned (a backfill page of 500 weighs 45)"

CALLS: tuple[Call, ...] = (
    # Binance USDⓈ-M
    Call("binanceusdm", "markets", "GET /fapi/v1/exchangeInfo", "fapiPublic", "GET",
         "exchangeInfo", 1, 1),
    Call("binanceusdm", "positions", "GET /fapi/v3/positionRisk", "fapiPrivateV3", "GET",
         "positionRisk", 5, 1, note="as V2 and the WebSocket account.position"),
    Call("binanceusdm", "balance", "GET /fapi/v3/account", "fapiPrivateV3", "GET", "account",
         5, 1),
    Call("binanceusdm", "tiers", "GET /fapi/v1/leverageBracket", "fapiPrivate", "GET",
         "leverageBracket", 1, 1, note="also read by ccxt once per instance"),
    Call("binanceusdm", "funding, marks", "GET /fapi/v1/premiumIndex", "fapiPublic", "GET",
         "premiumIndex", 1, 1),
    Call("binanceusdm", "candles", "GET /fapi/v1/klines (31 daily)", "fapiPublic", "GET",
         "klines", 1, 1, params=_CANDLES),
    Call("binanceusdm", "ledger", "GET /fapi/v1/income", "fapiPrivate", "GET", "income", 30,
         30),
    # Binance COIN-M
    Call("binancecoinm", "markets", "GET /dapi/v1/exchangeInfo", "dapiPublic", "GET",
         "exchangeInfo", 1, 1),
    Call("binancecoinm", "positions", "GET /dapi/v1/positionRisk", "dapiPrivate", "GET",
         "positionRisk", 1, 1),
    Call("binancecoinm", "balance", "GET /dapi/v1/account", "dapiPrivate", "GET", "account", 5,
         5),
    Call("binancecoinm", "tiers", "GET /dapi/v2/leverageBracket", "dapiPrivateV2", "GET",
         "leverageBracket", 1, 2),
    Call("binancecoinm", "funding, marks", "GET /dapi/v1/premiumIndex", "dapiPublic", "GET",
         "premiumIndex", 10, 10),
    Call("binancecoinm", "candles", "GET /dapi/v1/klines (31 daily)", "dapiPublic", "GET",
         "klines", 1, 1, params=_CANDLES),
    Call("binancecoinm", "ledger", "GET /dapi/v1/income", "dapiPrivate", "GET", "income", 20,
         20),
    # Hyperliquid: one POST /info, weighed by its type
    Call("hyperliquid", "positions and balance", "POST /info clearinghouseState", "public",
         "POST", "info", 2, 2, kind="clearinghouseState"),
    Call("hyperliquid", "markets, funding, marks", "POST /info metaAndAssetCtxs", "public",
         "POST", "info", 20, 10, kind="metaAndAssetCtxs"),
    Call("hyperliquid", "markets", "POST /info spotMeta", "public", "POST", "info", 20, 10,
         kind="spotMeta"),
    Call("hyperliquid", "candles", "POST /info candleSnapshot (31 daily)", "public", "POST",
         "info", 20, 4, kind="candleSnapshot", note="+1 per 60 candles"),
    Call("hyperliquid", "ledger (funding)", "POST /info userFunding", "public", "POST", "info",
         20, 10, kind="userFunding", note=_PER_20),
    Call("hyperliquid", "ledger (realised PnL)", "POST /info userFillsByTime", "public", "POST",
         "info", 20, 10, kind="userFillsByTime", note=_PER_20),
)  # fmt: skip

#: Hyperliquid's info types weighing 2; every other one weighs 20 (the table's note on extra
#: weight per item aside), listed or not.
_HL_LIGHT = frozenset(
    {"l2Book", "allMids", "clearinghouseState", "orderStatus", "spotClearinghouseState",
     "exchangeStatus"}
)  # fmt: skip

_INDEX: dict[tuple[str, str, str, str, str | None], Call] = {
    (c.venue, c.api, c.method, c.path, c.kind): c for c in CALLS
}


#: Hyperliquid info types weighing 1 more per 20 entries they return (liqwatch's ledger reads
#: among them), and per 60 candles.
_HL_PER_20 = frozenset(
    {"recentTrades", "historicalOrders", "userFills", "userFillsByTime", "fundingHistory",
     "userFunding", "nonUserFundingUpdates", "twapHistory", "userTwapSliceFills",
     "userTwapSliceFillsByTime", "delegatorHistory", "delegatorRewards", "validatorStats"}
)  # fmt: skip
_HL_PER_60 = frozenset({"candleSnapshot"})


def limit_per_minute(venue: str) -> float | None:
    """The venue's published weight a minute per IP; None: not in the table (ccxt's rules)."""
    found = LIMITS.get(venue)
    return None if found is None else found.per_minute


def weight(venue: str, api: Any, method: Any, path: Any, params: Any) -> float | None:
    """The published weight of one request as ccxt's ``fetch2`` describes it (``api`` is
    ccxt's api group, or a list holding it); None: not in the table. A venue in ``LIMITS``
    whose request is not listed is charged ccxt's cost, which is its weight in the venue's
    units (ccxt's Binance costs are Binance weights; its limit is what differs)."""
    if venue not in LIMITS:
        return None
    group = api[0] if isinstance(api, list | tuple) and api else api
    kind = params.get("type") if isinstance(params, dict) and path == "info" else None
    call = _INDEX.get((venue, str(group), str(method).upper(), str(path), kind))
    if call is not None:
        return call.weight
    if venue == "hyperliquid" and path == "info":
        return 2.0 if kind in _HL_LIGHT else 20.0
    return None


def extra(venue: str, path: Any, params: Any, response: Any) -> float:
    """Weight the venue adds for the answer's length, known only once it came (0: none)."""
    if venue != "hyperliquid" or path != "info" or not isinstance(response, list):
        return 0.0
    kind = params.get("type") if isinstance(params, dict) else None
    if kind in _HL_PER_20:
        return float(len(response) // 20)
    if kind in _HL_PER_60:
        return float(len(response) // 60)
    return 0.0
