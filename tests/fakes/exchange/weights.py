"""What each request to the fake weighs as the venue itself counts it, and a sliding minute per
venue (one IP: every request of the test comes from 127.0.0.1) that records each time the
venue's published limit would have been passed.

The weights are the venues' documents, not ccxt's costs (those are what liqwatch is checked
against): Binance USDⓈ-M / COIN-M "Request Weight" of each endpoint (2,400 a minute per IP),
Hyperliquid's info weights (1,200 a minute per IP; ``clearinghouseState`` 2, ``userRole`` 60,
every other info request 20, plus 1 per 20 items a history returns and 1 per 60 candles).
A request the table does not know is weighed ``UNKNOWN`` and listed in ``unknown``: a scale test
fails on it rather than let a new call go unweighed.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.exchange.base import Reply, Request

#: Request weight a minute per IP, by venue (Binance's futures FAQ "Rate limits on Binance
#: Futures": 2,400 per IP by default; Hyperliquid docs "Rate limits": 1,200 per IP).
LIMITS: dict[str, float] = {"binanceusdm": 2400.0, "binancecoinm": 2400.0, "hyperliquid": 1200.0}
WINDOW_S = 60.0
#: What an unknown request is charged: more than any known one, so it shows.
UNKNOWN = 100.0

#: Binance's weight bands of ``limit`` for klines: [1,100) 1, [100,500) 2, [500,1000] 5, >1000 10
#: (the default limit is 500).
_KLINE_BANDS = ((100, 1.0), (500, 2.0), (1001, 5.0))


def _klines(request: Request) -> float:
    try:
        limit = int(request.query.get("limit", 500))
    except ValueError:
        limit = 500
    return next((w for below, w in _KLINE_BANDS if limit < below), 10.0)


def _by_symbol(with_symbol: float, without: float) -> Callable[[Request], float]:
    return lambda request: with_symbol if "symbol" in request.query else without


def _fixed(weight: float) -> Callable[[Request], float]:
    return lambda request: weight


#: Binance path → weight (developers.binance.com, derivatives/usds-margined-futures and
#: coin-margined-futures, each endpoint's "Request Weight").
BINANCE: dict[str, Callable[[Request], float]] = {
    "/fapi/v1/exchangeInfo": _fixed(1.0),
    "/fapi/v1/time": _fixed(1.0),
    "/fapi/v1/leverageBracket": _fixed(1.0),
    "/fapi/v2/positionRisk": _fixed(5.0),
    "/fapi/v3/positionRisk": _fixed(5.0),
    "/fapi/v2/account": _fixed(5.0),
    "/fapi/v3/account": _fixed(5.0),
    "/fapi/v2/balance": _fixed(5.0),
    "/fapi/v3/balance": _fixed(5.0),
    "/fapi/v1/income": _fixed(30.0),
    "/fapi/v1/klines": _klines,
    "/fapi/v1/markPriceKlines": _klines,
    "/fapi/v1/premiumIndex": _fixed(1.0),
    "/fapi/v1/ticker/24hr": _by_symbol(1.0, 40.0),
    "/fapi/v1/listenKey": _fixed(1.0),
    "/dapi/v1/exchangeInfo": _fixed(1.0),
    "/dapi/v1/leverageBracket": _fixed(1.0),
    "/dapi/v2/leverageBracket": _fixed(1.0),
    "/dapi/v1/positionRisk": _fixed(1.0),
    "/dapi/v1/account": _fixed(5.0),
    "/dapi/v1/income": _fixed(20.0),
    "/dapi/v1/klines": _klines,
    "/dapi/v1/premiumIndex": _fixed(10.0),
    "/dapi/v1/listenKey": _fixed(1.0),
}
#: Hyperliquid info types weighing 2 (docs "Rate limits and user limits"); ``userRole`` 60.
HL_LIGHT = frozenset(
    {
        "l2Book",
        "allMids",
        "clearinghouseState",
        "orderStatus",
        "spotClearinghouseState",
        "exchangeStatus",
    }
)
#: Info types charged 1 more per 20 items they return.
HL_PER_20 = frozenset(
    {
        "recentTrades",
        "historicalOrders",
        "userFills",
        "userFillsByTime",
        "fundingHistory",
        "userFunding",
        "nonUserFundingUpdates",
        "twapHistory",
        "userTwapSliceFills",
        "userTwapSliceFillsByTime",
        "delegatorHistory",
        "delegatorRewards",
        "validatorStats",
    }
)


def _hyperliquid(request: Request, reply: Reply) -> float | None:
    if request.path != "/info":
        return None
    try:
        body = request.json()
    except ValueError:
        return None
    kind = body.get("type") if isinstance(body, dict) else None
    if not isinstance(kind, str):
        return None
    if kind in HL_LIGHT:
        return 2.0
    if kind == "userRole":
        return 60.0
    items = len(reply.body) if isinstance(reply.body, list) else 0
    if kind in HL_PER_20:
        return 20.0 + items // 20
    if kind == "candleSnapshot":
        return 20.0 + items // 60
    return 20.0


def weight(request: Request, reply: Reply) -> float | None:
    """What ``request`` (answered with ``reply``) weighs on its venue; None: not in the table."""
    if request.venue == "hyperliquid":
        return _hyperliquid(request, reply)
    if request.venue in ("binanceusdm", "binancecoinm"):
        rule = BINANCE.get(request.path)
        return None if rule is None else rule(request)
    return None


@dataclass(frozen=True)
class Breach:
    """The venue's limit passed: ``used`` weight in the minute ending ``at``."""

    venue: str
    at: float
    used: float
    limit: float
    endpoint: str


