"""What a poll hands on: the event the alert stage reads, the stage's port, and the counters
operators read."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from bot.exchanges import ExchangeFailure
from engine.analysis import Analysis
from engine.domain import AccountStatus, LinkedAccount
from storage import Transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollEvent:
    """What one poll saw: an analysis, or the failure that stopped it, and the new status."""

    account: LinkedAccount
    at: float
    status: AccountStatus
    analysis: Analysis | None = None
    failure: ExchangeFailure | None = None
    #: Funding rate per symbol (a fraction per funding interval) when the venue reported it.
    funding: Mapping[str, float] = field(default_factory=dict)
    #: From a poll (True), or the last poll's positions re-priced at streamed marks (False).
    poll: bool = True
    #: The book entry the analysis is of (``Book.generation``; -1: none), which the alert
    #: stage's screen of streamed marks keys its watch by.
    generation: int = -1


class AlertStage(Protocol):
    """The next stage, called inside the poll's transaction (``bot.alerting.stage``)."""

    async def __call__(self, tx: Transaction, event: PollEvent) -> None: ...


async def no_alerts(tx: Transaction, event: PollEvent) -> None:
    """A stage that decides nothing: the default of a ``Monitor`` built without the alert stage."""


@dataclass
class MonitorStats:
    """Counters an operator (and the heartbeat) reads."""

    polls: int = 0
    #: Position pushes applied between polls (``Monitor.pushed``).
    pushes: int = 0
    failures: int = 0
    #: Polls that took longer than their interval (the next one was coalesced, not stacked).
    overruns: int = 0
    #: Runs APScheduler skipped because the previous poll of that account was still running.
    skipped: int = 0
    last_poll_at: float | None = None
    #: Last poll that finished either way (the watchdog's "the loop is alive" signal).
    last_cycle_at: float | None = None
    #: Polls per (venue, outcome): "ok", or the failure's kind ("network", "auth", …).
    by_venue: Counter[tuple[str, str]] = field(default_factory=Counter)

    def counted(self, venue: str, failure: str | None = None) -> None:
        """One poll of ``venue`` ended, well (``failure`` None) or with that kind of failure."""
        if failure is None:
            self.polls += 1
        else:
            self.failures += 1
        self.by_venue[(venue, failure or "ok")] += 1


class OverrunLog:
    """Polls slower than their interval, logged at most once a minute: at start-up, or when a
    venue's budget queues them, hundreds can overrun together (one line each would bury the
    log); the line says how many and the slowest."""

    EVERY_S = 60.0

    def __init__(self) -> None:
        self._since: float | None = None
        self._count, self._slowest = 0, (0, 0.0)

    def note(self, account_id: int, elapsed_s: float, at: float) -> None:
        self._count += 1
        if elapsed_s > self._slowest[1]:
            self._slowest = (account_id, elapsed_s)
        if self._since is not None and at - self._since < self.EVERY_S:
            return
        slow_id, slow_s = self._slowest
        log.warning(
            "%d poll(s) took longer than their interval since the last report (slowest: "
            "account %s, %.1fs)", self._count, slow_id, slow_s,
        )  # fmt: skip
        self._since, self._count, self._slowest = at, 0, (0, 0.0)
