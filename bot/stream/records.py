"""What the mark streams hand out (ticks, each venue's status) and the knobs they run with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Source = Literal["stream", "rest"]
State = Literal["live", "degraded", "off"]


@dataclass(frozen=True)
class MarkTick:
    """One mark of one symbol: pushed by the venue's stream, or read over REST while the
    symbol is stale."""

    venue: str
    symbol: str
    mark: float
    #: When liqwatch received it, on the streams' clock (epoch seconds by default).
    at: float
    source: Source


@dataclass(frozen=True)
class VenueStatus:
    """One venue's marks, for operators.

    ``live``: every followed symbol's stream is fresh; ``degraded``: some are stale and read
    over REST; ``off``: nothing followed, or the streams are not running."""

    state: State
    #: Seconds since the venue's last tick, stream or REST (``None``: none yet).
    age_s: float | None
    symbols: tuple[str, ...]
    stale: tuple[str, ...]
    #: Clients rebuilt after a failure (a drop, a refusal, a silent stream), since start.
    reconnects: int


@dataclass(frozen=True)
class Tuning:
    """How quickly a silent stream is noticed, how often REST stands in, how reconnects pace."""

    #: A symbol with no stream update for this long is stale (see ``StreamSpec.periodic``).
    stale_after_s: float = 10.0
    #: While some symbols are stale, one REST read of their marks this often.
    rest_every_s: float = 3.0
    #: The first reconnect waits this long, each failed one twice as long, up to the cap.
    backoff_s: float = 0.5
    backoff_cap_s: float = 30.0
    #: Each HTTP request's time limit (markets load over REST on each client).
    http_timeout_s: float = 10.0

    @property
    def watch_timeout_s(self) -> float:
        """How long one watch may wait before the symbol's staleness is looked at again."""
        return min(self.stale_after_s, self.rest_every_s)

    def __post_init__(self) -> None:
        values = (self.stale_after_s, self.rest_every_s, self.backoff_s, self.backoff_cap_s)
        if not all(v > 0 for v in values) or self.backoff_cap_s < self.backoff_s:
            raise ValueError(
                f"mark stream timings must be positive, the cap above the start: {self}"
            )


@dataclass
class Backoff:
    """Capped exponential delays: ``next()`` doubles from ``start_s`` up to ``cap_s``."""

    start_s: float
    cap_s: float
    _next_s: float = 0.0

    def next(self) -> float:
        delay = self._next_s or self.start_s
        self._next_s = min(delay * 2, self.cap_s)
        return delay

    def reset(self) -> None:
        self._next_s = 0.0