@dataclass
class WeightMeter:
    """Each venue's weight over the last ``window_s`` (a sliding window: no fixed minute a
    venue could reset is kinder than it), the highest it reached, and every breach."""

    limits: Mapping[str, float] = field(default_factory=lambda: dict(LIMITS))
    window_s: float = WINDOW_S
    breaches: list[Breach] = field(default_factory=list)
    #: (venue, endpoint) of requests the table does not weigh, for venues with a limit.
    unknown: Counter[tuple[str, str]] = field(default_factory=Counter)
    peaks: dict[str, float] = field(default_factory=dict)
    totals: dict[str, float] = field(default_factory=dict)
    _seen: dict[str, deque[tuple[float, float]]] = field(default_factory=dict, repr=False)
    _used: dict[str, float] = field(default_factory=dict, repr=False)

    def record(self, request: Request, reply: Reply) -> float:
        """Count ``request`` on its venue; returns its weight."""
        venue = request.venue
        if venue not in self.limits:
            return 0.0
        found = weight(request, reply)
        if found is None:
            self.unknown[(venue, request.endpoint)] += 1
            found = UNKNOWN
        seen = self._seen.setdefault(venue, deque())
        seen.append((request.at, found))
        used = self._used.get(venue, 0.0) + found
        while seen and seen[0][0] <= request.at - self.window_s:
            used -= seen.popleft()[1]
        self._used[venue] = used
        self.totals[venue] = self.totals.get(venue, 0.0) + found
        self.peaks[venue] = max(self.peaks.get(venue, 0.0), used)
        if used > self.limits[venue]:
            self.breaches.append(
                Breach(venue, request.at, used, self.limits[venue], request.endpoint)
            )
        return found

    def peak(self, venue: str) -> float:
        """The most weight ``venue`` received inside any window so far."""
        return self.peaks.get(venue, 0.0)


def describe(meter: WeightMeter) -> dict[str, Any]:
    """Peaks against limits, for a failing assertion's message."""
    return {
        venue: f"peak {meter.peak(venue):,.0f} of {limit:,.0f} a minute"
        for venue, limit in meter.limits.items()
    }
