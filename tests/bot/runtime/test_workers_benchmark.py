"""``benchmarks/workers.py`` run tiny, so its code path cannot rot: 30 accounts on one and then
two real workers (3 s leases, 2 s polls, 3 s measured each), then 30 outbox rows drained by one
and by three notifier processes. Skipped without PostgreSQL."""

from __future__ import annotations

import math

import pytest

from benchmarks.workers import outbox_run, quantile, workers_run

pytestmark = pytest.mark.slow

ACCOUNTS = 30


def test_quantile_interpolates_within_the_bucket_as_prometheus_does() -> None:
    buckets = {0.1: 0.0, 0.5: 50.0, 1.0: 100.0, math.inf: 100.0}
    assert quantile(0.5, buckets) == pytest.approx(0.5)
    assert quantile(0.25, buckets) == pytest.approx(0.3)
    assert quantile(0.95, buckets) == pytest.approx(0.95)
    assert math.isnan(quantile(0.5, {math.inf: 0.0}))


async def test_the_workers_benchmark_runs_its_steps_tiny() -> None:
    steps = await workers_run(ACCOUNTS, 3.0, 2.0, most=2, lease_s=3.0)
    assert [s.workers for s in steps] == [1, 2]
    assert [s.held for s in steps] == [[30], [15, 15]]
    for step in steps:
        assert len(step.cpu) == step.workers and all(c > 0 for c in step.cpu), step
        assert step.lag_p50 <= step.lag_p95 < 5.0, step
        assert step.db_cpu > 0 and step.commits_s > 0, step


async def test_the_outbox_benchmark_sends_each_row_once_with_one_or_three_notifiers() -> None:
    for notifiers in (1, 3):
        rate, twice, unsent, each = await outbox_run(ACCOUNTS, notifiers)
        assert rate > 0 and twice == 0 and unsent == 0, (notifiers, rate, twice, unsent)
        assert len(each) == notifiers and sum(each) == ACCOUNTS, each
