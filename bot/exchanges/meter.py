"""How much of a venue's REST budget liqwatch spends: each request's cost, summed over the
last minute (docs/streaming.md, "Poll budget").

ccxt paces an instance at ``rateLimit`` milliseconds per cost unit and gives each endpoint a
cost in those units (the venue's request weight, scaled): 60,000 / ``rateLimit`` units a minute
is the venue's limit. Where those are not the venue's (``weights.py``: Binance, Hyperliquid),
the published weights and limit replace them. The shared budget (``budget.py``) paces every
instance of the venue at ``SHARE`` of it and queues the rest — the point where polls fall
behind.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.exchanges import weights

#: The window the budget is counted over (the venues' limits are per minute).
WINDOW_S = 60.0


class Meter:
    """Amounts added over the last ``WINDOW_S`` seconds (request costs, or polls)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: deque[tuple[float, float]] = deque()
        self._total = 0.0

    def add(self, amount: float = 1.0) -> None:
        self._seen.append((self._clock(), amount))
        self._total += amount
        self._prune()

    def per_minute(self) -> float:
        """What was added in the last minute."""
        self._prune()
        return max(0.0, self._total)

    def _prune(self) -> None:
        cutoff = self._clock() - WINDOW_S
        while self._seen and self._seen[0][0] < cutoff:
            self._total -= self._seen.popleft()[1]
        if not self._seen:
            self._total = 0.0  # no drift from float sums once the window is empty


@dataclass(frozen=True)
class RestUse:
    """One venue's REST spending in the last minute, in the units of its limit (``cost_of``)."""

    per_minute: float
    #: What ccxt lets through a minute (60,000 / rateLimit).
    limit: float
    #: The limit is the IP's, shared by every account of the venue; otherwise it is each key's
    #: and ``per_minute`` is the busiest key's (or the public reads', if they spend more).
    per_ip: bool

    @property
    def share(self) -> float:
        return self.per_minute / self.limit if self.limit > 0 else 0.0


def cost_of(
    exchange: object, api: object, method: object, path: object, params: object, config: object
) -> float:
    """What one request costs the venue's budget: its published weight where ``weights.py``
    lists the venue (ccxt's costs there are not the venue's), else ccxt's cost (1 when it
    cannot say: a venue's odd config is no reason to fail the request)."""
    published = weights.weight(getattr(exchange, "id", ""), api, method, path, params)
    if published is not None:
        return published
    try:
        cost = exchange.calculate_rate_limiter_cost(  # type: ignore[attr-defined]
            api, method, path, params, config
        )
        return float(cost) if cost is not None else 1.0
    except Exception:
        return 1.0


class Meters:
    """The hub's meters: one per venue whose limit is per IP (every instance of it shares it),
    else one per account key plus one for the venue's public reads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._meters: dict[tuple[str, str | None], Meter] = {}

    def get(self, venue: str, key: str | None) -> Meter:
        """The meter of ``key``'s instance on ``venue`` (``None``: the public one)."""
        return self._meters.setdefault((venue, key), Meter(self._clock))

    def forget(self, venue: str, key: str) -> None:
        self._meters.pop((venue, key), None)

    def use(self, venue: str, *, rate_limit_ms: float, per_ip: bool) -> RestUse | None:
        """The venue's spending in the last minute (``None``: it made no request yet)."""
        spent = [m.per_minute() for (v, _), m in self._meters.items() if v == venue]
        if not spent or rate_limit_ms <= 0:
            return None
        return RestUse(max(spent), 60_000.0 / rate_limit_ms, per_ip)
