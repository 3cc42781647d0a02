"""Prometheus metrics of one running service (``/metrics``), read from its parts at each scrape.

Counters are the parts' own totals since start (the monitor's polls, the notifier's outcomes,
the alert stage's transitions, the budgets' 429s), so nothing is counted twice and a scrape
costs one outbox query. Only the poll lag is observed as it happens: it is a distribution,
taken when APScheduler submits each poll job (now − the time it was due).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.exchanges import BudgetState
from bot.runtime.assemble import Runtime
from storage.outbox import Backlog, Outbox

#: Seconds: a near poll is due every 5 s, a far one every 5 min; lag past a minute is trouble.
LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
#: The scrape's content type (the text exposition format, version 0.0.4).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The service's metrics; ``scrape()`` reads the outbox and renders every family."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        budgets: Callable[[], Iterable[BudgetState]] = tuple,
        leader_roles: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.runtime, self.budgets, self.clock = runtime, budgets, clock
        #: Roles this process holds: one inbound per chat platform (on SQLite, all of them;
        #: a worker that takes the inbound later appends to the list it was given).
        self.leader_roles = leader_roles
        self.registry = CollectorRegistry(auto_describe=True)
        self.poll_lag = Histogram(
            "liqwatch_poll_lag_seconds",
            "How late each poll started: now minus the time its job was due.",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self._backlog = Backlog(0, None, None)
        self.registry.register(_Families(self))
        runtime.monitor.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)

    def _submitted(self, event: JobSubmissionEvent | Any) -> None:
        if not str(getattr(event, "job_id", "")).startswith("poll:"):
            return
        now = self.clock()
        for due in getattr(event, "scheduled_run_times", ()):
            self.poll_lag.observe(max(now - due.timestamp(), 0.0))

    async def scrape(self) -> bytes:
        """Every metric in the text format (one outbox read first)."""
        self._backlog = await Outbox(self.runtime.db).backlog()
        return generate_latest(self.registry)


class _Families(Collector):
    """Reads the parts' totals and states when the registry is collected."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        runtime, now = m.runtime, m.clock()
        yield from _polls(runtime, now)
        yield from _streams(runtime)
        yield from _delivery(runtime, m._backlog, now)
        transitions = CounterMetricFamily(
            "liqwatch_alert_transitions",
            "Alert transitions told to a chat, by severity and transition.",
            labels=["severity", "transition"],
        )
        for (severity, reason), n in sorted(runtime.pipeline.transitions.items()):
            transitions.add_metric([severity, reason], n)
        yield transitions
        limited = CounterMetricFamily(
            "liqwatch_rate_limited", "429 and 418 answers by venue.", labels=["venue"]
        )
        for state in m.budgets():
            limited.add_metric([state.venue], state.throttled)
        yield limited
        leader = GaugeMetricFamily(
            "liqwatch_leader", "1 for each role this process holds.", labels=["role"]
        )
        for role in m.leader_roles:
            leader.add_metric([role], 1)
        yield leader


def _polls(runtime: Runtime, now: float) -> Iterator[Metric]:
    stats = runtime.monitor.stats
    polls = CounterMetricFamily("liqwatch_polls", "Polls by venue.", labels=["venue"])
    errors = CounterMetricFamily(
        "liqwatch_poll_errors", "Failed polls by venue and kind.", labels=["venue", "kind"]
    )
    for (venue, outcome), n in sorted(stats.by_venue.items()):
        if outcome == "ok":
            polls.add_metric([venue], n)
        else:
            errors.add_metric([venue, outcome], n)
    yield polls
    yield errors
    yield CounterMetricFamily(
        "liqwatch_position_pushes", "Position pushes applied between polls.", value=stats.pushes
    )
    held = sum(1 for job in runtime.monitor.scheduler.get_jobs() if job.id.startswith("poll:"))
    yield GaugeMetricFamily("liqwatch_accounts_held", "Accounts this process polls.", value=held)
    if stats.last_cycle_at is not None:
        yield GaugeMetricFamily(
            "liqwatch_last_poll_age_seconds",
            "Seconds since the last poll ended, either way.",
            value=max(now - stats.last_cycle_at, 0.0),
        )


def _streams(runtime: Runtime) -> Iterator[Metric]:
    state = GaugeMetricFamily(
        "liqwatch_stream_state", "1 for each venue's mark stream state.", labels=["venue", "state"]
    )
    age = GaugeMetricFamily(
        "liqwatch_stream_tick_age_seconds",
        "Seconds since each venue's last mark.",
        labels=["venue"],
    )
    if runtime.marks is not None:
        for venue, status in sorted(runtime.marks.status().items()):
            state.add_metric([venue, status.state], 1)
            if status.age_s is not None:
                age.add_metric([venue], status.age_s)
    yield state
    yield age
    if runtime.pushes is not None:
        pushes = runtime.pushes.status()
        connected = GaugeMetricFamily(
            "liqwatch_position_streams",
            "Accounts whose position stream is followed, connected or failing.",
            labels=["state"],
        )
        connected.add_metric(["followed"], pushes.followed)
        connected.add_metric(["connected"], pushes.connected)
        connected.add_metric(["failing"], pushes.failing)
        yield connected


def _delivery(runtime: Runtime, backlog: Backlog, now: float) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "liqwatch_outbox_pending", "Outbox rows not yet sent.", value=backlog.pending
    )
    oldest = 0.0 if backlog.oldest_queued_at is None else max(now - backlog.oldest_queued_at, 0.0)
    yield GaugeMetricFamily(
        "liqwatch_outbox_oldest_age_seconds",
        "How long the longest-waiting unsent message has waited (0: none).",
        value=oldest,
    )
    outcomes = CounterMetricFamily(
        "liqwatch_deliveries",
        "Delivery outcomes by platform: sent, retried (a failed attempt), dead (given up).",
        labels=["platform", "outcome"],
    )
    for (platform, outcome), n in sorted(runtime.notifier.stats.by_platform.items()):
        outcomes.add_metric([platform, outcome], n)
    yield outcomes
    redeliveries = CounterMetricFamily(
        "liqwatch_outbox_redeliveries",
        "Outbox rows this process claimed after an earlier claim lapsed unrecorded (its"
        " holder died or lost the database, perhaps after sending): possible duplicates.",
        labels=["platform"],
    )
    for platform, n in sorted(runtime.notifier.stats.redeliveries.items()):
        redeliveries.add_metric([platform], n)
    yield redeliveries
