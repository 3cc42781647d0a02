"""docs/grafana-dashboard.json cannot drift from the code: it is valid Grafana JSON on a
``${DS_PROMETHEUS}`` datasource, and every metric its queries name is one a real scrape of
`liqwatch run`'s /metrics exports (with the labels the queries group by)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.bot.runtime.test_http import _get, served
from tests.bot.stream.test_run_e2e import Stack

__all__ = ["served"]  # the fixture, shared with the /metrics tests

DASHBOARD = Path(__file__).resolve().parents[3] / "docs" / "grafana-dashboard.json"
_NAME = re.compile(r"\bliqwatch_[a-z_]+\b")
_BY = re.compile(r"\bby \(([^)]*)\)")
#: Labels Prometheus adds to every scraped series, and the histogram's bucket bound.
_SCRAPED = {"instance", "job", "le"}


def _exported(text: str) -> dict[str, set[str]]:
    """Every series name a scrape offers (a counter as ``_total``, a histogram's ``_bucket``,
    ``_sum``, ``_count``), even a family with no sample yet, with the labels it carries."""
    names: dict[str, set[str]] = {}
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    for family in text_string_to_metric_families(text):
        for suffix in suffixes.get(family.type, ("",)):
            names.setdefault(family.name + suffix, set())
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


def _queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in dashboard["panels"] for t in p["targets"]]


def test_the_dashboard_is_grafana_json_on_a_prometheus_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] and dashboard["schemaVersion"] >= 36
    for panel in dashboard["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        assert panel["targets"], f"panel {panel['title']!r} has no query"
    for title, expr in _queries(dashboard):
        counters = [n for n in _NAME.findall(expr) if n.endswith(("_total", "_bucket"))]
        assert not counters or "rate(" in expr or "increase(" in expr, (
            f"{title!r}: a counter is graphed raw, not as a rate or increase: {expr}"
        )


async def test_every_metric_the_dashboard_queries_is_exported(served: tuple[Stack, str]) -> None:
    _stack, base = served
    deadline = time.monotonic() + 10.0
    while True:  # some gauges appear once there is something to say (a poll ended)
        status, _, text = await _get(f"{base}/metrics")
        assert status == 200
        exported = _exported(text)
        if "liqwatch_last_poll_age_seconds" in exported or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    used: set[str] = set()
    for title, expr in _queries(dashboard):
        names = set(_NAME.findall(expr))
        assert names, f"{title!r} queries no liqwatch metric: {expr}"
        missing = names - exported.keys()
        assert not missing, f"{title!r} queries {sorted(missing)}, which /metrics does not export"
        used |= names
        for group in _BY.findall(expr):
            wanted = {label.strip() for label in group.split(",")} - _SCRAPED
            offered = set().union(*(exported[n] for n in names))
            # A family without samples yet shows no labels: only what it shows is checked.
            if offered:
                assert wanted <= offered, f"{title!r} groups by {sorted(wanted - offered)}"
    assert "liqwatch_outbox_redeliveries_total" in used
